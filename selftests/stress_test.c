// SPDX-License-Identifier: GPL-2.0
/*
 * The stress suite.  For $EPHPORT_STRESS_SECONDS (default 60) and until
 * the controller has done its share, 16 workers allocate on every path
 * (TCP connect() v4/v6, bind(0), listen() autobind, UDP) while the
 * controller switches the strategy 1,000 times, changes the range 1,000
 * times (shrinking it below the ports in use and back), toggles enabled,
 * creates and removes a rule (which no worker matches) with every strategy
 * switch, and unloads and reloads the module $EPHPORT_STRESS_RELOADS times
 * (default 25, at most 200); a helper creates
 * and destroys network namespaces with traffic inside.
 *
 * Asserted: every port lies in a range in force while its allocation ran,
 * no error but the exhaustion errnos, no duplicate 4-tuple among live
 * sockets, exact counters for a known amount of work at the end; the
 * harness checks the kernel log.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ephport.h"

#define WORKERS		16
#define DPORT		5000
#define SWITCHES	1000
#define RANGES		1000
#define RELOADS		25		/* default */
#define RELOADS_MAX	200
#define MAX_STATES	(SWITCHES + RANGES + 4 * RELOADS_MAX + 64)
#define SYSCTL_LOW	30000		/* the stock range, when ephport is not choosing */
#define SYSCTL_HIGH	31999
#define RULES		"/sys/kernel/config/ephport/rules"
#define RULE		RULES "/stress"

/* What is in force, from the workers' point of view. */
struct state {
	int low, high;
};

struct shared {
	int stop;
	int gen;			/* states[0..gen] have been in force */
	struct state states[MAX_STATES];
	long ok[WORKERS], exhausted[WORKERS], other[WORKERS], outside[WORKERS];
	long reset[WORKERS];		/* connected, then reset by the peer */
	int last_error[WORKERS], last_outside[WORKERS];
	int last_kind[WORKERS], last_family[WORKERS];	/* of last_error */
};

static struct shared *sh;

static bool stopping(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE);
}

static int current_gen(void)
{
	return __atomic_load_n(&sh->gen, __ATOMIC_ACQUIRE);
}

/*
 * The controller announces each state before it makes it so: a worker
 * accepts a port that fits any state from the one before the state
 * announced when it started to the one announced when it finished.
 */
static void announce(int low, int high)
{
	int g = sh->gen + 1;

	if (g >= MAX_STATES)
		return;
	sh->states[g].low = low;
	sh->states[g].high = high;
	__atomic_store_n(&sh->gen, g, __ATOMIC_RELEASE);
}

static bool port_in_force(int port, int g0, int g1)
{
	int g;

	for (g = g0; g <= g1 && g < MAX_STATES; g++)
		if (port >= sh->states[g].low && port <= sh->states[g].high)
			return true;
	return false;
}

static void worker(int id)
{
	int fds[32] = { 0 }, n = 0, k = id, port, fd, g0, g1;

	/* Churn all the time, but leave the controller its turns. */
	if (nice(10) < 0)
		perror("nice");
	srand(id + 1);
	while (!stopping()) {
		int family = k & 1 ? AF_INET6 : AF_INET;
		enum ep_kind kind = (k / 2) % EP_KINDS;

		k++;
		g0 = current_gen();
		fd = ep_alloc(family, kind, DPORT, &port);
		g1 = current_gen();
		if (fd < 0) {
			if (-fd == ep_kind_exhausted[kind]) {
				sh->exhausted[id]++;
			} else if (kind == EP_TCP_CONNECT &&
				   (-fd == ECONNRESET || -fd == EPIPE)) {
				/*
				 * The port was taken and the connection set
				 * up, but the peer reset it (EPIPE: the RST
				 * came in CLOSE_WAIT) before connect()
				 * returned: the acceptor closes at once, and
				 * the kernel resets a closing socket when
				 * there are too many orphans or TCP memory is
				 * short (seen once on the debug kernel).
				 * Checked below against TCPAbortOnMemory.
				 */
				sh->reset[id]++;
			} else {
				sh->other[id]++;
				sh->last_error[id] = -fd;
				sh->last_kind[id] = kind;
				sh->last_family[id] = family;
			}
			continue;
		}
		sh->ok[id]++;
		if (!port_in_force(port, g0 > 0 ? g0 - 1 : 0, g1)) {
			sh->outside[id]++;
			sh->last_outside[id] = port;
		}
		/* Keep some sockets alive, let others go. */
		ep_keep(fds, &n, 32, fd);
	}
	/* Live sockets stay until the parent has looked at them. */
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE) || sh->stop < 2)
		usleep(10000);
	while (n-- > 0)
		ep_close_rst(fds[n]);
}

/*
 * Create or remove a rule for uids no worker has, naming @strategy: the
 * rules are published and withdrawn while every path allocates.
 */
