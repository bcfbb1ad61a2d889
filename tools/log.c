// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - log: the recent allocations of this network namespace
 * (/proc/net/ephport/allocations, a ring of entries, oldest first), with
 * filters; -f follows it as dmesg -w does, -T shows wall-clock times.
 *
 * Failed allocations are logged too (result: the errno's name, or "ok");
 * --failures shows only those.
 *
 * An entry's time is CLOCK_BOOTTIME, in seconds with microseconds.  Follow
 * mode reads the ring every interval and prints the entries after the last
 * one it printed: those with a later time, or the same time further down.
 * Entries overwritten between two reads are not seen (the ring wrapped).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ephportctl.h"

/* Columns in output order; numbers are checked, "-" is null. */
static const char * const name[] = {
	"time", "path", "local", "remote", "probes", "strategy", "rule", "result", "pid", "comm"
};

enum { TIME, PATH, LOCAL, REMOTE, PROBES, STRATEGY, RULE, RESULT, PID, COMM, NCOLS };

/* What log was asked for. */
struct log_opts {
	unsigned long long last, pid, port;
	const char *comm, *path, *rule;
	bool has_pid, has_port, follow, wall, failures;
	double interval;
	long long offset_us;		/* wall clock minus boot time */
};

/* "123.456789" as microseconds; false unless a JSON-safe number. */
static bool parse_time(const char *s, unsigned long long *us)
{
	const char *p = s + strspn(s, "0123456789");
	unsigned long long sec, frac = 0;
	int digits = 0;

	if (p == s || (*s == '0' && p - s > 1))
		return false;
	sec = strtoull(s, NULL, 10);
	if (*p == '.' && p[1]) {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			if (digits < 6)
				frac = frac * 10 + (*p - '0');
		}
	}
	for (; digits < 6; digits++)
		frac *= 10;
	*us = sec * 1000000 + frac;
	return !*p;
}

/* The port of "ADDR:PORT", or -1. */
static long long addr_port(const char *s)
{
	const char *colon = strrchr(s, ':');
	unsigned long long v;

	return colon && parse_ull(colon + 1, &v) ? (long long)v : -1;
}

/* --path: a path name, or one of its parts ("connect", "tcp4", "udp6"). */
static bool path_matches(const char *path, const char *want)
{
	size_t len = strlen(want);
	const char *p;

	for (p = path; p; p = strchr(p, '-') ? strchr(p, '-') + 1 : NULL) {
		if (!strncmp(p, want, len) && (!p[len] || p[len] == '-'))
			return p == path || !p[len];
	}
	return false;
}

static bool wanted(const struct log_opts *o, const struct ptable *pt, int i, const int *col)
{
	char **row = pt->row[i];
	unsigned long long v;

	if (o->has_pid && (!parse_ull(row[col[PID]], &v) || v != o->pid))
		return false;
	if (o->comm && strcmp(row[col[COMM]], o->comm))
		return false;
	if (o->path && !path_matches(row[col[PATH]], o->path))
		return false;
	if (o->rule && strcmp(row[col[RULE]], o->rule))
		return false;
	if (o->failures && !strcmp(row[col[RESULT]], "ok"))
		return false;
	return !o->has_port || addr_port(row[col[LOCAL]]) == (long long)o->port ||
	       addr_port(row[col[REMOTE]]) == (long long)o->port;
}

/* Boot time stamp us as local time, "2026-12-03 08:50:01.123456". */
static void wall_time(const struct log_opts *o, unsigned long long us, bool utc, char *buf,
		      size_t size)
{
	long long w = (long long)us + o->offset_us;
	time_t sec = w / 1000000;
	struct tm tm;
	size_t len;

	if (utc)
		gmtime_r(&sec, &tm);
	else
		localtime_r(&sec, &tm);
	len = strftime(buf, size, utc ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + len, size - len, ".%06lld%s", w % 1000000, utc ? "Z" : "");
}

static void print_entry(const struct log_opts *o, const struct ptable *pt, int i,
			const int *col, unsigned long long us)
{
	char **row = pt->row[i], wall[64];

	open_object(NULL);
	if (o->wall) {
		wall_time(o, us, false, wall, sizeof(wall));
		print_string(PRINT_TEXT, NULL, "%s", wall);
	}
	print_number(o->wall ? PRINT_JSON : PRINT_ANY, "time", "%s", row[col[TIME]]);
	if (o->wall) {
		wall_time(o, us, true, wall, sizeof(wall));
		print_string(PRINT_JSON, "wall_time", "%s", wall);
	}
	print_string(PRINT_ANY, "path", "%s", row[col[PATH]]);
	print_string(PRINT_ANY, "local", "%s", row[col[LOCAL]]);
	print_opt_string(PRINT_ANY, "remote", "%s", row[col[REMOTE]]);
	print_uint(PRINT_ANY, "probes", "%llu", ptable_num(pt, i, col[PROBES]));
	print_string(PRINT_ANY, "strategy", "%s", row[col[STRATEGY]]);
	print_opt_string(PRINT_ANY, "rule", "%s", row[col[RULE]]);
	/* "ok", or the errno's name ("EADDRNOTAVAIL") */
	print_string(PRINT_ANY, "result", "%s", row[col[RESULT]]);
	/* "-": no process (a kernel socket), or hidden from this reader */
	if (strcmp(row[col[PID]], "-"))
		print_uint(PRINT_ANY, "pid", "%llu", ptable_num(pt, i, col[PID]));
	else
		print_null(PRINT_ANY, "pid", "%s", "-");
	print_string(PRINT_ANY, "comm", "%s", row[col[COMM]]);
	close_object();
	if (o->follow)
		json_reset();
}

