// SPDX-License-Identifier: GPL-2.0
/*
 * The occupancy index: per network namespace, a bit per TCP port and one
 * per UDP port, set while the port is believed held.  Strategies draw
 * their candidates from ports the index says are free, so an allocation
 * costs about one probe however full the range is.
 *
 * The kernel stays the source of truth.  Bits are set when the hooks see
 * a port taken (by ephport or an explicit bind()) and when a probe finds
 * a port busy; they are cleared when a socket lets its port go.  A wrong
 * bit costs a probe, never a wrong answer: the walk ends with every port
 * of the range (core.h).
 *
 * A namespace's bitmap for a protocol is set up when a strategy first walks
 * it (ephport_index_use()); until then the hooks have nothing to update.
 * It is published first and then filled from the kernel's tables, so every
 * port held is either seen by the fill or set by the hook that saw it taken
 * after publication, and a port let go during the fill is cleared after
 * the fill saw it (the bucket lock orders the two).  Walks that run during
 * the fill see a partial index: a few probes more.  Disabled, the module
 * redirects nothing and the index misses the ports let go: enabled again,
 * each namespace's next walk fills its index again the same way.
 *
 * A port several sockets share (different local addresses, SO_REUSEADDR,
 * connections to different destinations) is cleared when any of them lets
 * it go: the next probe of it learns it back.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/sched.h>
#include <net/inet_hashtables.h>
#include <net/sock.h>
#include <net/udp.h>

#include "compat.h"
#include "index.h"
#include "netns.h"

/* The namespace's bitmap for @proto, or NULL while it has none. */
static unsigned long *ephport_index_bits(struct ephport_net *en,
					 enum ephport_proto proto)
{
	/* Pairs with the publication in ephport_lazy_kvcalloc(). */
	return smp_load_acquire(&en->busy[proto]);
}

void ephport_index_set(struct ephport_net *en, enum ephport_proto proto, u16 port)
{
	unsigned long *busy = ephport_index_bits(en, proto);

	if (busy && !test_bit(port, busy))
		set_bit(port, busy);
}

void ephport_index_clear(struct ephport_net *en, enum ephport_proto proto, u16 port)
{
	unsigned long *busy = ephport_index_bits(en, proto);

	if (busy && test_bit(port, busy))
		clear_bit(port, busy);
}

/*
 * Whether the kernel's tables hold @port of @proto for namespace @net now:
 * a TCP bind bucket (TIME_WAIT sockets keep theirs) or a UDP socket, read
 * under the lock of the port's bucket, the one the socket letting the port
 * go takes to leave it.
 */
static bool ephport_port_held(struct net *net, enum ephport_proto proto, u16 port)
{
	bool held = false;

	if (proto == EPHPORT_PROTO_TCP) {
		struct inet_hashinfo *hinfo = net->ipv4.tcp_death_row.hashinfo;
		struct inet_bind_hashbucket *head;
		struct inet_bind_bucket *tb;

		head = &hinfo->bhash[inet_bhashfn(net, port, hinfo->bhash_size)];
		spin_lock_bh(&head->lock);
		inet_bind_bucket_for_each(tb, &head->chain)
			if (net_eq(ib_net(tb), net) && tb->port == port) {
				held = true;
				break;
			}
		spin_unlock_bh(&head->lock);
	} else {
		struct udp_hslot *hslot = udp_hashslot(ephport_udp_table(net), net, port);
		struct sock *sk;

		spin_lock_bh(&hslot->lock);
		sk_for_each(sk, &hslot->head)
			if (net_eq(sock_net(sk), net) &&
			    udp_sk(sk)->udp_port_hash == port) {
				held = true;
				break;
			}
		spin_unlock_bh(&hslot->lock);
	}
	return held;
}

/*
 * A probe of @sk's namespace found @port busy: remember it, unless the
 * socket that held it has let it go since, which ephport_index_release()
 * may have told the index before the bit was set.  The bucket lock
 * orders the two: either the check below finds the port gone and clears
 * the bit, or the socket leaves the bucket after it, and clears the bit
 * after it was set.  This costs a bucket lookup per busy probe, on the
 * allocation path, and nothing where sockets let ports go.
 */
void ephport_index_learn(struct sock *sk, struct ephport_net *en,
			 enum ephport_proto proto, u16 port)
{
	if (!ephport_index_bits(en, proto))
		return;
	ephport_index_set(en, proto, port);
	if (!ephport_port_held(sock_net(sk), proto, port))
		ephport_index_clear(en, proto, port);
}

/*
 * Whether @sk takes its port from the table the index of @proto mirrors,
 * the namespace's TCP bind table or UDP table.  DCCP sockets (until 6.16)
 * and UDP-Lite sockets (until 7.x) go through the same functions but take
 * their ports from tables of their own: the index neither steers their
 * walks nor learns from their ports.
 */
bool ephport_index_mirrors(const struct sock *sk, enum ephport_proto proto)
{
	struct net *net = sock_net(sk);

	if (proto == EPHPORT_PROTO_TCP)
		return ephport_bind_hashinfo(sk) == net->ipv4.tcp_death_row.hashinfo;
	return ephport_sk_udp_table(sk) == ephport_udp_table(net);
}

