// SPDX-License-Identifier: GPL-2.0
/*
 * The allocation paths.  A replacement per hooked function asks the active
 * strategy for candidate ports and has the kernel's own function take
 * exactly that port, moving on while the port is busy.  Locking, bind
 * buckets, TIME_WAIT reuse and the 4-tuple checks stay the kernel's:
 *
 *  - connect(): the original inet{,6}_hash_connect() runs with a one-port
 *    range, which the range hook answers for this socket only;
 *  - TCP bind(0) and listen(): the original inet_csk_get_port() binds a
 *    candidate the stock autobind would take (its conflict rules read
 *    here, since the explicit bind() shares more);
 *  - UDP: the original udp_lib_get_port() binds the candidate (its conflict
 *    rules are the same for explicit and automatic ports).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/sched.h>
#include <net/addrconf.h>
#include <net/inet_connection_sock.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/sock_reuseport.h>
#include <net/udp.h>

#include "compat.h"
#include "ephport.h"
#include "hook.h"

/*
 * The originals, called directly through static calls that hook.c points
 * at each function when it installs the hooks (see there: some are not
 * exported, and calling them through a pointer faults on IBT CPUs).  The
 * callers below stay out of line, so that each static call has one call
 * site for the kernel to patch at load time, not one per use.
 */
EPHPORT_DEFINE_ORIG(inet_hash_connect);
#if IS_ENABLED(CONFIG_IPV6)
EPHPORT_DEFINE_ORIG(inet6_hash_connect);
#endif
EPHPORT_DEFINE_ORIG(inet_csk_get_port);
EPHPORT_DEFINE_ORIG(udp_lib_get_port);
EPHPORT_DEFINE_ORIG(inet_sk_get_local_port_range);
EPHPORT_DEFINE_ORIG(inet_put_port);
EPHPORT_DEFINE_ORIG(udp_lib_unhash);
EPHPORT_DEFINE_ORIG(inet_rcv_saddr_equal);

static noinline int orig_hash_connect(struct inet_timewait_death_row *dr,
				      struct sock *sk, enum ephport_path path)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (path == EPHPORT_TCP6_CONNECT)
		return static_call(ephport_orig_inet6_hash_connect)(dr, sk);
#endif
	return static_call(ephport_orig_inet_hash_connect)(dr, sk);
}

static noinline int orig_inet_csk_get_port(struct sock *sk, unsigned short snum)
{
	return static_call(ephport_orig_inet_csk_get_port)(sk, snum);
}

static noinline int orig_udp_lib_get_port(struct sock *sk, unsigned short snum,
					  unsigned int hash2_nulladdr)
{
	return static_call(ephport_orig_udp_lib_get_port)(sk, snum,
							  hash2_nulladdr);
}

static noinline void orig_inet_put_port(struct sock *sk)
{
	static_call(ephport_orig_inet_put_port)(sk);
}

static noinline void orig_udp_lib_unhash(struct sock *sk)
{
	static_call(ephport_orig_udp_lib_unhash)(sk);
}

/* Not exported on 7.x: called, never redirected (EPHPORT_CALLEE()). */
static noinline bool orig_inet_rcv_saddr_equal(const struct sock *sk,
					       const struct sock *sk2,
					       bool match_wildcard)
{
	return static_call(ephport_orig_inet_rcv_saddr_equal)(sk, sk2,
							      match_wildcard);
}

/*
 * Sockets whose allocation is being driven: the range hook answers them
 * [low, high], a single port for a connect() that tries one candidate at
 * a time, a rule's range for the stock algorithm.  A socket is driven by
 * the one task holding its lock, which alone updates the entry; other
 * tasks only compare ->sk.
 */
#define EPHPORT_FORCE_BITS	6

struct ephport_force {
	struct hlist_node node;
	const struct sock *sk;
	int low;
	int high;
	bool local;		/* what the range hook returns */
};

static struct ephport_force_bucket {
	spinlock_t lock;		/* protects head */
	struct hlist_head head;
} ephport_force_table[1 << EPHPORT_FORCE_BITS];

