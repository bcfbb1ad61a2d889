// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - the configuration in sysfs: set range, set strategy,
 * enable, disable, reset.  Every change is one write of one attribute, so
 * the kernel validates it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ephportctl.h"

/*
 * How many of the argc words at argv a range takes: one for auto, LOW-HIGH
 * or "LOW HIGH" in one word (as net.ipv4.ip_local_port_range shows it,
 * with a tab), else two (LOW HIGH).
 */
int range_words(int argc, char **argv)
{
	if (argc < 2)
		return argc;
	return !strcmp(argv[0], "auto") || argv[0][strcspn(argv[0], "- \t")] ? 1 : 2;
}

/*
 * The range of the argc words at argv (see range_words()) as the
 * attributes want it: "LOW HIGH" or "auto".  Dies with a usage error if it
 * is none of these or out of bounds.
 */
void range_value(int argc, char **argv, char *value, size_t size)
{
	unsigned long long low = 0, high = 0;
	char *arg = NULL, *f[3], *dash;
	bool ok = false;

	if (argc == 1 && !strcmp(argv[0], "auto")) {
		snprintf(value, size, "auto");
		return;
	}
	if (argc == 1) {
		/* LOW-HIGH, or LOW HIGH in one word */
		arg = xstrdup(argv[0]);
		dash = strchr(arg, '-');
		if (dash) {
			*dash = '\0';
			f[0] = arg;
			f[1] = dash + 1;
			argc = 2;
		} else {
			argc = split(arg, f, ARRAY_SIZE(f), false);
		}
		argv = f;
	}
	if (argc == 2)
		ok = parse_ull(argv[0], &low) && parse_ull(argv[1], &high);
	free(arg);
	if (!ok || low < RANGE_MIN || low > high || high > RANGE_MAX)
		die(EXIT_USAGE, "range must be LOW HIGH with %d <= LOW <= HIGH <= %d",
		    RANGE_MIN, RANGE_MAX);
	snprintf(value, size, "%llu %llu", low, high);
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
	int n = range_words(argc - 1, argv + 1), err;
	char value[64];

	range_value(n, argv + 1, value, sizeof(value));
	no_args(argc - n, argv + n);
	check_module();
	err = write_file(attr_path("range"), value);
	if (err) {
		write_failed("range", err);
		die(1, "the kernel refused range %s%s", value,
		    strcmp(value, "auto") ? " (below net.ipv4.ip_unprivileged_port_start?)" : "");
	}
	return 0;
}

/* The module parameter random_inc_n, writable at run time. */
char *random_inc_path(void)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/random_inc_n", params_root);
	return path;
}

static int set_random_inc(int argc, char **argv)
{
	const char *arg = one_arg(argc, argv);
	unsigned long long n;
	char value[32];
	int err;

	if (!parse_count(arg, &n) || n > RANGE_MAX)
		die(EXIT_USAGE, "random-inc must be 1..%d, not \"%s\"", RANGE_MAX, arg);
	check_module();
	snprintf(value, sizeof(value), "%llu", n);
	err = write_file(random_inc_path(), value);
	die_if_denied(-err);
	if (err)
		die(1, "cannot write %s: %s", random_inc_path(), strerror(-err));
	return 0;
}

static int set_warn_pct(int argc, char **argv)
{
	const char *arg = one_arg(argc, argv);
	unsigned long long n;
	char value[32];

	if (!parse_ull(arg, &n) || n > 100)
		die(EXIT_USAGE, "warn-pct must be 0..100, not \"%s\"", arg);
	check_module();
	snprintf(value, sizeof(value), "%llu", n);
	write_or_die("warn_pct", value);
	return 0;
}

const struct cmd set_cmds[] = {
	{ .name = "range", .fn = set_range, .args = "LOW HIGH",
	  .description = "use ports LOW..HIGH (also: LOW-HIGH)" },
	{ .name = "range", .fn = set_range, .args = "auto",
	  .description = "use net.ipv4.ip_local_port_range" },
	{ .name = "strategy", .fn = set_strategy, .args = "NAME",
	  .description = "select the port selection strategy" },
	{ .name = "random-inc", .fn = set_random_inc, .args = "N",
	  .description = "random-inc: increments are 1..N (random_inc_n)" },
	{ .name = "warn-pct", .fn = set_warn_pct, .args = "PCT",
	  .description = "warn when a protocol's range is PCT% used (0: off)" },
	{ NULL }
};

static int set_enabled(int argc, char **argv, const char *value)
{
	int err;

	no_args(argc, argv);
	check_module();
	err = write_file(attr_path("enabled"), value);
	/*
	 * Enabling redirects the kernel's functions again: ftrace refuses while
	 * another module or a livepatch redirects one, or ftrace is off.
	 */
	if (err == -EBUSY || err == -ENODEV)
		die(1, "cannot enable ephport: %s (ftrace refused; see dmesg)",
		    strerror(-err));
	if (err) {
		write_failed("enabled", err);
		die(1, "the kernel refused \"%s\" for %s", value, attr_path("enabled"));
	}
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
