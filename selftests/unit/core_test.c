// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the strategy core (module/core.c), built with the
 * userspace core_shim.h of this directory: its random source is a seeded
 * splitmix64, so every run draws the same numbers and each statistical
 * verdict below is reproducible.
 *
 *  - siphash: the shim's siphash() against the published SipHash-2-4 vector;
 *  - coverage: every walk hands out each offset of [0, n) exactly once, then
 *    ends, for every strategy and for the walk engine alone;
 *  - determinism: sequential, hash and double-hash start where RFC 6056 and
 *    the namespace state say, and commit() moves the state as documented;
 *  - uniformity: chi-square tests of the first candidate of the random
 *    strategies, and the parity order of the stock bind(0) walk;
 *  - tracking: an attacker who sees the ports of its own connections tries
 *    to predict the ports of the host's connections to another destination
 *    (Kol, Klein, Gilad, "Device Tracking via Linux's New TCP Source Port
 *    Selection Algorithm", USENIX Security 2023).  hash and sequential are
 *    shown to leak; the other strategies must not do better than chance.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* This directory's shim; core.h's own include then finds it already in. */
#include "core_shim.h"
#include "core.h"
#include "kselftest_harness.h"

/* Build with -DTEST_SEED=... to try another seed. */
#ifndef TEST_SEED
#define TEST_SEED	0x6570686f7274ULL	/* "ephort" */
#endif

enum {
	STRAT_SEQUENTIAL,
	STRAT_RANDOM_START,
	STRAT_RANDOM_PICK,
	STRAT_HASH,
	STRAT_DOUBLE_HASH,
	STRAT_RANDOM_INC,
	STRAT_KERNEL_BIND,
	/* The walk engine alone, without a strategy around it. */
	WALK_STRIDE_1,
	WALK_STRIDE_2,
	WALK_STUCK_PICKS,	/* a pick function that repeats itself */
	WALK_WILD_PICKS,	/* any u32 as a pick, then stride 2 */
};

struct strategy_ops {
	const char *name;
	void (*begin)(struct ephport_walk *w, const struct ephport_req *r);
	void (*commit)(const struct ephport_req *r, u32 off, u32 probes);
};

static const struct strategy_ops strategies[] = {
	[STRAT_SEQUENTIAL] = { "sequential", ephport_sequential_begin,
			       ephport_sequential_commit },
	[STRAT_RANDOM_START] = { "random-start", ephport_random_start_begin, NULL },
	[STRAT_RANDOM_PICK] = { "random-pick", ephport_random_pick_begin, NULL },
	[STRAT_HASH] = { "hash", ephport_hash_begin, ephport_hash_commit },
	[STRAT_DOUBLE_HASH] = { "double-hash", ephport_double_hash_begin,
				ephport_double_hash_commit },
	[STRAT_RANDOM_INC] = { "random-inc", ephport_random_inc_begin,
			       ephport_random_inc_commit },
	[STRAT_KERNEL_BIND] = { "kernel", ephport_kernel_bind_begin, NULL },
};

static void random_key(siphash_key_t *key)
{
	key->key[0] = ephport_test_random_u64();
	key->key[1] = ephport_test_random_u64();
}

/* One network namespace with its secrets and the request being served. */
struct host {
	struct ephport_secrets secrets;
	struct ephport_state state;
	struct ephport_req req;
};

static void host_init(struct host *h, u32 low, u32 n, bool table)
{
	memset(h, 0, sizeof(*h));
	random_key(&h->secrets.f);
	random_key(&h->secrets.g);
	if (table)
		h->state.dh_table = calloc(EPHPORT_DH_TABLE_SIZE, sizeof(u16));
	h->req.low = low;
	h->req.n = n;
	h->req.state = &h->state;
	h->req.secrets = &h->secrets;
}

static void host_fill_table(struct host *h)
{
	u32 i;

	for (i = 0; i < EPHPORT_DH_TABLE_SIZE; i++)
		h->state.dh_table[i] = (u16)ephport_random_u32();
}

static void host_free(struct host *h)
{
	free(h->state.dh_table);
	h->state.dh_table = NULL;
}

/* A TCP connection from 192.0.2.2 in namespace @salt to @raddr:@rport. */
static struct ephport_flow tcp_flow(u32 raddr, u16 rport, u32 salt)
{
	struct ephport_flow flow;

	memset(&flow, 0, sizeof(flow));
	flow.laddr[0] = htonl(0xc0000202);
	flow.raddr[0] = htonl(raddr);
	flow.rport = htons(rport);
	flow.salt = salt;
	flow.family = AF_INET;
	flow.proto = IPPROTO_TCP;
	return flow;
}

static struct ephport_flow random_flow(void)
{
	struct ephport_flow flow;
	u32 i;

	memset(&flow, 0, sizeof(flow));
	flow.family = ephport_below(2) ? AF_INET : AF_INET6;
	flow.proto = ephport_below(2) ? IPPROTO_TCP : IPPROTO_UDP;
	for (i = 0; i < (flow.family == AF_INET ? 1 : 4); i++) {
		flow.laddr[i] = ephport_random_u32();
		flow.raddr[i] = ephport_random_u32();
	}
	flow.rport = (u16)ephport_random_u32();
	flow.salt = ephport_random_u32();
	return flow;
}

/*
 * connect() on a host where every port is free: the first candidate is
 * taken after one probe, and the strategy's commit() is told so, as the
 * module does.  Returns the offset in the range.
 */
static u32 host_connect(struct host *h, int strat, const struct ephport_flow *flow)
{
	struct ephport_walk w;
	u32 off = 0;

	h->req.flow = *flow;
	strategies[strat].begin(&w, &h->req);
	if (!ephport_walk_next(&w, &off))
		abort();
	if (strategies[strat].commit)
		strategies[strat].commit(&h->req, off, 1);
	return off;
}

/* The table slot, as RFC 6056's G() picks it, computed here from siphash(). */
static u32 dh_index(const struct host *h, const struct ephport_flow *flow)
{
	return (u32)siphash(flow, sizeof(*flow), &h->secrets.g) &
	       (EPHPORT_DH_TABLE_SIZE - 1);
}

static u32 flow_f(const struct host *h, const struct ephport_flow *flow)
{
	return (u32)siphash(flow, sizeof(*flow), &h->secrets.f);
}

/* ------------------------------------------------------------------ */

/*
 * SipHash-2-4 reference vector (Aumasson, Bernstein, "SipHash: a fast
 * short-input PRF", appendix A): key 00 01 .. 0f, message 00 01 .. 0e.
 * The kernel's siphash_key_t holds the key as two little-endian words.
 */
TEST(siphash_matches_published_vector)
{
	u8 key_bytes[16], msg[15], unaligned[16];
	siphash_key_t key = { { 0, 0 } };
	u32 i;

	for (i = 0; i < sizeof(key_bytes); i++)
		key_bytes[i] = i;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = i;
	for (i = 0; i < 8; i++) {
		key.key[0] |= (u64)key_bytes[i] << (8 * i);
		key.key[1] |= (u64)key_bytes[8 + i] << (8 * i);
	}
	ASSERT_EQ(0xa129ca6149be45e5ULL, siphash(msg, sizeof(msg), &key));

	/* The kernel's siphash() accepts unaligned data too. */
	memcpy(unaligned + 1, msg, sizeof(msg));
	ASSERT_EQ(0xa129ca6149be45e5ULL, siphash(unaligned + 1, sizeof(msg), &key));

	/* Every byte and the length count. */
	msg[14] ^= 1;
	ASSERT_NE(0xa129ca6149be45e5ULL, siphash(msg, sizeof(msg), &key));
	msg[14] ^= 1;
	ASSERT_NE(0xa129ca6149be45e5ULL, siphash(msg, sizeof(msg) - 1, &key));
}

TEST(shim_random_source_is_reproducible)
{
	u32 a[64], i, same = 0;

	ephport_test_seed(TEST_SEED);
	for (i = 0; i < 64; i++)
		a[i] = ephport_random_u32();
	ephport_test_seed(TEST_SEED);
	for (i = 0; i < 64; i++)
		ASSERT_EQ(a[i], ephport_random_u32());
	ephport_test_seed(TEST_SEED + 1);
	for (i = 0; i < 64; i++)
		same += a[i] == ephport_random_u32();
	ASSERT_LT(same, 2U);
	for (i = 0; i < 1000; i++)
		ASSERT_LT(ephport_below(7), 7U);
}

/* ------------------------------------------------------------------ */

/*
 * Coverage.  Each walk must hand out every offset of [0, n) exactly once
 * and then return false, whatever the namespace state: cursors inside and
 * outside the range, counters about to wrap, extreme random-inc N, the
 * double-hash table present or not.  Half of the walks start from a state
 * scrambled to such values, the other half from the state the previous
 * walk's commit() left, as in a running system.
 */
FIXTURE(coverage) {
	struct host h;
	u8 *seen;
	u32 *order;
};

FIXTURE_VARIANT(coverage) {
	int kind;
	u32 random_inc_n;	/* 0: the default */
	bool no_table;
};

FIXTURE_VARIANT_ADD(coverage, walk_stride_1) { .kind = WALK_STRIDE_1 };
FIXTURE_VARIANT_ADD(coverage, walk_stride_2) { .kind = WALK_STRIDE_2 };
FIXTURE_VARIANT_ADD(coverage, walk_stuck_picks) { .kind = WALK_STUCK_PICKS };
FIXTURE_VARIANT_ADD(coverage, walk_wild_picks_stride_2) { .kind = WALK_WILD_PICKS };
FIXTURE_VARIANT_ADD(coverage, sequential) { .kind = STRAT_SEQUENTIAL };
FIXTURE_VARIANT_ADD(coverage, random_start) { .kind = STRAT_RANDOM_START };
FIXTURE_VARIANT_ADD(coverage, random_pick) { .kind = STRAT_RANDOM_PICK };
FIXTURE_VARIANT_ADD(coverage, hash) { .kind = STRAT_HASH };
FIXTURE_VARIANT_ADD(coverage, double_hash) { .kind = STRAT_DOUBLE_HASH };
FIXTURE_VARIANT_ADD(coverage, double_hash_no_table) {
	.kind = STRAT_DOUBLE_HASH,
	.no_table = true,
};

FIXTURE_VARIANT_ADD(coverage, random_inc) { .kind = STRAT_RANDOM_INC };
FIXTURE_VARIANT_ADD(coverage, random_inc_n_1) {
	.kind = STRAT_RANDOM_INC,
	.random_inc_n = 1,
};

FIXTURE_VARIANT_ADD(coverage, random_inc_n_max) {
	.kind = STRAT_RANDOM_INC,
	.random_inc_n = 0xffffffff,
};

FIXTURE_VARIANT_ADD(coverage, kernel_bind) { .kind = STRAT_KERNEL_BIND };

#define COVERAGE_MAX_N	64512	/* ports 1024..65535 */

FIXTURE_SETUP(coverage)
{
	ephport_test_seed(TEST_SEED + variant->kind);
	host_init(&self->h, 1024, 1, !variant->no_table);
	ASSERT_TRUE(variant->no_table || self->h.state.dh_table);
	self->h.req.random_inc_n = variant->random_inc_n;
	self->seen = calloc(COVERAGE_MAX_N, 1);
	self->order = calloc(COVERAGE_MAX_N, sizeof(u32));
	ASSERT_TRUE(self->seen && self->order);
}

FIXTURE_TEARDOWN(coverage)
{
	host_free(&self->h);
	free(self->seen);
	free(self->order);
}

/* Edge values first, then random ones. */
static u32 pick_value(const u32 *edges, u32 nedges, u32 k)
{
	return k < nedges ? edges[k] : ephport_random_u32();
}

static void scramble_state(struct host *h, u32 k)
{
	struct ephport_req *r = &h->req;
	const u32 cursors[] = {
		r->low, r->low + r->n - 1, r->low + r->n, r->low - 1, 0,
		0xffffffff, r->low + ephport_below(r->n),
	};
	const u32 counters[] = { 0, 0xffffffff, 0xfffffffe, 0x80000000, r->n - 1 };
	const u32 rincs[] = { 0, r->n - 1, r->n, 0xffffffff, 0xfffffff0 };
	const u32 slots[] = { 0, 0xffff, 0xfffe, 0x8000 };

	random_key(&h->secrets.f);
	random_key(&h->secrets.g);
	r->flow = random_flow();
	h->state.seq_cursor = pick_value(cursors, ARRAY_SIZE(cursors), k % 8);
	h->state.hash_counter = pick_value(counters, ARRAY_SIZE(counters), k % 6);
	h->state.rinc_next = pick_value(rincs, ARRAY_SIZE(rincs), k % 6);
	if (h->state.dh_table)
		h->state.dh_table[ephport_flow_hash_g(r) & (EPHPORT_DH_TABLE_SIZE - 1)] =
			(u16)pick_value(slots, ARRAY_SIZE(slots), k % 5);
}

static u32 stuck_pick(struct ephport_walk *w)
{
	return w->pick_arg;
}

static u32 wild_pick(struct ephport_walk *w)
{
	return ephport_random_u32();
}

static void begin_walk(int kind, struct ephport_walk *w, const struct ephport_req *r, u32 k)
{
	const u32 starts[] = { 0, r->n - 1, r->n, 0xffffffff };
	u32 start = pick_value(starts, ARRAY_SIZE(starts), k % 6);

	switch (kind) {
	case WALK_STRIDE_1:
		ephport_walk_init(w, r->n, start, 1);
		break;
	case WALK_STRIDE_2:
		ephport_walk_init(w, r->n, start, 2);
		break;
	case WALK_STUCK_PICKS:
		ephport_walk_init(w, r->n, start, 1);
		ephport_walk_set_picks(w, stuck_pick, EPHPORT_PICKS_MAX, 0,
				       ephport_random_u32());
		break;
	case WALK_WILD_PICKS:
		ephport_walk_init(w, r->n, start, 2);
		ephport_walk_set_picks(w, wild_pick, EPHPORT_PICKS_MAX, 0, 0);
		break;
	default:
		strategies[kind].begin(w, r);
	}
}

TEST_F(coverage, every_offset_exactly_once_then_end)
{
	const u32 sizes[] = { 1, 2, 3, 4, 1000, 1001, COVERAGE_MAX_N };
	struct ephport_req *r = &self->h.req;
	u32 walks = 0, steps = 0;
	u32 i, k, reps;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		r->n = sizes[i];
		reps = r->n > 10000 ? 10 : r->n > 100 ? 128 : 256;
		for (k = 0; k < reps; k++) {
			u32 off, count = 0, outside = 0, twice = 0, probes, want;
			struct ephport_walk w;

			if (r->n == COVERAGE_MAX_N)
				r->low = 1024;
			else
				r->low = 1 + ephport_below(65536 - r->n);
			if (!(k & 1))
				scramble_state(&self->h, k / 2);

			begin_walk(variant->kind, &w, r, k);
			memset(self->seen, 0, r->n);
			while (count <= r->n && ephport_walk_next(&w, &off)) {
				if (off >= r->n)
					outside++;
				else if (self->seen[off]++)
					twice++;
				else
					self->order[count] = off;
				count++;
			}
			ASSERT_EQ(0U, outside) TH_LOG("n=%u walk %u: offsets >= n", r->n, k);
			ASSERT_EQ(0U, twice) TH_LOG("n=%u walk %u: offsets repeated", r->n, k);
			/* The stock bind(0) order leaves one port of an odd range out. */
			want = r->n;
			if (variant->kind == STRAT_KERNEL_BIND && r->n > 1 && (r->n & 1))
				want--;
			ASSERT_EQ(want, count) TH_LOG("n=%u walk %u: wrong count", r->n, k);
			ASSERT_FALSE(ephport_walk_next(&w, &off));
			ASSERT_FALSE(ephport_walk_next(&w, &off));
			walks++;
			steps += count;

			/* The allocator took the probes-th candidate. */
			probes = 1 + ephport_below(count);
			if (variant->kind < WALK_STRIDE_1 && strategies[variant->kind].commit)
				strategies[variant->kind].commit(r, self->order[probes - 1],
								 probes);
		}
	}
	TH_LOG("%u walks, %u offsets, each range covered exactly once", walks, steps);
}