/*
 * Shared writes on the connect() path (strategies other than kernel, and
 * kernel with a rule's range): this count and a bucket lock, taken twice
 * per connect() (insert, remove), once per probe by the range hook.  One
 * cache line each that moves between the CPUs connecting, next to the
 * kernel's own bind bucket and ehash locks that connect() takes anyway;
 * the count lets every other caller of the range hook skip the table.
 */
static atomic_t ephport_forced = ATOMIC_INIT(0);

static struct ephport_force_bucket *ephport_force_bucket(const struct sock *sk)
{
	return &ephport_force_table[hash_ptr(sk, EPHPORT_FORCE_BITS)];
}

static void ephport_force_insert(struct ephport_force *f)
{
	struct ephport_force_bucket *b = ephport_force_bucket(f->sk);

	spin_lock_bh(&b->lock);
	hlist_add_head(&f->node, &b->head);
	spin_unlock_bh(&b->lock);
	atomic_inc(&ephport_forced);
}

static void ephport_force_remove(struct ephport_force *f)
{
	struct ephport_force_bucket *b = ephport_force_bucket(f->sk);

	atomic_dec(&ephport_forced);
	spin_lock_bh(&b->lock);
	hlist_del(&f->node);
	spin_unlock_bh(&b->lock);
}

static bool ephport_force_lookup(const struct sock *sk, int *low, int *high,
				 bool *local)
{
	struct ephport_force_bucket *b;
	struct ephport_force *f;
	bool found = false;

	if (!atomic_read(&ephport_forced))
		return false;
	b = ephport_force_bucket(sk);
	spin_lock_bh(&b->lock);
	hlist_for_each_entry(f, &b->head, node) {
		if (f->sk == sk) {
			*low = f->low;
			*high = f->high;
			*local = f->local;
			found = true;
			break;
		}
	}
	spin_unlock_bh(&b->lock);
	return found;
}

/* What the strategy sees of this allocation; see core.h for the hash inputs. */
static void ephport_req_init(struct ephport_req *req, struct ephport_net *en,
			     const struct sock *sk, enum ephport_path path,
			     int low, int high)
{
	const struct inet_sock *inet = inet_sk(sk);
	struct ephport_flow *f = &req->flow;

	memset(req, 0, sizeof(*req));
	req->low = low;
	req->n = high - low + 1;
	req->state = &en->state;
	req->secrets = &ephport_secrets;
	req->random_inc_n = READ_ONCE(ephport_random_inc_n);

	f->salt = en->salt;
	f->proto = sk->sk_protocol;
	f->family = sk->sk_family;
	switch (path) {
	case EPHPORT_TCP4_CONNECT:
		f->family = AF_INET;
		f->laddr[0] = (__force u32)inet->inet_saddr;
		f->raddr[0] = (__force u32)inet->inet_daddr;
		f->rport = (__force u16)inet->inet_dport;
		break;
#if IS_ENABLED(CONFIG_IPV6)
	case EPHPORT_TCP6_CONNECT:
		memcpy(f->laddr, &sk->sk_v6_rcv_saddr, sizeof(f->laddr));
		memcpy(f->raddr, &sk->sk_v6_daddr, sizeof(f->raddr));
		f->rport = (__force u16)inet->inet_dport;
		break;
#endif
	default:
		/* bind(0), listen() and UDP: no destination yet. */
#if IS_ENABLED(CONFIG_IPV6)
		if (sk->sk_family == AF_INET6) {
			memcpy(f->laddr, &sk->sk_v6_rcv_saddr, sizeof(f->laddr));
			break;
		}
#endif
		f->laddr[0] = (__force u32)inet->inet_rcv_saddr;
		break;
	}
}

/*
 * The stock algorithm over a rule's range: the range hook answers it to
 * this socket until ephport_unforce().
 */
static void ephport_force_range(struct ephport_force *f,
				const struct ephport_policy *pol, int low, int high)
{
	if (pol->rule_range) {
		f->low = low;
		f->high = high;
		ephport_force_insert(f);
	}
}

static void ephport_unforce(struct ephport_force *f,
			    const struct ephport_policy *pol)
{
	if (pol->rule_range)
		ephport_force_remove(f);
}

/* The next candidate port that is not reserved, or false when none is left. */
static bool ephport_next_port(struct ephport_walk *w, const struct ephport_req *req,
			      struct net *net, u32 *offset, int *port)
{
	while (ephport_walk_next(w, offset)) {
		*port = req->low + *offset;
		if (!inet_is_local_reserved_port(net, *port))
			return true;
	}
	return false;
}

