// SPDX-License-Identifier: GPL-2.0
/*
 * The strategy core: the candidate walk and the RFC 6056 algorithms.
 * See core.h; this file must stay free of kernel dependencies.
 */
#include "core.h"

void ephport_walk_init(struct ephport_walk *w, u32 n, u32 start, u32 stride)
{
	w->n = n;
	w->start = n ? start % n : 0;
	w->stride = (stride == 2 && n > 1) ? 2 : 1;
	w->done = 0;
	w->next = w->start;
	w->pick = NULL;
	w->pick_state = 0;
	w->pick_arg = 0;
	w->npicks = 0;
	w->maxpicks = 0;
	w->busy = NULL;
	w->low = 0;
	w->zero = 0;
}
EXPORT_SYMBOL_GPL(ephport_walk_init);

/*
 * Let @pick draw up to @maxpicks offsets before the linear phase.  At most
 * half of the range is drawn at random, so that rejecting an offset drawn
 * twice stays cheap.
 */
void ephport_walk_set_picks(struct ephport_walk *w, ephport_pick_t pick,
			    u32 maxpicks, u32 pick_state, u32 pick_arg)
{
	if (maxpicks > w->n / 2)
		maxpicks = w->n / 2;
	if (maxpicks > EPHPORT_PICKS_MAX)
		maxpicks = EPHPORT_PICKS_MAX;
	w->pick = pick;
	w->maxpicks = maxpicks;
	w->pick_state = pick_state;
	w->pick_arg = pick_arg;
}
EXPORT_SYMBOL_GPL(ephport_walk_set_picks);

static bool ephport_walk_picked(const struct ephport_walk *w, u32 off)
{
	u32 i;

	for (i = 0; i < w->npicks; i++)
		if (w->picks[i] == off)
			return true;
	return false;
}

void ephport_walk_set_index(struct ephport_walk *w, u32 low,
			    const unsigned long *busy)
{
	/* The stock bind(0) order keeps its own course. */
	if (w->stride == 1) {
		w->busy = busy;
		w->low = low;
	}
}

/*
 * How many offsets, from @off on and wrapping at n, precede the first
 * whose port the index says is free; @limit if none within @limit.
 */
static u32 ephport_free_distance(const struct ephport_walk *w, u32 off, u32 limit)
{
	u32 head = w->n - off < limit ? w->n - off : limit;
	u32 p;

	/* Most often, in a range not nearly full: this very port. */
	if (limit && !test_bit(w->low + off, w->busy))
		return 0;

	p = find_next_zero_bit(w->busy, w->low + off + head, w->low + off);
	if (p < w->low + off + head)
		return p - (w->low + off);
	if (head == limit)
		return limit;
	p = find_next_zero_bit(w->busy, w->low + limit - head, w->low);
	if (p < w->low + limit - head)
		return head + p - w->low;
	return limit;
}

/* The index found nothing: hand out the whole range again, plainly. */
static void ephport_walk_fallback(struct ephport_walk *w)
{
	w->busy = NULL;
	w->done = 0;
	w->next = w->start;
	w->npicks = 0;
	w->maxpicks = 0;
}

/*
 * Whether @w is a walk over the offsets of @r: over all r->n of them, or,
 * as the stock bind(0) order walks (ephport_kernel_bind_begin()), over r->n
 * rounded down to even with stride 2, the last offset maybe standing in
 * for offset 0.
 */
static bool ephport_walk_valid(const struct ephport_walk *w,
			       const struct ephport_req *r)
{
	bool even = w->stride == 2 && w->n && w->n == (r->n & ~1U);

	if (w->n != r->n && !even)
		return false;
	if (w->zero && (w->n == r->n || w->zero >= r->n))
		return false;
	return w->start < w->n && w->next == w->start && !w->done &&
	       (w->stride == 1 || w->stride == 2) && !w->npicks &&
	       w->maxpicks <= EPHPORT_PICKS_MAX && w->maxpicks <= w->n / 2 &&
	       (!w->maxpicks || w->pick);
}

/*
 * The walk of one allocation: what @begin sets up, checked against @r,
 * without an index (ephport_walk_set_index() adds one).  begin() may come
 * from another module: a walk it leaves that is not one over the offsets
 * of @r (another n, a start, position or stride out of bounds, a random
 * phase it could not have set up with ephport_walk_set_picks()) becomes a
 * plain walk over them, from its start modulo n.
 */
