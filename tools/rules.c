// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - the rules: /sys/kernel/config/ephport/rules/NAME/, one
 * configfs directory per rule with one attribute per keyword.  rule add
 * makes the directory (the rule is disabled until complete), writes every
 * keyword given, then enables it; rule del removes the directory; rule set,
 * enable and disable write attributes of an existing rule; rule list and
 * show read them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ephportctl.h"

#define PRIORITY_MAX 65535
#define RULE_NAME_MAX 15
#define RULE_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

/* The attributes of a rule, in the order "rule add" writes them. */
enum {
	R_CGROUP, R_UID, R_NETNS, R_PROTO, R_PATH, R_FAMILY,	/* what a rule matches */
	R_RANGE, R_STRATEGY,				/* what it changes */
	R_PRIORITY, R_ENABLED, R_NATTRS
};

static const char * const rule_attr[] = {
	"cgroup", "uid", "netns", "proto", "path", "family", "range", "strategy", "priority",
	"enabled"
};

static const char * const rule_stat[] = { "allocations", "failures", "probes", "max_probes" };

struct rule {
	char *name;
	char *attr[R_NATTRS];	/* "" when not set */
	unsigned long long priority;
	unsigned long long stat[ARRAY_SIZE(rule_stat)];
};

/* The directory of a rule, or with attr one of its attributes. */
static char *rule_path(const char *name, const char *attr)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/rules/%s%s%s", configfs_root, name, *attr ? "/" : "",
		 attr);
	return path;
}

static void check_rule_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > RULE_NAME_MAX || name[strspn(name, RULE_NAME_CHARS)] ||
	    !strcmp(name, ".") || !strcmp(name, ".."))
		die(EXIT_USAGE, "a rule name is 1-%d characters of A-Z a-z 0-9 _ . -, not \"%s\"",
		    RULE_NAME_MAX, name);
}

/* The value to write for "KEYWORD arg" of "rule add", checked. */
static const char *rule_value(int attr, const char *arg)
{
	unsigned long long v;
	char buf[64];

	if (!*arg)
		die(EXIT_USAGE, "\"%s\" needs a value", rule_attr[attr]);
	switch (attr) {
	case R_CGROUP:
		return cgroup_arg(arg);
	case R_UID:
		if (!parse_uid(arg, buf, sizeof(buf)))
			die(EXIT_USAGE, "uid must be UID or FIRST-LAST, not \"%s\"", arg);
		return xstrdup(buf);
	case R_NETNS:
		netns_arg(arg, buf, sizeof(buf));
		return xstrdup(buf);
	case R_PROTO:
		if (strcmp(arg, "tcp") && strcmp(arg, "udp"))
			die(EXIT_USAGE, "proto must be tcp or udp, not \"%s\"", arg);
		return arg;
	case R_PATH:
		if (strcmp(arg, "connect") && strcmp(arg, "bind"))
			die(EXIT_USAGE, "path must be connect or bind, not \"%s\"", arg);
		return arg;
	case R_FAMILY:
		if (strcmp(arg, "ipv4") && strcmp(arg, "ipv6"))
			die(EXIT_USAGE, "family must be ipv4 or ipv6, not \"%s\"", arg);
		return arg;
	case R_STRATEGY:
		check_strategy(arg);
		return arg;
	}
	if (!parse_ull(arg, &v) || v > PRIORITY_MAX)
		die(EXIT_USAGE, "priority must be 0..%d, not \"%s\"", PRIORITY_MAX, arg);
	snprintf(buf, sizeof(buf), "%llu", v);
	return xstrdup(buf);
}

/* mkdir or rmdir of the directory of a rule failed with errno err. */
static noreturn void rule_dir_failed(const char *name, const char *verb, int err)
{
	die_if_denied(err);
	die(1, "cannot %s %s: %s", verb, rule_path(name, ""), strerror(err));
}