static int ephport_connect(struct inet_timewait_death_row *dr, struct sock *sk,
			   enum ephport_path path)
{
	struct ephport_alloc a = { .path = path, .sk = sk };
	struct ephport_force force = { .sk = sk };
	struct ephport_policy pol;
	struct ephport_net *en;
	struct ephport_req req;
	struct ephport_walk w;
	int low, high;
	u32 off;

	/* A bound socket keeps its port: nothing to choose. */
	if (inet_sk(sk)->inet_num || !ephport_active())
		return orig_hash_connect(dr, sk, path);
	en = ephport_net(sock_net(sk));
	if (!en)
		return orig_hash_connect(dr, sk, path);

	ephport_policy_get(sk, path, &pol);
	a.strategy = pol.strategy;
	a.rule = pol.rule;
	a.result = -EADDRNOTAVAIL;
	if (!ephport_range_get(sk, pol.range, &low, &high, &force.local))
		goto out;

	if (a.strategy->flags & EPHPORT_STRATEGY_KERNEL) {
		/* The stock walk, over the range the range hook gives it. */
		a.probes = 1;
		ephport_force_range(&force, &pol, low, high);
		a.result = orig_hash_connect(dr, sk, path);
		ephport_unforce(&force, &pol);
		goto out;
	}

	ephport_req_init(&req, en, sk, path, low, high);
	ephport_walk_begin(&w, a.strategy->begin, &req);
	ephport_index_use(&w, sock_net(sk), en, EPHPORT_PROTO_TCP, low);
	force.local = true;
	ephport_force_insert(&force);
	while (ephport_next_port(&w, &req, sock_net(sk), &off, &force.low)) {
		force.high = force.low;
		a.probes++;
		a.result = orig_hash_connect(dr, sk, path);
		if (a.result != -EADDRNOTAVAIL)
			break;
		ephport_index_learn(sk, en, EPHPORT_PROTO_TCP, force.low);
		cond_resched();
	}
	ephport_force_remove(&force);
	if (!a.result && a.strategy->commit)
		a.strategy->commit(&req, off, a.probes);
out:
	if (!a.result)
		ephport_index_set(en, EPHPORT_PROTO_TCP, inet_sk(sk)->inet_num);
	ephport_record(en, &a);
	return a.result;
}

static int ephport_inet_hash_connect(struct inet_timewait_death_row *dr,
				     struct sock *sk)
{
	int idx = srcu_read_lock(&ephport_srcu);
	int ret = ephport_connect(dr, sk, EPHPORT_TCP4_CONNECT);

	srcu_read_unlock(&ephport_srcu, idx);
	return ret;
}

static int ephport_inet6_hash_connect(struct inet_timewait_death_row *dr,
				      struct sock *sk)
{
	int idx = srcu_read_lock(&ephport_srcu);
	int ret = ephport_connect(dr, sk, EPHPORT_TCP6_CONNECT);

	srcu_read_unlock(&ephport_srcu, idx);
	return ret;
}

/*
 * What the stock autobind (inet_csk_find_open_port()) holds against @sk2,
 * bound to the port @sk considers: inet_bind_conflict() with reuseport_ok
 * false.  On the first pass every socket bound there conflicts; on the
 * relaxed pass of net.ipv4.ip_autobind_reuse, one that, like @sk, has
 * SO_REUSEADDR and is not listening does not, unless the two could also
 * share the port through SO_REUSEPORT (both could then listen() on it).
 * Only sockets whose device and address overlap @sk's count.
 */
static bool ephport_autobind_conflict(const struct sock *sk, struct sock *sk2,
				      kuid_t uid, bool relax, bool reuseport_cb_ok)
{
	int dev2 = READ_ONCE(sk2->sk_bound_dev_if);

	if (sk2 == sk)
		return false;
	if (sk->sk_bound_dev_if && dev2 && sk->sk_bound_dev_if != dev2)
		return false;
	if (relax && sk->sk_reuse && sk2->sk_reuse &&
	    sk2->sk_state != TCP_LISTEN &&
	    !(sk->sk_reuseport && sk2->sk_reuseport && reuseport_cb_ok &&
	      (sk2->sk_state == TCP_TIME_WAIT ||
	       uid_eq(uid, ephport_sk_owner_uid(sk2)))))
		return false;
	return orig_inet_rcv_saddr_equal(sk, sk2, true);
}

