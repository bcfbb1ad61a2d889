// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - the rules: /sys/kernel/config/ephport/rules/NAME/, one
 * configfs directory per rule with one attribute per keyword.  rule add
 * makes the directory (the rule is disabled until complete), writes every
 * keyword given, then enables it; rule del removes the directory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ephportctl.h"

#define PRIORITY_MAX 65535
#define RULE_NAME_MAX 15
#define RULE_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

/* The attributes of a rule, in the order "rule add" writes them. */
enum {
	R_CGROUP, R_UID, R_NETNS, R_PROTO, R_PATH,	/* what a rule matches */
	R_RANGE, R_STRATEGY,				/* what it changes */
	R_PRIORITY, R_ENABLED, R_NATTRS
};

static const char * const rule_attr[] = {
	"cgroup", "uid", "netns", "proto", "path", "range", "strategy", "priority", "enabled"
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

/*
 * The mount point of the cgroup v2 hierarchy: $EPHPORT_CGROUP2, else the
 * first mount of its root in /proc/self/mountinfo.
 */
static char *cgroup2_mount(void)
{
	char *env = getenv("EPHPORT_CGROUP2"), *line = NULL, *f[5], *s, *d;
	size_t cap = 0;
	FILE *mi;

	if (env && *env)
		return env;
	mi = fopen("/proc/self/mountinfo", "re");
	if (!mi)
		die(1, "cannot read /proc/self/mountinfo: %s", strerror(errno));
	while (getline(&line, &cap, mi) >= 0) {
		s = strstr(line, " - ");
		if (!s || strncmp(s, " - cgroup2 ", 11) || split(line, f, 5, false) < 5 ||
		    strcmp(f[3], "/"))
			continue;
		/* Undo the octal escapes of blanks and backslashes ("\040"). */
		for (s = f[4], d = f[4]; *s; d++) {
			if (s[0] == '\\' && strspn(s + 1, "01234567") >= 3) {
				*d = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
				s += 4;
			} else {
				*d = *s++;
			}
		}
		*d = '\0';
		fclose(mi);
		return f[4];
	}
	die(1, "no cgroup v2 hierarchy is mounted");
}

/*
 * "cgroup PATH": a directory of the mounted cgroup v2 hierarchy (e.g.
 * /sys/fs/cgroup/test/a, or relative to the current directory), or a path
 * below the hierarchy's root as in /proc/PID/cgroup (/test/a), which is
 * what the kernel wants.
 */
static const char *cgroup_arg(const char *arg)
{
	char *mnt = cgroup2_mount(), *root, *real, below[PATH_MAX];
	bool exists = false;
	struct stat st;
	size_t len;
	int i;

	root = realpath(mnt, NULL);
	if (!root)
		die(1, "cannot use the cgroup v2 hierarchy at %s: %s", mnt, strerror(errno));
	len = strcmp(root, "/") ? strlen(root) : 0;
	snprintf(below, sizeof(below), "%s/%s", root, arg);
	for (i = 0; i < 2; i++) {
		real = realpath(i ? below : arg, NULL);
		if (!real)
			continue;
		exists = true;
		if (strncmp(real, root, len) || (real[len] && real[len] != '/'))
			continue;
		if (stat(real, &st) || !S_ISDIR(st.st_mode))
			die(EXIT_USAGE, "cgroup \"%s\" is not a directory", arg);
		return real[len] ? real + len : "/";
	}
	if (!exists)
		die(EXIT_USAGE, "cgroup \"%s\" does not exist", arg);
	die(EXIT_USAGE, "cgroup \"%s\" is not in the cgroup v2 hierarchy (%s)", arg, mnt);
}

/* "netns NETNS": an inode number, or a file such as /proc/PID/ns/net. */
static void netns_arg(const char *arg, char *value, size_t size)
{
	unsigned long long ino;
	struct stat st;
	int fd;

	if (*arg >= '0' && *arg <= '9') {
		if (!parse_ull(arg, &ino) || !ino || ino > UINT_MAX)
			die(EXIT_USAGE, "netns must be an inode number or a file, not \"%s\"", arg);
	} else {
		fd = open(arg, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die(EXIT_USAGE, "netns %s: %s", arg, strerror(errno));
		if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET || fstat(fd, &st))
			die(EXIT_USAGE, "netns %s: not a network namespace", arg);
		close(fd);
		ino = st.st_ino;
	}
	snprintf(value, size, "%llu", ino);
}

/* "UID" or "FIRST-LAST"; (uid_t)-1 is no uid. */
static bool parse_uid(const char *s, char *value, size_t size)
{
	unsigned long long first, last;
	char *arg = xstrdup(s), *dash = strchr(arg, '-');
	bool ok;

	if (dash)
		*dash++ = '\0';
	ok = parse_ull(arg, &first) && parse_ull(dash ? dash : arg, &last) && first <= last &&
	     last < UINT_MAX;
	free(arg);
	if (!ok)
		return false;
	if (dash)
		snprintf(value, size, "%llu-%llu", first, last);
	else
		snprintf(value, size, "%llu", first);
	return true;
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

/* A write of "rule add" failed: remove the rule again and say why. */
static noreturn void rule_add_failed(const char *name, int attr, const char *value, int err)
{
	char path[PATH_MAX], why[PATH_MAX + 128];
	int rm;

	snprintf(path, sizeof(path), "%s", rule_path(name, rule_attr[attr]));
	/* ENOENT although the attribute exists: the kernel knows no such cgroup. */
	if (err == -EACCES || err == -EPERM)
		snprintf(why, sizeof(why), DENIED);
	else if (err == -EINVAL || (err == -ENOENT && !access(path, F_OK)))
		snprintf(why, sizeof(why), "the kernel refused %s \"%s\" (%s)", rule_attr[attr],
			 value, strerror(-err));
	else
		snprintf(why, sizeof(why), "cannot write %s: %s", path, strerror(-err));
	/* configfs removes the attributes with the directory. */
	rm = rmdir(rule_path(name, "")) ? errno : 0;
	if (rm)
		die(1, "%s; cannot remove %s: %s", why, rule_path(name, ""), strerror(rm));
	die(1, "%s", why);
}

static int rule_add(int argc, char **argv)
{
	const char *value[R_NATTRS] = { NULL };
	char range[64];
	int i, a, n, err;

	if (argc < 2)
		usage_error();
	check_rule_name(argv[1]);
	for (i = 2; i < argc; i++) {
		/* The keywords, but not enabled: rule add enables the rule. */
		a = find_word(argv[i], rule_attr, R_ENABLED);
		if (a < 0)
			unknown_arg("Argument", argv[i]);
		if (value[a])
			die(EXIT_USAGE, "\"%s\" is given twice", rule_attr[a]);
		if (++i == argc)
			die(EXIT_USAGE, "\"%s\" needs a value", rule_attr[a]);
		if (a != R_RANGE) {
			value[a] = rule_value(a, argv[i]);
			continue;
		}
		n = range_words(argc - i, argv + i);
		range_value(n, argv + i, range, sizeof(range));
		value[a] = range;
		i += n - 1;
	}
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

static int rule_list(int argc, char **argv)
{
	static const char * const header[] = {
		"name", "priority", "enabled", "match", "action",
		"allocations", "failures", "probes"
	};
	struct table t = { .align = "lrlll", .ncols = ARRAY_SIZE(header) };
	char match[VALUE_MAX], action[VALUE_MAX];
	struct rule *rules, *r;
	int i, j, n;

	json_opts(argc, argv);
	rules = read_rules(&n);

	open_array(NULL);
	table_open(&t, header, t.ncols);
	for (r = rules; r < rules + n; r++) {
		rule_attrs(r, R_CGROUP, R_RANGE, match, sizeof(match));
		rule_attrs(r, R_RANGE, R_PRIORITY, action, sizeof(action));
		open_object(NULL);
		print_string(PRINT_ANY, "name", "%s", r->name);
		print_uint(PRINT_ANY, "priority", "%llu", r->priority);
		print_bool(PRINT_ANY, "enabled", "%s", *r->attr[R_ENABLED] == '1');
		print_string(PRINT_TEXT, NULL, "%s", match);
		print_string(PRINT_TEXT, NULL, "%s", action);
		for (j = R_CGROUP; j < R_PRIORITY; j++) {
			if (j == R_RANGE)
				print_range(PRINT_JSON, rule_attr[j], NULL, r->attr[j]);
			else
				print_opt_string(PRINT_JSON, rule_attr[j], NULL, r->attr[j]);
		}
		/* max_probes: in JSON only */
		for (j = 0; j < (int)ARRAY_SIZE(rule_stat); j++)
			print_uint(j < 3 ? PRINT_ANY : PRINT_JSON, rule_stat[j], "%llu",
				   r->stat[j]);
		close_object();
	}
	table_close();
	close_array();
	for (i = 0; i < n; i++) {
		for (j = 0; j < R_NATTRS; j++)
			free(rules[i].attr[j]);
		free(rules[i].name);
	}
	free(rules);
	return 0;
}

const struct cmd rule_cmds[] = {
	{ .name = "add", .fn = rule_add, .args = "NAME [MATCH...] [ACTION...] [priority N]",
	  .description = "add a rule and enable it.  MATCH: cgroup PATH,\n"
	  "uid UID[-UID], netns NETNS, proto tcp|udp,\n"
	  "path connect|bind.  ACTION: range LOW HIGH\n"
	  "(or LOW-HIGH), strategy NAME.  Rules with a\n"
	  "lower N are tried first (default 100)" },
	{ .name = "del", .fn = rule_del, .args = "NAME",
	  .description = "delete a rule" },
	{ .name = "list", .fn = rule_list, .args = "[--json]",
	  .description = "the rules, in the order they are tried", .json = true },
	{ NULL }
};
