// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - stats: the tables of /proc/net/ephport/stats (per path, with
 * the probe histogram, then per rule), as text, JSON or Prometheus metrics.
 */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>

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

	if (read_section("stats", "rule", rt))
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

/* ---- Prometheus text format (node_exporter's textfile collector) ---- */

/* A label value, escaped as the text format wants it. */
static void prom_label(const char *key, const char *value)
{
	printf("{%s=\"", key);
	for (; *value; value++) {
		if (*value == '\\' || *value == '"')
			printf("\\%c", *value);
		else if (*value == '\n')
			printf("\\n");
		else
			putchar(*value);
	}
	printf("\"}");
}

static void prom_head(const char *metric, const char *type, const char *help)
{
	printf("# HELP ephport_%s %s\n# TYPE ephport_%s %s\n", metric, help, metric, type);
}

/* One metric of every row of a table: ephport_NAME{key="row"} value */
static void prom_rows(const struct ptable *pt, int key_col, const char *key, int col,
		      const char *metric, const char *type, const char *help)
{
	int i;

	prom_head(metric, type, help);
	for (i = 0; i < pt->nrows; i++) {
		printf("ephport_%s", metric);
		prom_label(key, pt->row[i][key_col]);
		printf(" %llu\n", ptable_num(pt, i, col));
	}
}

/* A bucket column's upper bound: "1", "2-3" -> 3, ">=1024" -> +Inf. */
static const char *bucket_le(const char *name)
{
	const char *dash = strchr(name, '-');

	if (*name == '>')
		return "+Inf";
	return dash ? dash + 1 : name;
}

static void prom_bucket(const char *path, const char *le, unsigned long long n)
{
	printf("ephport_probes_per_allocation_bucket{path=\"%s\",le=\"%s\"} %llu\n", path, le, n);
}

/* The probe histogram: cumulative buckets, +Inf, _sum and _count. */
static void prom_histogram(const struct ptable *pt, int r, int probes)
{
	unsigned long long sum;
	bool inf;
	int i, j;

	prom_head("probes_per_allocation", "histogram",
		  "Ports probed per port selection, by path.");
	for (i = 0; i < pt->nrows; i++) {
		sum = 0;
		inf = false;
		for (j = 0; j < pt->ncols; j++) {
			if (!bucket_col(pt->col[j]))
				continue;
			sum += ptable_num(pt, i, j);
			inf |= !strcmp(bucket_le(pt->col[j]), "+Inf");
			prom_bucket(pt->row[i][r], bucket_le(pt->col[j]), sum);
		}
		if (!inf)
			prom_bucket(pt->row[i][r], "+Inf", sum);
		printf("ephport_probes_per_allocation_sum{path=\"%s\"} %llu\n", pt->row[i][r],
		       ptable_num(pt, i, probes));
		printf("ephport_probes_per_allocation_count{path=\"%s\"} %llu\n", pt->row[i][r],
		       sum);
	}
}

/* This namespace's ports in use and free per protocol, and warn_pct. */
static void prom_occupancy(void)
{
	struct ptable ot;
	int p;

	if (!access(attr_path("warn_pct"), F_OK)) {
		prom_head("warn_pct", "gauge",
			  "Percent of a protocol's range in use that the kernel warns at; 0: off.");
		printf("ephport_warn_pct %llu\n", read_num("warn_pct"));
	}
	if (read_section("stats", "protocol", &ot))
		return;
	p = ptable_col(&ot, "protocol");
	prom_rows(&ot, p, "protocol", ptable_col(&ot, "used"), "ports_used", "gauge",
		  "Ports of the range in use in this network namespace, by protocol.");
	prom_rows(&ot, p, "protocol", ptable_col(&ot, "free"), "ports_free", "gauge",
		  "Ports of the range free in this network namespace, by protocol.");
	free_ptable(&ot);
}

static void print_prometheus(const struct ptable *pt, int r, const int *col,
			     const struct ptable *rt, const int *rcol)
{
	static const char * const help[] = {
		"Ports allocated by ephport in this network namespace, by path.",
		"Port selections that found no free port, by path.",
		"Ports probed, by path.",
		"The most ports one selection probed, by path.",
	};
	static const char * const rule_help[] = {
		"Ports allocated under a rule.", "Port selections under a rule that failed.",
		"Ports probed under a rule.", "The most ports one selection under a rule probed.",
	};
	char metric[64];
	int j;

	prom_head("enabled", "gauge", "1 if ephport selects ports, 0 if the kernel does.");
	printf("ephport_enabled %llu\n", read_num("enabled"));
	for (j = 0; j < (int)ARRAY_SIZE(counters); j++) {
		snprintf(metric, sizeof(metric), "%s%s", counters[j], j < 3 ? "_total" : "");
		prom_rows(pt, r, "path", col[j], metric, j < 3 ? "counter" : "gauge", help[j]);
	}
	prom_histogram(pt, r, col[2]);
	prom_occupancy();
	if (!rt->nrows)
		return;
	prom_rows(rt, rcol[RS_RULE], "rule", rcol[RS_ENABLED], "rule_enabled", "gauge",
		  "1 if the rule applies.");
	for (j = 0; j < (int)ARRAY_SIZE(counters); j++) {
		snprintf(metric, sizeof(metric), "rule_%s%s", counters[j], j < 3 ? "_total" : "");
		prom_rows(rt, rcol[RS_RULE], "rule", rcol[RS_COUNTERS + j], metric,
			  j < 3 ? "counter" : "gauge", rule_help[j]);
	}
}

/* [--json] [--format text|json|prometheus]: true for prometheus */
static bool stats_opts(int argc, char **argv)
{
	static const char * const formats[] = { "text", "json", "prometheus" };
	const char *val;
	int i, f = -1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format")) {
			next_opt(&i, argc, argv, "", &val);
			continue;
		}
		if (++i >= argc)
			die(EXIT_USAGE, "option \"--format\" needs a value");
		f = find_word(argv[i], formats, ARRAY_SIZE(formats));
		if (f < 0)
			die(EXIT_USAGE, "--format must be text, json or prometheus, not \"%s\"",
			    argv[i]);
	}
	if (f == 1)
		json_output = true;
	if (f == 2 && is_json())
		die(EXIT_USAGE, "--format prometheus and --json exclude each other");
	return f == 2;
}

int do_stats(int argc, char **argv)
{
	static const char * const header[] = {
		"path", "allocations", "failures", "probes", "max_probes", "probes/alloc"
	};
	struct table t = { .align = "l", .ncols = ARRAY_SIZE(header) };
	int i, j, r, col[ARRAY_SIZE(counters)], rcol[RS_NCOLS];
	struct ptable pt, rt;
	bool prometheus = stats_opts(argc, argv);

	check_module();
	read_ptable_or_die("stats", false, &pt);
	r = ptable_col(&pt, "path");
	for (j = 0; j < (int)ARRAY_SIZE(counters); j++)
		col[j] = ptable_col(&pt, counters[j]);
	if (!read_rule_stats(&rt, rcol))
		rt.nrows = 0;
	if (prometheus) {
		print_prometheus(&pt, r, col, &rt, rcol);
		return 0;
	}

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