/* Why the write of value to an attribute of a rule failed with -err. */
static void rule_write_error(const char *name, int attr, const char *value, int err,
			     char *why, size_t size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", rule_path(name, rule_attr[attr]));
	/* ENOENT although the attribute exists: the kernel knows no such cgroup. */
	if (err == -EACCES || err == -EPERM)
		snprintf(why, size, DENIED);
	else if (err == -EINVAL || (err == -ENOENT && !access(path, F_OK)))
		snprintf(why, size, "the kernel refused %s \"%s\" (%s)", rule_attr[attr], value,
			 strerror(-err));
	else
		snprintf(why, size, "cannot write %s: %s", path, strerror(-err));
}

/* A write of "rule add" failed: remove the rule again and say why. */
static noreturn void rule_add_failed(const char *name, int attr, const char *value, int err)
{
	char why[PATH_MAX + 128];
	int rm;

	rule_write_error(name, attr, value, err, why, sizeof(why));
	/* configfs removes the attributes with the directory. */
	rm = rmdir(rule_path(name, "")) ? errno : 0;
	if (rm)
		die(1, "%s; cannot remove %s: %s", why, rule_path(name, ""), strerror(rm));
	die(1, "%s", why);
}

/*
 * The KEYWORD VALUE... pairs of the argc words at argv into value[], each
 * checked; with clear (rule set), "-" is the value that unsets a match or
 * an action.  range is where a range's value goes.
 */
static void rule_args(int argc, char **argv, const char **value, char *range, size_t size,
		      bool clear)
{
	int i, a, n;

	for (i = 0; i < argc; i++) {
		/* The keywords, but not enabled: rule enable and disable do that. */
		a = find_word(argv[i], rule_attr, R_ENABLED);
		if (a < 0)
			unknown_arg("Argument", argv[i]);
		if (value[a])
			die(EXIT_USAGE, "\"%s\" is given twice", rule_attr[a]);
		if (++i == argc)
			die(EXIT_USAGE, "\"%s\" needs a value", rule_attr[a]);
		if (clear && a != R_PRIORITY && !strcmp(argv[i], "-")) {
			value[a] = "";
		} else if (a != R_RANGE) {
			value[a] = rule_value(a, argv[i]);
		} else {
			n = range_words(argc - i, argv + i);
			range_value(n, argv + i, range, size);
			value[a] = range;
			i += n - 1;
		}
	}
}

/* A usage error for a bad name; a runtime error if there is no such rule. */
static void check_rule(const char *name)
{
	struct stat st;

	check_rule_name(name);
	check_configfs();
	if (stat(rule_path(name, ""), &st) || !S_ISDIR(st.st_mode))
		die(1, "rule \"%s\" does not exist", name);
}

static int rule_add(int argc, char **argv)
{
	const char *value[R_NATTRS] = { NULL };
	char range[64];
	int a, err;

	if (argc < 2)
		usage_error();
	check_rule_name(argv[1]);
	rule_args(argc - 2, argv + 2, value, range, sizeof(range), false);
	value[R_ENABLED] = "1";

	/* A new rule is disabled: it applies only once it is complete. */
	check_configfs();
	if (mkdir(rule_path(argv[1], ""), 0755)) {
		err = errno;
		if (err == EEXIST)
			die(1, "rule \"%s\" exists", argv[1]);
		rule_dir_failed(argv[1], "create", err);
	}
	for (a = 0; a < R_NATTRS; a++) {
		err = value[a] ? write_file(rule_path(argv[1], rule_attr[a]), value[a]) : 0;
		if (err)
			rule_add_failed(argv[1], a, value[a], err);
	}
	return 0;
}

/* Write value to an attribute of an existing rule. */
static void rule_write(const char *name, int attr, const char *value)
{
	char why[PATH_MAX + 128];
	int err = write_file(rule_path(name, rule_attr[attr]), value);

	if (err) {
		rule_write_error(name, attr, value, err, why, sizeof(why));
		die(1, "%s", why);
	}
}