/*
 * The stock bind(0) order over ranges of any size, against the loop of
 * inet_csk_find_open_port() itself (whole range, no reserved port): from
 * the same odd offset, the same ports in the same order.
 */
TEST(kernel_bind_follows_the_stock_loop)
{
	struct ephport_walk w;
	u32 n, k, i, remaining, offset, port, off, steps;
	struct host h;

	ephport_test_seed(TEST_SEED);
	host_init(&h, 1024, 1, false);
	for (n = 1; n <= 41; n++) {
		h.req.n = n;
		for (k = 0; k < 32; k++) {
			ephport_kernel_bind_begin(&w, &h.req);
			ASSERT_TRUE(ephport_walk_next(&w, &off));
			/* low = 0, high = n after high++ */
			remaining = n > 1 ? n & ~1U : n;
			offset = n > 1 ? off : 1;
			steps = 0;
			do {
				port = offset;
				for (i = 0; i < remaining; i += 2, port += 2) {
					if (port >= n)
						port -= remaining;
					/* n = 1: the stock code tries port 0 twice. */
					if (n == 1 && offset == 0)
						break;
					if (steps++)
						ASSERT_TRUE(ephport_walk_next(&w, &off));
					ASSERT_EQ(port, off) TH_LOG("n=%u step %u", n, steps);
				}
				offset--;
			} while (!(offset & 1));
			ASSERT_FALSE(ephport_walk_next(&w, &off)) TH_LOG("n=%u", n);
		}
	}
	host_free(&h);
}

