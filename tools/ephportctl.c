// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - control and inspect the ephport module.
 *
 * Configuration lives in /sys/kernel/ephport (one value per file), the
 * statistics and the allocation log of the current network namespace in
 * /proc/net/ephport, the rules in /sys/kernel/config/ephport/rules (one
 * configfs directory each).  The roots can be overridden with
 * $EPHPORT_SYSFS, $EPHPORT_PROCFS and $EPHPORT_CONFIGFS, so the tool can be
 * tested against fixture trees; $EPHPORT_CGROUP2 replaces the cgroup v2
 * mount point found in /proc/self/mountinfo.
 *
 * Exit status: 0 success, 1 runtime error, 2 usage error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef EPHPORT_VERSION
#define EPHPORT_VERSION "0.1.0"
#endif

#define PROG "ephportctl"
#define EXIT_USAGE 2
#define RANGE_MIN 1024
#define RANGE_MAX 65535
#define VALUE_MAX 4096
#define PRIORITY_MAX 65535
#define RULE_NAME_MAX 15
#define RULE_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

static const char usage_text[] =
	"Usage: " PROG " [-j|--json] [COMMAND [ARGS]]\n"
	"\n"
	"Commands:\n"
	"  status                         configuration and totals (the default)\n"
	"  set range LOW HIGH             use ports LOW..HIGH (also: LOW-HIGH)\n"
	"  set range auto                 use net.ipv4.ip_local_port_range\n"
	"  set strategy NAME              select the port selection strategy\n"
	"  enable | disable               take over / give back port selection\n"
	"  stats [--json]                 per-path statistics of this network namespace\n"
	"  log [-n N] [--json]            recent allocations, oldest first (the last N)\n"
	"  watch [-i SECONDS] [-c COUNT]  live rates every SECONDS (default 1), COUNT times\n"
	"  reset                          zero the statistics counters\n"
	"  rule add NAME [MATCH...] [ACTION...] [priority N]\n"
	"                                 add a rule and enable it.  MATCH: cgroup PATH,\n"
	"                                 uid UID[-UID], netns NETNS, proto tcp|udp,\n"
	"                                 path connect|bind.  ACTION: range LOW HIGH\n"
	"                                 (or LOW-HIGH), strategy NAME.  Rules with a\n"
	"                                 lower N are tried first (default 100)\n"
	"  rule del NAME                  delete a rule\n"
	"  rule list [--json]             the rules, in the order they are tried\n"
	"  help                           print this text\n"
	"\n"
	"Options:\n"
	"  -j, --json                     JSON output (status, stats, log, rule list)\n"
	"  -h, --help                     print this text\n"
	"  -V, --version                  print the version\n";

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

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Format-checked like printf(), the way the kernel's no_printk() does it. */
#define die(status, ...) do {				\
	if (0)						\
		printf(__VA_ARGS__);			\
	die_(status, __VA_ARGS__);			\
} while (0)
#define cell(t, ...) do {				\
	if (0)						\
		printf(__VA_ARGS__);			\
	cell_(t, __VA_ARGS__);				\
} while (0)

static const char *sysfs_root = "/sys/kernel/ephport";
static const char *procfs_root = "/proc/net/ephport";
static const char *configfs_root = "/sys/kernel/config/ephport";
static bool json;