/*
 * A socket has let @port go (after inet_put_port() or udp_lib_unhash()
 * returned: the port is out of the kernel's tables by now).  Every TCP
 * and UDP close of every namespace comes here, on any CPU: it writes
 * nothing shared but the port's bit, and only when the bit is set, which
 * the allocation of the port did (the line is the one that allocation
 * wrote); a namespace without an index costs a load.
 */
void ephport_index_release(struct sock *sk, enum ephport_proto proto, u16 port)
{
	struct ephport_net *en;

	if (!port || !ephport_index_mirrors(sk, proto))
		return;
	en = ephport_net(sock_net(sk));
	if (en)
		ephport_index_clear(en, proto, port);
}

/* The ports set in @bits from @low to @high. */
unsigned int ephport_ports_count(const unsigned long *bits, int low, int high)
{
	return bitmap_weight(bits, high + 1) - bitmap_weight(bits, low);
}

static void ephport_bit_set(unsigned long *bits, u16 port)
{
	if (!test_bit(port, bits))
		set_bit(port, bits);
}

/*
 * The ports of @proto that namespace @net holds now, as the kernel's tables
 * say (its TCP bind buckets, which TIME_WAIT sockets keep too, or its UDP
 * sockets), set in @bits.  Each bucket is read under its lock; the whole
 * is not a snapshot.  O(table size), for the control path.
 */
void ephport_ports_scan(struct net *net, enum ephport_proto proto,
			unsigned long *bits)
{
	struct inet_hashinfo *hinfo = net->ipv4.tcp_death_row.hashinfo;
	struct udp_table *udptable = ephport_udp_table(net);
	unsigned int i;

	for (i = 0; proto == EPHPORT_PROTO_TCP && i < hinfo->bhash_size; i++) {
		struct inet_bind_hashbucket *head = &hinfo->bhash[i];
		struct inet_bind_bucket *tb;

		if (hlist_empty(&head->chain))
			continue;
		spin_lock_bh(&head->lock);
		inet_bind_bucket_for_each(tb, &head->chain)
			if (net_eq(ib_net(tb), net))
				ephport_bit_set(bits, tb->port);
		spin_unlock_bh(&head->lock);
		cond_resched();
	}

	for (i = 0; proto == EPHPORT_PROTO_UDP && i <= udptable->mask; i++) {
		struct udp_hslot *hslot = &udptable->hash[i];
		struct sock *sk;

		if (hlist_empty(&hslot->head))
			continue;
		spin_lock_bh(&hslot->lock);
		sk_for_each(sk, &hslot->head)
			if (net_eq(sock_net(sk), net))
				ephport_bit_set(bits, udp_sk(sk)->udp_port_hash);
		spin_unlock_bh(&hslot->lock);
		cond_resched();
	}
}

/*
 * The epoch of the hooks: it moves on each time they come back on after
 * the module was disabled, when no hook saw the ports let go.  An index
 * filled in an earlier epoch (or never: a namespace's busy_epoch starts
 * at 0) is filled again by its next walk.
 */
static unsigned int ephport_index_epoch = 1;

/* Called with the hooks back on: every index is to be filled again. */
void ephport_index_invalidate(void)
{
	WRITE_ONCE(ephport_index_epoch, READ_ONCE(ephport_index_epoch) + 1);
}

/*
 * Fill @busy from the kernel's tables if it was filled in an earlier
 * epoch.  One walk does it; walks that run meanwhile see a partial index,
 * as when it is first set up (above).  A bit set by a hook while it is
 * cleared here is set again by the scan, which finds the port in its
 * bucket, since hooks tell the index after the kernel's tables.  A walk
 * racing with the switch back on may still go by the old epoch's index:
 * a wrong bit costs a probe.
 */
static void ephport_index_fill(struct net *net, struct ephport_net *en,
			       enum ephport_proto proto, unsigned long *busy)
{
	unsigned int epoch = READ_ONCE(ephport_index_epoch);
	unsigned int old = READ_ONCE(en->busy_epoch[proto]);

	if (old == epoch || cmpxchg(&en->busy_epoch[proto], old, epoch) != old)
		return;
	bitmap_zero(busy, EPHPORT_PORTS);
	ephport_ports_scan(net, proto, busy);
}

/*
 * Let walk @w skip the ports of @proto that the index of @net says are
 * held, setting the index up if this is its first walk.  Without memory
 * for it, the walk goes without.
 */
void ephport_index_use(struct ephport_walk *w, struct net *net,
		       struct ephport_net *en, enum ephport_proto proto, u32 low)
{
	unsigned long *busy;

	/* The stock bind(0) order keeps its own course: no index. */
	if (w->stride != 1)
		return;
	busy = ephport_lazy_kvcalloc((void **)&en->busy[proto],
				     BITS_TO_LONGS(EPHPORT_PORTS),
				     sizeof(unsigned long), NULL);
	if (!busy)
		return;
	ephport_index_fill(net, en, proto, busy);
	ephport_walk_set_index(w, low, busy);
}
