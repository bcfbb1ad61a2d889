// SPDX-License-Identifier: GPL-2.0
/*
 * The range hook: what inet_sk_get_local_port_range() answers.  The
 * allocation paths (alloc.c) force a range on the socket they drive,
 * which the hook answers that socket alone; a fixed global range is
 * answered to the sockets ephport steers; anything else gets the stock
 * answer.  The hook goes first and comes off last (ephport_alloc_init()),
 * so that no connect() being driven ever runs without it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/sock.h>

#include "compat.h"
#include "ephport.h"
#include "hook.h"
#include "params.h"
#include "range.h"
#include "rules.h"

EPHPORT_DEFINE_ORIG(inet_sk_get_local_port_range);

/* The sockets being driven (struct ephport_force), by socket. */
#define EPHPORT_FORCE_BITS	6

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

void ephport_force_insert(struct ephport_force *f)
{
	struct ephport_force_bucket *b = ephport_force_bucket(f->sk);

	spin_lock_bh(&b->lock);
	hlist_add_head(&f->node, &b->head);
	spin_unlock_bh(&b->lock);
	atomic_inc(&ephport_forced);
}

void ephport_force_remove(struct ephport_force *f)
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

/*
 * The stock algorithm over a rule's range: the range hook answers it to
 * this socket until ephport_unforce().
 */
void ephport_force_range(struct ephport_force *f,
			 const struct ephport_policy *pol, int low, int high)
{
	if (pol->rule_range) {
		f->low = low;
		f->high = high;
		ephport_force_insert(f);
	}
}

void ephport_unforce(struct ephport_force *f, const struct ephport_policy *pol)
{
	if (pol->rule_range)
		ephport_force_remove(f);
}

/* The stock range getter, and whether a per-socket range applies. */
static bool ephport_orig_range(const struct sock *sk, int *lo, int *hi)
{
	return ephport_range_call(static_call(ephport_orig_inet_sk_get_local_port_range)
				  (sk, lo, hi));
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
	bool local __maybe_unused = ephport_range_answer(sk, low, high);

	return EPHPORT_RANGE_RET(local);
}

static struct ephport_hook ephport_range_hooks[] = {
	EPHPORT_HOOK(inet_sk_get_local_port_range, ephport_get_range),
};

static struct ephport_hook_set ephport_range_set = {
	.hooks = ephport_range_hooks,
	.n = ARRAY_SIZE(ephport_range_hooks),
};

int ephport_range_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ephport_force_table); i++) {
		spin_lock_init(&ephport_force_table[i].lock);
		INIT_HLIST_HEAD(&ephport_force_table[i].head);
	}
	return ephport_hooks_install(&ephport_range_set);
}

int ephport_range_enable(void)
{
	return ephport_hooks_enable(&ephport_range_set);
}

void ephport_range_disable(void)
{
	ephport_hooks_disable(&ephport_range_set);
}

void ephport_range_uninit(void)
{
	ephport_hooks_remove(&ephport_range_set);
}