/*
 * Whether a socket bound to @tb's port conflicts with @sk: the sockets,
 * TIME_WAIT ones included, are on the bind bucket's owners list before 6.8
 * and on the owners lists of its bhash2 buckets since.
 */
static bool ephport_bucket_conflict(const struct sock *sk,
				    const struct inet_bind_bucket *tb,
				    kuid_t uid, bool relax, bool reuseport_cb_ok)
{
	struct sock *sk2;
#ifdef EPHPORT_HAVE_TB_BHASH2
	struct inet_bind2_bucket *tb2;

	hlist_for_each_entry(tb2, &tb->bhash2, bhash_node) {
		sk_for_each_bound(sk2, &tb2->owners) {
			if (ephport_autobind_conflict(sk, sk2, uid, relax,
						      reuseport_cb_ok))
				return true;
		}
	}
#else
	sk_for_each_bound(sk2, &tb->owners) {
		if (ephport_autobind_conflict(sk, sk2, uid, relax, reuseport_cb_ok))
			return true;
	}
#endif
	return false;
}

/*
 * Whether the stock autobind would pass over @port for @sk, on its first
 * pass or (@relax) its relaxed one: the sockets bound to the port are read
 * under the bind bucket's lock, as the stock code reads them.
 */
static bool ephport_autobind_busy(struct sock *sk, int port, bool relax)
{
	struct inet_hashinfo *hinfo = ephport_bind_hashinfo(sk);
	int l3mdev = inet_sk_bound_l3mdev(sk);
	kuid_t uid = ephport_sk_owner_uid(sk);
	struct inet_bind_hashbucket *head;
	struct net *net = sock_net(sk);
	struct sock_reuseport *reuseport_cb;
	struct inet_bind_bucket *tb;
	bool busy = false, cb_ok;

	rcu_read_lock();
	reuseport_cb = rcu_dereference(sk->sk_reuseport_cb);
	cb_ok = !reuseport_cb || READ_ONCE(reuseport_cb->num_closed_socks);
	rcu_read_unlock();

	head = &hinfo->bhash[inet_bhashfn(net, port, hinfo->bhash_size)];
	spin_lock_bh(&head->lock);
	inet_bind_bucket_for_each(tb, &head->chain) {
		if (net_eq(ib_net(tb), net) && tb->port == port &&
		    tb->l3mdev == l3mdev) {
			busy = ephport_bucket_conflict(sk, tb, uid, relax, cb_ok);
			break;
		}
	}
	spin_unlock_bh(&head->lock);
	return busy;
}

/*
 * One pass of the autobind over the strategy's candidates.  A candidate the
 * stock autobind would take is bound by the original inet_csk_get_port(),
 * with the socket's own flags: its checks are those of an explicit bind(),
 * never stricter than the autobind's.  Should a socket have come to the
 * port meanwhile, so that the autobind would no longer take it, the port
 * is let go again, as if that socket had come first.
 */
static int ephport_bind_walk(struct sock *sk, struct ephport_net *en,
			     void (*begin)(struct ephport_walk *w,
					   const struct ephport_req *req),
			     const struct ephport_req *req, bool relax,
			     u32 *off, u32 *probes)
{
	struct ephport_walk w;
	int port;

	ephport_walk_begin(&w, begin, req);
	/* The relaxed pass looks for ports in use: the index would not help. */
	if (!relax)
		ephport_index_use(&w, sock_net(sk), en, EPHPORT_PROTO_TCP, req->low);
	while (ephport_next_port(&w, req, sock_net(sk), off, &port)) {
		(*probes)++;
		if (!ephport_autobind_busy(sk, port, relax) &&
		    !orig_inet_csk_get_port(sk, port)) {
			if (!ephport_autobind_busy(sk, port, relax))
				return 0;
			orig_inet_put_port(sk);
		}
		ephport_index_learn(sk, en, EPHPORT_PROTO_TCP, port);
		cond_resched();
	}
	return -EADDRINUSE;
}