/*
 * Every value is checked before the first write; the kernel applies each
 * write on its own, so after a refused one, those before it hold.
 */
static int rule_set(int argc, char **argv)
{
	const char *value[R_NATTRS] = { NULL };
	char range[64];
	int a;

	if (argc < 4)
		usage_error();
	check_rule_name(argv[1]);
	rule_args(argc - 2, argv + 2, value, range, sizeof(range), true);
	check_rule(argv[1]);
	for (a = 0; a < R_NATTRS; a++) {
		if (value[a])
			rule_write(argv[1], a, value[a]);
	}
	return 0;
}

static int rule_enabled(int argc, char **argv, const char *value)
{
	const char *name = one_arg(argc, argv);

	check_rule(name);
	rule_write(name, R_ENABLED, value);
	return 0;
}

static int rule_enable(int argc, char **argv)
{
	return rule_enabled(argc, argv, "1");
}

static int rule_disable(int argc, char **argv)
{
	return rule_enabled(argc, argv, "0");
}

static int rule_del(int argc, char **argv)
{
	const char *name = one_arg(argc, argv);
	int err;

	check_rule_name(name);
	check_configfs();
	if (!rmdir(rule_path(name, "")))
		return 0;
	err = errno;
	if (err == ENOENT)
		die(1, "rule \"%s\" does not exist", name);
	rule_dir_failed(name, "remove", err);
}

static noreturn void rule_bad_value(const struct rule *r, int attr, const char *value)
{
	bad_value(value, rule_path(r->name, rule_attr[attr]));
}

static void read_rule(struct rule *r)
{
	char buf[VALUE_MAX], *s, *line, *f[2];
	unsigned long long low, high;
	unsigned int found = 0;
	int i, j;

	for (i = 0; i < R_NATTRS; i++) {
		read_file(rule_path(r->name, rule_attr[i]), buf, sizeof(buf));
		/* "LOW HIGH" stays; auto: the rule leaves the range alone */
		if (i == R_RANGE && !strcmp(buf, "auto"))
			buf[0] = '\0';
		else if (i == R_RANGE && !parse_range_attr(buf, &low, &high))
			rule_bad_value(r, i, buf);
		r->attr[i] = xstrdup(buf);
	}
	if (!parse_ull(r->attr[R_PRIORITY], &r->priority))
		rule_bad_value(r, R_PRIORITY, r->attr[R_PRIORITY]);
	if (strcmp(r->attr[R_ENABLED], "0") && strcmp(r->attr[R_ENABLED], "1"))
		rule_bad_value(r, R_ENABLED, r->attr[R_ENABLED]);

	/* "allocations N" and so on, one a line */
	read_file(rule_path(r->name, "stats"), buf, sizeof(buf));
	for (s = buf; (line = strtok_r(s, "\n", &s));) {
		if (split(line, f, 2, false) < 2)
			continue;
		for (j = 0; j < (int)ARRAY_SIZE(rule_stat); j++) {
			if (!strcmp(f[0], rule_stat[j]) && parse_ull(f[1], &r->stat[j]))
				found |= 1U << j;
		}
	}
	if (found != (1U << ARRAY_SIZE(rule_stat)) - 1)
		die(1, "malformed %s", rule_path(r->name, "stats"));
}

/* Priority, then name: the order in which the kernel tries the rules. */
static int rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* "key=value ..." of the attributes from..to-1 that are set, or "-". */
static void rule_attrs(const struct rule *r, int from, int to, char *buf, size_t size)
{
	unsigned long long low, high;
	const char *value;
	char range[64];
	size_t len = 0;
	int i;

	for (i = from; i < to; i++) {
		value = r->attr[i];
		if (i == R_RANGE && parse_range_attr(value, &low, &high)) {
			snprintf(range, sizeof(range), "%llu-%llu", low, high);
			value = range;
		}
		if (*value && len < size)
			len += snprintf(buf + len, size - len, "%s%s=%s", len ? " " : "",
					rule_attr[i], value);
	}
	if (!len)
		snprintf(buf, size, "-");
}