void ephport_walk_begin(struct ephport_walk *w, ephport_begin_t begin,
			const struct ephport_req *r)
{
	begin(w, r);
	if (!ephport_walk_valid(w, r))
		ephport_walk_init(w, r->n, w->start, w->stride);
	w->busy = NULL;
}

static bool ephport_walk_step(struct ephport_walk *w, u32 *offset)
{
	u32 off, tries, d;

again:
	while (w->npicks < w->maxpicks) {
		for (tries = 0; tries < 4; tries++) {
			off = w->pick(w) % w->n;
			if (w->busy) {
				d = ephport_free_distance(w, off, w->n);
				if (d == w->n)
					break;
				off = off + d < w->n ? off + d : off + d - w->n;
			}
			if (!ephport_walk_picked(w, off)) {
				w->picks[w->npicks++] = off;
				*offset = off;
				return true;
			}
		}
		/* Unlucky draws: leave the rest to the linear phase. */
		w->maxpicks = w->npicks;
	}

	while (w->done < w->n) {
		if (w->busy) {
			d = ephport_free_distance(w, w->next, w->n - w->done);
			w->done += d;
			w->next = w->next + d < w->n ? w->next + d : w->next + d - w->n;
			if (w->done == w->n)
				break;
		}
		off = w->next;
		w->done++;
		if (w->stride == 2 && !(w->n & 1) && w->done == w->n / 2) {
			/* One parity done: the other one, from start - 1. */
			w->next = w->start ? w->start - 1 : w->n - 1;
		} else {
			w->next += w->stride;
			if (w->next >= w->n)
				w->next -= w->n;
		}
		if (!ephport_walk_picked(w, off)) {
			*offset = off;
			return true;
		}
	}
	if (w->busy) {
		ephport_walk_fallback(w);
		goto again;
	}
	return false;
}

/*
 * Hand out the next candidate offset.  Returns false once all n offsets
 * have been handed out, each exactly once (without an index; with one,
 * see core.h).  Whatever a strategy did to the walk, no offset of n or
 * more ever reaches the caller (the port would lie outside the range,
 * and outside the index).
 */
bool ephport_walk_next(struct ephport_walk *w, u32 *offset)
{
	u32 off;

	while (ephport_walk_step(w, &off)) {
		if (off < w->n) {
			/* ephport_walk_valid() checked zero against the range. */
			*offset = off || !w->zero ? off : w->zero;
			return true;
		}
	}
	return false;
}

/*
 * (a + b) % n as if computed without overflow, with 32-bit divisions only:
 * a u64 % u32 needs a libgcc helper that 32-bit kernels do not have.
 */
static u32 ephport_add_mod(u32 a, u32 b, u32 n)
{
	u32 sum = a % n + b % n;	/* below 2n: cannot overflow */

	return sum >= n ? sum - n : sum;
}

u32 ephport_flow_hash_f(const struct ephport_req *r)
{
	return (u32)siphash(&r->flow, sizeof(r->flow), &r->secrets->f);
}
EXPORT_SYMBOL_GPL(ephport_flow_hash_f);

u32 ephport_flow_hash_g(const struct ephport_req *r)
{
	return (u32)siphash(&r->flow, sizeof(r->flow), &r->secrets->g);
}

/*
 * sequential: one cursor per namespace; the first usable port at or after
 * it, wrapping at the end of the range.
 */
void ephport_sequential_begin(struct ephport_walk *w, const struct ephport_req *r)
{
	u32 cursor = EPHPORT_READ(r->state->seq_cursor);
	u32 start = 0;

	if (cursor >= r->low && cursor - r->low < r->n)
		start = cursor - r->low;
	ephport_walk_init(w, r->n, start, 1);
}

void ephport_sequential_commit(const struct ephport_req *r, u32 off, u32 probes)
{
	EPHPORT_WRITE(r->state->seq_cursor, r->low + off + 1);
}

/* random-start, RFC 6056 section 3.3.1: a random start, then +1. */
void ephport_random_start_begin(struct ephport_walk *w, const struct ephport_req *r)
{
	ephport_walk_init(w, r->n, ephport_below(r->n), 1);
}

/*
 * random-pick, RFC 6056 section 3.3.2: a fresh random port for each try.
 * The RFC's version may give up while ports are free; here, after
 * EPHPORT_PICKS_MAX misses, a linear scan from a random start covers the
 * rest of the range.
 */
