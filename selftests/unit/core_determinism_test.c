// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the strategy core (module/core.c), as core_test.c:
 * determinism.  sequential, hash, double-hash and random-inc start where
 * RFC 6056 and the namespace state say, commit() moves the state as
 * documented, and the hash strategies depend on the flow and only on it.
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

TEST_HARNESS_MAIN