/* ------------------------------------------------------------------ */

/*
 * sequential: the walk starts at the cursor (at the start of the range
 * when the cursor is outside it), goes up by one and wraps; commit() puts
 * the cursor just after the port taken.
 */
TEST(sequential_starts_at_cursor_and_commit_advances_it)
{
	const u32 low = 32768, n = 1000;
	const u32 cursors[] = {
		low, low + 1, low + 499, low + n - 1, low + n, low - 1, 0, 0xffffffff,
	};
	const u32 taken[] = { 0, 1, 500, n - 2, n - 1 };
	struct ephport_walk w;
	struct host h;
	u32 i, j, off, start;

	ephport_test_seed(TEST_SEED);
	host_init(&h, low, n, false);
	for (i = 0; i < ARRAY_SIZE(cursors); i++) {
		h.state.seq_cursor = cursors[i];
		start = cursors[i] >= low && cursors[i] < low + n ? cursors[i] - low : 0;
		ephport_sequential_begin(&w, &h.req);
		for (j = 0; j < n; j++) {
			ASSERT_TRUE(ephport_walk_next(&w, &off));
			ASSERT_EQ((start + j) % n, off) TH_LOG("cursor %u, step %u", cursors[i], j);
		}
		ASSERT_FALSE(ephport_walk_next(&w, &off));
	}

	for (i = 0; i < ARRAY_SIZE(taken); i++) {
		ephport_sequential_commit(&h.req, taken[i], 1 + i);
		ASSERT_EQ(low + taken[i] + 1, h.state.seq_cursor);
		ephport_sequential_begin(&w, &h.req);
		ASSERT_TRUE(ephport_walk_next(&w, &off));
		ASSERT_EQ((taken[i] + 1) % n, off);
	}

	/* Back-to-back connections get consecutive ports, wrapping. */
	h.state.seq_cursor = low + n - 3;
	for (i = 0; i < 6; i++) {
		struct ephport_flow flow = random_flow();

		ASSERT_EQ((n - 3 + i) % n, host_connect(&h, STRAT_SEQUENTIAL, &flow));
	}
	host_free(&h);
}

/* Walk @w and check it is start, start + 1, ... mod n (all of it if small). */
static bool walk_is_linear_from(struct ephport_walk *w, u32 n, u32 start)
{
	u32 j, off, len = n <= 1001 ? n : 3;

	for (j = 0; j < len; j++)
		if (!ephport_walk_next(w, &off) || off != (u32)(((u64)start + j) % n))
			return false;
	return len < n || !ephport_walk_next(w, &off);
}

