// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - control and inspect the ephport module.
 *
 * Configuration lives in /sys/kernel/ephport (one value per file), the
 * statistics and the allocation log of the current network namespace in
 * /proc/net/ephport, the rules in /sys/kernel/config/ephport/rules (one
 * configfs directory each); see io.c.  This file holds the command line:
 * the table of commands, which also gives the usage, the global options
 * and the dispatch.  Each command lives in the file of its concern
 * (status.c, set.c, stats.c, watch.c, rules.c); output.c gives text and
 * JSON one code path.
 *
 * Exit status: 0 success, 1 runtime error, 2 usage error.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "ephportctl.h"

static int do_help(int argc, char **argv);

static const struct cmd cmds[] = {
	{ .name = "status", .fn = do_status, .args = "",
	  .description = "configuration and totals (the default)", .json = true },
	{ .name = "set", .sub = set_cmds },
	{ .name = "enable", .fn = do_enable, .args = "",
	  .description = "take over port selection" },
	{ .name = "disable", .fn = do_disable, .args = "",
	  .description = "give back port selection to the kernel" },
	{ .name = "stats", .fn = do_stats, .args = "[--json]",
	  .description = "per-path statistics of this network namespace",
	  .json = true },
	{ .name = "log", .fn = do_log, .args = "[-n N] [--json]",
	  .description = "recent allocations, oldest first (the last N)",
	  .json = true },
	{ .name = "watch", .fn = do_watch, .args = "[-i SECONDS] [-c COUNT]",
	  .description = "live rates every SECONDS (default 1), COUNT times" },
	{ .name = "reset", .fn = do_reset, .args = "",
	  .description = "zero the statistics counters" },
	{ .name = "rule", .sub = rule_cmds },
	{ .name = "help", .fn = do_help, .args = "",
	  .description = "print this text" },
	{ NULL }
};

static const char options_text[] =
	"Options:\n"
	"  -j, --json                     JSON output (status, stats, log, rule list)\n"
	"  -h, --help                     print this text\n"
	"  -V, --version                  print the version\n";

#define SYNOPSIS_WIDTH 29

/* One line per command of table: its synopsis, then its description. */
static void print_cmds(FILE *f, const struct cmd *table, const char *prefix)
{
	const char *d, *nl;
	char syn[128], sub[64];
	int len;

	for (; table->name; table++) {
		if (table->sub) {
			snprintf(sub, sizeof(sub), "%s%s ", prefix, table->name);
			print_cmds(f, table->sub, sub);
			continue;
		}
		len = snprintf(syn, sizeof(syn), "%s%s%s%s", prefix, table->name,
			       *table->args ? " " : "", table->args);
		fprintf(f, "  %-*s", SYNOPSIS_WIDTH, syn);
		if (len > SYNOPSIS_WIDTH)
			fprintf(f, "\n  %-*s", SYNOPSIS_WIDTH, "");
		for (d = table->description; (nl = strchr(d, '\n')); d = nl + 1)
			fprintf(f, "  %.*s\n  %-*s", (int)(nl - d), d, SYNOPSIS_WIDTH, "");
		fprintf(f, "  %s\n", d);
	}
}

static void print_usage(FILE *f)
{
	fputs("Usage: " PROG " [-j|--json] [COMMAND [ARGS]]\n\nCommands:\n", f);
	print_cmds(f, cmds, "");
	fprintf(f, "\n%s", options_text);
}

noreturn void usage_error(void)
{
	fflush(stdout);
	print_usage(stderr);
	exit(EXIT_USAGE);
}

noreturn void unknown_arg(const char *what, const char *arg)
{
	fflush(stdout);
	fprintf(stderr, "%s \"%s\" is unknown, try \"" PROG " help\".\n", what, arg);
	exit(EXIT_USAGE);
}

/* A command takes no further words: arg is the first of them. */
noreturn void unexpected_arg(const char *arg)
{
	unknown_arg("Argument", arg);
}

static bool json_opt(const char *a)
{
	if (strcmp(a, "-j") && strcmp(a, "--json"))
		return false;
	json_output = true;
	return true;
}

/*
 * Take a command's option at argv[*i]: -j/--json (returns "j"), or one of
 * the single-letter ones in opts with its value.
 */
const char *next_opt(int *i, int argc, char **argv, const char *opts, const char **val)
{
	const char *a = argv[*i];

	if (json_opt(a))
		return "j";
	if (a[0] != '-' || !a[1] || a[2] || !strchr(opts, a[1]))
		unknown_arg(a[0] == '-' ? "Option" : "Argument", a);
	if (++*i >= argc)
		die(EXIT_USAGE, "option \"%s\" needs a value", a);
	*val = argv[*i];
	return a + 1;
}

/* A command whose only options are the JSON ones. */
void json_opts(int argc, char **argv)
{
	const char *val;
	int i;

	for (i = 1; i < argc; i++)
		next_opt(&i, argc, argv, "", &val);
}

void no_args(int argc, char **argv)
{
	if (argc > 1)
		unexpected_arg(argv[1]);
}

/* The one argument of a command: without it, the usage. */
const char *one_arg(int argc, char **argv)
{
	if (argc < 2)
		usage_error();
	no_args(argc - 1, argv + 1);
	return argv[1];
}

/* Does the command line's word name the command or keyword name? */
bool matches(const char *word, const char *name)
{
	return !strcmp(word, name);
}

static int do_help(int argc, char **argv)
{
	print_usage(stdout);
	return 0;
}

static const struct cmd *find_cmd(const struct cmd *table, const char *word)
{
	for (; table->name; table++) {
		if (matches(word, table->name))
			return table;
	}
	return NULL;
}

/* Does the command, or one of its subcommands, have JSON output? */
static bool has_json(const struct cmd *c)
{
	const struct cmd *s;

	if (!c->sub)
		return c->json;
	for (s = c->sub; s->name; s++) {
		if (has_json(s))
			return true;
	}
	return false;
}

/*
 * Run the command of table named by argv[0]; argv[0] stays the command's
 * own word for its function.  path is the command line so far ("rule ").
 */
static int run_cmd(const struct cmd *table, const char *path, int argc, char **argv)
{
	const struct cmd *c = find_cmd(table, argv[0]);
	char sub[64];

	if (!c && table == cmds)
		unknown_arg("Command", argv[0]);
	if (!c)
		usage_error();
	if (json_output && !has_json(c))
		die(EXIT_USAGE, "\"%s%s\" has no JSON output", path, c->name);
	if (c->sub) {
		if (argc < 2)
			usage_error();
		snprintf(sub, sizeof(sub), "%s%s ", path, c->name);
		return run_cmd(c->sub, sub, argc - 1, argv + 1);
	}
	return c->fn(argc, argv);
}

int main(int argc, char **argv)
{
	char status[] = "status", *status_argv[] = { status, NULL };

	io_init();
	for (argc--, argv++; argc && argv[0][0] == '-'; argc--, argv++) {
		if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))
			return do_help(argc, argv);
		if (!strcmp(argv[0], "-V") || !strcmp(argv[0], "--version")) {
			puts(PROG " " EPHPORT_VERSION);
			return 0;
		}
		if (!json_opt(argv[0]))
			unknown_arg("Option", argv[0]);
	}
	if (!argc)
		return run_cmd(cmds, "", 1, status_argv);
	return run_cmd(cmds, "", argc, argv);
}