/* The rules, in the order the kernel tries them; *n of them. */
static struct rule *read_rules(int *n)
{
	struct rule *rules = NULL;
	char dir[PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d;

	*n = 0;
	check_configfs();
	snprintf(dir, sizeof(dir), "%s/rules", configfs_root);
	d = opendir(dir);
	if (!d)
		die(1, "cannot read %s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    fstatat(dirfd(d), e->d_name, &st, 0) || !S_ISDIR(st.st_mode))
			continue;
		rules = xrealloc(rules, (*n + 1) * sizeof(*rules));
		rules[*n].name = xstrdup(e->d_name);
		read_rule(&rules[(*n)++]);
	}
	closedir(d);
	if (*n)
		qsort(rules, *n, sizeof(*rules), rule_cmp);
	return rules;
}

/* rule show: a label cell before each value; rule list: none */
static void rule_label(bool show, const char *key)
{
	char label[32];

	if (!show)
		return;
	snprintf(label, sizeof(label), "%s:", key);
	print_string(PRINT_TEXT, NULL, "%s", label);
}

/*
 * A rule: in JSON an object (the same for list and show); in text a row of
 * rule list's table (match and action each in one cell), or with show the
 * rows of a table of labels and values.
 */
static void print_rule(const struct rule *r, bool show)
{
	enum output_type each = show ? PRINT_ANY : PRINT_JSON;
	char match[VALUE_MAX], action[VALUE_MAX];
	int j;

	open_object(NULL);
	rule_label(show, "name");
	print_string(PRINT_ANY, "name", "%s", r->name);
	rule_label(show, "priority");
	print_uint(PRINT_ANY, "priority", "%llu", r->priority);
	rule_label(show, "enabled");
	print_bool(PRINT_ANY, "enabled", "%s", *r->attr[R_ENABLED] == '1');
	if (!show) {
		rule_attrs(r, R_CGROUP, R_RANGE, match, sizeof(match));
		rule_attrs(r, R_RANGE, R_PRIORITY, action, sizeof(action));
		print_string(PRINT_TEXT, NULL, "%s", match);
		print_string(PRINT_TEXT, NULL, "%s", action);
	}
	for (j = R_CGROUP; j < R_PRIORITY; j++) {
		rule_label(show, rule_attr[j]);
		if (j == R_RANGE)
			print_range(each, rule_attr[j], "%s", r->attr[j]);
		else
			print_opt_string(each, rule_attr[j], "%s", r->attr[j]);
	}
	/* rule list's table leaves out max_probes */
	for (j = 0; j < (int)ARRAY_SIZE(rule_stat); j++) {
		rule_label(show, rule_stat[j]);
		print_uint(j < 3 ? PRINT_ANY : each, rule_stat[j], "%llu", r->stat[j]);
	}
	close_object();
}

static void free_rules(struct rule *rules, int n)
{
	int i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < R_NATTRS; j++)
			free(rules[i].attr[j]);
		free(rules[i].name);
	}
	free(rules);
}

static int rule_list(int argc, char **argv)
{
	static const char * const header[] = {
		"name", "priority", "enabled", "match", "action",
		"allocations", "failures", "probes"
	};
	struct table t = { .align = "lrlll", .ncols = ARRAY_SIZE(header) };
	struct rule *rules;
	int i, n;

	json_opts(argc, argv);
	rules = read_rules(&n);

	open_array(NULL);
	table_open(&t, header, t.ncols);
	for (i = 0; i < n; i++)
		print_rule(&rules[i], false);
	table_close();
	close_array();
	free_rules(rules, n);
	return 0;
}

