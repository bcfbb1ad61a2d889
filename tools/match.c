// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - the values of a rule's matches as the kernel wants them: a
 * cgroup as its path in the cgroup v2 hierarchy, a network namespace as
 * its inode number, a uid range.  $EPHPORT_CGROUP2 replaces the cgroup v2
 * mount point found in /proc/self/mountinfo.
 */
#define _GNU_SOURCE
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
const char *cgroup_arg(const char *arg)
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
void netns_arg(const char *arg, char *value, size_t size)
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
bool parse_uid(const char *s, char *value, size_t size)
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