/*
 * One pass over the range.  The stock order ("kernel" strategy) tries the
 * lower half of the range first for a socket with SO_REUSEADDR, then the
 * upper half, each in its own stock order.
 */
static int ephport_bind_pass(struct sock *sk, struct ephport_net *en,
			     void (*begin)(struct ephport_walk *w,
					   const struct ephport_req *req),
			     const struct ephport_req *req, bool relax,
			     u32 *off, u32 *probes)
{
	struct ephport_req half = *req;
	int ret;

	if (begin != ephport_kernel_bind_begin ||
	    sk->sk_reuse != SK_CAN_REUSE || req->n < 4)
		return ephport_bind_walk(sk, en, begin, req, relax, off, probes);

	/* As inet_csk_find_open_port(): the lower half is even-sized. */
	half.n = (req->n >> 2) << 1;
	ret = ephport_bind_walk(sk, en, begin, &half, relax, off, probes);
	if (!ret)
		return 0;
	half.low = req->low + half.n;
	half.n = req->n - half.n;
	ret = ephport_bind_walk(sk, en, begin, &half, relax, off, probes);
	if (!ret)
		*off += req->n - half.n;
	return ret;
}

/*
 * TCP bind(0) and listen() autobind, as inet_csk_find_open_port() does it
 * but over the strategy's candidates: a first pass takes a port no socket
 * is bound to (with an overlapping address), and if none is left and
 * net.ipv4.ip_autobind_reuse allows it, a relaxed pass lets SO_REUSEADDR
 * share a port, never with a socket the new one could also share it with
 * through SO_REUSEPORT.  The caller holds the socket lock.
 */
static int ephport_tcp_bind(struct sock *sk)
{
	struct ephport_alloc a = { .path = EPHPORT_TCP_BIND, .sk = sk };
	void (*begin)(struct ephport_walk *w, const struct ephport_req *req);
	struct ephport_policy pol;
	struct ephport_net *en;
	struct ephport_req req;
	int low, high;
	u32 off;

	if (!ephport_active())
		return orig_inet_csk_get_port(sk, 0);
	en = ephport_net(sock_net(sk));
	if (!en)
		return orig_inet_csk_get_port(sk, 0);

	ephport_policy_get(sk, EPHPORT_TCP_BIND, &pol);
	a.strategy = pol.strategy;
	a.rule = pol.rule;
	a.result = -EADDRINUSE;
	if (!ephport_range_get(sk, pol.range, &low, &high, NULL))
		goto out;

	begin = a.strategy->begin;
	if (a.strategy->flags & EPHPORT_STRATEGY_KERNEL) {
		if (pol.range == EPHPORT_RANGE_AUTO) {
			a.probes = 1;
			a.result = orig_inet_csk_get_port(sk, 0);
			goto out;
		}
		/*
		 * The stock function reads the range inline (6.12): with a
		 * fixed range, follow its order here instead.
		 */
		begin = ephport_kernel_bind_begin;
	}

	ephport_req_init(&req, en, sk, EPHPORT_TCP_BIND, low, high);
	a.result = ephport_bind_pass(sk, en, begin, &req, false, &off, &a.probes);
	/* Without SO_REUSEADDR, the relaxed pass would find nothing more. */
	if (a.result && sk->sk_reuse &&
	    READ_ONCE(sock_net(sk)->ipv4.sysctl_ip_autobind_reuse))
		a.result = ephport_bind_pass(sk, en, begin, &req, true, &off,
					     &a.probes);
	if (!a.result && a.strategy->commit)
		a.strategy->commit(&req, off, a.probes);
out:
	if (!a.result)
		ephport_index_set(en, EPHPORT_PROTO_TCP, inet_sk(sk)->inet_num);
	ephport_record(en, &a);
	return a.result;
}

/* A port taken by an explicit bind(): the index learns of it. */
static void ephport_index_taken(struct sock *sk, enum ephport_proto proto,
				u16 port)
{
	struct ephport_net *en = ephport_net(sock_net(sk));

	if (en)
		ephport_index_set(en, proto, port);
}

