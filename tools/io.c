// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - the module's files: attributes in sysfs and configfs (one
 * value per file) and the tables in procfs (a header line, then rows up to
 * a blank line; a further table may follow).  The roots can be overridden
 * with $EPHPORT_SYSFS, $EPHPORT_PROCFS, $EPHPORT_CONFIGFS and
 * $EPHPORT_PARAMS (the module parameters).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ephportctl.h"

const char *sysfs_root = "/sys/kernel/ephport";
const char *procfs_root = "/proc/net/ephport";
const char *configfs_root = "/sys/kernel/config/ephport";
const char *params_root = "/sys/module/ephport/parameters";

static void root_from_env(const char **root, const char *var)
{
	const char *env = getenv(var);

	if (env && *env)
		*root = env;
}

void io_init(void)
{
	root_from_env(&sysfs_root, "EPHPORT_SYSFS");
	root_from_env(&procfs_root, "EPHPORT_PROCFS");
	root_from_env(&configfs_root, "EPHPORT_CONFIGFS");
	root_from_env(&params_root, "EPHPORT_PARAMS");
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

void check_module(void)
{
	if (!is_dir(sysfs_root))
		die(1, "module not loaded (%s missing)", sysfs_root);
}

void check_configfs(void)
{
	if (!is_dir(configfs_root))
		die(1, "%s: not found (is configfs mounted and the module loaded?)", configfs_root);
}

char *attr_path(const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", sysfs_root, name);
	return path;
}

/* Read an attribute file into buf without its trailing newline. */
void read_file(const char *path, char *buf, size_t size)
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

void read_attr(const char *name, char *buf, size_t size)
{
	read_file(attr_path(name), buf, size);
}

noreturn void bad_value(const char *value, const char *path)
{
	die(1, "unexpected value \"%s\" in %s", value, path);
}

unsigned long long read_num(const char *name)
{
	char buf[64];
	unsigned long long v;

	read_attr(name, buf, sizeof(buf));
	if (!parse_ull(buf, &v))
		bad_value(buf, attr_path(name));
	return v;
}

/*
 * Write "value\n" with a single write(); 0 or -errno.  Never O_CREAT: sysfs
 * and configfs attributes exist (configfs creates a rule's attributes with
 * its directory), and a missing one must show as ENOENT.
 */
int write_file(const char *path, const char *value)
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

/* The error of a change (errno err) that needs more privileges. */
void die_if_denied(int err)
{
	if (err == EACCES || err == EPERM)
		die(1, DENIED);
}

/* Report a failed write of a sysfs attribute; EINVAL is left to the caller. */
void write_failed(const char *name, int err)
{
	die_if_denied(-err);
	if (err != -EINVAL)
		die(1, "cannot write %s: %s", attr_path(name), strerror(-err));
}

void write_or_die(const char *name, const char *value)
{
	int err = write_file(attr_path(name), value);

	if (err) {
		write_failed(name, err);
		die(1, "the kernel refused \"%s\" for %s", value, attr_path(name));
	}
}

/* ---- procfs tables ---- */

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
 * blank line); with rest, the last column takes the rest of the line.  0,
 * or -errno when the file cannot be opened; dies on malformed content.  A
 * missing table other than the first has no columns.
 */
int read_ptable(const char *name, int skip, bool rest, struct ptable *t)
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
		t->line = xrealloc(t->line, (t->nlines + 1) * sizeof(char *));
		t->line[t->nlines++] = s;
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

void free_ptable(struct ptable *t)
{
	int i;

	for (i = 0; i < t->nlines; i++)
		free(t->line[i]);
	for (i = 0; i < t->nrows; i++)
		free(t->row[i]);
	free(t->line);
	free(t->row);
	free(t->col);
	memset(t, 0, sizeof(*t));
}

void read_ptable_or_die(const char *name, bool rest, struct ptable *t)
{
	int err = read_ptable(name, 0, rest, t);

	if (err)
		die(1, "cannot read %s: %s", t->path, strerror(-err));
}

/*
 * The first table after the first one of a file whose first column is
 * first_col: 0, or -ENOENT if there is none (older modules), -errno if the
 * file cannot be opened.
 */
int read_section(const char *name, const char *first_col, struct ptable *t)
{
	int skip, err;

	for (skip = 1; skip < 8; skip++) {
		err = read_ptable(name, skip, false, t);
		if (err)
			return err;
		if (!t->col)
			break;
		if (!strcmp(t->col[0], first_col))
			return 0;
		free_ptable(t);
	}
	free_ptable(t);
	return -ENOENT;
}

/* The index of a column, -1 if there is none. */
int ptable_find(const struct ptable *t, const char *name)
{
	int i;

	for (i = 0; i < t->ncols; i++) {
		if (!strcmp(t->col[i], name))
			return i;
	}
	return -1;
}

int ptable_col(const struct ptable *t, const char *name)
{
	int i = ptable_find(t, name);

	if (i < 0)
		die(1, "no column \"%s\" in %s", name, t->path);
	return i;
}

/* A number column of a row, checked so that JSON output stays valid. */
unsigned long long ptable_num(const struct ptable *t, int row, int col)
{
	unsigned long long v;

	if (!parse_ull(t->row[row][col], &v))
		die(1, "malformed %s \"%s\" in %s", t->col[col], t->row[row][col], t->path);
	return v;
}
