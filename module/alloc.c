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

#include <linux/mutex.h>
#include <linux/sched.h>
#include <net/addrconf.h>
#include <net/inet_connection_sock.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/sock_reuseport.h>
#include <net/udp.h>

#include "alloc.h"
#include "compat.h"
#include "ephport.h"
#include "hook.h"
#include "index.h"
#include "netns.h"
#include "params.h"
#include "range.h"
#include "rules.h"
#include "stats.h"

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

/*
 * One allocation ephport drives, from its policy to its record: what the
 * three paths share, and what each needs to call its original.
 */
struct ephport_alloc_ctx {
	struct ephport_alloc a;		/* what is recorded */
	struct sock *sk;
	struct ephport_net *en;
	struct ephport_req req;
	struct ephport_force force;	/* what the range hook answers @sk */
	u32 off;			/* the candidate taken, as an offset */
	bool relax;			/* TCP: the relaxed autobind pass */
	bool indexed;			/* the index mirrors @sk's table */
	struct inet_timewait_death_row *dr;	/* connect() */
	unsigned int hash2_nulladdr;		/* UDP */
};

/* The port space of @path, for the occupancy index. */
static enum ephport_proto ephport_path_proto(enum ephport_path path)
{
	return path <= EPHPORT_TCP_BIND ? EPHPORT_PROTO_TCP : EPHPORT_PROTO_UDP;
}

