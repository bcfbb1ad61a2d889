// SPDX-License-Identifier: GPL-2.0
/*
 * configfs_shim.c - configfs as far as ephportctl can tell, for
 * ephportctl_test.sh: preloaded into the tool (LD_PRELOAD), it makes a
 * directory made in $EPHPORT_CONFIGFS/rules get the attributes of a new
 * rule (copies of what is in $FAKE_RULE), and rmdir remove them with the
 * directory.  With $FAKE_LOADED, loading the library creates that file.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((constructor)) static void loaded(void)
{
	const char *f = getenv("FAKE_LOADED");

	if (f)
		close(open(f, O_WRONLY | O_CREAT, 0644));
}

static int rule_dir(const char *path)
{
	const char *root = getenv("EPHPORT_CONFIGFS");
	char rules[4096];
	int n;

	if (!root)
		return 0;
	n = snprintf(rules, sizeof(rules), "%s/rules/", root);
	return !strncmp(path, rules, n) && !strchr(path + n, '/');
}

int mkdir(const char *path, mode_t mode)
{
	const char *tmpl = getenv("FAKE_RULE");
	char src[4096], dst[4096], buf[4096];
	struct dirent *e;
	struct stat st;
	int in, out;
	ssize_t n;
	DIR *d;

	if (syscall(SYS_mkdirat, AT_FDCWD, path, mode))
		return -1;
	if (!rule_dir(path) || !tmpl)
		return 0;
	d = opendir(tmpl);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		snprintf(src, sizeof(src), "%s/%s", tmpl, e->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", path, e->d_name);
		if (e->d_name[0] == '.' || stat(src, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			syscall(SYS_mkdirat, AT_FDCWD, dst, 0755);
			continue;
		}
		in = open(src, O_RDONLY);
		out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 0777);
		while ((n = read(in, buf, sizeof(buf))) > 0)
			n = write(out, buf, n);
		close(in);
		close(out);
	}
	closedir(d);
	return 0;
}

int rmdir(const char *path)
{
	char sub[4096];
	struct dirent *e;
	DIR *d;

	d = rule_dir(path) ? opendir(path) : NULL;
	if (d) {
		while ((e = readdir(d))) {
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && unlink(sub))
				syscall(SYS_unlinkat, AT_FDCWD, sub, AT_REMOVEDIR);
		}
		closedir(d);
	}
	return syscall(SYS_unlinkat, AT_FDCWD, path, AT_REMOVEDIR);
}