/*
 * hash, RFC 6056 algorithm 3: the first candidate is (F(flow) + counter)
 * mod n, with F computed here from siphash() and the counter as stored;
 * commit() adds the number of probes to the counter.
 */
TEST(hash_starts_at_f_plus_counter)
{
	const u32 sizes[] = { 1, 2, 1000, 1001, 28232, 64512 };
	const u32 counters[] = {
		0, 1, 999, 1000, 0x7fffffff, 0xfffffffe, 0xffffffff, 0xdeadbeef,
	};
	const u32 probes[] = { 1, 2, 7, 0xffffffff };
	struct ephport_flow flow = tcp_flow(0xc6336407, 443, 1);
	struct ephport_walk w;
	struct host h;
	u32 i, j, p, f, c;

	ephport_test_seed(TEST_SEED);
	host_init(&h, 32768, 1, false);
	h.req.flow = flow;
	f = flow_f(&h, &flow);
	ASSERT_EQ(f, ephport_flow_hash_f(&h.req));

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		h.req.n = sizes[i];
		for (j = 0; j < ARRAY_SIZE(counters); j++) {
			h.state.hash_counter = counters[j];
			ephport_hash_begin(&w, &h.req);
			ASSERT_TRUE(walk_is_linear_from(&w, sizes[i],
							((u64)f + counters[j]) % sizes[i]))
				TH_LOG("n=%u counter=%u", sizes[i], counters[j]);
			for (p = 0; p < ARRAY_SIZE(probes); p++) {
				c = h.state.hash_counter;
				ephport_hash_commit(&h.req, 0, probes[p]);
				ASSERT_EQ((u32)(c + probes[p]), h.state.hash_counter);
				c = h.state.hash_counter;
				ephport_hash_begin(&w, &h.req);
				ASSERT_TRUE(walk_is_linear_from(&w, sizes[i],
								((u64)f + c) % sizes[i]))
					TH_LOG("n=%u counter=%u", sizes[i], c);
			}
		}
	}
	host_free(&h);
}

/*
 * double-hash, RFC 6056 algorithm 4: the first candidate is (F(flow) +
 * table[G(flow)]) mod n, with F and G computed here from siphash();
 * commit() adds the probes to that one 16-bit entry and to no other.
 * Without a table the counter is taken as zero and commit() does nothing.
 */
TEST(double_hash_starts_at_f_plus_table_entry)
{
	const u32 sizes[] = { 1, 2, 1000, 1001, 28232, 64512 };
	const u16 entries[] = { 0, 1, 999, 0x7fff, 0xfffe, 0xffff };
	const u32 probes[] = { 1, 2, 7, 0x10001 };
	struct ephport_flow flow = tcp_flow(0xcb00710a, 8080, 7);
	struct ephport_state saved;
	struct ephport_walk w;
	struct host h;
	u32 i, j, p, f, g;
	u16 *copy, e;

	ephport_test_seed(TEST_SEED);
	host_init(&h, 1024, 1, true);
	ASSERT_NE(NULL, h.state.dh_table);
	copy = malloc(EPHPORT_DH_TABLE_SIZE * sizeof(u16));
	ASSERT_NE(NULL, copy);
	host_fill_table(&h);
	h.req.flow = flow;
	f = flow_f(&h, &flow);
	g = dh_index(&h, &flow);
	ASSERT_EQ(f, ephport_flow_hash_f(&h.req));
	ASSERT_EQ(g, ephport_flow_hash_g(&h.req) & 0xffff);

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		h.req.n = sizes[i];
		for (j = 0; j < ARRAY_SIZE(entries); j++) {
			h.state.dh_table[g] = entries[j];
			ephport_double_hash_begin(&w, &h.req);
			ASSERT_TRUE(walk_is_linear_from(&w, sizes[i],
							((u64)f + entries[j]) % sizes[i]))
				TH_LOG("n=%u entry=%u", sizes[i], entries[j]);
			for (p = 0; p < ARRAY_SIZE(probes); p++) {
				memcpy(copy, h.state.dh_table, EPHPORT_DH_TABLE_SIZE * sizeof(u16));
				e = h.state.dh_table[g];
				copy[g] = (u16)(e + probes[p]);
				ephport_double_hash_commit(&h.req, 0, probes[p]);
				ASSERT_EQ(0, memcmp(copy, h.state.dh_table,
						    EPHPORT_DH_TABLE_SIZE * sizeof(u16)));
				e = h.state.dh_table[g];
				ephport_double_hash_begin(&w, &h.req);
				ASSERT_TRUE(walk_is_linear_from(&w, sizes[i],
								((u64)f + e) % sizes[i]))
					TH_LOG("n=%u entry=%u", sizes[i], e);
			}
		}
	}

	/* No table: F alone, and commit() leaves the state as it was. */
	free(h.state.dh_table);
	h.state.dh_table = NULL;
	h.req.n = 28232;
	saved = h.state;
	ephport_double_hash_begin(&w, &h.req);
	ASSERT_TRUE(walk_is_linear_from(&w, h.req.n, f % h.req.n));
	ephport_double_hash_commit(&h.req, 0, 5);
	ASSERT_EQ(0, memcmp(&saved, &h.state, sizeof(saved)));
	free(copy);
}

static u32 first_candidate(int strat, const struct host *h)
{
	struct ephport_walk w;
	u32 off = 0xffffffff;

	strategies[strat].begin(&w, &h->req);
	ephport_walk_next(&w, &off);
	return off;
}

/*
 * random-inc, RFC 6056 algorithm 5: each candidate moves forward from the
 * previous allocation by 1..N; commit() records the offset taken.  With
 * N = 1 the walk is sequential from just after the previous allocation.
 */
TEST(random_inc_steps_forward_by_1_to_n)
{
	const u32 n = 1000, ns[] = { 1, 2, 500, 999, 1000, 5000 };
	u32 i, k, prev, off, step, steps;
	double mean, sigma;
	struct host h;

	ephport_test_seed(TEST_SEED);
	host_init(&h, 20000, n, false);
	for (i = 0; i < ARRAY_SIZE(ns); i++) {
		h.req.random_inc_n = ns[i];
		steps = 0;
		for (k = 0; k < 2000; k++) {
			struct ephport_flow flow = random_flow();

			prev = h.state.rinc_next;
			off = host_connect(&h, STRAT_RANDOM_INC, &flow);
			ASSERT_EQ(off, h.state.rinc_next);
			step = (off + n - prev % n) % n;
			/* Steps of 1..N: with N >= n, they reach any offset. */
			ASSERT_TRUE(ns[i] >= n || (step >= 1 && step <= ns[i]))
				TH_LOG("N=%u: from %u to %u", ns[i], prev, off);
			steps += step;
		}
		mean = steps / 2000.0;
		TH_LOG("random-inc N=%u: mean step %.1f", ns[i], mean);
		if (ns[i] < n) {
			/* Uniform over 1..N: mean (N + 1) / 2, within 5 sigma. */
			sigma = sqrt(((double)ns[i] * ns[i] - 1) / 12 / 2000);
			ASSERT_LE(fabs(mean - (ns[i] + 1) / 2.0), 5 * sigma);
		}
	}
	h.req.random_inc_n = 1;
	h.state.rinc_next = n - 1;
	ASSERT_EQ(0U, first_candidate(STRAT_RANDOM_INC, &h));
	host_free(&h);
}

