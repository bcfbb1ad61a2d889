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

/*
 * The commands, in the order of the usage.  A word of the command line
 * names the command it equals, else the first one it abbreviates, as with
 * ip: "s" is set, "st" status, "stats" stats.  The same holds for
 * subcommands and for the keywords of rule add.
 */
static const struct cmd cmds[] = {
	{ .name = "set", .sub = set_cmds },
	{ .name = "status", .fn = do_status, .args = "[--json]",
	  .description = "configuration and totals (the default)", .json = true },
	{ .name = "enable", .fn = do_enable, .args = "",
	  .description = "take over port selection" },
	{ .name = "disable", .fn = do_disable, .args = "",
	  .description = "give back port selection to the kernel" },
	{ .name = "stats", .fn = do_stats, .args = "[--json] [--format prometheus]",
	  .description = "per-path statistics of this network namespace;\n"
	  "prometheus: for node_exporter's textfile collector",
	  .json = true },
	{ .name = "log", .fn = do_log,
	  .args = "[-n N] [-f [-i SECONDS]] [-T] [--failures] [FILTER...] [--json]",
	  .description = "recent allocations, oldest first (the last N);\n"
	  "-f: then new ones as they come, -T: wall-clock\n"
	  "times, --failures: failed ones only.  FILTER:\n"
	  "--pid PID, --comm COMM, --path PATH, --rule RULE,\n"
	  "--port PORT",
	  .json = true },
	{ .name = "watch", .fn = do_watch, .args = "[-i SECONDS] [-n COUNT] [--json]",
	  .description = "this namespace's rates every SECONDS (default 1),\n"
	  "COUNT times: in total and per path",
	  .json = true },
	{ .name = "reset", .fn = do_reset, .args = "",
	  .description = "zero the statistics counters" },
	{ .name = "rule", .sub = rule_cmds },
	{ .name = "save", .fn = do_save, .args = "[FILE]",
	  .description = "print the settings and the rules as commands\n"
	  "for -b (to FILE if given)" },
	{ .name = "help", .fn = do_help, .args = "",
	  .description = "print this text" },
	{ NULL }
};

static const char options_text[] =
	"Options:\n"
	"  -j, --json                     JSON output (status, stats, log, watch, rule\n"
	"                                 list|show)\n"
	"  -p, --pretty                   JSON output, indented\n"
	"  -h, --help                     print this text\n"
	"  -V, --version                  print the version\n"
	"  -b, --batch FILE               run the commands of FILE (- for stdin), one\n"
	"                                 a line; stop at the first that fails\n"
	"\n"
	"Commands and keywords may be abbreviated: " PROG " s r 40000 49999.\n";

/* The command being run, and the words before it ("rule "), for its usage. */
#define PATH_LEN 64
static const struct cmd *cur_cmd;
static char cur_path[PATH_LEN];

#define SYNOPSIS_WIDTH 29

/* The description of a command, each further line indented by indent. */
static void print_description(FILE *f, const struct cmd *c, int indent)
{
	const char *d, *nl;

	for (d = c->description; (nl = strchr(d, '\n')); d = nl + 1)
		fprintf(f, "%.*s\n%*s", (int)(nl - d), d, indent, "");
	fprintf(f, "%s\n", d);
}

/* One line per command of table: its synopsis, then its description. */
static void print_cmds(FILE *f, const struct cmd *table, const char *prefix)
{
	char syn[2 * PATH_LEN], sub[2 * PATH_LEN];
	int len;

	for (; table->name; table++) {
		if (table->sub) {
			snprintf(sub, sizeof(sub), "%s%s ", prefix, table->name);
			print_cmds(f, table->sub, sub);
			continue;
		}
		len = snprintf(syn, sizeof(syn), "%s%s%s%s", prefix, table->name,
			       *table->args ? " " : "", table->args);
		if (len > SYNOPSIS_WIDTH)
			fprintf(f, "  %s\n  %-*s  ", syn, SYNOPSIS_WIDTH, "");
		else
			fprintf(f, "  %-*s  ", SYNOPSIS_WIDTH, syn);
		print_description(f, table, SYNOPSIS_WIDTH + 4);
	}
}

