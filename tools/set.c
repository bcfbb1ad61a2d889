// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - the configuration in sysfs: set range, set strategy,
 * enable, disable, reset.  Every change is one write of one attribute, so
 * the kernel validates it.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "ephportctl.h"

/*
 * The range of argv[0..argc-1] as the attributes want it ("LOW HIGH" or
 * "auto"): LOW HIGH, LOW-HIGH or auto.  Dies with a usage error if it is
 * none of these or out of bounds.
 */
int range_value(int argc, char **argv, char *value, size_t size)
{
	unsigned long long low = 0, high = 0;
	char *arg, *dash = NULL;
	bool ok;

	if (argc == 1 && !strcmp(argv[0], "auto")) {
		snprintf(value, size, "auto");
		return 1;
	}
	if (argc == 1) {
		arg = xstrdup(argv[0]);
		dash = strchr(arg, '-');
		if (dash)
			*dash++ = '\0';
		ok = dash && parse_ull(arg, &low) && parse_ull(dash, &high);
		free(arg);
	} else {
		ok = argc == 2 && parse_ull(argv[0], &low) && parse_ull(argv[1], &high);
	}
	if (!ok || low < RANGE_MIN || low > high || high > RANGE_MAX)
		die(EXIT_USAGE, "range must be LOW HIGH with %d <= LOW <= HIGH <= %d",
		    RANGE_MIN, RANGE_MAX);
	snprintf(value, size, "%llu %llu", low, high);
	return argc;
}

/* A usage error unless name is one of the available strategies. */
void check_strategy(const char *name)
{
	char avail[VALUE_MAX], list[VALUE_MAX], *s, *tok;

	check_module();
	read_attr("available_strategies", avail, sizeof(avail));
	snprintf(list, sizeof(list), "%s", avail);
	s = list;
	while ((tok = strtok_r(s, " \t", &s))) {
		if (!strcmp(tok, name))
			return;
	}
	die(EXIT_USAGE, "unknown strategy \"%s\" (available: %s)", name, avail);
}

static int set_strategy(int argc, char **argv)
{
	const char *name = one_arg(argc, argv);
	int err;

	check_strategy(name);
	err = write_file(attr_path("strategy"), name);
	if (err) {
		write_failed("strategy", err);
		die(1, "the kernel refused strategy \"%s\"", name);
	}
	return 0;
}

static int set_range(int argc, char **argv)
{
	char value[64];
	int err;

	range_value(argc - 1, argv + 1, value, sizeof(value));
	check_module();
	err = write_file(attr_path("range"), value);
	if (err) {
		write_failed("range", err);
		die(1, "the kernel refused range %s%s", value,
		    strcmp(value, "auto") ? " (below net.ipv4.ip_unprivileged_port_start?)" : "");
	}
	return 0;
}

const struct cmd set_cmds[] = {
	{ .name = "range", .fn = set_range, .args = "LOW HIGH",
	  .description = "use ports LOW..HIGH (also: LOW-HIGH)" },
	{ .name = "range", .fn = set_range, .args = "auto",
	  .description = "use net.ipv4.ip_local_port_range" },
	{ .name = "strategy", .fn = set_strategy, .args = "NAME",
	  .description = "select the port selection strategy" },
	{ NULL }
};

static int set_enabled(int argc, char **argv, const char *value)
{
	no_args(argc, argv);
	check_module();
	write_or_die("enabled", value);
	return 0;
}

int do_enable(int argc, char **argv)
{
	return set_enabled(argc, argv, "1");
}

int do_disable(int argc, char **argv)
{
	return set_enabled(argc, argv, "0");
}

int do_reset(int argc, char **argv)
{
	no_args(argc, argv);
	check_module();
	write_or_die("stats/reset", "1");
	return 0;
}