static int rule_toggle(bool *exists, const char *strategy)
{
	if (*exists) {
		if (rmdir(RULE))
			return -errno;
		*exists = false;
		return 0;
	}
	if (mkdir(RULE, 0755))
		return -errno;
	*exists = true;
	if (ep_write(RULE "/uid", "65000-65100") ||
	    ep_write(RULE "/strategy", strategy) ||
	    ep_write(RULE "/range", "50000 50099") ||
	    ep_write(RULE "/enabled", "1"))
		return -EIO;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/* TCP 4-tuples of this namespace's sockets but listeners: none twice. */
static int duplicate_tuples(void)
{
	static char *tuples[1 << 16];
	char path[32], line[512], local[64], remote[64];
	int v6, st, n = 0, dups = 0, i;

	for (v6 = 0; v6 < 2; v6++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/net/tcp%s", v6 ? "6" : "");
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f) && n < (int)ARRAY_SIZE(tuples)) {
			if (sscanf(line, "%*d: %63s %63s %x", local, remote, &st) != 3 ||
			    st == 0x0a)
				continue;
			if (asprintf(&tuples[n], "%d %s %s", v6, local, remote) > 0)
				n++;
		}
		fclose(f);
	}
	qsort(tuples, n, sizeof(*tuples), cmp_str);
	for (i = 1; i < n; i++)
		if (!strcmp(tuples[i - 1], tuples[i]))
			dups++;
	for (i = 0; i < n; i++)
		free(tuples[i]);
	return dups;
}