static int ephport_inet_csk_get_port(struct sock *sk, unsigned short snum)
{
	int idx, ret;

	idx = srcu_read_lock(&ephport_srcu);
	if (snum) {
		ret = orig_inet_csk_get_port(sk, snum);
		if (!ret)
			ephport_index_taken(sk, EPHPORT_PROTO_TCP, snum);
	} else {
		ret = ephport_tcp_bind(sk);
	}
	srcu_read_unlock(&ephport_srcu, idx);
	return ret;
}

/*
 * UDP bind(0) and autobind.  The secondary hash of the wildcard address is
 * computed by the caller for the port it passes (hash ^ port): recompute it
 * for each candidate.
 */
static int ephport_udp(struct sock *sk, unsigned int hash2_nulladdr)
{
	struct ephport_alloc a = { .path = EPHPORT_UDP4, .sk = sk };
	struct ephport_force force = { .sk = sk };
	struct ephport_policy pol;
	struct ephport_net *en;
	struct ephport_req req;
	struct ephport_walk w;
	int low, high, port;
	u32 off;

	if (!ephport_active())
		return orig_udp_lib_get_port(sk, 0, hash2_nulladdr);
	en = ephport_net(sock_net(sk));
	if (!en)
		return orig_udp_lib_get_port(sk, 0, hash2_nulladdr);

	if (sk->sk_family == AF_INET6)
		a.path = EPHPORT_UDP6;
	ephport_policy_get(sk, a.path, &pol);
	a.strategy = pol.strategy;
	a.rule = pol.rule;
	a.result = -EADDRINUSE;
	if (!ephport_range_get(sk, pol.range, &low, &high, &force.local))
		goto out;

	if (a.strategy->flags & EPHPORT_STRATEGY_KERNEL) {
		a.probes = 1;
		ephport_force_range(&force, &pol, low, high);
		a.result = orig_udp_lib_get_port(sk, 0, hash2_nulladdr);
		ephport_unforce(&force, &pol);
		goto out;
	}

	ephport_req_init(&req, en, sk, a.path, low, high);
	ephport_walk_begin(&w, a.strategy->begin, &req);
	ephport_index_use(&w, sock_net(sk), en, EPHPORT_PROTO_UDP, low);
	while (ephport_next_port(&w, &req, sock_net(sk), &off, &port)) {
		a.probes++;
		if (!orig_udp_lib_get_port(sk, port, hash2_nulladdr ^ port)) {
			a.result = 0;
			break;
		}
		ephport_index_learn(sk, en, EPHPORT_PROTO_UDP, port);
		cond_resched();
	}
	if (!a.result && a.strategy->commit)
		a.strategy->commit(&req, off, a.probes);
out:
	if (!a.result)
		ephport_index_set(en, EPHPORT_PROTO_UDP, inet_sk(sk)->inet_num);
	ephport_record(en, &a);
	return a.result;
}

static int ephport_udp_lib_get_port(struct sock *sk, unsigned short snum,
				    unsigned int hash2_nulladdr)
{
	int idx, ret;

	idx = srcu_read_lock(&ephport_srcu);
	if (snum) {
		ret = orig_udp_lib_get_port(sk, snum, hash2_nulladdr);
		if (!ret)
			ephport_index_taken(sk, EPHPORT_PROTO_UDP, snum);
	} else {
		ret = ephport_udp(sk, hash2_nulladdr);
	}
	srcu_read_unlock(&ephport_srcu, idx);
	return ret;
}

/*
 * Sockets letting their ports go, for the occupancy index: the port is
 * read before the original clears it, and the index told once the port
 * is out of the kernel's tables.  These run in any context, softirq too.
 */
static void ephport_inet_put_port(struct sock *sk)
{
	int idx = srcu_read_lock(&ephport_srcu);
	u16 port = READ_ONCE(inet_sk(sk)->inet_num);

	orig_inet_put_port(sk);
	ephport_index_release(sk, EPHPORT_PROTO_TCP, port);
	srcu_read_unlock(&ephport_srcu, idx);
}

static void ephport_udp_lib_unhash(struct sock *sk)
{
	int idx = srcu_read_lock(&ephport_srcu);
	u16 port = READ_ONCE(inet_sk(sk)->inet_num);

	orig_udp_lib_unhash(sk);
	ephport_index_release(sk, EPHPORT_PROTO_UDP, port);
	srcu_read_unlock(&ephport_srcu, idx);
}