/*
 * Different flows (destination address, port, namespace salt) start at
 * different places; the same flow and state give the same walk again,
 * whatever the random source does in between.
 */
TEST(hash_strategies_depend_on_flow_and_only_on_it)
{
	const int strats[] = { STRAT_HASH, STRAT_DOUBLE_HASH };
	const u32 n = 28232, nflows = 64;
	u32 first[3][64], s, i, j, k, distinct, a, b;
	struct host h;

	ephport_test_seed(TEST_SEED);
	host_init(&h, 32768, n, true);
	host_fill_table(&h);
	h.state.hash_counter = ephport_random_u32();

	for (s = 0; s < ARRAY_SIZE(strats); s++) {
		for (i = 0; i < nflows; i++) {
			h.req.flow = tcp_flow(0xc6336400, 1000 + i, 1);
			first[0][i] = first_candidate(strats[s], &h);
			h.req.flow = tcp_flow(0xc6336400 + i, 443, 1);
			first[1][i] = first_candidate(strats[s], &h);
			h.req.flow = tcp_flow(0xc6336400, 443, 1 + i);
			first[2][i] = first_candidate(strats[s], &h);
		}
		for (k = 0; k < 3; k++) {
			distinct = 0;
			for (i = 0; i < nflows; i++) {
				for (j = 0; j < i; j++)
					if (first[k][j] == first[k][i])
						break;
				distinct += j == i;
			}
			/* 64 uniform draws from 28232 collide 0.07 times on average. */
			ASSERT_GE(distinct, nflows - 4)
				TH_LOG("%s: %u distinct starts for %u flows (kind %u)",
				       strategies[strats[s]].name, distinct, nflows, k);
		}

		/* Same flow and state, the random source moved on: same walk. */
		h.req.n = 1001;
		h.req.flow = tcp_flow(0xc0000263, 22, 3);
		for (i = 0; i < 4; i++) {
			struct ephport_walk w1, w2;

			strategies[strats[s]].begin(&w1, &h.req);
			ephport_test_seed(ephport_random_u32());
			strategies[strats[s]].begin(&w2, &h.req);
			for (j = 0; j < h.req.n; j++) {
				ASSERT_TRUE(ephport_walk_next(&w1, &a));
				ASSERT_TRUE(ephport_walk_next(&w2, &b));
				ASSERT_EQ(a, b);
			}
			ASSERT_FALSE(ephport_walk_next(&w1, &a));
			ASSERT_FALSE(ephport_walk_next(&w2, &b));
		}
		h.req.n = n;
	}
	host_free(&h);
}

/* ------------------------------------------------------------------ */

/*
 * Uniformity.  Pearson's chi-square over 100,000 first candidates, at the
 * significance level alpha = 0.001; the critical values are the 0.999
 * quantiles of the chi-square distribution:
 *
 *	 99 degrees of freedom	 148.23
 *	499 degrees of freedom	 602.35
 *	999 degrees of freedom	1142.85
 *
 * random-inc's draws form a Markov chain (each starts from the previous
 * allocation, fed back through commit() as the module does), whose
 * stationary distribution is uniform; the statistic still measures how
 * far the histogram is from flat.
 */
#define CHI2_SAMPLES	100000
#define CHI2_CRIT_99	148.23
#define CHI2_CRIT_499	602.35
#define CHI2_CRIT_999	1142.85

/* Pearson's statistic of @count[0..nbins) against @expect[0..nbins). */
static double chi_square(const u32 *count, const double *expect, u32 nbins)
{
	double chi2 = 0, d;
	u32 i;

	for (i = 0; i < nbins; i++) {
		d = count[i] - expect[i];
		chi2 += d * d / expect[i];
	}
	return chi2;
}

FIXTURE(uniformity) {
	struct host h;
};

FIXTURE_VARIANT(uniformity) {
	int strat;
};

FIXTURE_VARIANT_ADD(uniformity, random_start) { .strat = STRAT_RANDOM_START };
FIXTURE_VARIANT_ADD(uniformity, random_pick) { .strat = STRAT_RANDOM_PICK };
FIXTURE_VARIANT_ADD(uniformity, random_inc) { .strat = STRAT_RANDOM_INC };

FIXTURE_SETUP(uniformity)
{
	ephport_test_seed(TEST_SEED);
	host_init(&self->h, 1, 1, false);
}

FIXTURE_TEARDOWN(uniformity)
{
	host_free(&self->h);
}

/*
 * First candidates, binned as off * nbins / n; a bin's expected count is
 * proportional to the number of ports it holds.
 */
static double first_candidate_chi2(struct host *h, int strat, u32 low, u32 n, u32 nbins)
{
	u32 *count = calloc(nbins, sizeof(u32));
	double *expect = calloc(nbins, sizeof(double));
	struct ephport_flow flow;
	double chi2;
	u32 i;

	if (!count || !expect)
		abort();
	h->req.low = low;
	h->req.n = n;
	for (i = 0; i < n; i++)
		expect[(u64)i * nbins / n] += (double)CHI2_SAMPLES / n;
	for (i = 0; i < CHI2_SAMPLES; i++) {
		flow = random_flow();
		count[(u64)host_connect(h, strat, &flow) * nbins / n]++;
	}
	chi2 = chi_square(count, expect, nbins);
	free(count);
	free(expect);
	return chi2;
}

TEST_F(uniformity, first_candidate_chi_square)
{
	const char *name = strategies[variant->strat].name;
	double chi2;

	/* A 1000-port range, one bin per port: 100 expected in each. */
	chi2 = first_candidate_chi2(&self->h, variant->strat, 40000, 1000, 1000);
	TH_LOG("%s: n=1000, 1000 bins: chi2 = %.1f (df 999, critical %.2f at alpha 0.001)",
	       name, chi2, CHI2_CRIT_999);
	ASSERT_LT(chi2, CHI2_CRIT_999);

	/* Linux's default range 32768..60999, 100 bins of 282 or 283 ports. */
	chi2 = first_candidate_chi2(&self->h, variant->strat, 32768, 28232, 100);
	TH_LOG("%s: n=28232, 100 bins: chi2 = %.1f (df 99, critical %.2f at alpha 0.001)",
	       name, chi2, CHI2_CRIT_99);
	ASSERT_LT(chi2, CHI2_CRIT_99);
}

