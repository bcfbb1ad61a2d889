// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - the tables of /proc/net/ephport: stats (per path, with the
 * probe histogram, then per rule) and log (the recent allocations).
 */
#define _GNU_SOURCE
#include <string.h>

#include "ephportctl.h"

/* Histogram columns are named after probe counts: "1", "2-3", ">=1024". */
static bool bucket_col(const char *name)
{
	return (*name >= '0' && *name <= '9') || *name == '>' || *name == '<';
}

/* The probe-count histogram as a text table: allocations that needed N probes. */
static void print_histogram(const struct ptable *pt, int r)
{
	struct table t = { .align = "l", .ncols = 1 };
	int i, j;

	for (j = 0; j < pt->ncols; j++)
		t.ncols += bucket_col(pt->col[j]);
	if (is_json() || t.ncols == 1)
		return;
	printf("\nallocations by probes needed:\n");
	table_open(&t, NULL, 0);
	print_string(PRINT_TEXT, NULL, "%s", "path");
	for (j = 0; j < pt->ncols; j++) {
		if (bucket_col(pt->col[j]))
			print_string(PRINT_TEXT, NULL, "%s", pt->col[j]);
	}
	for (i = 0; i < pt->nrows; i++) {
		print_string(PRINT_TEXT, NULL, "%s", pt->row[i][r]);
		for (j = 0; j < pt->ncols; j++) {
			if (bucket_col(pt->col[j]))
				print_uint(PRINT_TEXT, NULL, "%llu", ptable_num(pt, i, j));
		}
	}
	table_close();
}

/* The counters of a path or a rule, and probes per allocation in text. */
static const char * const counters[] = { "allocations", "failures", "probes", "max_probes" };

static void print_counters(const struct ptable *pt, int i, const int *col)
{
	unsigned long long v[ARRAY_SIZE(counters)];
	int j;

	for (j = 0; j < (int)ARRAY_SIZE(counters); j++) {
		v[j] = ptable_num(pt, i, col[j]);
		print_uint(PRINT_ANY, counters[j], "%llu", v[j]);
	}
	print_float(PRINT_TEXT, NULL, "%.2f", ratio(v[2], v[0]));
}

/* The per-rule table of the statistics, after the per-path one. */
enum { RS_RULE, RS_PRIO, RS_ENABLED, RS_COUNTERS, RS_NCOLS = RS_COUNTERS + 4 };

static const char * const rule_stats_col[] = {
	"rule", "priority", "enabled", "allocations", "failures", "probes", "max_probes",
	"probes/alloc"
};

/*
 * Read and check the per-rule table: false if there is none (older modules
 * have none; another kind of table there is ignored).
 */
static bool read_rule_stats(struct ptable *rt, int *col)
{
	int i, j;

	if (read_ptable("stats", 1, false, rt))
		return false;
	for (j = 0; j < RS_NCOLS; j++)
		col[j] = ptable_find(rt, rule_stats_col[j]);
	if (col[RS_RULE] < 0 || col[RS_COUNTERS] < 0 || col[RS_COUNTERS + 1] < 0 ||
	    col[RS_COUNTERS + 2] < 0)
		return false;
	for (j = 0; j < RS_NCOLS; j++)
		col[j] = ptable_col(rt, rule_stats_col[j]);
	for (i = 0; i < rt->nrows; i++) {
		for (j = RS_PRIO; j < RS_NCOLS; j++)
			ptable_num(rt, i, col[j]);
		if (ptable_num(rt, i, col[RS_ENABLED]) > 1)
			die(1, "malformed enabled \"%s\" in %s", rt->row[i][col[RS_ENABLED]],
			    rt->path);
	}
	return true;
}

/*
 * Text: a table after a blank line, if there are rules; JSON: "rules": [...]
 * (empty from a module without the table).
 */
static void print_rule_stats(const struct ptable *rt, const int *col)
{
	struct table t = { .align = "lrl", .ncols = ARRAY_SIZE(rule_stats_col) };
	int i;

	if (!is_json() && !rt->nrows)
		return;
	print_string(PRINT_TEXT, NULL, "%s", "\n");
	open_array("rules");
	table_open(&t, rule_stats_col, t.ncols);
	for (i = 0; i < rt->nrows; i++) {
		open_object(NULL);
		print_string(PRINT_ANY, "name", "%s", rt->row[i][col[RS_RULE]]);
		print_uint(PRINT_ANY, "priority", "%llu", ptable_num(rt, i, col[RS_PRIO]));
		print_bool(PRINT_ANY, "enabled", "%s", ptable_num(rt, i, col[RS_ENABLED]));
		print_counters(rt, i, col + RS_COUNTERS);
		close_object();
	}
	table_close();
	close_array();
}