/* rule show NAME [--json] */
static int rule_show(int argc, char **argv)
{
	struct table t = { .align = "ll", .ncols = 2 };
	struct rule *r;

	if (argc < 2)
		usage_error();
	json_opts(argc - 1, argv + 1);
	check_rule(argv[1]);
	r = xrealloc(NULL, sizeof(*r));
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(argv[1]);
	read_rule(r);
	table_open(&t, NULL, 0);
	print_rule(r, true);
	table_close();
	free_rules(r, 1);
	return 0;
}

/* rule flush: delete every rule (a batch file restores all of them). */
static int rule_flush(int argc, char **argv)
{
	struct rule *rules;
	int i, n;

	no_args(argc, argv);
	rules = read_rules(&n);
	for (i = 0; i < n; i++) {
		if (rmdir(rule_path(rules[i].name, "")) && errno != ENOENT)
			rule_dir_failed(rules[i].name, "remove", errno);
	}
	free_rules(rules, n);
	return 0;
}

/*
 * save: every rule as the rule add line that makes it again (disabled
 * ones then disabled), in the order the kernel tries them.
 */
void save_rules(FILE *f)
{
	unsigned long long low, high;
	struct rule *rules, *r;
	int i, a, n;

	const char *off;

	rules = read_rules(&n);
	for (i = 0; i < n; i++) {
		r = &rules[i];
		/* "N (gone)": the kernel would refuse it, so it stays a comment */
		off = strchr(r->attr[R_NETNS], ' ') ? "# " : "";
		if (*off)
			fprintf(f, "# netns %s: the namespace is gone\n", r->attr[R_NETNS]);
		else if (*r->attr[R_NETNS])
			fprintf(f, "# netns %s: an inode number, valid until the namespace goes\n",
				r->attr[R_NETNS]);
		fprintf(f, "%srule add %s", off, r->name);
		for (a = R_CGROUP; a < R_PRIORITY; a++) {
			if (a == R_RANGE && parse_range_attr(r->attr[a], &low, &high))
				fprintf(f, " range %llu %llu", low, high);
			else if (*r->attr[a])
				fprintf(f, " %s %s", rule_attr[a], quote_word(r->attr[a]));
		}
		fprintf(f, " priority %llu\n", r->priority);
		if (*r->attr[R_ENABLED] == '0')
			fprintf(f, "%srule disable %s\n", off, r->name);
	}
	free_rules(rules, n);
}

const struct cmd rule_cmds[] = {
	{ .name = "add", .fn = rule_add, .args = "NAME [MATCH...] [ACTION...] [priority N]",
	  .description = "add a rule and enable it.  MATCH: cgroup PATH,\n"
	  "uid UID[-UID], netns NETNS, proto tcp|udp,\n"
	  "path connect|bind, family ipv4|ipv6.  ACTION:\n"
	  "range LOW HIGH (or LOW-HIGH), strategy NAME.\n"
	  "Rules with a lower N are tried first (default\n"
	  "100)" },
	{ .name = "del", .fn = rule_del, .args = "NAME",
	  .description = "delete a rule" },
	{ .name = "list", .fn = rule_list, .args = "[--json]",
	  .description = "the rules, in the order they are tried", .json = true },
	{ .name = "show", .fn = rule_show, .args = "NAME [--json]",
	  .description = "one rule, a setting a line", .json = true },
	{ .name = "set", .fn = rule_set, .args = "NAME KEYWORD VALUE...",
	  .description = "change settings of a rule (keywords as for add;\n"
	  "- unsets a match or an action)" },
	{ .name = "enable", .fn = rule_enable, .args = "NAME",
	  .description = "let a rule apply" },
	{ .name = "disable", .fn = rule_disable, .args = "NAME",
	  .description = "keep a rule from applying; it stays" },
	{ .name = "flush", .fn = rule_flush, .args = "",
	  .description = "delete every rule" },
	{ NULL }
};