/* The original of the path, as the kernel called it (@snum: bind()'s port). */
static int ephport_orig(const struct ephport_alloc_ctx *c, unsigned short snum)
{
	if (c->a.path <= EPHPORT_TCP6_CONNECT)
		return orig_hash_connect(c->dr, c->sk, c->a.path);
	if (c->a.path == EPHPORT_TCP_BIND)
		return orig_inet_csk_get_port(c->sk, snum);
	return orig_udp_lib_get_port(c->sk, snum, c->hash2_nulladdr);
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
				    struct inet_bind_bucket *tb,
				    kuid_t uid, bool relax, bool reuseport_cb_ok)
{
	struct hlist_node *pos = NULL;
	struct hlist_head *owners;
	struct sock *sk2;

	while ((owners = ephport_tb_owners(tb, &pos))) {
		sk_for_each_bound(sk2, owners) {
			if (ephport_autobind_conflict(sk, sk2, uid, relax,
						      reuseport_cb_ok))
				return true;
		}
	}
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
 * TCP bind(0) and listen(): a candidate the stock autobind would take is
 * bound by the original inet_csk_get_port(), with the socket's own flags:
 * its checks are those of an explicit bind(), never stricter than the
 * autobind's.  Should a socket have come to the port meanwhile, so that
 * the autobind would no longer take it, the port is let go again, as if
 * that socket had come first.  A socket with neither SO_REUSEADDR nor
 * SO_REUSEPORT needs no check of its own (below).
 */
static int ephport_bind_try(struct ephport_alloc_ctx *c, int port)
{
	/*
	 * Without SO_REUSEADDR and SO_REUSEPORT, a socket shares its port
	 * with none that overlaps it, through an explicit bind() as through
	 * the autobind: the original's own checks are the autobind's
	 * (inet_bind_conflict() allows more only with those flags).  The
	 * caller holds the socket lock, which setting them takes.
	 */
	if (!c->sk->sk_reuse && !c->sk->sk_reuseport)
		return !!orig_inet_csk_get_port(c->sk, port);
	if (ephport_autobind_busy(c->sk, port, c->relax) ||
	    orig_inet_csk_get_port(c->sk, port))
		return 1;
	if (!ephport_autobind_busy(c->sk, port, c->relax))
		return 0;
	orig_inet_put_port(c->sk);
	return 1;
}

/*
 * Have the path's original take exactly @port: 0 once it did, 1 while the
 * port is busy (the walk goes on), or an error that ends the walk.
 */
static int ephport_try(struct ephport_alloc_ctx *c, int port)
{
	int ret;

	if (c->a.path == EPHPORT_TCP_BIND)
		return ephport_bind_try(c, port);
	/* UDP: the secondary hash, for @port (see ephport_udp_lib_get_port()). */
	if (c->a.path >= EPHPORT_UDP4)
		return !!orig_udp_lib_get_port(c->sk, port, c->hash2_nulladdr ^ port);
	/* connect(): the range hook answers the one port. */
	c->force.low = port;
	c->force.high = port;
	ret = ephport_orig(c, 0);
	return ret == -EADDRNOTAVAIL ? 1 : ret;
}

/*
 * Try the strategy's candidates over @req in turn, each port found busy
 * remembered by the occupancy index (unless it was let go meanwhile: see
 * ephport_index_learn()).  Returns 0 once one is taken, else the
 * path's error.
 */
static int ephport_walk(struct ephport_alloc_ctx *c, ephport_begin_t begin,
			const struct ephport_req *req)
{
	enum ephport_proto proto = ephport_path_proto(c->a.path);
	struct net *net = sock_net(c->sk);
	struct ephport_net *en = c->en;
	struct ephport_walk w;
	int port, ret;

	ephport_walk_begin(&w, begin, req);
	/* The relaxed pass looks for ports in use: the index would not help. */
	if (!c->relax && c->indexed)
		ephport_index_use(&w, net, en, proto, req->low);
	while (ephport_next_port(&w, req, net, &c->off, &port)) {
		c->a.probes++;
		ret = ephport_try(c, port);
		if (ret <= 0)
			return ret;
		if (c->indexed)
			ephport_index_learn(c->sk, en, proto, port);
		cond_resched();
	}
	return c->a.path <= EPHPORT_TCP6_CONNECT ? -EADDRNOTAVAIL : -EADDRINUSE;
}

/*
 * One pass of the TCP autobind over the range.  The stock order ("kernel"
 * strategy) tries the lower half of the range first for a socket with
 * SO_REUSEADDR, then the upper half, each in its own stock order.
 */
static int ephport_bind_pass(struct ephport_alloc_ctx *c, ephport_begin_t begin)
{
	const struct ephport_req *req = &c->req;
	struct ephport_req half;
	int ret;

	if (begin != ephport_kernel_bind_begin ||
	    c->sk->sk_reuse != SK_CAN_REUSE || req->n < 4)
		return ephport_walk(c, begin, req);

	/* As inet_csk_find_open_port(): the lower half is even-sized. */
	half = *req;
	half.n = (req->n >> 2) << 1;
	ret = ephport_walk(c, begin, &half);
	if (!ret)
		return 0;
	half.low = req->low + half.n;
	half.n = req->n - half.n;
	ret = ephport_walk(c, begin, &half);
	if (!ret)
		c->off += req->n - half.n;
	return ret;
}

/*
 * The strategy's walk for each path.
 *
 * TCP bind(0) and listen() autobind, as inet_csk_find_open_port() does it
 * but over the strategy's candidates: a first pass takes a port no socket
 * is bound to (with an overlapping address), and if none is left and
 * net.ipv4.ip_autobind_reuse allows it, a relaxed pass lets SO_REUSEADDR
 * share a port, never with a socket the new one could also share it with
 * through SO_REUSEPORT.  The caller holds the socket lock.
 *
 * connect(): the range hook answers the socket one candidate at a time.
 */
static int ephport_walk_path(struct ephport_alloc_ctx *c, ephport_begin_t begin)
{
	int ret;

	if (c->a.path == EPHPORT_TCP_BIND) {
		ret = ephport_bind_pass(c, begin);
		/* Without SO_REUSEADDR, the relaxed pass would find nothing more. */
		if (ret && c->sk->sk_reuse &&
		    READ_ONCE(sock_net(c->sk)->ipv4.sysctl_ip_autobind_reuse)) {
			c->relax = true;
			ret = ephport_bind_pass(c, begin);
		}
		return ret;
	}
	if (c->a.path >= EPHPORT_UDP4)
		return ephport_walk(c, begin, &c->req);

	c->force.local = true;
	ephport_force_insert(&c->force);
	ret = ephport_walk(c, begin, &c->req);
	ephport_force_remove(&c->force);
	return ret;
}

/*
 * The "kernel" strategy: the stock algorithm picks, over the range the
 * range hook answers.  The stock TCP bind(0) reads the range inline
 * (6.12): with a fixed range it is not called (false), and the walk
 * follows its order instead.
 */
static bool ephport_stock(struct ephport_alloc_ctx *c,
			  const struct ephport_policy *pol, int low, int high)
{
	if (c->a.path == EPHPORT_TCP_BIND && pol->range != EPHPORT_RANGE_AUTO)
		return false;
	c->a.probes = 1;
	ephport_force_range(&c->force, pol, low, high);
	c->a.result = ephport_orig(c, 0);
	ephport_unforce(&c->force, pol);
	return true;
}

/*
 * An allocation on path @c->a.path for @c->sk: the policy and range, the
 * stock algorithm or the strategy's walk, then the strategy's commit, the
 * index and the record; the result is in @c->a.result.  Returns false when
 * ephport does not choose (disabled, or the namespace not set up): the
 * caller passes the call through.  Out of line: the one place that calls
 * a strategy's ->commit() (see selftests/ibt-check.allow).
 */
static noinline bool ephport_choose(struct ephport_alloc_ctx *c)
{
	const struct ephport_strategy *s;
	struct ephport_policy pol;
	ephport_begin_t begin;
	int low, high;

	if (!ephport_active())
		return false;
	c->en = ephport_net(sock_net(c->sk));
	if (!c->en)
		return false;
	c->indexed = ephport_index_mirrors(c->sk, ephport_path_proto(c->a.path));

	ephport_policy_get(c->sk, c->a.path, &pol);
	s = pol.strategy;
	c->a.sk = c->sk;
	c->a.strategy = s;
	c->a.rule = pol.rule;
	c->a.result = c->a.path <= EPHPORT_TCP6_CONNECT ? -EADDRNOTAVAIL : -EADDRINUSE;
	c->force.sk = c->sk;
	if (!ephport_range_get(c->sk, pol.range, &low, &high, &c->force.local))
		goto out;

	begin = s->begin;
	if (s->flags & EPHPORT_STRATEGY_KERNEL) {
		if (ephport_stock(c, &pol, low, high))
			goto out;
		begin = ephport_kernel_bind_begin;
	}
	ephport_req_init(&c->req, c->en, c->sk, c->a.path, low, high);
	c->a.result = ephport_walk_path(c, begin);
	if (!c->a.result && s->commit)
		s->commit(&c->req, c->off, c->a.probes);
out:
	if (!c->a.result && c->indexed)
		ephport_index_set(c->en, ephport_path_proto(c->a.path),
				  inet_sk(c->sk)->inet_num);
	ephport_record(c->en, &c->a);
	return true;
}

static int ephport_connect(struct inet_timewait_death_row *dr, struct sock *sk,
			   enum ephport_path path)
{
	struct ephport_alloc_ctx c = { .a.path = path, .sk = sk, .dr = dr };

	/* A bound socket keeps its port: nothing to choose. */
	if (!inet_sk(sk)->inet_num && ephport_choose(&c))
		return c.a.result;
	return ephport_orig(&c, 0);
}

static int ephport_inet_hash_connect(struct inet_timewait_death_row *dr,
				     struct sock *sk)
{
	int ret;

	EPHPORT_SRCU(ret = ephport_connect(dr, sk, EPHPORT_TCP4_CONNECT));
	return ret;
}

static int ephport_inet6_hash_connect(struct inet_timewait_death_row *dr,
				      struct sock *sk)
{
	int ret;

	EPHPORT_SRCU(ret = ephport_connect(dr, sk, EPHPORT_TCP6_CONNECT));
	return ret;
}

/*
 * bind() and the autobinds: port @snum, or with 0 one that ephport
 * chooses.  A port taken by an explicit bind(): the index learns of it.
 */
static int ephport_get_port(struct ephport_alloc_ctx *c, unsigned short snum)
{
	enum ephport_proto proto = ephport_path_proto(c->a.path);
	struct ephport_net *en;
	int ret;

	if (!snum && ephport_choose(c))
		return c->a.result;
	ret = ephport_orig(c, snum);
	if (snum && !ret && ephport_index_mirrors(c->sk, proto)) {
		en = ephport_net(sock_net(c->sk));
		if (en)
			ephport_index_set(en, proto, snum);
	}
	return ret;
}

static int ephport_inet_csk_get_port(struct sock *sk, unsigned short snum)
{
	struct ephport_alloc_ctx c = { .a.path = EPHPORT_TCP_BIND, .sk = sk };
	int ret;

	EPHPORT_SRCU(ret = ephport_get_port(&c, snum));
	return ret;
}

/*
 * UDP: the secondary hash of the wildcard address is computed by the
 * caller for the port it passes (hash ^ port): recomputed for each
 * candidate.
 */
static int ephport_udp_lib_get_port(struct sock *sk, unsigned short snum,
				    unsigned int hash2_nulladdr)
{
	struct ephport_alloc_ctx c = {
		.a.path = sk->sk_family == AF_INET6 ? EPHPORT_UDP6 : EPHPORT_UDP4,
		.sk = sk,
		.hash2_nulladdr = hash2_nulladdr,
	};
	int ret;

	EPHPORT_SRCU(ret = ephport_get_port(&c, snum));
	return ret;
}

/*
 * Sockets letting their ports go, for the occupancy index: the port is
 * read before the original clears it, and the index told once the port
 * is out of the kernel's tables.  These run in any context, softirq too.
 */
static void ephport_let_go(struct sock *sk, enum ephport_proto proto)
{
	u16 port = READ_ONCE(inet_sk(sk)->inet_num);

	if (proto == EPHPORT_PROTO_TCP)
		orig_inet_put_port(sk);
	else
		orig_udp_lib_unhash(sk);
	ephport_index_release(sk, proto, port);
}

static void ephport_inet_put_port(struct sock *sk)
{
	EPHPORT_SRCU(ephport_let_go(sk, EPHPORT_PROTO_TCP));
}

static void ephport_udp_lib_unhash(struct sock *sk)
{
	EPHPORT_SRCU(ephport_let_go(sk, EPHPORT_PROTO_UDP));
}

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

static struct ephport_hook_set ephport_path_set = {
	.hooks = ephport_path_hooks,
	.n = ARRAY_SIZE(ephport_path_hooks),
};

/* Serializes turning the redirections on and off. */
static DEFINE_MUTEX(ephport_switch_lock);

static int ephport_hooks_on(void)
{
	int err;

	/* The range hook first: see range.c. */
	err = ephport_range_enable();
	if (err)
		return err;
	err = ephport_hooks_enable(&ephport_path_set);
	if (err)
		ephport_range_disable();
	return err;
}

static void ephport_hooks_off(void)
{
	ephport_hooks_disable(&ephport_path_set);
	ephport_range_disable();
}

/*
 * Enable or disable the module.  Disabled, it redirects nothing: the
 * kernel's functions run as without the module, at the cost of a nop.
 * The occupancy index misses the ports let go meanwhile, so each
 * namespace's index is filled again from the kernel's tables at its next
 * walk.  Fails, with the module left disabled, when ftrace refuses the
 * redirections (another module, livepatch, holds a function).
 */
int ephport_alloc_set_enabled(bool enabled)
{
	int err = 0;

	mutex_lock(&ephport_switch_lock);
	if (enabled == READ_ONCE(ephport_enabled))
		goto out;
	if (!enabled) {
		/* Allocations already redirected pass through from now on. */
		WRITE_ONCE(ephport_enabled, false);
		ephport_hooks_off();
		goto out;
	}
	err = ephport_hooks_on();
	if (err)
		goto out;
	/* Once the hooks see ports let go again: see ephport_index_use(). */
	ephport_index_invalidate();
	WRITE_ONCE(ephport_enabled, true);
out:
	mutex_unlock(&ephport_switch_lock);
	return err;
}

int ephport_alloc_init(void)
{
	int err;

	err = ephport_range_init();
	if (err)
		return err;
	err = ephport_hooks_install(&ephport_path_set);
	if (err)
		goto err_range;
	/* Loaded disabled (enabled=0), nothing is redirected until enabled. */
	if (READ_ONCE(ephport_enabled)) {
		err = ephport_hooks_on();
		if (err)
			goto err_path;
	}
	return 0;

err_path:
	ephport_hooks_remove(&ephport_path_set);
err_range:
	ephport_range_uninit();
	ephport_hooks_done();
	return err;
}

void ephport_alloc_uninit(void)
{
	ephport_hooks_remove(&ephport_path_set);
	ephport_range_uninit();
	ephport_hooks_done();
}