/*
 * The stock bind(0) order ("kernel" strategy): the first candidate is a
 * uniformly drawn odd offset (when n >= 2), and the walk goes up by two:
 * for an even n, all the odd offsets first, then the even ones from the
 * offset just below the start.
 */
TEST(kernel_bind_first_candidate_is_odd_and_uniform)
{
	const u32 sizes[] = { 1000, 1001 };
	u32 count[501], i, j, n, off, even;
	double expect[501], chi2;
	struct host h;

	ephport_test_seed(TEST_SEED);
	host_init(&h, 10000, 1, false);
	for (n = 1; n <= 16; n++) {
		h.req.n = n;
		for (i = 0; i < 1000; i++) {
			off = first_candidate(STRAT_KERNEL_BIND, &h);
			ASSERT_LT(off, n);
			ASSERT_EQ((u32)(n > 1), off & 1) TH_LOG("n=%u: first offset %u", n, off);
		}
	}

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		n = sizes[i];
		h.req.n = n;
		memset(count, 0, sizeof(count));
		even = 0;
		for (j = 0; j < n / 2; j++)
			expect[j] = (double)CHI2_SAMPLES / (n / 2);
		for (j = 0; j < CHI2_SAMPLES; j++) {
			off = first_candidate(STRAT_KERNEL_BIND, &h);
			if (off & 1)
				count[off / 2]++;
			else
				even++;
		}
		ASSERT_EQ(0U, even) TH_LOG("n=%u: %u even first offsets", n, even);
		chi2 = chi_square(count, expect, n / 2);
		TH_LOG("kernel: n=%u, 500 odd offsets: chi2 = %.1f (df 499, critical %.2f)",
		       n, chi2, CHI2_CRIT_499);
		ASSERT_LT(chi2, CHI2_CRIT_499);
	}
	host_free(&h);
}

TEST(kernel_bind_walks_one_parity_then_the_other)
{
	const u32 sizes[] = { 2, 4, 6, 1000, 64512 };
	struct ephport_walk w;
	u32 i, k, j, n, off, prev, start, expect;
	struct host h;

	ephport_test_seed(TEST_SEED);
	host_init(&h, 1024, 1, false);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		n = sizes[i];
		h.req.n = n;
		for (k = 0; k < (n > 10000 ? 4 : 64); k++) {
			ephport_kernel_bind_begin(&w, &h.req);
			ASSERT_TRUE(ephport_walk_next(&w, &start));
			ASSERT_EQ(1U, start & 1);
			prev = start;
			for (j = 1; j < n; j++) {
				ASSERT_TRUE(ephport_walk_next(&w, &off));
				/* The other parity starts just below the start. */
				expect = j == n / 2 ? start - 1 : (prev + 2) % n;
				ASSERT_EQ(expect, off) TH_LOG("n=%u step %u", n, j);
				ASSERT_EQ((u32)(j < n / 2), off & 1) TH_LOG("n=%u step %u", n, j);
				prev = off;
			}
			ASSERT_FALSE(ephport_walk_next(&w, &off));
		}
	}
	host_free(&h);
}

/* ------------------------------------------------------------------ */

/*
 * Tracking.  One host (one namespace, fixed secrets) in rounds:
 *
 *  1. it connects to A, the attacker's server, which sees the port pa;
 *  2. right after, it connects to B, the victim's server: port pb;
 *  3. then it makes 0..31 (uniform) more connections the attacker does not
 *     see, each to B or to some other destination with probability 1/2:
 *     the victim's traffic to B is irregular.
 *
 * The attacker gets the worst case: during TRACK_TRAIN rounds it also sees
 * pb, and learns the most frequent delta d = pb - pa (mod n).  During the
 * next TRACK_TEST rounds it sees pa only and guesses pb = pa + d.
 *
 * Without a leak, pb is independent of pa and a guess is right with the
 * probability 1/w of chance, w being the number of ports pb is spread
 * over: n, except for random-inc with N < n, whose pb is pa plus 1..N (RFC
 * 6056 section 3.3.5: N trades unpredictability for port reuse distance).
 * The number of hits is then binomial (TRACK_TEST, 1/w); the test fails
 * above its mean plus five standard deviations.
 *
 * hash and sequential leak by design, through one counter per namespace:
 * there pb - pa = F(B) - F(A) + 1, or 1.  Their variants document the leak
 * and check that it is there: the attacker must be right more often than
 * not.
 */
#define TRACK_LOW	40000
#define TRACK_N		1000
#define TRACK_TRAIN	20000
#define TRACK_TEST	100000U
#define TRACK_QUIET	32

FIXTURE(tracking) {
	struct host h;
	u32 *deltas;
};

FIXTURE_VARIANT(tracking) {
	int strat;
	u32 random_inc_n;
	bool leaks;
};

FIXTURE_VARIANT_ADD(tracking, sequential) { .strat = STRAT_SEQUENTIAL, .leaks = true };
FIXTURE_VARIANT_ADD(tracking, hash) { .strat = STRAT_HASH, .leaks = true };
FIXTURE_VARIANT_ADD(tracking, double_hash) { .strat = STRAT_DOUBLE_HASH };
FIXTURE_VARIANT_ADD(tracking, random_start) { .strat = STRAT_RANDOM_START };
FIXTURE_VARIANT_ADD(tracking, random_pick) { .strat = STRAT_RANDOM_PICK };
FIXTURE_VARIANT_ADD(tracking, random_inc) { .strat = STRAT_RANDOM_INC };
FIXTURE_VARIANT_ADD(tracking, random_inc_n_is_range) {
	.strat = STRAT_RANDOM_INC,
	.random_inc_n = TRACK_N,
};

FIXTURE_SETUP(tracking)
{
	ephport_test_seed(TEST_SEED + 1);
	host_init(&self->h, TRACK_LOW, TRACK_N, true);
	ASSERT_NE(NULL, self->h.state.dh_table);
	self->h.req.random_inc_n = variant->random_inc_n;
	self->deltas = calloc(TRACK_N, sizeof(u32));
	ASSERT_NE(NULL, self->deltas);
}

FIXTURE_TEARDOWN(tracking)
{
	host_free(&self->h);
	free(self->deltas);
}

