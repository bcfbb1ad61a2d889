/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport's strategy API: what a module sees that adds a port-selection
 * strategy to ephport.  samples/ephport_sample.c is a complete example,
 * and Documentation/ephport.rst section 3.5 says how to build one.
 *
 * A strategy orders the candidate ports of one allocation.  ephport takes
 * the range, calls the strategy's begin() to set up a walk over the range's
 * n ports as offsets 0 to n - 1 (port = low + offset), and hands the
 * offsets of that walk, in order, to the kernel's own code, which takes
 * the first usable one; commit() is then told which offset was taken.  The
 * walk always covers the whole range, so a strategy decides the order of
 * the candidates, never whether a free port is found.  A walk is a start
 * and a step (1, or 2: one parity, then the other) through the offsets,
 * optionally preceded by up to EPHPORT_PICKS_MAX offsets drawn by a pick
 * function of the strategy's (ephport_walk_set_picks()).
 *
 * The core checks what begin() leaves against the request: a walk that is
 * not one over the offsets of the request (another n, a start or step out
 * of bounds, a random phase not set up with ephport_walk_set_picks())
 * becomes a plain walk over them from its start (modulo n), and no offset
 * outside the range ever reaches the kernel.
 *
 * The core of ephport builds this header into the userspace unit tests of
 * selftests/unit too: there, selftests/unit/core_shim.h, included first,
 * provides what the kernel headers below provide.
 */
#ifndef _EPHPORT_STRATEGY_H
#define _EPHPORT_STRATEGY_H

#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/types.h>
#endif

struct module;
struct ephport_secrets;
struct ephport_state;

#define EPHPORT_STRATEGY_NAME_MAX	16
#define EPHPORT_PICKS_MAX	8

/*
 * What the hash strategies hash: F() and G() of RFC 6056 run siphash over
 * this block.  For bind(0) and UDP without a destination, raddr and rport
 * are zero, so the hash keys on the local address, family and protocol
 * only.  @salt is per network namespace, so that namespaces sharing an
 * address do not share offsets.
 */
struct ephport_flow {
	u32 laddr[4];		/* IPv4 in laddr[0], network order */
	u32 raddr[4];
	u32 salt;
	u16 rport;		/* network order */
	u8 family;
	u8 proto;
} __aligned(8);

/* One allocation, as the strategy sees it. */
struct ephport_req {
	u32 low;		/* first port of the range */
	u32 n;			/* number of ports, at least 1 */
	struct ephport_flow flow;
	struct ephport_state *state;	/* the built-in strategies' own */
	const struct ephport_secrets *secrets;	/* see ephport_flow_hash_f() */
	u32 random_inc_n;	/* random-inc: increments are 1..N */
};

/*
 * The walk of one allocation.  Its fields belong to the core: a strategy
 * sets a walk up with ephport_walk_init() and ephport_walk_set_picks()
 * only, and a pick function reads @n and @pick_arg and may change
 * @pick_state, nothing else.
 */
struct ephport_walk;
typedef u32 (*ephport_pick_t)(struct ephport_walk *w);

struct ephport_walk {
	u32 n;
	u32 start;		/* first offset of the linear phase */
	u32 stride;		/* 1, or 2 (one parity, then the other) */
	u32 done;		/* linear-phase offsets passed so far */
	u32 next;		/* next linear-phase offset */
	u32 pick_state;		/* random phase: the strategy's own cursor */
	u32 pick_arg;
	ephport_pick_t pick;
	u8 npicks;		/* random-phase offsets handed out */
	u8 maxpicks;
	u16 picks[EPHPORT_PICKS_MAX];
	const unsigned long *busy;	/* the index, by port number, or NULL */
	u32 low;
	u32 zero;		/* handed out in place of offset 0 */
};

/*
 * A walk over @n offsets from @start (modulo @n), stepping by @stride: 1,
 * or 2 for one parity first, then the other (from start - 1).  Every
 * begin() calls it, with req->n as @n.
 */
void ephport_walk_init(struct ephport_walk *w, u32 n, u32 start, u32 stride);

/*
 * Before the linear phase, let @pick draw up to @maxpicks offsets (at most
 * EPHPORT_PICKS_MAX, and at most half the range); an offset drawn twice,
 * or any that @pick returns modulo n, is handed out once.  @pick_state and
 * @pick_arg are @pick's, in the walk.
 */
void ephport_walk_set_picks(struct ephport_walk *w, ephport_pick_t pick,
			    u32 maxpicks, u32 pick_state, u32 pick_arg);

/* RFC 6056's F(): a keyed hash (siphash) of the request's flow. */
u32 ephport_flow_hash_f(const struct ephport_req *r);

/*
 * The strategy lets the stock algorithm pick (only the range is ephport's):
 * begin() and commit() are not called.  The built-in "kernel" has it.
 */
#define EPHPORT_STRATEGY_KERNEL		BIT(0)

/*
 * A strategy, registered by name.  begin() and commit() run for every
 * allocation that uses the strategy, on the allocating task, in an SRCU
 * read section of ephport, possibly on several CPUs at once: they must not
 * sleep, and what they share between allocations they update with single
 * stores (READ_ONCE()/WRITE_ONCE()): a lost update may move where a later
 * walk starts, never what it covers.
 */
struct ephport_strategy {
	/* fast path */

	/* set up the walk of one allocation (required) */
	void (*begin)(struct ephport_walk *w, const struct ephport_req *req);
	/*
	 * the kernel took offset @offset after @probes candidates (optional);
	 * not called when no candidate was taken
	 */
	void (*commit)(const struct ephport_req *req, u32 offset, u32 probes);
	u32 flags;		/* EPHPORT_STRATEGY_* */

	/* control path */

	/* 1 to 15 characters of [a-z0-9-], unique (required) */
	char name[EPHPORT_STRATEGY_NAME_MAX];
	/* THIS_MODULE: ephport holds it while the strategy is selected */
	struct module *owner;
	struct list_head list;	/* ephport's */
};

/*
 * Add @s to /sys/kernel/ephport/available_strategies: 0, -EINVAL (no
 * begin(), or a name of 0 or 16 characters and more), -EEXIST (the name
 * is taken).  @s must stay in place until ephport_unregister_strategy().
 */
int ephport_register_strategy(struct ephport_strategy *s);

/*
 * Remove @s, from its module's exit (nothing selects it then: the global
 * strategy and each rule that names it hold a reference on its module) or
 * from its module's init after registering it, when init fails: then the
 * global strategy becomes "kernel" if it was @s, and the rules that name
 * @s fall back to the global strategy.  Returns once no allocation uses
 * @s any more.  May sleep.
 */
void ephport_unregister_strategy(struct ephport_strategy *s);

#endif /* _EPHPORT_STRATEGY_H */
