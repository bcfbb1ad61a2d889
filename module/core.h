/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The strategy core: how each strategy orders the candidate ports of one
 * allocation.  Pure C: it depends on nothing but core_shim.h, so the same
 * source builds into the module and into the userspace unit tests
 * (selftests/unit provides a core_shim.h of its own).
 *
 * Ports are handled as offsets into the range [low, low + n - 1].  A walk
 * hands out offsets until every one of the n has been handed out exactly
 * once, in two phases:
 *
 *  - an optional random phase of at most EPHPORT_PICKS_MAX distinct offsets
 *    drawn by the strategy (random-pick, random-inc), then
 *  - a linear phase from a start offset, stepping by 1 (or by 2 and then the
 *    other parity, for the stock bind(0) order), skipping the offsets the
 *    random phase already handed out.
 *
 * That makes every strategy complete: when a usable port exists, the walk
 * reaches it.  The one exception is the stock bind(0) order of the
 * "kernel" strategy, which, like the stock code, leaves one port of a range
 * of odd size out (see ephport_kernel_bind_begin()).
 *
 * With an occupancy index (a bitmap of the ports believed held, set with
 * ephport_walk_set_index()), the walk first hands out, in the same order,
 * only the offsets whose port the index says is free (a random pick moves
 * on to the next such port), then, should none of them do, every offset
 * of the range once more: the index saves probes but never decides.
 *
 * The allocator sets a walk up with ephport_walk_begin(), which runs the
 * strategy's begin() (expected to call ephport_walk_init() and maybe
 * ephport_walk_set_picks(), nothing else) and checks what it left against
 * the request, as a strategy may come from another module.
 *
 * What a strategy sees (the request, the walk, ephport_walk_init() and
 * ephport_walk_set_picks()) is in the public <ephport/strategy.h>, which
 * other modules include too; this header adds what ephport keeps to itself.
 */
#ifndef _EPHPORT_CORE_H
#define _EPHPORT_CORE_H

#include <core_shim.h>
#include <ephport/strategy.h>

#define EPHPORT_DH_TABLE_BITS	16
#define EPHPORT_DH_TABLE_SIZE	BIT(EPHPORT_DH_TABLE_BITS)
#define EPHPORT_RANDOM_INC_N	500	/* RFC 6056 section 3.3.5 */

struct ephport_secrets {
	siphash_key_t f;	/* F(): the offset */
	siphash_key_t g;	/* G(): the double-hash table index */
};

/*
 * Per network namespace state of the strategies that keep some.  Several
 * allocations may read and update it at once: updates are single stores,
 * a lost update only moves where the next walk starts, never what it covers.
 */
struct ephport_state {
	u32 seq_cursor;		/* sequential: next port to try first */
	u32 hash_counter;	/* hash: RFC 6056 next_ephemeral */
	u32 rinc_next;		/* random-inc: RFC 6056 next_ephemeral */
	u16 *dh_table;		/* double-hash: EPHPORT_DH_TABLE_SIZE counters, or NULL */
};

/* A strategy's begin(): sets up the walk of one allocation. */
typedef void (*ephport_begin_t)(struct ephport_walk *w, const struct ephport_req *r);

void ephport_walk_begin(struct ephport_walk *w, ephport_begin_t begin,
			const struct ephport_req *r);
void ephport_walk_set_index(struct ephport_walk *w, u32 low,
			    const unsigned long *busy);
bool ephport_walk_next(struct ephport_walk *w, u32 *offset);

static inline u32 ephport_below(u32 n)
{
	return (u32)(((u64)ephport_random_u32() * n) >> 32);
}

/*
 * The built-in algorithms.  begin() sets up the walk of one allocation;
 * commit() is told the offset the kernel accepted and how many candidates
 * it took, and updates the namespace state.
 */
void ephport_sequential_begin(struct ephport_walk *w, const struct ephport_req *r);
void ephport_sequential_commit(const struct ephport_req *r, u32 off, u32 probes);
void ephport_random_start_begin(struct ephport_walk *w, const struct ephport_req *r);
void ephport_random_pick_begin(struct ephport_walk *w, const struct ephport_req *r);
void ephport_hash_begin(struct ephport_walk *w, const struct ephport_req *r);
void ephport_hash_commit(const struct ephport_req *r, u32 off, u32 probes);
void ephport_double_hash_begin(struct ephport_walk *w, const struct ephport_req *r);
void ephport_double_hash_commit(const struct ephport_req *r, u32 off, u32 probes);
void ephport_random_inc_begin(struct ephport_walk *w, const struct ephport_req *r);
void ephport_random_inc_commit(const struct ephport_req *r, u32 off, u32 probes);
void ephport_kernel_bind_begin(struct ephport_walk *w, const struct ephport_req *r);

u32 ephport_flow_hash_g(const struct ephport_req *r);

#endif /* _EPHPORT_CORE_H */