/* Where follow mode stands: the last time printed, and how many had it. */
struct log_pos {
	unsigned long long time;
	int at_time;
	bool header;
};

/* Print the wanted entries of one read of the ring after pos. */
static void print_new(const struct log_opts *o, struct log_pos *pos)
{
	static struct table t = { .align = "rlllrlllrl", .ncols = NCOLS };
	unsigned long long *us, max = pos->time;
	int i, first = 0, seen = 0, col[NCOLS];
	const char *header[NCOLS];
	struct ptable pt;

	read_ptable_or_die("allocations", true, &pt);
	for (i = 0; i < NCOLS; i++)
		col[i] = ptable_col(&pt, name[i]);
	if (col[COMM] != pt.ncols - 1)
		die(1, "column \"comm\" is not the last one in %s", pt.path);
	us = xrealloc(NULL, (pt.nrows + 1) * sizeof(*us));
	for (i = 0; i < pt.nrows; i++) {
		if (!parse_time(pt.row[i][col[TIME]], &us[i]))
			die(1, "malformed time \"%s\" in %s", pt.row[i][col[TIME]], pt.path);
	}
	if (o->last && o->last < (unsigned long long)pt.nrows && !pos->header)
		first = pt.nrows - o->last;

	if (!o->follow)
		open_array(NULL);
	memcpy(header, name, sizeof(header));
	if (o->wall)
		header[TIME] = "wall time";
	table_open(&t, header, pos->header ? 0 : NCOLS);
	for (i = first; i < pt.nrows; i++) {
		if (pos->header && us[i] < pos->time)
			continue;
		if (pos->header && us[i] == pos->time && ++seen <= pos->at_time)
			continue;
		if (us[i] > max) {
			max = us[i];
			pos->at_time = 0;
		}
		pos->at_time += us[i] == max;
		if (wanted(o, &pt, i, col))
			print_entry(o, &pt, i, col, us[i]);
	}
	table_close();
	if (!o->follow)
		close_array();
	fflush(stdout);
	pos->time = max;
	pos->header = true;
	free(us);
	free_ptable(&pt);
}

/* Boot time's offset to the wall clock, now. */
static long long wall_offset(void)
{
	struct timespec boot, real;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_REALTIME, &real);
	return (real.tv_sec - boot.tv_sec) * 1000000LL + (real.tv_nsec - boot.tv_nsec) / 1000;
}

/* The options that take a value, by their long names. */
static const char * const value_opts[] = { "--pid", "--comm", "--path", "--rule", "--port" };

static void log_value_opt(struct log_opts *o, int opt, const char *val)
{
	switch (opt) {
	case 0:
		if (!parse_ull(val, &o->pid) || o->pid > INT_MAX)
			die(EXIT_USAGE, "--pid needs a process id, not \"%s\"", val);
		o->has_pid = true;
		break;
	case 1:
		o->comm = val;
		break;
	case 2:
		o->path = val;
		break;
	case 3:
		o->rule = val;
		break;
	default:
		if (!parse_count(val, &o->port) || o->port > RANGE_MAX)
			die(EXIT_USAGE, "--port needs a port number, not \"%s\"", val);
		o->has_port = true;
	}
}

int do_log(int argc, char **argv)
{
	struct log_opts o = { .interval = 1 };
	struct log_pos pos = { 0 };
	struct ticker tick;
	const char *val, *opt;
	int i, v;

	for (i = 1; i < argc; i++) {
		for (v = 0; v < (int)ARRAY_SIZE(value_opts); v++) {
			if (!strcmp(argv[i], value_opts[v]))
				break;
		}
		if (v < (int)ARRAY_SIZE(value_opts)) {
			if (++i >= argc)
				die(EXIT_USAGE, "option \"%s\" needs a value", argv[i - 1]);
			log_value_opt(&o, v, argv[i]);
		} else if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--follow")) {
			o.follow = true;
		} else if (!strcmp(argv[i], "--failures")) {
			o.failures = true;
		} else if (!strcmp(argv[i], "-T") || !strcmp(argv[i], "--wall")) {
			o.wall = true;
		} else {
			opt = next_opt(&i, argc, argv, "ni", &val);
			if (*opt == 'n' && !parse_count(val, &o.last))
				die(EXIT_USAGE, "-n needs a positive integer, not \"%s\"", val);
			if (*opt == 'i')
				o.interval = parse_interval(val);
		}
	}
	check_module();
	o.offset_us = wall_offset();
	if (!o.follow) {
		print_new(&o, &pos);
		return 0;
	}
	ticker_start(&tick, o.interval);
	do {
		print_new(&o, &pos);
	} while (ticker_wait(&tick));
	return 0;
}
