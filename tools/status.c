// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - status: the configuration, the global totals and the
 * allocations per path, globally (sysfs) and in this namespace (procfs).
 */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>

#include "ephportctl.h"

/* The paths of the procfs tables and the matching sysfs per-path counters. */
static const struct {
	const char *name;
	const char *attr;
} paths[] = {
	{ "tcp4-connect", "stats/tcp4_connect" },
	{ "tcp6-connect", "stats/tcp6_connect" },
	{ "tcp-bind", "stats/tcp_bind" },
	{ "udp4", "stats/udp4" },
	{ "udp6", "stats/udp6" },
};

static const char * const totals[] = { "allocations", "failures", "probes" };

struct status {
	char enabled[16], range[64], strategy[256], avail[VALUE_MAX];
	unsigned long long total[ARRAY_SIZE(totals)], global[ARRAY_SIZE(paths)];
	long long netns[ARRAY_SIZE(paths)];	/* -1: not known */
	bool have_netns;			/* procfs has the table */
};

static void read_status(struct status *st)
{
	unsigned long long low, high;
	struct ptable pt;
	int i, r, pcol, acol;
	char name[64];

	check_module();
	read_attr("enabled", st->enabled, sizeof(st->enabled));
	if (strcmp(st->enabled, "0") && strcmp(st->enabled, "1"))
		bad_value(st->enabled, attr_path("enabled"));
	read_attr("range", st->range, sizeof(st->range));
	if (strcmp(st->range, "auto") && !parse_range_attr(st->range, &low, &high))
		bad_value(st->range, attr_path("range"));
	read_attr("strategy", st->strategy, sizeof(st->strategy));
	read_attr("available_strategies", st->avail, sizeof(st->avail));
	for (i = 0; i < (int)ARRAY_SIZE(totals); i++) {
		snprintf(name, sizeof(name), "stats/%s", totals[i]);
		st->total[i] = read_num(name);
	}

	/* Per path: global counts from sysfs, this namespace's from procfs. */
	st->have_netns = !read_ptable("stats", 0, false, &pt);
	for (i = 0; i < (int)ARRAY_SIZE(paths); i++) {
		st->global[i] = read_num(paths[i].attr);
		st->netns[i] = -1;
		if (!st->have_netns)
			continue;
		pcol = ptable_col(&pt, "path");
		acol = ptable_col(&pt, "allocations");
		for (r = 0; r < pt.nrows; r++) {
			if (!strcmp(pt.row[r][pcol], paths[i].name))
				st->netns[i] = ptable_num(&pt, r, acol);
		}
	}
}

/*
 * The occupancy table of this namespace's stats (protocol, low, high, used,
 * free: the kernel's tables, counted when read) and warn_pct.
 */
void read_occupancy(struct occupancy *o)
{
	static const char * const cols[] = { "protocol", "low", "high", "used", "free" };
	unsigned long long *v[] = { NULL, o->low, o->high, o->used, o->free };
	int c[ARRAY_SIZE(cols)], i, j;
	struct ptable pt;

	memset(o, 0, sizeof(*o));
	o->warn_pct = -1;
	if (!access(attr_path("warn_pct"), F_OK))
		o->warn_pct = read_num("warn_pct");
	if (read_section("stats", "protocol", &pt))
		return;
	for (j = 0; j < (int)ARRAY_SIZE(cols); j++)
		c[j] = ptable_col(&pt, cols[j]);
	for (i = 0; i < pt.nrows && o->n < OCC_PROTOS; i++, o->n++) {
		snprintf(o->proto[o->n], sizeof(o->proto[o->n]), "%s", pt.row[i][c[0]]);
		for (j = 1; j < (int)ARRAY_SIZE(cols); j++)
			v[j][o->n] = ptable_num(&pt, i, c[j]);
	}
	free_ptable(&pt);
}

/* The used share of protocol i's range, in percent (0 for an empty range). */
double occupancy_pct(const struct occupancy *o, int i)
{
	return 100 * ratio(o->used[i], o->used[i] + o->free[i]);
}

/* At or above warn_pct, as the module reckons it. */
bool occupancy_above(const struct occupancy *o, int i)
{
	unsigned long long size = o->used[i] + o->free[i];

	return o->warn_pct > 0 && size && o->used[i] * 100 >= o->warn_pct * size;
}

/*
 * Text: a table of this namespace's ports in use, per protocol, with the
 * range they count in; JSON: "occupancy": {"tcp": {"range": ..., "used":
 * N, "free": N}, ...} (null from a module without it) and "warn_pct".
 */
