// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the strategy core (module/core.c), built with the
 * userspace core_shim.h of this directory: its random source is a seeded
 * splitmix64, so every run draws the same numbers and each verdict is
 * reproducible.  core_determinism_test.c and core_random_test.c hold the
 * rest; core_host.c what they share.
 *
 *  - siphash: the shim's siphash() against the published SipHash-2-4 vector;
 *  - coverage: every walk hands out each offset of [0, n) exactly once, then
 *    ends, for every strategy and for the walk engine alone, with an
 *    occupancy index too;
 *  - a strategy registered by another module that leaves any walk behind
 *    cannot make the allocator's walk leave the range.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core_host.h"
#include "kselftest_harness.h"

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

FIXTURE_VARIANT_ADD(index, sequential) { STRAT_SEQUENTIAL };
FIXTURE_VARIANT_ADD(index, random_start) { STRAT_RANDOM_START };
FIXTURE_VARIANT_ADD(index, random_pick) { STRAT_RANDOM_PICK };
FIXTURE_VARIANT_ADD(index, hash) { STRAT_HASH };
FIXTURE_VARIANT_ADD(index, double_hash) { STRAT_DOUBLE_HASH };
FIXTURE_VARIANT_ADD(index, random_inc) { STRAT_RANDOM_INC };

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

TEST_HARNESS_MAIN
