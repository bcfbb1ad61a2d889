// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the strategy core (module/core.c), as core_test.c:
 * randomness, each statistical verdict reproducible (the shim's seeded
 * random source).
 *
 *  - uniformity: chi-square tests of the first candidate of the random
 *    strategies, and the parity order of the stock bind(0) walk;
 *  - tracking: an attacker who sees the ports of its own connections tries
 *    to predict the ports of the host's connections to another destination
 *    (Kol, Klein, Gilad, "Device Tracking via Linux's New TCP Source Port
 *    Selection Algorithm", USENIX Security 2023).  hash and sequential are
 *    shown to leak; the other strategies must not do better than chance.
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
	for (h.req.n = 1; h.req.n <= 16; h.req.n++) {
		n = h.req.n;
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

/* { strategy, random_inc_n (0: the default), whether it leaks } */
FIXTURE_VARIANT_ADD(tracking, sequential) { STRAT_SEQUENTIAL, 0, true };
FIXTURE_VARIANT_ADD(tracking, hash) { STRAT_HASH, 0, true };
FIXTURE_VARIANT_ADD(tracking, double_hash) { STRAT_DOUBLE_HASH, 0, false };
FIXTURE_VARIANT_ADD(tracking, random_start) { STRAT_RANDOM_START, 0, false };
FIXTURE_VARIANT_ADD(tracking, random_pick) { STRAT_RANDOM_PICK, 0, false };
FIXTURE_VARIANT_ADD(tracking, random_inc) { STRAT_RANDOM_INC, 0, false };
FIXTURE_VARIANT_ADD(tracking, random_inc_n_is_range) { STRAT_RANDOM_INC, TRACK_N, false };

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
