// SPDX-License-Identifier: GPL-2.0
/*
 * The statistics: exact counter deltas per allocation path in
 * /proc/net/ephport/stats and /sys/kernel/ephport/stats, per-namespace
 * isolation of the counters and the log, and stats/reset.
 *
 * The module is loaded once with its default parameters, its settings and
 * counters reset before each test (surface_fixture.h).  Nothing else
 * allocates ports while a test runs, so the global counters move by
 * exactly what the test does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "surface_fixture.h"

/* ---- /proc/net/ephport/stats ---- */

#define MAX_HIST	32

struct pstat {
	long long alloc, fail, probes, max_probes;
	long long hist[MAX_HIST];
	long long hist_sum;
	int found;
};

struct pstats {
	int nhist;
	char hist_label[MAX_HIST][16];
	struct pstat p[PATHS];
};

static void add_hist_col(struct pstats *s, int *hist_col, const char *label, int col)
{
	snprintf(s->hist_label[s->nhist], sizeof(s->hist_label[0]), "%s", label);
	hist_col[s->nhist++] = col;
}

/*
 * Parse the table by its header: path, allocations, failures, probes,
 * max_probes, and the histogram columns (labels "1", "2-3", ..., ">=1024").
 */
static int read_pstats(struct pstats *s)
{
	int col_alloc = -1, col_fail = -1, col_probes = -1, col_max = -1;
	int hist_col[MAX_HIST], ncols = 0, i, p;
	char line[2048], *tok, *save;
	FILE *f;

	memset(s, 0, sizeof(*s));
	f = fopen(EP_PROCFS "/stats", "r");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -ENODATA;
	}
	for (tok = strtok_r(line, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save), ncols++) {
		if (!strcmp(tok, "allocations"))
			col_alloc = ncols;
		else if (!strcmp(tok, "failures"))
			col_fail = ncols;
		else if (!strcmp(tok, "probes"))
			col_probes = ncols;
		else if (!strcmp(tok, "max_probes"))
			col_max = ncols;
		else if (((tok[0] >= '0' && tok[0] <= '9') || tok[0] == '>') &&
			 s->nhist < MAX_HIST)
			add_hist_col(s, hist_col, tok, ncols);
	}
	if (col_alloc < 0 || col_fail < 0 || col_probes < 0 || col_max < 0) {
		fclose(f);
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		long long v[64];
		int n = 0;

		tok = strtok_r(line, " \t\n", &save);
		if (!tok)
			break;
		for (p = 0; p < PATHS; p++)
			if (!strcmp(tok, path_names[p]))
				break;
		if (p == PATHS)
			continue;
		v[n++] = 0;
		while ((tok = strtok_r(NULL, " \t\n", &save)) && n < 64)
			v[n++] = strtoll(tok, NULL, 10);
		if (n != ncols)
			continue;
		s->p[p].alloc = v[col_alloc];
		s->p[p].fail = v[col_fail];
		s->p[p].probes = v[col_probes];
		s->p[p].max_probes = v[col_max];
		for (i = 0; i < s->nhist; i++) {
			s->p[p].hist[i] = v[hist_col[i]];
			s->p[p].hist_sum += v[hist_col[i]];
		}
		s->p[p].found = 1;
	}
	fclose(f);
	return 0;
}

/* Every path is there and every count zero. */
static int pstats_zero(struct __test_metadata *_metadata, const struct pstats *s)
{
	int p, i, bad = 0;

	for (p = 0; p < PATHS; p++) {
		const struct pstat *r = &s->p[p];

		if (!r->found || r->alloc || r->fail || r->probes || r->max_probes ||
		    r->hist_sum) {
			TH_LOG("%s: found %d allocations %lld failures %lld probes %lld max %lld",
			       path_names[p], r->found, r->alloc, r->fail, r->probes,
			       r->max_probes);
			bad++;
		}
		for (i = 0; i < s->nhist; i++)
			bad += r->hist[i] != 0;
	}
	return bad;
}

/* ---- /sys/kernel/ephport/stats ---- */

struct gstats {
	long long alloc, fail, probes, path[PATHS];
};

static void read_gstats(struct gstats *g)
{
	char name[128];
	int p;

	g->alloc = ep_read_u64(EP_SYSFS "/stats/allocations");
	g->fail = ep_read_u64(EP_SYSFS "/stats/failures");
	g->probes = ep_read_u64(EP_SYSFS "/stats/probes");
	for (p = 0; p < PATHS; p++) {
		snprintf(name, sizeof(name), EP_SYSFS "/stats/%s", path_attrs[p]);
		g->path[p] = ep_read_u64(name);
	}
}