int do_stats(int argc, char **argv)
{
	static const char * const header[] = {
		"path", "allocations", "failures", "probes", "max_probes", "probes/alloc"
	};
	struct table t = { .align = "l", .ncols = ARRAY_SIZE(header) };
	int i, j, r, col[ARRAY_SIZE(counters)], rcol[RS_NCOLS];
	struct ptable pt, rt;

	json_opts(argc, argv);
	check_module();
	read_ptable_or_die("stats", false, &pt);
	r = ptable_col(&pt, "path");
	for (j = 0; j < (int)ARRAY_SIZE(counters); j++)
		col[j] = ptable_col(&pt, counters[j]);
	if (!read_rule_stats(&rt, rcol))
		rt.nrows = 0;

	open_object(NULL);
	open_object("paths");
	table_open(&t, header, t.ncols);
	for (i = 0; i < pt.nrows; i++) {
		open_object(pt.row[i][r]);
		print_string(PRINT_TEXT, NULL, "%s", pt.row[i][r]);
		print_counters(&pt, i, col);
		open_object("histogram");
		for (j = 0; j < pt.ncols; j++) {
			if (bucket_col(pt.col[j]))
				print_uint(PRINT_JSON, pt.col[j], NULL, ptable_num(&pt, i, j));
		}
		close_object();
		close_object();
	}
	table_close();
	close_object();
	print_histogram(&pt, r);
	print_rule_stats(&rt, rcol);
	close_object();
	return 0;
}

/* "0", "123" or "123.456789" */
static bool json_number(const char *s)
{
	const char *p = s + strspn(s, "0123456789");

	if (p == s || (*s == '0' && p - s > 1))
		return false;
	if (*p == '.' && p[1])
		p += 1 + strspn(p + 1, "0123456789");
	return !*p;
}

int do_log(int argc, char **argv)
{
	/* Columns in output order; numbers are checked, "-" is null. */
	static const char * const name[] = {
		"time", "path", "local", "remote", "probes", "strategy", "rule", "pid", "comm"
	};
	enum { TIME, PATH, LOCAL, REMOTE, PROBES, STRATEGY, RULE, PID, COMM, NCOLS };
	struct table t = { .align = "rlllrllrl", .ncols = NCOLS };
	unsigned long long last = 0;
	int i, j, col[NCOLS];
	struct ptable pt;
	const char *val;
	char **row;

	for (i = 1; i < argc; i++) {
		if (*next_opt(&i, argc, argv, "n", &val) != 'j' && !parse_count(val, &last))
			die(EXIT_USAGE, "-n needs a positive integer, not \"%s\"", val);
	}
	check_module();
	read_ptable_or_die("allocations", true, &pt);
	for (j = 0; j < NCOLS; j++)
		col[j] = ptable_col(&pt, name[j]);
	if (col[COMM] != pt.ncols - 1)
		die(1, "column \"comm\" is not the last one in %s", pt.path);

	i = last && last < (unsigned long long)pt.nrows ? pt.nrows - last : 0;
	open_array(NULL);
	table_open(&t, name, NCOLS);
	for (; i < pt.nrows; i++) {
		row = pt.row[i];
		if (!json_number(row[col[TIME]]))
			die(1, "malformed time \"%s\" in %s", row[col[TIME]], pt.path);
		open_object(NULL);
		print_number(PRINT_ANY, "time", "%s", row[col[TIME]]);
		print_string(PRINT_ANY, "path", "%s", row[col[PATH]]);
		print_string(PRINT_ANY, "local", "%s", row[col[LOCAL]]);
		print_opt_string(PRINT_ANY, "remote", "%s", row[col[REMOTE]]);
		print_uint(PRINT_ANY, "probes", "%llu", ptable_num(&pt, i, col[PROBES]));
		print_string(PRINT_ANY, "strategy", "%s", row[col[STRATEGY]]);
		print_opt_string(PRINT_ANY, "rule", "%s", row[col[RULE]]);
		/* "-": no process (a kernel socket, or hidden) */
		if (strcmp(row[col[PID]], "-"))
			print_uint(PRINT_ANY, "pid", "%llu", ptable_num(&pt, i, col[PID]));
		else
			print_null(PRINT_ANY, "pid", "%s", "-");
		print_string(PRINT_ANY, "comm", "%s", row[col[COMM]]);
		close_object();
	}
	table_close();
	close_array();
	return 0;
}
