// SPDX-License-Identifier: GPL-2.0
/*
 * rmmod and insmod while tasks allocate ports as fast as they can, on
 * every path: allocations keep working (only the exhaustion errnos are
 * allowed), and the kernel log stays clean (the harness checks it).  This
 * is where an unload that frees the replacements while a task still runs
 * one oopses.  Meanwhile another task reads the strategy module parameter,
 * whose file exists before the module's init and after its exit: it
 * always reads a strategy's name; and another switches the module off and
 * on, which takes the hooks off and registers them again: once unloaded,
 * no hook is left.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ephport.h"

#define DPORT		5000
#define WORKERS		4
#define CYCLES		12

struct tally {
	long ok;
	long exhausted;
	long other;
	int last_error;
};

static int stop;

static void on_term(int sig)
{
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
}

/* Allocate on every path and family in turn until told to stop. */
static void churn(struct tally *t, int seed)
{
	int k = seed, fd, port;

	signal(SIGTERM, on_term);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		int family = k & 1 ? AF_INET6 : AF_INET;
		enum ep_kind kind = (k / 2) % EP_KINDS;

		fd = ep_alloc(family, kind, DPORT, &port);
		if (fd >= 0) {
			t->ok++;
			ep_close_rst(fd);
		} else if (-fd == ep_kind_exhausted[kind]) {
			t->exhausted++;
		} else {
			t->other++;
			t->last_error = -fd;
		}
		k++;
	}
}

#define PARAM_STRATEGY	"/sys/module/ephport/parameters/strategy"

struct param_tally {
	long read;
	long absent;
	long bad;
	char last_bad[32];
	long toggles;		/* writes to "enabled" the module took */
	long toggle_errors;	/* refused for another reason than its absence */
	int last_toggle_error;
};

/*
 * Switch the module off and on over and over until told to stop, across
 * loads and unloads: switching on registers the hooks, which must never
 * happen once an unload has taken them off.
 */
static void toggle_enabled(struct param_tally *t)
{
	int on = 0, err;

	signal(SIGTERM, on_term);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		err = ep_write(EP_SYSFS "/enabled", on ? "1" : "0");
		on = !on;
		if (!err) {
			t->toggles++;
		} else if (err != -ENOENT && err != -ENODEV) {
			t->toggle_errors++;
			t->last_toggle_error = -err;
		}
		usleep(20000);
	}
}

/* Whether ftrace redirects a function of ephport's hooks (-1: unknown). */
static int hooks_left(void)
{
	unsigned int i;
	int left = 0, r;

	for (i = 0; ep_hooked[i]; i++) {
		r = ep_redirected(ep_hooked[i]);
		if (r < 0)
			return -1;
		left |= r;
	}
	return left;
}

/*
 * Read the strategy parameter over and over until told to stop: each read
 * is one of the strategies the module offers (ep_read_strategies()) and a
 * newline.
 */
static void read_param(struct param_tally *t)
{
	char buf[sizeof(t->last_bad)];
	int i;
	ssize_t n;
	int fd;

	signal(SIGTERM, on_term);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		fd = open(PARAM_STRATEGY, O_RDONLY);
		if (fd < 0) {
			t->absent++;
			continue;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n < 0) {
			t->absent++;	/* the file went while open */
			continue;
		}
		buf[n] = '\0';
		i = ep_nr_strategies;
		if (n > 0 && buf[n - 1] == '\n') {
			buf[n - 1] = '\0';
			for (i = 0; i < ep_nr_strategies && strcmp(buf, ep_strategies[i]); i++)
				;
			buf[n - 1] = '\n';
		}
		if (i < ep_nr_strategies) {
			t->read++;
		} else {
			t->bad++;
			memcpy(t->last_bad, buf, sizeof(buf));
		}
	}
}

FIXTURE(reload) {
};

FIXTURE_SETUP(reload)
{
}

