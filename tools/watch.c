// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - watch: the rates of this network namespace's counters
 * (/proc/net/ephport/stats, as stats shows them), one line per interval
 * with its time: in total and per path, then the share of the range in
 * use per protocol ("!" at or above warn_pct).  With --json, one JSON object per
 * line (JSON Lines) for CI logs.  Also the timing of it and of log -f.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "ephportctl.h"

double parse_interval(const char *val)
{
	double interval;
	char *end;

	errno = 0;
	interval = strtod(val, &end);
	if (end == val || *end || errno || !isfinite(interval) || interval <= 0 ||
	    interval > INT_MAX)
		die(EXIT_USAGE, "-i needs a positive number of seconds, not \"%s\"", val);
	return interval;
}

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

/* Ctrl-C or SIGTERM ends the loop cleanly (exit status 0). */
void ticker_start(struct ticker *t, double interval)
{
	t->interval = interval;
	sigemptyset(&t->sigs);
	sigaddset(&t->sigs, SIGINT);
	sigaddset(&t->sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &t->sigs, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t->next);
}

/* Sleep until the next tick; false when a signal came. */
bool ticker_wait(struct ticker *t)
{
	struct timespec now, left;
	double sec;

	timespec_add(&t->next, t->interval);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		sec = timespec_diff(&t->next, &now);
		if (sec <= 0)
			return true;
		left.tv_sec = (time_t)sec;
		left.tv_nsec = (long)((sec - left.tv_sec) * 1e9);
		if (sigtimedwait(&t->sigs, NULL, &left) > 0)
			return false;
	}
}

/* The growth of a counter; after a reset, the counter's new value. */
static unsigned long long delta(unsigned long long now, unsigned long long before)
{
	return now >= before ? now - before : now;
}

/* One sample: the paths' allocations, failures and probes. */
enum { W_ALLOC, W_FAIL, W_PROBES, W_N };

struct sample {
	struct ptable pt;
	int col[W_N], path;
	struct timespec when;
	struct occupancy occ;
};

static void sample(struct sample *s)
{
	static const char * const col[W_N] = { "allocations", "failures", "probes" };
	int j;

	clock_gettime(CLOCK_MONOTONIC, &s->when);
	read_ptable_or_die("stats", false, &s->pt);
	s->path = ptable_col(&s->pt, "path");
	for (j = 0; j < W_N; j++)
		s->col[j] = ptable_col(&s->pt, col[j]);
	read_occupancy(&s->occ);
}

/* A counter of path i, its growth since s0 (0 for a path s0 lacks). */
static unsigned long long growth(const struct sample *s0, const struct sample *s1, int i, int c)
{
	unsigned long long now = ptable_num(&s1->pt, i, s1->col[c]);

	if (i >= s0->pt.nrows || strcmp(s0->pt.row[i][s0->path], s1->pt.row[i][s1->path]))
		return 0;
	return delta(now, ptable_num(&s0->pt, i, s0->col[c]));
}

static int path_width(const char *path)
{
	int len = strlen(path) + 2;

	return len < 8 ? 8 : len;
}

static void print_header(const struct sample *s)
{
	int i;

	printf("%-8s  %13s  %10s  %17s", "time", "allocations/s", "failures/s",
	       "probes/allocation");
	for (i = 0; i < s->pt.nrows; i++)
		printf("  %*s/s", path_width(s->pt.row[i][s->path]) - 2, s->pt.row[i][s->path]);
	for (i = 0; i < s->occ.n; i++)
		printf("  %4s used%%", s->occ.proto[i]);
	putchar('\n');
}

/* Each protocol's share of the range in use, "!" at or above warn_pct. */
static void print_watch_occupancy(const struct occupancy *o)
{
	char pct[32];
	int i;

	if (!o->n)
		return;
	open_object("occupancy");
	for (i = 0; i < o->n; i++) {
		open_object(o->proto[i]);
		snprintf(pct, sizeof(pct), "%.1f%s", occupancy_pct(o, i),
			 occupancy_above(o, i) ? "!" : "");
		if (!is_json())
			printf("  %10s", pct);
		print_uint(PRINT_JSON, "used", NULL, o->used[i]);
		print_uint(PRINT_JSON, "free", NULL, o->free[i]);
		print_float(PRINT_JSON, "used_pct", NULL, occupancy_pct(o, i));
		print_bool(PRINT_JSON, "above_warn_pct", NULL, occupancy_above(o, i));
		close_object();
	}
	close_object();
}

/* The line of one interval: its end's time, the totals, each path. */
static void print_rates(const struct sample *s0, const struct sample *s1)
{
	double dt = timespec_diff(&s1->when, &s0->when), rate;
	unsigned long long d[W_N] = { 0 }, a;
	char stamp[64], ppa[32];
	struct timeval tv;
	struct tm tm;
	int i, j;

	for (i = 0; i < s1->pt.nrows; i++) {
		for (j = 0; j < W_N; j++)
			d[j] += growth(s0, s1, i, j);
	}
	gettimeofday(&tv, NULL);
	open_object(NULL);
	if (is_json()) {
		gmtime_r(&tv.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	} else {
		localtime_r(&tv.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	}
	print_string(PRINT_ANY, "time", "%-8s", stamp);
	print_float(PRINT_JSON, "interval", NULL, dt);
	print_float(PRINT_ANY, "allocations_per_s", "  %13.1f", d[W_ALLOC] / dt);
	print_float(PRINT_ANY, "failures_per_s", "  %10.1f", d[W_FAIL] / dt);
	snprintf(ppa, sizeof(ppa), "%.2f", ratio(d[W_PROBES], d[W_ALLOC]));
	if (d[W_ALLOC])
		print_number(PRINT_ANY, "probes_per_allocation", "  %17s", ppa);
	else
		print_null(PRINT_ANY, "probes_per_allocation", "  %17s", "-");
	open_object("paths");
	for (i = 0; i < s1->pt.nrows; i++) {
		a = growth(s0, s1, i, W_ALLOC);
		rate = a / dt;
		open_object(s1->pt.row[i][s1->path]);
		if (!is_json())
			printf("  %*.1f", path_width(s1->pt.row[i][s1->path]), rate);
		print_float(PRINT_JSON, "allocations_per_s", NULL, rate);
		print_float(PRINT_JSON, "failures_per_s", NULL, growth(s0, s1, i, W_FAIL) / dt);
		close_object();
	}
	close_object();
	print_watch_occupancy(&s1->occ);
	close_object();
	print_string(PRINT_TEXT, NULL, "%s", "\n");
	json_reset();
	fflush(stdout);
}

int do_watch(int argc, char **argv)
{
	unsigned long long count = 0, n;
	struct sample s[2];
	struct ticker tick;
	double interval = 1;
	const char *val, *opt;
	int i;

	for (i = 1; i < argc; i++) {
		opt = next_opt(&i, argc, argv, "icn", &val);
		if (*opt == 'c' || *opt == 'n') {
			if (!parse_count(val, &count))
				die(EXIT_USAGE, "-%c needs a positive integer, not \"%s\"", *opt,
				    val);
		} else if (*opt == 'i') {
			interval = parse_interval(val);
		}
	}
	check_module();

	ticker_start(&tick, interval);
	sample(&s[0]);
	if (!is_json())
		print_header(&s[0]);
	fflush(stdout);
	for (n = 0; (!count || n < count) && ticker_wait(&tick); n++) {
		sample(&s[1]);
		print_rates(&s[0], &s[1]);
		free_ptable(&s[0].pt);
		s[0] = s[1];
	}
	free_ptable(&s[0].pt);
	return 0;
}