/* Exactly what a known amount of work must count. */
static void exact_counters(struct __test_metadata *_metadata)
{
	int i, fd, port, fds[20];

	ASSERT_EQ(0, ep_load("range=40000-40019 strategy=random-pick"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/stats/reset", "1"));
	for (i = 0; i < 20; i++) {
		fds[i] = ep_alloc(AF_INET, EP_TCP_CONNECT, DPORT, &port);
		ASSERT_LE(0, fds[i]);
	}
	fd = ep_alloc(AF_INET, EP_TCP_CONNECT, DPORT, &port);
	EXPECT_EQ(-EADDRNOTAVAIL, fd);
	for (i = 0; i < 20; i++)
		ep_close_rst(fds[i]);
	EXPECT_EQ(20, ep_proc_stat("tcp4-connect", "allocations"));
	EXPECT_EQ(1, ep_proc_stat("tcp4-connect", "failures"));
	EXPECT_EQ(20, ep_read_u64(EP_SYSFS "/stats/allocations"));
	EXPECT_EQ(1, ep_read_u64(EP_SYSFS "/stats/failures"));
}

/*
 * TcpExt counters of this namespace whose name contains "Abort" are
 * printed; returns TCPAbortOnMemory: connections the kernel reset because
 * of too many orphans or TCP memory pressure.
 */
static long netstat_aborts(void)
{
	char names[4096], values[4096], *n, *v, *sn, *sv;
	FILE *f = fopen("/proc/net/netstat", "r");
	long on_memory = -1;

	if (!f)
		return -errno;
	while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		if (strncmp(names, "TcpExt:", 7))
			continue;
		for (n = strtok_r(names, "\n ", &sn), v = strtok_r(values, "\n ", &sv);
		     n && v; n = strtok_r(NULL, "\n ", &sn), v = strtok_r(NULL, "\n ", &sv)) {
			if (strstr(n, "Abort"))
				fprintf(stderr, "# TcpExt %s %s\n", n, v);
			if (!strcmp(n, "TCPAbortOnMemory"))
				on_memory = atol(v);
		}
	}
	fclose(f);
	return on_memory;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

FIXTURE(stress) {
	struct ep_servers servers;
};

FIXTURE_SETUP(stress)
{
	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, ep_sysctl("ip_local_port_range", "30000 31999"));
	ASSERT_EQ(0, ep_servers_start(&self->servers, DPORT));
}

FIXTURE_TEARDOWN(stress)
{
	ep_servers_stop(&self->servers);
	rmdir(RULE);		/* left by a failed assertion, it pins the module */
	ep_unload();
}

TEST_F_TIMEOUT(stress, churn_while_everything_changes, 3600)
{
	static const struct state ranges[] = {
		{ 40000, 40999 }, { 40000, 40009 }, { 41000, 41499 }, { 40000, 40000 },
		{ 40500, 42000 }, { 0, 0 } /* auto */,
	};
	const char *env = getenv("EPHPORT_STRESS_SECONDS");
	const char *env_reloads = getenv("EPHPORT_STRESS_RELOADS");
	double seconds = env ? atof(env) : 60, t0 = now(), t_reload = 0;
	int nr_reloads = env_reloads ? atoi(env_reloads) : RELOADS;
	int switches = 0, range_changes = 0, toggles = 0, reloads = 0, rules = 0;
	int i, r = 0, enabled = 1, loaded = 0;
	bool have_rules, rule = false;
	struct state in_force = { 40000, 40999 };
	pid_t pids[WORKERS + 1];
	long ok = 0, exhausted = 0, resets = 0;
	char buf[32];

	if (nr_reloads < 0 || nr_reloads > RELOADS_MAX)
		nr_reloads = RELOADS_MAX;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));

	/* State 0: the module as loaded. */
	ASSERT_EQ(0, ep_load("range=40000-40999 strategy=sequential"));
	ASSERT_LT(0, ep_read_strategies());
	loaded = 1;
	have_rules = access(RULES, F_OK) == 0;
	sh->states[0] = in_force;

	for (i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			worker(i);
			_exit(0);
		}
	}
	pids[WORKERS] = fork();
	if (pids[WORKERS] == 0) {
		ep_netns_churn(&sh->stop, DPORT, 30, true);
		_exit(0);
	}

	/* Keep going for the time given and until every change was made. */
	while (now() - t0 < seconds || switches < SWITCHES || range_changes < RANGES ||
	       reloads < nr_reloads) {
		double elapsed = now() - t0;
		int want_reloads = seconds > 0 ? nr_reloads * elapsed / seconds : nr_reloads;

		if (reloads < nr_reloads && (reloads < want_reloads || switches >= SWITCHES)) {
			double t = now();

			/* A rule pins the module. */
			if (rule)
				ASSERT_EQ(0, rule_toggle(&rule, NULL));
			/* Unloaded, the stock range is in force. */
			announce(SYSCTL_LOW, SYSCTL_HIGH);
			ep_unload();
			in_force = (struct state){ 40000, 40999 };
			enabled = 1;
			announce(in_force.low, in_force.high);
			ASSERT_EQ(0, ep_load("range=40000-40999"));
			reloads++;
			t_reload += now() - t;
			continue;
		}
		if (switches < SWITCHES) {
			const char *strategy = ep_strategies[switches % ep_nr_strategies];

			ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", strategy));
			switches++;
			if (have_rules) {
				ASSERT_EQ(0, rule_toggle(&rule, strategy));
				rules++;
			}
		}
		if (range_changes < RANGES) {
			const struct state *s = &ranges[r++ % ARRAY_SIZE(ranges)];
			struct state next = s->low ? *s : (struct state){ SYSCTL_LOW, SYSCTL_HIGH };

			if (s->low)
				snprintf(buf, sizeof(buf), "%d %d", s->low, s->high);
			else
				snprintf(buf, sizeof(buf), "auto");
			if (!enabled)
				next = (struct state){ SYSCTL_LOW, SYSCTL_HIGH };
			announce(next.low, next.high);
			ASSERT_EQ(0, ep_write(EP_SYSFS "/range", buf));
			in_force = s->low ? *s : (struct state){ SYSCTL_LOW, SYSCTL_HIGH };
			range_changes++;
		}
		if ((switches + range_changes) % 50 == 0) {
			enabled = !enabled;
			announce(enabled ? in_force.low : SYSCTL_LOW,
				 enabled ? in_force.high : SYSCTL_HIGH);
			ASSERT_EQ(0, ep_write(EP_SYSFS "/enabled", enabled ? "1" : "0"));
			toggles++;
		}
		usleep(10000);
	}
	if (rule)
		rule_toggle(&rule, NULL);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	waitpid(pids[WORKERS], NULL, 0);

	/* Workers hold their live sockets: no 4-tuple twice. */
	usleep(200000);
	EXPECT_EQ(0, duplicate_tuples());
	__atomic_store_n(&sh->stop, 2, __ATOMIC_RELEASE);
	for (i = 0; i < WORKERS; i++)
		waitpid(pids[i], NULL, 0);

	TH_LOG("%.0f s: %d strategy switches, %d range changes, %d enabled toggles,",
	       now() - t0, switches, range_changes, toggles);
	TH_LOG("%d rule changes", rules);
	TH_LOG("%d reloads (%.2f s each), %d states", reloads,
	       reloads ? t_reload / reloads : 0, sh->gen + 1);
	for (i = 0; i < WORKERS; i++) {
		resets += sh->reset[i];
		ok += sh->ok[i];
		exhausted += sh->exhausted[i];
		EXPECT_EQ(0, sh->other[i]) TH_LOG("worker %d: last error %s (%s, IPv%d)",
						  i, strerror(sh->last_error[i]),
						  ep_kind_names[sh->last_kind[i]],
						  sh->last_family[i] == AF_INET6 ? 6 : 4);
		EXPECT_EQ(0, sh->outside[i]) TH_LOG("worker %d: port %d outside the range", i,
						    sh->last_outside[i]);
	}
	TH_LOG("%ld allocations, %ld exhausted, %ld connections reset by the peer",
	       ok, exhausted, resets);
	if (resets) {
		EXPECT_GE(netstat_aborts(), resets)
			TH_LOG("connections reset that TCPAbortOnMemory does not explain");
	}
	EXPECT_LT(0, ok);
	(void)loaded;

	exact_counters(_metadata);
}

TEST_HARNESS_MAIN