FIXTURE_TEARDOWN(reload)
{
	ep_unload();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST_F_TIMEOUT(reload, under_churn, 900)
{
	double t0, t_load = 0, t_unload = 0;
	static const char * const params[] = {
		"", "strategy=sequential range=40000-40099", "strategy=random-pick",
		"strategy=double-hash range=50000-50999", "strategy=kernel range=40000-40999",
		"strategy=random-inc enabled=0",
	};
	struct param_tally *ptally;
	struct tally *tally;
	pid_t pids[WORKERS], acceptors[2], reader, toggler;
	int i, l4, l6;

	ASSERT_EQ(0, ep_load(""));
	ASSERT_LT(0, ep_read_strategies());
	ASSERT_EQ(0, ep_new_netns());
	l4 = ep_listener(AF_INET, DPORT);
	l6 = ep_listener(AF_INET6, DPORT);
	ASSERT_LE(0, l4);
	ASSERT_LE(0, l6);
	acceptors[0] = ep_acceptor(l4);
	acceptors[1] = ep_acceptor(l6);
	tally = mmap(NULL, WORKERS * sizeof(*tally) + sizeof(*ptally),
		     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, tally);
	memset(tally, 0, WORKERS * sizeof(*tally) + sizeof(*ptally));
	ptally = (struct param_tally *)&tally[WORKERS];

	for (i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			churn(&tally[i], i);
			_exit(0);
		}
	}
	reader = fork();
	if (reader == 0) {
		read_param(ptally);
		_exit(0);
	}
	toggler = fork();
	if (toggler == 0) {
		toggle_enabled(ptally);
		_exit(0);
	}
	for (i = 0; i < CYCLES; i++) {
		const char *p = params[i % ARRAY_SIZE(params)];

		t0 = now();
		ASSERT_EQ(0, ep_load(p)) TH_LOG("insmod %s", p);
		t_load += now() - t0;
		usleep(200000);
		t0 = now();
		ep_unload();
		t_unload += now() - t0;
		ASSERT_FALSE(ep_loaded());
		usleep(50000);
	}
	for (i = 0; i < WORKERS; i++) {
		kill(pids[i], SIGTERM);
		waitpid(pids[i], NULL, 0);
	}
	if (reader > 0) {
		kill(reader, SIGTERM);
		waitpid(reader, NULL, 0);
	}
	if (toggler > 0) {
		kill(toggler, SIGTERM);
		waitpid(toggler, NULL, 0);
	}
	TH_LOG("%d cycles: insmod %.3f s, rmmod %.3f s on average", CYCLES,
	       t_load / CYCLES, t_unload / CYCLES);
	for (i = 0; i < WORKERS; i++) {
		TH_LOG("worker %d: %ld allocated, %ld exhausted, %ld other", i,
		       tally[i].ok, tally[i].exhausted, tally[i].other);
		EXPECT_LT(0, tally[i].ok);
		EXPECT_EQ(0, tally[i].other) TH_LOG("last error: %s",
						    strerror(tally[i].last_error));
	}
	TH_LOG("strategy parameter: %ld reads, %ld while absent", ptally->read,
	       ptally->absent);
	EXPECT_LT(0, reader);
	EXPECT_LT(0, ptally->read);
	EXPECT_EQ(0, ptally->bad) TH_LOG("last read \"%s\"", ptally->last_bad);
	TH_LOG("enabled: %ld switches taken", ptally->toggles);
	EXPECT_LT(0, ptally->toggles);
	EXPECT_EQ(0, ptally->toggle_errors) TH_LOG("last: %s",
						   strerror(ptally->last_toggle_error));
	/* Unloaded: no hook stays, whatever switch raced with the unload. */
	if (hooks_left() < 0)
		TH_LOG("no tracefs enabled_functions: hooks left not checked");
	else
		EXPECT_EQ(0, hooks_left());
	kill(acceptors[0], SIGKILL);
	kill(acceptors[1], SIGKILL);
	waitpid(acceptors[0], NULL, 0);
	waitpid(acceptors[1], NULL, 0);
	close(l4);
	close(l6);
}

TEST_HARNESS_MAIN