static noreturn void die_(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static noreturn void usage_error(void)
{
	fflush(stdout);
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

static noreturn void unknown_arg(const char *what, const char *arg)
{
	fflush(stdout);
	fprintf(stderr, "%s \"%s\" is unknown, try \"" PROG " help\".\n", what, arg);
	exit(EXIT_USAGE);
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p)
		die(1, "out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	size_t size = strlen(s) + 1;

	return memcpy(xrealloc(NULL, size), s, size);
}

/* Strict unsigned decimal: digits only, no sign, no blanks. */
static bool parse_ull(const char *s, unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !*end && !errno;
}

static bool parse_count(const char *s, unsigned long long *v)
{
	return parse_ull(s, v) && *v > 0;
}

/* ---- sysfs ---- */

static void check_module(void)
{
	struct stat st;

	if (stat(sysfs_root, &st) || !S_ISDIR(st.st_mode))
		die(1, "module not loaded (%s missing)", sysfs_root);
}

static char *attr_path(const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", sysfs_root, name);
	return path;
}

/* Read an attribute file into buf without its trailing newline. */
static void read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(1, "cannot read %s: %s", path, strerror(errno));
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(1, "cannot read %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
}

static void read_attr(const char *name, char *buf, size_t size)
{
	read_file(attr_path(name), buf, size);
}

static unsigned long long read_num(const char *name)
{
	char buf[64];
	unsigned long long v;

	read_attr(name, buf, sizeof(buf));
	if (!parse_ull(buf, &v))
		die(1, "unexpected value \"%s\" in %s", buf, attr_path(name));
	return v;
}

/*
 * Write "value\n" with a single write(); 0 or -errno.  Never O_CREAT: sysfs
 * and configfs attributes exist (configfs creates a rule's attributes with
 * its directory), and a missing one must show as ENOENT.
 */
static int write_file(const char *path, const char *value)
{
	char buf[VALUE_MAX];
	int fd, len, err = 0;
	ssize_t n;

	len = snprintf(buf, sizeof(buf), "%s\n", value);
	if (len >= (int)sizeof(buf))
		return -EINVAL;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		err = -errno;
	else if (n != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

static int write_attr(const char *name, const char *value)
{
	return write_file(attr_path(name), value);
}

/* Report a failed write; EINVAL is left to the caller. */
static void write_failed(const char *name, int err)
{
	if (err == -EACCES || err == -EPERM)
		die(1, "permission denied: run as root");
	if (err != -EINVAL)
		die(1, "cannot write %s: %s", attr_path(name), strerror(-err));
}

static void write_or_die(const char *name, const char *value)
{
	int err = write_attr(name, value);

	if (err) {
		write_failed(name, err);
		die(1, "the kernel refused \"%s\" for %s", value, attr_path(name));
	}
}

/* ---- procfs tables: a header line, then rows up to a blank line ---- */

struct ptable {
	const char *path;
	char **col;
	int ncols;
	char ***row;
	int nrows;
};

/*
 * Split s in place at blanks into at most max fields; with rest, the last
 * field is the remainder of the line (it may contain blanks).
 */
static int split(char *s, char **f, int max, bool rest)
{
	int n = 0;

	while (n < max) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		f[n++] = s;
		if (rest && n == max)
			break;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
	return n;
}

static bool blank(const char *s)
{
	return !s[strspn(s, " \t")];
}

static int count_fields(const char *s)
{
	int n = 0;

	for (s += strspn(s, " \t"); *s; s += strspn(s, " \t")) {
		s += strcspn(s, " \t");
		n++;
	}
	return n;
}

/*
 * Table number skip of a file (0: the first; each further one follows a
 * blank line).  0, or -errno when the file cannot be opened; dies on
 * malformed content.  A missing table other than the first has no columns.
 */
static int read_ptable(const char *name, int skip, bool rest, struct ptable *t)
{
	static char path[PATH_MAX];
	char *line = NULL, *s;
	bool first = !skip;
	int n, lineno = 0;
	size_t cap = 0;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", procfs_root, name);
	memset(t, 0, sizeof(*t));
	t->path = path;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len && line[len - 1] == '\n')
			line[len - 1] = '\0';
		lineno++;
		if (skip) {
			skip -= blank(line);
			continue;
		}
		if (blank(line))
			break;
		s = xstrdup(line);
		if (!t->col) {
			t->ncols = count_fields(line);
			t->col = xrealloc(NULL, t->ncols * sizeof(char *));
			split(s, t->col, t->ncols, false);
			continue;
		}
		t->row = xrealloc(t->row, (t->nrows + 1) * sizeof(char **));
		t->row[t->nrows] = xrealloc(NULL, t->ncols * sizeof(char *));
		n = split(s, t->row[t->nrows], t->ncols, rest);
		if (rest && n == t->ncols - 1)
			t->row[t->nrows][n++] = "";
		if (n < t->ncols)
			die(1, "malformed line %d in %s", lineno, path);
		t->nrows++;
	}
	if (ferror(f))
		die(1, "cannot read %s: %s", path, strerror(errno));
	fclose(f);
	free(line);
	if (!t->col && first)
		die(1, "no header line in %s", path);
	return 0;
}

/* The index of a column, -1 if there is none. */
static int ptable_find(const struct ptable *t, const char *name)
{
	int i;

	for (i = 0; i < t->ncols; i++) {
		if (!strcmp(t->col[i], name))
			return i;
	}
	return -1;
}

static int ptable_col(const struct ptable *t, const char *name)
{
	int i = ptable_find(t, name);

	if (i < 0)
		die(1, "no column \"%s\" in %s", name, t->path);
	return i;
}

static void read_ptable_or_die(const char *name, bool rest, struct ptable *t)
{
	int err = read_ptable(name, 0, rest, t);

	if (err)
		die(1, "cannot read %s: %s", t->path, strerror(-err));
}

/* A number column of a row, checked so that JSON output stays valid. */
static unsigned long long ptable_num(const struct ptable *t, int row, int col)
{
	unsigned long long v;

	if (!parse_ull(t->row[row][col], &v))
		die(1, "malformed %s \"%s\" in %s", t->col[col], t->row[row][col], t->path);
	return v;
}

/* Histogram columns are named after probe counts: "1", "2-3", ">=1024". */
static bool bucket_col(const char *name)
{
	return (*name >= '0' && *name <= '9') || *name == '>' || *name == '<';
}

/* ---- output helpers ---- */

/* Length of the valid UTF-8 sequence at p, 0 if invalid. */
static int utf8_len(const unsigned char *p)
{
	unsigned int c = p[0], min, n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

static void json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	putchar('"');
	while (*p) {
		n = utf8_len(p);
		if (n == 0) {
			fputs("\\ufffd", stdout);
			n = 1;
		} else if (*p == '"' || *p == '\\') {
			printf("\\%c", *p);
		} else if (*p < 0x20) {
			printf("\\u%04x", *p);
		} else {
			fwrite(p, 1, n, stdout);
		}
		p += n;
	}
	putchar('"');
}

/* JSON string, or null for the kernel's "-" (no value). */
static void json_str_or_null(const char *s)
{
	if (strcmp(s, "-"))
		json_str(s);
	else
		fputs("null", stdout);
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

static double ratio(unsigned long long a, unsigned long long b)
{
	return b ? (double)a / b : 0;
}

/* A text table: cells are added row by row, columns are aligned on print. */
struct table {
	const char *align;	/* 'l' or 'r' per column, 'r' beyond its end */
	int ncols;
	int ncells;
	char **cell;
};

static void cell_(struct table *t, const char *fmt, ...)
{
	unsigned char *p;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die(1, "out of memory");
	va_end(ap);
	for (p = (unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	t->cell = xrealloc(t->cell, (t->ncells + 1) * sizeof(char *));
	t->cell[t->ncells++] = s;
}

static void table_print(struct table *t)
{
	int *width = xrealloc(NULL, t->ncols * sizeof(int));
	int i, c, len;
	bool left;

	memset(width, 0, t->ncols * sizeof(int));
	for (i = 0; i < t->ncells; i++) {
		len = strlen(t->cell[i]);
		if (len > width[i % t->ncols])
			width[i % t->ncols] = len;
	}
	for (i = 0; i < t->ncells; i++) {
		c = i % t->ncols;
		left = c < (int)strlen(t->align) && t->align[c] == 'l';
		if (c == t->ncols - 1 && left)
			printf("%s\n", t->cell[i]);
		else
			printf(c == t->ncols - 1 ? "%*s\n" : "%*s  ", left ? -width[c] : width[c],
			       t->cell[i]);
		free(t->cell[i]);
	}
	free(t->cell);
	free(width);
	t->cell = NULL;
	t->ncells = 0;
}

/* ---- commands ---- */

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	bool json;
};

/* Take a command's options: -j/--json and the single-letter ones in opts. */
static const char *next_opt(int *i, int argc, char **argv, const char *opts, const char **val)
{
	const char *a = argv[*i];

	if (!strcmp(a, "-j") || !strcmp(a, "--json"))
		return "j";
	if (a[0] != '-' || !a[1] || a[2] || !strchr(opts, a[1]))
		unknown_arg(a[0] == '-' ? "Option" : "Argument", a);
	if (++*i >= argc)
		die(EXIT_USAGE, "option \"%s\" needs a value", a);
	*val = argv[*i];
	return a + 1;
}

static void no_args(int argc, char **argv)
{
	if (argc > 1)
		unknown_arg("Argument", argv[1]);
}

static int do_help(int argc, char **argv)
{
	fputs(usage_text, stdout);
	return 0;
}

/* "LOW HIGH" as read from the range attribute */
static bool parse_range_attr(const char *s, unsigned long long *low, unsigned long long *high)
{
	char buf[64], *sp;

	snprintf(buf, sizeof(buf), "%s", s);
	sp = strchr(buf, ' ');
	if (!sp)
		return false;
	*sp++ = '\0';
	return parse_ull(buf, low) && parse_ull(sp, high);
}

static void print_status_json(const char *enabled, const char *range, const char *strategy,
			      char *avail, const unsigned long long *total,
			      const unsigned long long *global, const long long *netns)
{
	unsigned long long low, high;
	char *s = avail, *tok;
	int i;

	printf("{\"enabled\":%s,\"range\":", strcmp(enabled, "1") ? "false" : "true");
	if (parse_range_attr(range, &low, &high))
		printf("{\"low\":%llu,\"high\":%llu}", low, high);
	else
		fputs("\"auto\"", stdout);
	fputs(",\"strategy\":", stdout);
	json_str(strategy);
	fputs(",\"available_strategies\":[", stdout);
	for (i = 0; (tok = strtok_r(s, " \t", &s)); i++) {
		fputs(i ? "," : "", stdout);
		json_str(tok);
	}
	printf("],\"totals\":{\"allocations\":%llu,\"failures\":%llu,\"probes\":%llu,",
	       total[0], total[1], total[2]);
	printf("\"probes_per_allocation\":%.3f},\"paths\":{", ratio(total[2], total[0]));
	for (i = 0; i < (int)ARRAY_SIZE(paths); i++) {
		printf("%s\"%s\":{\"allocations\":%llu,\"netns_allocations\":",
		       i ? "," : "", paths[i].name, global[i]);
		if (netns[i] < 0)
			fputs("null}", stdout);
		else
			printf("%lld}", netns[i]);
	}
	puts("}}");
}

static void print_status_text(const char *enabled, const char *range, const char *strategy,
			      const char *avail, const unsigned long long *total,
			      const unsigned long long *global, const long long *netns,
			      bool have_netns)
{
	struct table t = { .align = "l", .ncols = have_netns ? 3 : 2 };
	unsigned long long low, high;
	char sys[64] = "";
	unsigned int l, h;
	FILE *f;
	int i;

	printf("enabled:            %s\n",
	       strcmp(enabled, "1") ? "no (the kernel selects ephemeral ports)" : "yes");
	if (parse_range_attr(range, &low, &high)) {
		printf("range:              %llu-%llu (%llu ports)\n", low, high, high - low + 1);
	} else {
		f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
		if (f && fscanf(f, "%u %u", &l, &h) == 2)
			snprintf(sys, sizeof(sys), ", now %u-%u", l, h);
		if (f)
			fclose(f);
		printf("range:              auto (net.ipv4.ip_local_port_range%s)\n", sys);
	}
	printf("strategy:           %s\n", strategy);
	printf("available:          %s\n", avail);
	printf("allocations:        %llu\n", total[0]);
	printf("failures:           %llu\n", total[1]);
	printf("probes:             %llu\n", total[2]);
	printf("probes/allocation:  %.2f\n\n", ratio(total[2], total[0]));

	cell(&t, "path");
	cell(&t, "allocations");
	if (have_netns)
		cell(&t, "this netns");
	for (i = 0; i < (int)ARRAY_SIZE(paths); i++) {
		cell(&t, "%s", paths[i].name);
		cell(&t, "%llu", global[i]);
		if (have_netns && netns[i] < 0)
			cell(&t, "-");
		else if (have_netns)
			cell(&t, "%lld", netns[i]);
	}
	table_print(&t);
}

static int do_status(int argc, char **argv)
{
	char enabled[16], range[64], strategy[256], avail[VALUE_MAX];
	unsigned long long total[3], global[ARRAY_SIZE(paths)], low, high;
	long long netns[ARRAY_SIZE(paths)];
	struct ptable pt;
	const char *val;
	bool have_netns;
	int i, r, pcol, acol;

	for (i = 1; i < argc; i++) {
		next_opt(&i, argc, argv, "", &val);
		json = true;
	}
	check_module();
	read_attr("enabled", enabled, sizeof(enabled));
	if (strcmp(enabled, "0") && strcmp(enabled, "1"))
		die(1, "unexpected value \"%s\" in %s", enabled, attr_path("enabled"));
	read_attr("range", range, sizeof(range));
	if (strcmp(range, "auto") && !parse_range_attr(range, &low, &high))
		die(1, "unexpected value \"%s\" in %s", range, attr_path("range"));
	read_attr("strategy", strategy, sizeof(strategy));
	read_attr("available_strategies", avail, sizeof(avail));
	total[0] = read_num("stats/allocations");
	total[1] = read_num("stats/failures");
	total[2] = read_num("stats/probes");

	/* Per path: global counts from sysfs, this namespace's from procfs. */
	have_netns = !read_ptable("stats", 0, false, &pt);
	for (i = 0; i < (int)ARRAY_SIZE(paths); i++) {
		global[i] = read_num(paths[i].attr);
		netns[i] = -1;
		if (!have_netns)
			continue;
		pcol = ptable_col(&pt, "path");
		acol = ptable_col(&pt, "allocations");
		for (r = 0; r < pt.nrows; r++) {
			if (!strcmp(pt.row[r][pcol], paths[i].name))
				netns[i] = ptable_num(&pt, r, acol);
		}
	}
	if (json)
		print_status_json(enabled, range, strategy, avail, total, global, netns);
	else
		print_status_text(enabled, range, strategy, avail, total, global, netns,
				  have_netns);
	return 0;
}

static void parse_range(int argc, char **argv, char *value, size_t size)
{
	unsigned long long low = 0, high = 0;
	char *arg, *dash = NULL;
	bool ok;

	if (argc == 1 && !strcmp(argv[0], "auto")) {
		snprintf(value, size, "auto");
		return;
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
}

/* A usage error unless name is one of the available strategies. */
static void check_strategy(const char *name)
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

static void set_strategy(int argc, char **argv)
{
	int err;

	if (argc < 1)
		usage_error();
	if (argc > 1)
		unknown_arg("Argument", argv[1]);
	check_strategy(argv[0]);
	err = write_attr("strategy", argv[0]);
	if (err) {
		write_failed("strategy", err);
		die(1, "the kernel refused strategy \"%s\"", argv[0]);
	}
}

static int do_set(int argc, char **argv)
{
	char value[64];
	int err;

	if (argc < 2)
		usage_error();
	if (!strcmp(argv[1], "strategy")) {
		set_strategy(argc - 2, argv + 2);
		return 0;
	}
	if (strcmp(argv[1], "range"))
		usage_error();
	parse_range(argc - 2, argv + 2, value, sizeof(value));
	check_module();
	err = write_attr("range", value);
	if (err) {
		write_failed("range", err);
		die(1, "the kernel refused range %s%s", value,
		    strcmp(value, "auto") ? " (below net.ipv4.ip_unprivileged_port_start?)" : "");
	}
	return 0;
}

static int do_enable(int argc, char **argv)
{
	bool on = !strcmp(argv[0], "enable");

	no_args(argc, argv);
	check_module();
	write_or_die("enabled", on ? "1" : "0");
	return 0;
}

static int do_reset(int argc, char **argv)
{
	no_args(argc, argv);
	check_module();
	write_or_die("stats/reset", "1");
	return 0;
}

/* The probe-count histogram: allocations that needed N probes. */
static void print_histogram(const struct ptable *pt, int r)
{
	struct table t = { .align = "l", .ncols = 1 };
	int i, j;

	for (j = 0; j < pt->ncols; j++)
		t.ncols += bucket_col(pt->col[j]);
	if (t.ncols == 1)
		return;
	printf("\nallocations by probes needed:\n");
	cell(&t, "path");
	for (j = 0; j < pt->ncols; j++) {
		if (bucket_col(pt->col[j]))
			cell(&t, "%s", pt->col[j]);
	}
	for (i = 0; i < pt->nrows; i++) {
		cell(&t, "%s", pt->row[i][r]);
		for (j = 0; j < pt->ncols; j++) {
			if (bucket_col(pt->col[j]))
				cell(&t, "%llu", ptable_num(pt, i, j));
		}
	}
	table_print(&t);
}

/* The per-rule table of the statistics, after the per-path one. */
enum { RS_RULE, RS_PRIO, RS_ENABLED, RS_ALLOCS, RS_FAILS, RS_PROBES, RS_MAX, RS_NCOLS };

static const char * const rule_stats_col[] = {
	"rule", "priority", "enabled", "allocations", "failures", "probes", "max_probes"
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
	if (col[RS_RULE] < 0 || col[RS_ALLOCS] < 0 || col[RS_FAILS] < 0 || col[RS_PROBES] < 0)
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

/* Text: a table after a blank line, if there are rules; JSON: "rules":[...] */
static void print_rule_stats(const struct ptable *rt, const int *col)
{
	struct table t = { .align = "lrl", .ncols = RS_NCOLS + 1 };
	unsigned long long v[RS_NCOLS];
	int i, j;

	if (json) {
		fputs("\"rules\":[", stdout);
	} else {
		for (j = 0; j < RS_NCOLS; j++)
			cell(&t, "%s", rule_stats_col[j]);
		cell(&t, "probes/alloc");
	}
	for (i = 0; i < rt->nrows; i++) {
		for (j = RS_PRIO; j < RS_NCOLS; j++)
			v[j] = ptable_num(rt, i, col[j]);
		if (!json) {
			cell(&t, "%s", rt->row[i][col[RS_RULE]]);
			cell(&t, "%llu", v[RS_PRIO]);
			cell(&t, "%s", v[RS_ENABLED] ? "yes" : "no");
			for (j = RS_ALLOCS; j < RS_NCOLS; j++)
				cell(&t, "%llu", v[j]);
			cell(&t, "%.2f", ratio(v[RS_PROBES], v[RS_ALLOCS]));
			continue;
		}
		fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
		json_str(rt->row[i][col[RS_RULE]]);
		printf(",\"priority\":%llu,\"enabled\":%s", v[RS_PRIO],
		       v[RS_ENABLED] ? "true" : "false");
		for (j = RS_ALLOCS; j < RS_NCOLS; j++)
			printf(",\"%s\":%llu", rule_stats_col[j], v[j]);
		putchar('}');
	}
	if (json) {
		putchar(']');
	} else if (rt->nrows) {
		putchar('\n');
		table_print(&t);
	}
}

static int do_stats(int argc, char **argv)
{
	static const char * const num[] = { "allocations", "failures", "probes", "max_probes" };
	struct table t = { .align = "l", .ncols = 6 };
	int i, j, r, col[ARRAY_SIZE(num)], rcol[RS_NCOLS];
	unsigned long long v[ARRAY_SIZE(num)];
	struct ptable pt, rt;
	const char *val, *sep;
	bool rules;

	for (i = 1; i < argc; i++) {
		next_opt(&i, argc, argv, "", &val);
		json = true;
	}
	check_module();
	read_ptable_or_die("stats", false, &pt);
	r = ptable_col(&pt, "path");
	for (j = 0; j < (int)ARRAY_SIZE(num); j++)
		col[j] = ptable_col(&pt, num[j]);
	rules = read_rule_stats(&rt, rcol);

	if (!json) {
		cell(&t, "path");
		for (j = 0; j < (int)ARRAY_SIZE(num); j++)
			cell(&t, "%s", num[j]);
		cell(&t, "probes/alloc");
	}
	fputs(json ? "{" : "", stdout);
	for (i = 0; i < pt.nrows; i++) {
		for (j = 0; j < (int)ARRAY_SIZE(num); j++)
			v[j] = ptable_num(&pt, i, col[j]);
		if (!json) {
			cell(&t, "%s", pt.row[i][r]);
			for (j = 0; j < (int)ARRAY_SIZE(num); j++)
				cell(&t, "%llu", v[j]);
			cell(&t, "%.2f", ratio(v[2], v[0]));
			continue;
		}
		fputs(i ? "," : "", stdout);
		json_str(pt.row[i][r]);
		printf(":{\"allocations\":%llu,\"failures\":%llu,", v[0], v[1]);
		printf("\"probes\":%llu,\"max_probes\":%llu,\"histogram\":{", v[2], v[3]);
		for (j = 0, sep = ""; j < pt.ncols; j++) {
			if (!bucket_col(pt.col[j]))
				continue;
			printf("%s\"%s\":%llu", sep, pt.col[j], ptable_num(&pt, i, j));
			sep = ",";
		}
		fputs("}}", stdout);
	}
	if (json) {
		fputs(rules && pt.nrows ? "," : "", stdout);
		if (rules)
			print_rule_stats(&rt, rcol);
		puts("}");
		return 0;
	}
	table_print(&t);
	print_histogram(&pt, r);
	if (rules)
		print_rule_stats(&rt, rcol);
	return 0;
}

static int do_log(int argc, char **argv)
{
	/* Columns in output order; numbers are checked, "-" becomes null. */
	static const char * const name[] = {
		"time", "path", "local", "remote", "probes", "strategy", "rule", "pid", "comm"
	};
	enum { TIME, PATH, LOCAL, REMOTE, PROBES, STRATEGY, RULE, PID, COMM, NCOLS };
	struct table t = { .align = "rlllrllrl", .ncols = NCOLS };
	unsigned long long last = 0, probes, pid;
	int i, j, col[NCOLS];
	struct ptable pt;
	const char *val, *sep;
	char **row;

	for (i = 1; i < argc; i++) {
		if (*next_opt(&i, argc, argv, "n", &val) == 'j')
			json = true;
		else if (!parse_count(val, &last))
			die(EXIT_USAGE, "-n needs a positive integer, not \"%s\"", val);
	}
	check_module();
	read_ptable_or_die("allocations", true, &pt);
	for (j = 0; j < NCOLS; j++)
		col[j] = ptable_col(&pt, name[j]);
	if (col[COMM] != pt.ncols - 1)
		die(1, "column \"comm\" is not the last one in %s", pt.path);

	i = last && last < (unsigned long long)pt.nrows ? pt.nrows - last : 0;
	if (json) {
		putchar('[');
	} else {
		for (j = 0; j < NCOLS; j++)
			cell(&t, "%s", name[j]);
	}
	for (sep = ""; i < pt.nrows; i++) {
		row = pt.row[i];
		probes = ptable_num(&pt, i, col[PROBES]);
		pid = ptable_num(&pt, i, col[PID]);
		if (!json_number(row[col[TIME]]))
			die(1, "malformed time \"%s\" in %s", row[col[TIME]], pt.path);
		if (!json) {
			for (j = 0; j < NCOLS; j++)
				cell(&t, "%s", row[col[j]]);
			continue;
		}
		printf("%s{\"time\":%s,\"path\":", sep, row[col[TIME]]);
		json_str(row[col[PATH]]);
		fputs(",\"local\":", stdout);
		json_str(row[col[LOCAL]]);
		fputs(",\"remote\":", stdout);
		json_str_or_null(row[col[REMOTE]]);
		printf(",\"probes\":%llu,\"strategy\":", probes);
		json_str(row[col[STRATEGY]]);
		fputs(",\"rule\":", stdout);
		json_str_or_null(row[col[RULE]]);
		printf(",\"pid\":%llu,\"comm\":", pid);
		json_str(row[col[COMM]]);
		putchar('}');
		sep = ",";
	}
	if (json)
		puts("]");
	else
		table_print(&t);
	return 0;
}

static void timespec_add(struct timespec *ts, double sec)
{
	long long ns = ts->tv_nsec + (long long)((sec - (time_t)sec) * 1e9);

	ts->tv_sec += (time_t)sec + ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
}

static double timespec_diff(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec - b->tv_sec) + (a->tv_nsec - b->tv_nsec) / 1e9;
}

/* Sleep until the monotonic time deadline; false when a signal of sigs came. */
static bool sleep_until(const struct timespec *deadline, const sigset_t *sigs)
{
	struct timespec now, left;
	double sec;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		sec = timespec_diff(deadline, &now);
		if (sec <= 0)
			return true;
		left.tv_sec = (time_t)sec;
		left.tv_nsec = (long)((sec - left.tv_sec) * 1e9);
		if (sigtimedwait(sigs, NULL, &left) > 0)
			return false;
	}
}

/* The growth of a counter; after a reset, the counter's new value. */
static unsigned long long delta(unsigned long long now, unsigned long long before)
{
	return now >= before ? now - before : now;
}

static int do_watch(int argc, char **argv)
{
	static const char * const name[] = {
		"stats/allocations", "stats/failures", "stats/probes"
	};
	unsigned long long count = 0, n, v0[3], v1[3], d[3];
	bool tty = isatty(STDOUT_FILENO);
	struct timespec next, t0, t1;
	double interval = 1, dt;
	const char *val, *opt;
	char *end, ppa[32];
	sigset_t sigs;
	int i;

	for (i = 1; i < argc; i++) {
		opt = next_opt(&i, argc, argv, "ic", &val);
		if (*opt == 'j') {
			die(EXIT_USAGE, "\"watch\" has no JSON output");
		} else if (*opt == 'c') {
			if (!parse_count(val, &count))
				die(EXIT_USAGE, "-c needs a positive integer, not \"%s\"", val);
		} else {
			errno = 0;
			interval = strtod(val, &end);
			if (end == val || *end || errno || !isfinite(interval) || interval <= 0 ||
			    interval > INT_MAX)
				die(EXIT_USAGE, "-i needs a positive number of seconds, not \"%s\"",
				    val);
		}
	}
	check_module();

	/* Ctrl-C ends the loop (and the line being redrawn) cleanly. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	printf("%13s  %10s  %17s\n", "allocations/s", "failures/s", "probes/allocation");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	next = t0;
	for (i = 0; i < 3; i++)
		v0[i] = read_num(name[i]);
	for (n = 0; !count || n < count; n++) {
		timespec_add(&next, interval);
		if (!sleep_until(&next, &sigs))
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		dt = timespec_diff(&t1, &t0);
		for (i = 0; i < 3; i++) {
			v1[i] = read_num(name[i]);
			d[i] = delta(v1[i], v0[i]);
			v0[i] = v1[i];
		}
		t0 = t1;
		if (d[0])
			snprintf(ppa, sizeof(ppa), "%.2f", ratio(d[2], d[0]));
		else
			snprintf(ppa, sizeof(ppa), "-");
		printf("%s%13.1f  %10.1f  %17s%s", tty ? "\r" : "", d[0] / dt, d[1] / dt, ppa,
		       tty ? "\033[K" : "\n");
		fflush(stdout);
	}
	if (tty && n)
		putchar('\n');
	return 0;
}

/* ---- rules: /sys/kernel/config/ephport/rules/NAME/ ---- */

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
	char *attr[R_NATTRS];	/* "" when not set; range as "LOW-HIGH" */
	unsigned long long priority;
	unsigned long long stat[ARRAY_SIZE(rule_stat)];
};

static void check_configfs(void)
{
	struct stat st;

	if (stat(configfs_root, &st) || !S_ISDIR(st.st_mode))
		die(1, "%s: not found (is configfs mounted and the module loaded?)", configfs_root);
}

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

/* A write of "rule add" failed: remove the rule again and say why. */
static noreturn void rule_add_failed(const char *name, int attr, const char *value, int err)
{
	char path[PATH_MAX], why[PATH_MAX + 128];
	int rm;

	snprintf(path, sizeof(path), "%s", rule_path(name, rule_attr[attr]));
	/* ENOENT although the attribute exists: the kernel knows no such cgroup. */
	if (err == -EACCES || err == -EPERM)
		snprintf(why, sizeof(why), "permission denied: run as root");
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

static int rule_index(const char *keyword)
{
	int i;

	for (i = 0; i < R_ENABLED; i++) {
		if (!strcmp(keyword, rule_attr[i]))
			return i;
	}
	return -1;
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
		a = rule_index(argv[i]);
		if (a < 0)
			unknown_arg("Argument", argv[i]);
		if (value[a])
			die(EXIT_USAGE, "\"%s\" is given twice", argv[i]);
		if (++i == argc)
			die(EXIT_USAGE, "\"%s\" needs a value", argv[i - 1]);
		if (a != R_RANGE) {
			value[a] = rule_value(a, argv[i]);
			continue;
		}
		/* LOW HIGH, or one word: LOW-HIGH or auto */
		n = i + 1 < argc && !strchr(argv[i], '-') && strcmp(argv[i], "auto") ? 2 : 1;
		parse_range(n, argv + i, range, sizeof(range));
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
		if (err == EACCES || err == EPERM)
			die(1, "permission denied: run as root");
		die(1, "cannot create %s: %s", rule_path(argv[1], ""), strerror(err));
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
	int err;

	if (argc < 2)
		usage_error();
	if (argc > 2)
		unknown_arg("Argument", argv[2]);
	check_rule_name(argv[1]);
	check_configfs();
	if (!rmdir(rule_path(argv[1], "")))
		return 0;
	err = errno;
	if (err == ENOENT)
		die(1, "rule \"%s\" does not exist", argv[1]);
	if (err == EACCES || err == EPERM)
		die(1, "permission denied: run as root");
	die(1, "cannot remove %s: %s", rule_path(argv[1], ""), strerror(err));
}

static noreturn void rule_bad_value(const struct rule *r, int attr, const char *value)
{
	die(1, "unexpected value \"%s\" in %s", value, rule_path(r->name, rule_attr[attr]));
}

static void read_rule(struct rule *r)
{
	char buf[VALUE_MAX], *s, *line, *f[2];
	unsigned long long low, high;
	unsigned int found = 0;
	int i, j;

	for (i = 0; i < R_NATTRS; i++) {
		read_file(rule_path(r->name, rule_attr[i]), buf, sizeof(buf));
		if (i == R_RANGE && parse_range_attr(buf, &low, &high))
			snprintf(buf, sizeof(buf), "%llu-%llu", low, high);
		else if (i == R_RANGE && strcmp(buf, "auto"))
			rule_bad_value(r, i, buf);
		else if (i == R_RANGE)
			buf[0] = '\0';
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
	size_t len = 0;
	int i;

	for (i = from; i < to; i++) {
		if (*r->attr[i] && len < size)
			len += snprintf(buf + len, size - len, "%s%s=%s", len ? " " : "",
					rule_attr[i], r->attr[i]);
	}
	if (!len)
		snprintf(buf, size, "-");
}

static int rule_list(int argc, char **argv)
{
	static const char * const col[] = {
		"name", "priority", "enabled", "match", "action",
		"allocations", "failures", "probes"
	};
	struct table t = { .align = "lrlll", .ncols = ARRAY_SIZE(col) };
	char dir[PATH_MAX], match[VALUE_MAX], action[VALUE_MAX];
	struct rule *rules = NULL, *r;
	struct dirent *e;
	const char *val;
	struct stat st;
	int i, j, n = 0;
	DIR *d;

	for (i = 1; i < argc; i++) {
		next_opt(&i, argc, argv, "", &val);
		json = true;
	}
	check_configfs();
	snprintf(dir, sizeof(dir), "%s/rules", configfs_root);
	d = opendir(dir);
	if (!d)
		die(1, "cannot read %s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    fstatat(dirfd(d), e->d_name, &st, 0) || !S_ISDIR(st.st_mode))
			continue;
		rules = xrealloc(rules, (n + 1) * sizeof(*rules));
		rules[n].name = xstrdup(e->d_name);
		read_rule(&rules[n++]);
	}
	closedir(d);
	if (n)
		qsort(rules, n, sizeof(*rules), rule_cmp);

	if (json) {
		putchar('[');
	} else {
		for (j = 0; j < (int)ARRAY_SIZE(col); j++)
			cell(&t, "%s", col[j]);
	}
	for (i = 0; i < n; i++) {
		r = &rules[i];
		if (!json) {
			rule_attrs(r, R_CGROUP, R_RANGE, match, sizeof(match));
			rule_attrs(r, R_RANGE, R_PRIORITY, action, sizeof(action));
			cell(&t, "%s", r->name);
			cell(&t, "%llu", r->priority);
			cell(&t, "%s", *r->attr[R_ENABLED] == '1' ? "yes" : "no");
			cell(&t, "%s", match);
			cell(&t, "%s", action);
			for (j = 0; j < 3; j++)
				cell(&t, "%llu", r->stat[j]);
			continue;
		}
		fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
		json_str(r->name);
		printf(",\"priority\":%llu,\"enabled\":%s", r->priority,
		       *r->attr[R_ENABLED] == '1' ? "true" : "false");
		for (j = R_CGROUP; j < R_PRIORITY; j++) {
			printf(",\"%s\":", rule_attr[j]);
			if (*r->attr[j])
				json_str(r->attr[j]);
			else
				fputs("null", stdout);
		}
		for (j = 0; j < (int)ARRAY_SIZE(rule_stat); j++)
			printf(",\"%s\":%llu", rule_stat[j], r->stat[j]);
		putchar('}');
	}
	if (json)
		puts("]");
	else
		table_print(&t);
	return 0;
}

static int do_rule(int argc, char **argv)
{
	if (argc < 2)
		usage_error();
	if (!strcmp(argv[1], "list"))
		return rule_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "add") && strcmp(argv[1], "del"))
		usage_error();
	if (json)
		die(EXIT_USAGE, "\"rule %s\" has no JSON output", argv[1]);
	if (!strcmp(argv[1], "add"))
		return rule_add(argc - 1, argv + 1);
	return rule_del(argc - 1, argv + 1);
}

static const struct cmd cmds[] = {
	{ "status", do_status, true },
	{ "set", do_set, false },
	{ "enable", do_enable, false },
	{ "disable", do_enable, false },
	{ "stats", do_stats, true },
	{ "log", do_log, true },
	{ "watch", do_watch, false },
	{ "reset", do_reset, false },
	{ "rule", do_rule, true },
	{ "help", do_help, false },
};

int main(int argc, char **argv)
{
	const char *env, *name;
	size_t i;

	env = getenv("EPHPORT_SYSFS");
	if (env && *env)
		sysfs_root = env;
	env = getenv("EPHPORT_PROCFS");
	if (env && *env)
		procfs_root = env;
	env = getenv("EPHPORT_CONFIGFS");
	if (env && *env)
		configfs_root = env;

	for (argc--, argv++; argc && argv[0][0] == '-'; argc--, argv++) {
		if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))
			return do_help(argc, argv);
		if (!strcmp(argv[0], "-V") || !strcmp(argv[0], "--version")) {
			puts(PROG " " EPHPORT_VERSION);
			return 0;
		}
		if (strcmp(argv[0], "-j") && strcmp(argv[0], "--json"))
			unknown_arg("Option", argv[0]);
		json = true;
	}
	name = argc ? argv[0] : "status";
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(name, cmds[i].name))
			continue;
		if (json && !cmds[i].json)
			die(EXIT_USAGE, "\"%s\" has no JSON output", name);
		return cmds[i].fn(argc, argv);
	}
	unknown_arg("Command", name);
}