TEST_F(tracking, attacker_predicts_port_to_b_from_port_to_a)
{
	const struct ephport_flow a = tcp_flow(0xcb00710a, 443, 42);	/* 203.0.113.10 */
	const struct ephport_flow b = tcp_flow(0xc6336414, 443, 42);	/* 198.51.100.20 */
	const char *name = strategies[variant->strat].name;
	const u32 n = TRACK_N;
	u32 round, quiet, pa, pb, d, best = 0, hits = 0, spread = n;
	struct ephport_flow other;
	double p, bound;

	if (variant->strat == STRAT_DOUBLE_HASH) {
		/* A shared counter would be the leak hash has; here they differ. */
		ASSERT_NE(dh_index(&self->h, &a), dh_index(&self->h, &b));
	}
	if (variant->strat == STRAT_RANDOM_INC) {
		d = variant->random_inc_n ?: EPHPORT_RANDOM_INC_N;
		if (d < n)
			spread = d;
	}

	for (round = 0; round < TRACK_TRAIN + TRACK_TEST; round++) {
		pa = host_connect(&self->h, variant->strat, &a);
		pb = host_connect(&self->h, variant->strat, &b);
		d = (pb + n - pa) % n;
		if (round < TRACK_TRAIN) {
			if (++self->deltas[d] > self->deltas[best])
				best = d;
		} else {
			hits += (pa + best) % n == pb;
		}
		for (quiet = ephport_below(TRACK_QUIET); quiet; quiet--) {
			other = random_flow();
			host_connect(&self->h, variant->strat, ephport_below(2) ? &b : &other);
		}
	}

	p = 1.0 / spread;
	bound = TRACK_TEST * p + 5 * sqrt(TRACK_TEST * p * (1 - p));
	TH_LOG("%s: learned delta %u, %u/%u hits = %.4f%% (chance 1/%u = %.4f%%)",
	       name, best, hits, TRACK_TEST, 100.0 * hits / TRACK_TEST, n, 100.0 / n);
	if (variant->leaks) {
		TH_LOG("%s leaks: ports to B follow ports to A (documented)", name);
		ASSERT_GT(hits, TRACK_TEST / 2);
		return;
	}
	if (spread < n)
		TH_LOG("%s: %u times chance: pb - pa is uniform over 1..%u, not over the range",
		       name, (u32)((double)hits * n / TRACK_TEST + 0.5), spread);
	TH_LOG("%s: limit %.0f hits (1/%u plus 5 sigma)", name, bound, spread);
	ASSERT_LE(hits, bound);
}

/*
 * Interference: two hosts with the same secrets and state make the same
 * connections to B; the second also makes 0..7 connections to the
 * attacker's A before each.  With double-hash the ports to B are the same
 * on both: what A sees is unrelated to B.  With hash and sequential, every
 * connection to A moves the ports to B by one: the attacker can both read
 * and steer the victim's ports (documented).
 */
FIXTURE(interference) {
	struct host h1, h2;
};

FIXTURE_VARIANT(interference) {
	int strat;
	bool leaks;
};

FIXTURE_VARIANT_ADD(interference, sequential) { .strat = STRAT_SEQUENTIAL, .leaks = true };
FIXTURE_VARIANT_ADD(interference, hash) { .strat = STRAT_HASH, .leaks = true };
FIXTURE_VARIANT_ADD(interference, double_hash) { .strat = STRAT_DOUBLE_HASH };

FIXTURE_SETUP(interference)
{
	ephport_test_seed(TEST_SEED);
	host_init(&self->h1, TRACK_LOW, TRACK_N, true);
	ephport_test_seed(TEST_SEED);
	host_init(&self->h2, TRACK_LOW, TRACK_N, true);
	ASSERT_TRUE(self->h1.state.dh_table && self->h2.state.dh_table);
	host_fill_table(&self->h1);
	memcpy(self->h2.state.dh_table, self->h1.state.dh_table,
	       EPHPORT_DH_TABLE_SIZE * sizeof(u16));
	self->h1.state.hash_counter = ephport_random_u32();
	self->h2.state.hash_counter = self->h1.state.hash_counter;
}

FIXTURE_TEARDOWN(interference)
{
	host_free(&self->h1);
	host_free(&self->h2);
}

TEST_F(interference, ports_to_b_ignore_connections_to_a)
{
	const struct ephport_flow a = tcp_flow(0xcb00710a, 443, 42);
	const struct ephport_flow b = tcp_flow(0xc6336414, 443, 42);
	const char *name = strategies[variant->strat].name;
	const u32 rounds = 10000, n = TRACK_N;
	u32 i, x, extra = 0, moved = 0, shifted = 0, pb1, pb2;

	ASSERT_NE(dh_index(&self->h1, &a), dh_index(&self->h1, &b));
	for (i = 0; i < rounds; i++) {
		for (x = ephport_below(8); x; x--, extra++)
			host_connect(&self->h2, variant->strat, &a);
		pb1 = host_connect(&self->h1, variant->strat, &b);
		pb2 = host_connect(&self->h2, variant->strat, &b);
		moved += pb1 != pb2;
		shifted += pb2 == (pb1 + extra) % n;
	}
	TH_LOG("%s: %u of %u ports to B moved by %u connections to A", name, moved,
	       rounds, extra);
	if (variant->leaks) {
		TH_LOG("%s leaks: each connection to A moves the ports to B by one (documented)",
		       name);
		ASSERT_EQ(rounds, shifted);
		return;
	}
	ASSERT_EQ(0U, moved);
}

TEST_HARNESS_MAIN

/* ------------------------------------------------------------------ */

/*
 * With an occupancy index, a walk hands out every offset whose port the
 * index says is free, each once, then every offset of the range once
 * more; sequential starts at the first free port at or after its cursor.
 */
FIXTURE(index) {
	struct host h;
	unsigned long *busy;
	u8 *seen;
};

FIXTURE_VARIANT(index) {
	int strat;
};

FIXTURE_VARIANT_ADD(index, sequential) { .strat = STRAT_SEQUENTIAL };
FIXTURE_VARIANT_ADD(index, random_start) { .strat = STRAT_RANDOM_START };
FIXTURE_VARIANT_ADD(index, random_pick) { .strat = STRAT_RANDOM_PICK };
FIXTURE_VARIANT_ADD(index, hash) { .strat = STRAT_HASH };
FIXTURE_VARIANT_ADD(index, double_hash) { .strat = STRAT_DOUBLE_HASH };
FIXTURE_VARIANT_ADD(index, random_inc) { .strat = STRAT_RANDOM_INC };

#define INDEX_LONGS	(65536 / EPHPORT_BITS_PER_LONG)

FIXTURE_SETUP(index)
{
	ephport_test_seed(TEST_SEED);
	host_init(&self->h, 0, 1, true);
	self->busy = calloc(INDEX_LONGS, sizeof(unsigned long));
	self->seen = calloc(65536, 1);
	ASSERT_NE(NULL, self->busy);
	ASSERT_NE(NULL, self->seen);
}

FIXTURE_TEARDOWN(index)
{
	host_free(&self->h);
	free(self->busy);
	free(self->seen);
}

static bool port_busy(const unsigned long *busy, u32 port)
{
	return busy[port / EPHPORT_BITS_PER_LONG] >> (port % EPHPORT_BITS_PER_LONG) & 1;
}