static bool ephport_orig_range(const struct sock *sk, int *low, int *high)
{
#ifdef EPHPORT_HAVE_RANGE_BOOL
	return static_call(ephport_orig_inet_sk_get_local_port_range)(sk, low, high);
#else
	static_call(ephport_orig_inet_sk_get_local_port_range)(sk, low, high);
	return false;
#endif
}

/*
 * The sockets whose ports ephport chooses: TCP, UDP and UDP-Lite, and DCCP,
 * which goes through the TCP functions.  SCTP also asks the range getter,
 * and keeps the stock answer.
 */
static bool ephport_steered(const struct sock *sk)
{
	switch (sk->sk_protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_DCCP:
		return true;
	default:
		return false;
	}
}

/*
 * The range getter: a one-port range for a connect() being driven, the
 * module's range while a fixed one is set (for the sockets ephport
 * steers), the stock answer otherwise.  Returns whether a per-socket range
 * applies (6.5 and later use that).
 */
static bool ephport_range_answer(const struct sock *sk, int *low, int *high)
{
	u32 range = READ_ONCE(ephport_range);
	bool local = false;

	if (ephport_force_lookup(sk, low, high, &local))
		return local;
	if (ephport_active() && range != EPHPORT_RANGE_AUTO &&
	    ephport_steered(sk) &&
	    ephport_range_get(sk, range, low, high, &local))
		return local;
	return ephport_orig_range(sk, low, high);
}

/*
 * No SRCU read section here, unlike the other replacements: this one
 * never sleeps nor frees, so the tasks-RCU grace period after its removal
 * (ephport_hooks_remove()) is enough to wait for every task inside it (one
 * preempted there has not switched voluntarily).  Allocations, whose
 * original calls it, then pay one SRCU section, not two.
 */
static ephport_range_ret ephport_get_range(const struct sock *sk, int *low,
					   int *high)
{
	bool local = ephport_range_answer(sk, low, high);

#ifdef EPHPORT_HAVE_RANGE_BOOL
	return local;
#else
	(void)local;
#endif
}

/*
 * The range hook goes first and comes off last, so that no connect() being
 * driven ever runs without it.
 */
static struct ephport_hook ephport_range_hooks[] = {
	EPHPORT_HOOK(inet_sk_get_local_port_range, ephport_get_range),
};

static struct ephport_hook ephport_path_hooks[] = {
	EPHPORT_HOOK(inet_hash_connect, ephport_inet_hash_connect),
#if IS_ENABLED(CONFIG_IPV6)
	EPHPORT_HOOK(inet6_hash_connect, ephport_inet6_hash_connect),
#endif
	EPHPORT_HOOK(inet_csk_get_port, ephport_inet_csk_get_port),
	EPHPORT_HOOK(udp_lib_get_port, ephport_udp_lib_get_port),
	/* Where sockets let their ports go, for the occupancy index. */
	EPHPORT_HOOK(inet_put_port, ephport_inet_put_port),
	EPHPORT_HOOK(udp_lib_unhash, ephport_udp_lib_unhash),
	/* What the TCP bind(0) path compares addresses with. */
	EPHPORT_CALLEE(inet_rcv_saddr_equal),
};

static struct ephport_hook_set ephport_range_set = {
	.hooks = ephport_range_hooks,
	.n = ARRAY_SIZE(ephport_range_hooks),
};

static struct ephport_hook_set ephport_path_set = {
	.hooks = ephport_path_hooks,
	.n = ARRAY_SIZE(ephport_path_hooks),
};

int ephport_hooks_init(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(ephport_force_table); i++) {
		spin_lock_init(&ephport_force_table[i].lock);
		INIT_HLIST_HEAD(&ephport_force_table[i].head);
	}

	err = ephport_hooks_install(&ephport_range_set);
	if (err)
		return err;
	err = ephport_hooks_install(&ephport_path_set);
	if (err) {
		ephport_hooks_remove(&ephport_range_set);
		ephport_hooks_done();
	}
	return err;
}

void ephport_hooks_uninit(void)
{
	ephport_hooks_remove(&ephport_path_set);
	ephport_hooks_remove(&ephport_range_set);
	ephport_hooks_done();
}