static u32 ephport_random_pick(struct ephport_walk *w)
{
	return ephport_below(w->n);
}

void ephport_random_pick_begin(struct ephport_walk *w, const struct ephport_req *r)
{
	ephport_walk_init(w, r->n, ephport_below(r->n), 1);
	ephport_walk_set_picks(w, ephport_random_pick, EPHPORT_PICKS_MAX, 0, 0);
}

/*
 * hash, RFC 6056 section 3.3.3: offset F(flow) plus the namespace's
 * counter, which advances by one for each port tried.
 */
void ephport_hash_begin(struct ephport_walk *w, const struct ephport_req *r)
{
	u32 counter = EPHPORT_READ(r->state->hash_counter);

	ephport_walk_init(w, r->n, ephport_add_mod(ephport_flow_hash_f(r), counter, r->n), 1);
}

void ephport_hash_commit(const struct ephport_req *r, u32 off, u32 probes)
{
	EPHPORT_WRITE(r->state->hash_counter,
		      EPHPORT_READ(r->state->hash_counter) + probes);
}

/*
 * double-hash, RFC 6056 section 3.3.4: offset F(flow) plus a counter taken
 * from a table indexed by G(flow); only that counter advances, so ports to
 * one destination say nothing about ports to another (unless both hash to
 * the same of the 2^16 counters).  The table is set up when first needed;
 * without one (no memory), every counter is 0.
 */
static u16 *ephport_dh_slot(const struct ephport_req *r)
{
	u16 *table = EPHPORT_DH_TABLE(r->state);

	if (!table)
		return NULL;
	return &table[ephport_flow_hash_g(r) & (EPHPORT_DH_TABLE_SIZE - 1)];
}

void ephport_double_hash_begin(struct ephport_walk *w, const struct ephport_req *r)
{
	u16 *slot = ephport_dh_slot(r);
	u32 counter = slot ? EPHPORT_READ(*slot) : 0;

	ephport_walk_init(w, r->n, ephport_add_mod(ephport_flow_hash_f(r), counter, r->n), 1);
}

void ephport_double_hash_commit(const struct ephport_req *r, u32 off, u32 probes)
{
	u16 *slot = ephport_dh_slot(r);

	if (slot)
		EPHPORT_WRITE(*slot, (u16)(EPHPORT_READ(*slot) + probes));
}

/*
 * random-inc, RFC 6056 section 3.3.5: each try moves the namespace's
 * cursor forward by a random 1..N.  After EPHPORT_PICKS_MAX misses, a
 * linear scan from the previous allocation covers the rest of the range.
 */
static u32 ephport_random_inc(struct ephport_walk *w)
{
	w->pick_state += 1 + ephport_below(w->pick_arg);
	return w->pick_state;
}

void ephport_random_inc_begin(struct ephport_walk *w, const struct ephport_req *r)
{
	u32 next = EPHPORT_READ(r->state->rinc_next);
	u32 n_inc = r->random_inc_n ? r->random_inc_n : EPHPORT_RANDOM_INC_N;

	ephport_walk_init(w, r->n, next % r->n, 1);
	ephport_walk_set_picks(w, ephport_random_inc, EPHPORT_PICKS_MAX, next, n_inc);
}

void ephport_random_inc_commit(const struct ephport_req *r, u32 off, u32 probes)
{
	EPHPORT_WRITE(r->state->rinc_next, off);
}

/*
 * The stock bind(0) order (inet_csk_find_open_port()), used by the "kernel"
 * strategy when a fixed range replaces the sysctl one: a random odd offset,
 * every other port, then the other parity from the offset just below (so
 * that bind() and connect() do not compete for the same ports first).
 *
 * Like the stock code, the walk covers n rounded down to even: in a range
 * of odd size, the even scan wraps past the last port only once it is
 * beyond it, so that the last port takes the place of offset 0 when the
 * scan starts above 0, and one port (the last, or offset 0) is never
 * tried.  The caller splits the range in halves for SO_REUSEADDR, as the
 * stock code does.
 */
void ephport_kernel_bind_begin(struct ephport_walk *w, const struct ephport_req *r)
{
	u32 n = r->n > 1 ? r->n & ~1U : r->n;
	u32 start = n > 1 ? ephport_below(n) | 1 : 0;

	ephport_walk_init(w, n, start, 2);
	if (n < r->n && start > 1)
		w->zero = n;
}