TEST_F(index, free_ports_first_then_everything)
{
	const u32 sizes[] = { 1, 2, 1000, 1001, COVERAGE_MAX_N };
	const u32 per_mille[] = { 0, 500, 990, 1000 };
	struct ephport_req *r = &self->h.req;
	u32 i, j, k, p;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (j = 0; j < ARRAY_SIZE(per_mille); j++) {
			for (k = 0; k < 8; k++) {
				u32 nfree = 0, count = 0, off, first = 0;
				struct ephport_walk w;

				r->n = sizes[i];
				r->low = r->n == COVERAGE_MAX_N ? 1024 :
					 1 + ephport_below(65536 - r->n);
				memset(self->busy, 0, INDEX_LONGS * sizeof(unsigned long));
				for (p = r->low; p < r->low + r->n; p++) {
					if (ephport_below(1000) < per_mille[j])
						self->busy[p / EPHPORT_BITS_PER_LONG] |=
							1UL << (p % EPHPORT_BITS_PER_LONG);
					else
						nfree++;
				}
				self->h.state.seq_cursor = r->low + ephport_below(r->n);

				strategies[variant->strat].begin(&w, r);
				ephport_walk_set_index(&w, r->low, self->busy);
				memset(self->seen, 0, r->n);
				while (count < nfree && ephport_walk_next(&w, &off)) {
					ASSERT_GT(r->n, off);
					ASSERT_FALSE(port_busy(self->busy, r->low + off))
						TH_LOG("n=%u: busy port %u handed out first",
						       r->n, r->low + off);
					ASSERT_EQ(0, self->seen[off]++);
					if (!count)
						first = off;
					count++;
				}
				ASSERT_EQ(nfree, count);
				if (variant->strat == STRAT_SEQUENTIAL && nfree) {
					u32 c = self->h.state.seq_cursor - r->low, d;

					d = 0;
					while (port_busy(self->busy, r->low + (c + d) % r->n))
						d++;
					EXPECT_EQ((c + d) % r->n, first);
				}

				memset(self->seen, 0, r->n);
				count = 0;
				while (count <= r->n && ephport_walk_next(&w, &off)) {
					count++;
					ASSERT_GT(r->n, off);
					ASSERT_EQ(0, self->seen[off]++);
				}
				ASSERT_EQ(r->n, count) TH_LOG("n=%u, %u free: second pass", r->n,
							      nfree);
			}
		}
	}
}

/* ------------------------------------------------------------------ */

/*
 * A strategy registered by another module may leave any walk behind.
 * Whatever its begin() does, the allocator's walk (ephport_walk_begin(),
 * then ephport_walk_next()) hands out offsets below n only, covers the
 * range, ends, and never reads the index past its last port: the bitmap
 * here ends where a page nobody may read begins, and each range ends at
 * port 65535.
 */
enum {
	BAD_N_LARGER,		/* ephport_walk_init() with n + 100 */
	BAD_N_PORTS,		/* with every port number, from the last */
	BAD_N_ZERO,
	BAD_START,		/* start and position past the range */
	BAD_NEXT,		/* a position past the range, or midway */
	BAD_STRIDE,
	BAD_DONE,
	BAD_PICKS,		/* a random phase longer than picks[] */
	BAD_NO_PICK,		/* a random phase without a pick function */
	BAD_NOTHING,		/* begin() that sets nothing up */
	BAD_KINDS
};

static int bad_kind;

static void bad_begin(struct ephport_walk *w, const struct ephport_req *r)
{
	if (bad_kind != BAD_NOTHING)
		ephport_walk_init(w, r->n, ephport_below(r->n), 1);
	switch (bad_kind) {
	case BAD_N_LARGER:
		ephport_walk_init(w, r->n + 100, r->n + 50, 1);
		break;
	case BAD_N_PORTS:
		ephport_walk_init(w, 65536, 65535, 2);
		break;
	case BAD_N_ZERO:
		ephport_walk_init(w, 0, 0, 1);
		break;
	case BAD_START:
		w->start = r->n + 3;
		w->next = w->start;
		break;
	case BAD_NEXT:
		w->next = r->n > 1 ? w->next ^ 1 : r->n;
		break;
	case BAD_STRIDE:
		w->stride = 70000;
		break;
	case BAD_DONE:
		w->done = 0xffffffff;
		break;
	case BAD_PICKS:
		ephport_walk_set_picks(w, wild_pick, EPHPORT_PICKS_MAX, 0, 0);
		w->maxpicks = 255;
		break;
	case BAD_NO_PICK:
		w->maxpicks = 1;
		break;
	}
}

TEST(misbehaving_begin_never_gets_an_offset_past_the_range)
{
	const u32 sizes[] = { 1, 2, 3, 1000, 1001, 64512 };
	const u32 walks = BAD_KINDS * ARRAY_SIZE(sizes) * 4;
	long page = sysconf(_SC_PAGESIZE);
	size_t len = 65536 / 8, map = (len + page - 1) / page * page + page;
	struct ephport_req *r;
	unsigned long *busy;
	u8 *seen = calloc(65536, 1);
	struct host h;
	char *mem;
	u32 t, p;

	ASSERT_NE(NULL, seen);
	mem = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, mprotect(mem + map - page, page, PROT_NONE));
	busy = (unsigned long *)(mem + map - page - len);

	ephport_test_seed(TEST_SEED);
	host_init(&h, 0, 1, false);
	r = &h.req;
	/* Each kind, each size, twice without the index, twice with it. */
	for (t = 0; t < walks; t++) {
		bool index = t & 1;
		u32 off, count = 0, covered = 0;
		struct ephport_walk w;

		bad_kind = t / (4 * ARRAY_SIZE(sizes));
		r->n = sizes[t / 4 % ARRAY_SIZE(sizes)];
		r->low = 65536 - r->n;
		memset(busy, 0, len);
		for (p = r->low; index && p < 65536; p++)
			if (ephport_below(2))
				busy[p / EPHPORT_BITS_PER_LONG] |=
					1UL << (p % EPHPORT_BITS_PER_LONG);
		memset(seen, 0, r->n);
		memset(&w, 0xa5, sizeof(w));
		ephport_walk_begin(&w, bad_begin, r);
		ephport_walk_set_index(&w, r->low, index ? busy : NULL);
		while (count <= 2 * r->n && ephport_walk_next(&w, &off)) {
			ASSERT_GT(r->n, off)
				TH_LOG("kind %d, n=%u: offset %u", bad_kind, r->n, off);
			covered += !seen[off]++;
			count++;
		}
		ASSERT_EQ(r->n, covered) TH_LOG("kind %d, n=%u", bad_kind, r->n);
		if (!index)
			ASSERT_EQ(r->n, count) TH_LOG("kind %d, n=%u", bad_kind, r->n);
		ASSERT_FALSE(ephport_walk_next(&w, &off));
	}
	TH_LOG("%u walks of %d kinds of broken begin(): every offset below n", walks,
	       BAD_KINDS);
	munmap(mem, map);
	free(seen);
}