static void print_occupancy(const struct occupancy *o)
{
	static const char * const header[] = { "protocol", "range", "used", "free", "used%" };
	struct table t = { .align = "llrrr", .ncols = 5 };
	char range[64], pct[32];
	int i;

	if (!o->n) {
		print_null(PRINT_JSON, "occupancy", NULL, "-");
	} else {
		print_string(PRINT_TEXT, NULL, "\n%s:\n", "ports of this netns (no rules)");
		open_object("occupancy");
		table_open(&t, header, t.ncols);
		for (i = 0; i < o->n; i++) {
			open_object(o->proto[i]);
			print_string(PRINT_TEXT, NULL, "%s", o->proto[i]);
			snprintf(range, sizeof(range), "%llu %llu", o->low[i], o->high[i]);
			print_range(PRINT_ANY, "range", "%s", range);
			print_uint(PRINT_ANY, "used", "%llu", o->used[i]);
			print_uint(PRINT_ANY, "free", "%llu", o->free[i]);
			snprintf(pct, sizeof(pct), "%.1f%%%s", occupancy_pct(o, i),
				 occupancy_above(o, i) ? " !" : "");
			print_string(PRINT_TEXT, NULL, "%s", pct);
			close_object();
		}
		table_close();
		close_object();
	}
	if (o->warn_pct < 0) {
		print_null(PRINT_JSON, "warn_pct", NULL, "-");
	} else if (o->warn_pct) {
		print_uint(PRINT_ANY, "warn_pct", "warn_pct:           %llu%% (! above)\n",
			   o->warn_pct);
	} else {
		print_uint(PRINT_JSON, "warn_pct", NULL, 0);
		print_string(PRINT_TEXT, NULL, "%s", "warn_pct:           off\n");
	}
}

/* Text: "LOW-HIGH (N ports)", or auto with what the sysctl says now. */
static void print_status_range(const char *range)
{
	unsigned long long low, high;
	unsigned int l, h;
	char sys[64] = "";
	FILE *f;

	print_range(PRINT_JSON, "range", NULL, range);
	if (is_json())
		return;
	if (parse_range_attr(range, &low, &high)) {
		printf("range:              %llu-%llu (%llu ports)\n", low, high, high - low + 1);
		return;
	}
	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	if (f && fscanf(f, "%u %u", &l, &h) == 2)
		snprintf(sys, sizeof(sys), ", now %u-%u", l, h);
	if (f)
		fclose(f);
	printf("range:              auto (net.ipv4.ip_local_port_range%s)\n", sys);
}

int do_status(int argc, char **argv)
{
	static const char * const header[] = { "path", "allocations", "this netns" };
	struct table t = { .align = "l" };
	char *s, *tok, key[64];
	struct occupancy occ;
	struct status st;
	int i;

	json_opts(argc, argv);
	read_status(&st);
	read_occupancy(&occ);

	open_object(NULL);
	print_bool(PRINT_JSON, "enabled", NULL, !strcmp(st.enabled, "1"));
	print_string(PRINT_TEXT, NULL, "enabled:            %s\n",
		     strcmp(st.enabled, "1") ? "no (the kernel selects ephemeral ports)" : "yes");
	print_status_range(st.range);
	print_string(PRINT_ANY, "strategy", "strategy:           %s\n", st.strategy);
	print_string(PRINT_TEXT, NULL, "available:          %s\n", st.avail);
	open_array("available_strategies");
	for (s = st.avail; (tok = strtok_r(s, " \t", &s));)
		print_string(PRINT_JSON, NULL, NULL, tok);
	close_array();

	open_object("totals");
	for (i = 0; i < (int)ARRAY_SIZE(totals); i++) {
		snprintf(key, sizeof(key), "%s:", totals[i]);
		print_string(PRINT_TEXT, NULL, "%-20s", key);
		print_uint(PRINT_ANY, totals[i], "%llu\n", st.total[i]);
	}
	print_float(PRINT_ANY, "probes_per_allocation", "probes/allocation:  %.2f\n\n",
		    ratio(st.total[2], st.total[0]));
	close_object();

	open_object("paths");
	t.ncols = st.have_netns ? 3 : 2;
	table_open(&t, header, t.ncols);
	for (i = 0; i < (int)ARRAY_SIZE(paths); i++) {
		open_object(paths[i].name);
		print_string(PRINT_TEXT, NULL, "%s", paths[i].name);
		print_uint(PRINT_ANY, "allocations", "%llu", st.global[i]);
		if (st.netns[i] >= 0)
			print_uint(PRINT_ANY, "netns_allocations", "%llu", st.netns[i]);
		else if (st.have_netns || is_json())
			print_null(PRINT_ANY, "netns_allocations", "%s", "-");
		close_object();
	}
	table_close();
	close_object();
	print_occupancy(&occ);
	close_object();
	return 0;
}