/* A child process and two pipes to talk with it. */
struct peer {
	int to_child[2], to_parent[2];
	int ports[2];
};

/* @fn(@x) in a child process; its pid, or -errno. */
static pid_t start_peer(struct peer *x, int (*fn)(struct peer *x))
{
	pid_t pid;

	if (pipe(x->to_child) || pipe(x->to_parent))
		return -errno;
	pid = ep_fork();
	if (!pid)
		_exit(fn(x) & 0x7f);
	close(x->to_child[0]);
	close(x->to_parent[1]);
	return pid < 0 ? -errno : pid;
}

/*
 * Exact counter deltas per path: in a fresh namespace, 20 allocations from
 * a 20-port range and one exhaustion count as 20 allocations and one
 * failure on that path only, here and in the global counters.
 */
FIXTURE(counters) {
	int listener[2];
};

FIXTURE_VARIANT(counters) {
	enum path path;
	int family;
	const char *strategy;
};

/* Each path and family, with the stock strategy and with sequential. */
#define COUNTERS_VARIANTS(name, path, family)					\
	FIXTURE_VARIANT_ADD(counters, name##_kernel) { path, family, "kernel" };	\
	FIXTURE_VARIANT_ADD(counters, name##_seq) { path, family, "sequential" }

COUNTERS_VARIANTS(tcp4_connect, TCP4_CONNECT, AF_INET);
COUNTERS_VARIANTS(tcp6_connect, TCP6_CONNECT, AF_INET6);
COUNTERS_VARIANTS(tcp_bind4, TCP_BIND, AF_INET);
COUNTERS_VARIANTS(tcp_bind6, TCP_BIND, AF_INET6);
COUNTERS_VARIANTS(udp4, UDP4, AF_INET);
COUNTERS_VARIANTS(udp6, UDP6, AF_INET6);

FIXTURE_SETUP(counters)
{
	ASSERT_EQ(0, fresh_module());
	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, listeners(self->listener));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", variant->strategy));
	ASSERT_EQ(0, set_range("40000 40019"));
}

FIXTURE_TEARDOWN(counters)
{
	close(self->listener[0]);
	close(self->listener[1]);
}

TEST_F(counters, exact_deltas)
{
	enum path path = variant->path;
	struct gstats g0, g1;
	struct pstats s0, s1;
	int fds[21], i, p, b, port, last = -1;
	long long hsum = 0;

	ASSERT_EQ(0, read_pstats(&s0));
	EXPECT_EQ(0, pstats_zero(_metadata, &s0)) TH_LOG("fresh namespace not zero");
	read_gstats(&g0);

	for (i = 0; i < 20; i++) {
		fds[i] = alloc_on(path, variant->family, &port);
		ASSERT_LE(0, fds[i]) TH_LOG("#%d: %s", i, strerror(-fds[i]));
		ASSERT_LE(40000, port);
		ASSERT_GE(40019, port);
	}
	fds[20] = alloc_on(path, variant->family, &port);
	EXPECT_EQ(-path_exhausted[path], fds[20]);

	ASSERT_EQ(0, read_pstats(&s1));
	read_gstats(&g1);
	close_fds(fds, 21);

	for (p = 0; p < PATHS; p++) {
		const struct pstat *r = &s1.p[p];

		ASSERT_TRUE(r->found) TH_LOG("no line for %s", path_names[p]);
		if (p != (int)path) {
			EXPECT_EQ(0, r->alloc) TH_LOG("%s", path_names[p]);
			EXPECT_EQ(0, r->fail) TH_LOG("%s", path_names[p]);
			EXPECT_EQ(0, r->probes) TH_LOG("%s", path_names[p]);
			EXPECT_EQ(0, r->hist_sum) TH_LOG("%s", path_names[p]);
			EXPECT_EQ(0, g1.path[p] - g0.path[p]) TH_LOG("global %s", path_attrs[p]);
			continue;
		}
		EXPECT_EQ(20, r->alloc);
		EXPECT_EQ(1, r->fail);
		EXPECT_LE(r->alloc, r->probes);
		/* Every attempt here needed at least one probe. */
		EXPECT_EQ(r->alloc + r->fail, r->hist_sum);
		EXPECT_LE(1, r->max_probes);
		EXPECT_GE(r->probes, r->max_probes);
		/* The highest non-empty bucket is the one max_probes falls in. */
		for (b = 0; b < s1.nhist; b++)
			if (r->hist[b])
				last = b;
		ASSERT_LE(0, last);
		for (b = 0, i = 1; b < last && i < (1 << 30); b++)
			i <<= 1;
		EXPECT_LE(i, r->max_probes)
			TH_LOG("max_probes %lld, bucket %s", r->max_probes, s1.hist_label[last]);
		if (last < s1.nhist - 1) {
			EXPECT_GT(2 * i, r->max_probes)
				TH_LOG("max_probes %lld, bucket %s", r->max_probes,
				       s1.hist_label[last]);
		}
		hsum = r->hist_sum;

		EXPECT_EQ(20, g1.path[p] - g0.path[p]) TH_LOG("global %s", path_attrs[p]);
		EXPECT_EQ(20, g1.alloc - g0.alloc);
		EXPECT_EQ(1, g1.fail - g0.fail);
		EXPECT_EQ(r->probes, g1.probes - g0.probes);
	}
	EXPECT_EQ(21, hsum);
	EXPECT_EQ(11, s1.nhist);
}

/*
 * Per-namespace isolation: a fresh namespace starts with an empty log and
 * zero counters and sees only its own allocations, while those of the
 * initial namespace keep going.
 */
static int isolated_child(struct peer *x)
{
	int failed = 0, fds[2], i, p;
	static struct ep_log l;
	struct pstats s;
	char want[64];

	close(x->to_child[1]);
	close(x->to_parent[0]);
	if (ep_new_netns() || prctl(PR_SET_NAME, "ep-nsb", 0, 0, 0))
		return 1;
	EP_CHILD_CHECK(failed, read_pstats(&s) == 0, "");
	for (p = 0; p < PATHS; p++)
		EP_CHILD_CHECK(failed, s.p[p].found && !s.p[p].alloc && !s.p[p].fail &&
			       !s.p[p].probes && !s.p[p].hist_sum, "%s", path_names[p]);
	EP_CHILD_CHECK(failed, ep_read_log(&l) == 0, "fresh namespace: %d entries", l.n);

	for (i = 0; i < 2; i++) {
		fds[i] = alloc_on(UDP4, AF_INET, &x->ports[i]);
		EP_CHILD_CHECK(failed, fds[i] >= 0, "udp4: %s", strerror(-fds[i]));
	}
	/* Tell the parent the ports, wait for its allocations. */
	if (write(x->to_parent[1], x->ports, sizeof(x->ports)) != sizeof(x->ports) ||
	    ep_wait_go(x->to_child[0]))
		return failed + 1;

	EP_CHILD_CHECK(failed, ep_read_log(&l) == 2, "%d entries", l.n);
	for (i = 0; i < l.n && i < 2; i++) {
		loopback_str(AF_INET, x->ports[i], want, sizeof(want));
		EP_CHILD_CHECK(failed, !strcmp(want, l.e[i].local), "%s", l.e[i].local);
		EP_CHILD_CHECK(failed, atoi(l.e[i].pid) == getpid(), "pid %s", l.e[i].pid);
		EP_CHILD_CHECK(failed, !strcmp(l.e[i].comm, "ep-nsb"), "%s", l.e[i].comm);
	}
	EP_CHILD_CHECK(failed, read_pstats(&s) == 0, "");
	for (p = 0; p < PATHS; p++)
		EP_CHILD_CHECK(failed, s.p[p].alloc == (p == UDP4 ? 2 : 0) && !s.p[p].fail,
			       "%s: %lld", path_names[p], s.p[p].alloc);
	close_fds(fds, 2);
	return failed;
}

TEST_F(surface, netns_isolation)
{
	int fds[4], port, i, status, nlog0;
	struct pstats s0, s1, s2;
	struct gstats g0, g1;
	static struct ep_log l;
	struct peer x;
	pid_t pid;

	/* The initial namespace allocates before, meanwhile and after. */
	ASSERT_EQ(0, listeners(self->listener));
	ASSERT_EQ(0, set_range("40000 40999"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", "random-pick"));
	ASSERT_EQ(0, prctl(PR_SET_NAME, "ep-host", 0, 0, 0));
	ASSERT_EQ(0, read_pstats(&s0));
	read_gstats(&g0);
	nlog0 = ep_read_log(&l);
	ASSERT_LE(0, nlog0);
	for (i = 0; i < 2; i++) {
		fds[i] = alloc_on(TCP4_CONNECT, AF_INET, &port);
		ASSERT_LE(0, fds[i]);
	}

	pid = start_peer(&x, isolated_child);
	ASSERT_LE(0, pid);
	ASSERT_EQ((ssize_t)sizeof(x.ports), read(x.to_parent[0], x.ports, sizeof(x.ports)));
	ASSERT_EQ(0, read_pstats(&s1));
	for (i = 2; i < 4; i++) {
		fds[i] = alloc_on(TCP4_CONNECT, AF_INET, &port);
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_EQ(0, ep_send_go(x.to_child[1]));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("the namespace's own view was wrong (status %#x)", status);

	ASSERT_EQ(0, read_pstats(&s2));
	read_gstats(&g1);
	/* The other namespace's UDP allocations are not counted here ... */
	EXPECT_EQ(s0.p[UDP4].alloc, s1.p[UDP4].alloc);
	EXPECT_EQ(s0.p[UDP4].alloc, s2.p[UDP4].alloc);
	/* ... this one's keep counting ... */
	EXPECT_EQ(s0.p[TCP4_CONNECT].alloc + 2, s1.p[TCP4_CONNECT].alloc);
	EXPECT_EQ(s0.p[TCP4_CONNECT].alloc + 4, s2.p[TCP4_CONNECT].alloc);
	/* ... and the global counters have both. */
	EXPECT_EQ(2, g1.path[UDP4] - g0.path[UDP4]);
	EXPECT_EQ(4, g1.path[TCP4_CONNECT] - g0.path[TCP4_CONNECT]);
	EXPECT_EQ(6, g1.alloc - g0.alloc);

	/* This namespace's log has its own entries and none of the other's. */
	ASSERT_EQ(nlog0 + 4, ep_read_log(&l));
	for (i = 0; i < l.n; i++) {
		EXPECT_NE(pid, atoi(l.e[i].pid));
		EXPECT_STRNE("ep-nsb", l.e[i].comm);
	}
	for (i = nlog0; i < l.n; i++) {
		EXPECT_STREQ("tcp4-connect", l.e[i].path);
		EXPECT_EQ(getpid(), atoi(l.e[i].pid));
	}
	close_fds(fds, 4);
}

/* ---- stats/reset ---- */

static int other_ns_child(struct peer *x)
{
	int failed = 0, fds[3], port, i;
	long long n;

	close(x->to_child[1]);
	close(x->to_parent[0]);
	if (ep_new_netns())
		return 1;
	for (i = 0; i < 3; i++) {
		fds[i] = alloc_on(UDP4, AF_INET, &port);
		EP_CHILD_CHECK(failed, fds[i] >= 0, "%s", strerror(-fds[i]));
	}
	if (ep_send_go(x->to_parent[1]) || ep_wait_go(x->to_child[0]))
		return failed + 1;
	n = ep_proc_stat("udp4", "allocations");
	EP_CHILD_CHECK(failed, n == 3, "another namespace's reset zeroed this one: %lld", n);
	close_fds(fds, 3);
	return failed;
}

TEST_F(surface, reset)
{
	int fds[3], port, i, status, err;
	struct peer x;
	struct gstats g;
	struct pstats s;
	pid_t pid;

	pid = start_peer(&x, other_ns_child);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, ep_wait_go(x.to_parent[0]));

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, set_range("40000 40001"));
	for (i = 0; i < 3; i++)
		fds[i] = alloc_on(TCP_BIND, AF_INET, &port);
	EXPECT_EQ(-EADDRINUSE, fds[2]);
	ASSERT_EQ(0, read_pstats(&s));
	EXPECT_EQ(2, s.p[TCP_BIND].alloc);
	EXPECT_EQ(1, s.p[TCP_BIND].fail);
	read_gstats(&g);
	EXPECT_EQ(5, g.alloc);

	ASSERT_EQ(0, ep_write(EP_SYSFS "/stats/reset", "1"));
	read_gstats(&g);
	EXPECT_EQ(0, g.alloc);
	EXPECT_EQ(0, g.fail);
	EXPECT_EQ(0, g.probes);
	for (i = 0; i < PATHS; i++) {
		EXPECT_EQ(0, g.path[i]) TH_LOG("%s", path_attrs[i]);
	}
	ASSERT_EQ(0, read_pstats(&s));
	EXPECT_EQ(0, pstats_zero(_metadata, &s));

	ASSERT_EQ(0, ep_send_go(x.to_child[1]));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("status %#x", status);

	/* Counting goes on from zero. */
	close_fds(fds, 3);
	err = alloc_on(UDP6, AF_INET6, &port);
	ASSERT_LE(0, err);
	close(err);
	read_gstats(&g);
	EXPECT_EQ(1, g.alloc);
	EXPECT_EQ(1, g.path[UDP6]);
	EXPECT_EQ(1, ep_proc_stat("udp6", "allocations"));
}