static void print_usage(FILE *f)
{
	fputs("Usage: " PROG " [-j|--json] [-p|--pretty] [COMMAND [ARGS]]\n"
	      "       " PROG " -b FILE\n\nCommands:\n", f);
	print_cmds(f, cmds, "");
	fprintf(f, "\n%s", options_text);
}

/* The usage of one command: its synopsis, or those of its subcommands. */
static void print_cmd_usage(FILE *f, const struct cmd *c, const char *path)
{
	char sub[2 * PATH_LEN];

	if (!c->sub) {
		fprintf(f, "Usage: " PROG " %s%s %s\n  ", path, c->name, c->args);
		print_description(f, c, 2);
		return;
	}
	snprintf(sub, sizeof(sub), "%s%s ", path, c->name);
	fprintf(f, "Usage: " PROG " %sCOMMAND [ARGS]\n\nCommands:\n", sub);
	print_cmds(f, c->sub, sub);
}

/* An incomplete command: the usage of the command being run, or all. */
noreturn void usage_error(void)
{
	fflush(stdout);
	if (*err_prefix)
		fprintf(stderr, "%sincomplete command\n", err_prefix);
	if (cur_cmd)
		print_cmd_usage(stderr, cur_cmd, cur_path);
	else
		print_usage(stderr);
	exit(EXIT_USAGE);
}

noreturn void unknown_arg(const char *what, const char *arg)
{
	fflush(stdout);
	fprintf(stderr, "%s%s \"%s\" is unknown, try \"" PROG " help\".\n", err_prefix, what,
		arg);
	exit(EXIT_USAGE);
}

/* A command is complete, yet arg follows. */
static noreturn void unexpected_arg(const char *arg)
{
	die(EXIT_USAGE, "unexpected argument \"%s\"", arg);
}

/* -j/--json, or -p/--pretty (which implies it) */
static bool json_opt(const char *a)
{
	if (!strcmp(a, "-p") || !strcmp(a, "--pretty"))
		pretty_output = true;
	else if (strcmp(a, "-j") && strcmp(a, "--json"))
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
	if (a[0] != '-')
		unexpected_arg(a);
	if (!a[1] || a[2] || !strchr(opts, a[1]))
		unknown_arg("Option", a);
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

/* Does the command line's word name the command or keyword name (a prefix)? */
static bool matches(const char *word, const char *name)
{
	size_t len = strlen(word);

	return len && !strncmp(word, name, len);
}

static int do_help(int argc, char **argv)
{
	print_usage(stdout);
	return 0;
}

/*
 * The index of the name among n names at base, every stride bytes, that
 * word names exactly, else of the first that word abbreviates; -1: none.
 */
static int find_name(const char *word, const void *base, size_t stride, int n)
{
	const char *name;
	int i, prefix = -1;

	for (i = 0; i < n; i++) {
		name = *(const char * const *)((const char *)base + i * stride);
		if (!strcmp(word, name))
			return i;
		if (prefix < 0 && matches(word, name))
			prefix = i;
	}
	return prefix;
}

/* A keyword among n names, as find_name() finds it. */
int find_word(const char *word, const char * const *names, int n)
{
	return find_name(word, names, sizeof(*names), n);
}

static const struct cmd *find_cmd(const struct cmd *table, const char *word)
{
	int n = 0, i;

	while (table[n].name)
		n++;
	i = find_name(word, &table->name, sizeof(*table), n);
	return i < 0 ? NULL : &table[i];
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
	char sub[2 * PATH_LEN];

	if (!c && table == cmds)
		unknown_arg("Command", argv[0]);
	if (!c)
		usage_error();
	cur_cmd = c;
	snprintf(cur_path, sizeof(cur_path), "%s", path);
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

/* A command line after "ephportctl": options, then a command. */
int run_words(int argc, char **argv)
{
	char status[] = "status", *status_argv[] = { status, NULL };

	for (; argc && argv[0][0] == '-'; argc--, argv++) {
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

int main(int argc, char **argv)
{
	io_init();
	if (argc > 1 && (!strcmp(argv[1], "-b") || !strcmp(argv[1], "--batch"))) {
		if (argc != 3)
			die(EXIT_USAGE, "%s needs one FILE (- for stdin)", argv[1]);
		return do_batch(argv[2]);
	}
	return run_words(argc - 1, argv + 1);
}
