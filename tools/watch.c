// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - watch: allocation rates from the global counters, one line
 * per interval (redrawn in place on a terminal).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ephportctl.h"

static void timespec_add(struct timespec *ts, double sec)
{
	long long ns = ts->tv_nsec + (long long)((sec - (time_t)sec) * 1e9);

	ts->tv_sec += (time_t)sec + ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
}

static double timespec_diff(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec - b->tv_sec) + (a->tv_nsec - b->tv_nsec) / 1e9;
}

/* Sleep until the monotonic time deadline; false when a signal of sigs came. */
static bool sleep_until(const struct timespec *deadline, const sigset_t *sigs)
{
	struct timespec now, left;
	double sec;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		sec = timespec_diff(deadline, &now);
		if (sec <= 0)
			return true;
		left.tv_sec = (time_t)sec;
		left.tv_nsec = (long)((sec - left.tv_sec) * 1e9);
		if (sigtimedwait(sigs, NULL, &left) > 0)
			return false;
	}
}

/* The growth of a counter; after a reset, the counter's new value. */
static unsigned long long delta(unsigned long long now, unsigned long long before)
{
	return now >= before ? now - before : now;
}

int do_watch(int argc, char **argv)
{
	static const char * const name[] = {
		"stats/allocations", "stats/failures", "stats/probes"
	};
	unsigned long long count = 0, n, v0[3], v1[3], d[3];
	bool tty = isatty(STDOUT_FILENO);
	struct timespec next, t0, t1;
	double interval = 1, dt;
	const char *val, *opt;
	char *end, ppa[32];
	sigset_t sigs;
	int i;

	for (i = 1; i < argc; i++) {
		opt = next_opt(&i, argc, argv, "ic", &val);
		if (*opt == 'j') {
			die(EXIT_USAGE, "\"watch\" has no JSON output");
		} else if (*opt == 'c') {
			if (!parse_count(val, &count))
				die(EXIT_USAGE, "-c needs a positive integer, not \"%s\"", val);
		} else {
			errno = 0;
			interval = strtod(val, &end);
			if (end == val || *end || errno || !isfinite(interval) || interval <= 0 ||
			    interval > INT_MAX)
				die(EXIT_USAGE, "-i needs a positive number of seconds, not \"%s\"",
				    val);
		}
	}
	check_module();

	/* Ctrl-C ends the loop (and the line being redrawn) cleanly. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	printf("%13s  %10s  %17s\n", "allocations/s", "failures/s", "probes/allocation");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	next = t0;
	for (i = 0; i < 3; i++)
		v0[i] = read_num(name[i]);
	for (n = 0; !count || n < count; n++) {
		timespec_add(&next, interval);
		if (!sleep_until(&next, &sigs))
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		dt = timespec_diff(&t1, &t0);
		for (i = 0; i < 3; i++) {
			v1[i] = read_num(name[i]);
			d[i] = delta(v1[i], v0[i]);
			v0[i] = v1[i];
		}
		t0 = t1;
		if (d[0])
			snprintf(ppa, sizeof(ppa), "%.2f", ratio(d[2], d[0]));
		else
			snprintf(ppa, sizeof(ppa), "-");
		printf("%s%13.1f  %10.1f  %17s%s", tty ? "\r" : "", d[0] / dt, d[1] / dt, ppa,
		       tty ? "\033[K" : "\n");
		fflush(stdout);
	}
	if (tty && n)
		putchar('\n');
	return 0;
}
