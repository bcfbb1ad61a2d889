// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the rules_*_test programs; see rules.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rules.h"

int rule_set(const char *name, const char *attr, const char *value)
{
	char path[256];

	snprintf(path, sizeof(path), RULES "/%s/%s", name, attr);
	return ep_write(path, value);
}

int rule_get(const char *name, const char *attr, char *buf, size_t size)
{
	char path[256];
	int err;

	snprintf(path, sizeof(path), RULES "/%s/%s", name, attr);
	err = ep_read(path, buf, size);
	buf[strcspn(buf, "\n")] = '\0';
	return err;
}

int rule_add(const char *name, const char *const *kv)
{
	char path[256];
	int err;

	snprintf(path, sizeof(path), RULES "/%s", name);
	if (mkdir(path, 0755))
		return -errno;
	for (; kv[0]; kv += 2) {
		err = rule_set(name, kv[0], kv[1]);
		if (err)
			return err;
	}
	return rule_set(name, "enabled", "1");
}

int rule_del(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), RULES "/%s", name);
	return rmdir(path) ? -errno : 0;
}

long long rule_stat(const char *name, const char *key)
{
	char path[256], buf[256], *p;

	snprintf(path, sizeof(path), RULES "/%s/stats", name);
	if (ep_read(path, buf, sizeof(buf)))
		return -1;
	p = strstr(buf, key);
	return p ? atoll(p + strlen(key) + 1) : -1;
}

int cg_make(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), CGROOT "/%s", name);
	return mkdir(path, 0755) && errno != EEXIST ? -errno : 0;
}

int cg_enter(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), CGROOT "/%s/cgroup.procs", name);
	return ep_write(path, "0");
}

bool have_sock_cgroup;

int connect_port(int family, int *fd)
{
	int port;

	*fd = ep_alloc(family, EP_TCP_CONNECT, DPORT, &port);
	return *fd < 0 ? *fd : port;
}

int child_exhausts(int (*setup)(const void *), const void *arg,
		   int n, int low, int high)
{
	int i, fd, port, status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		if (setup && setup(arg))
			_exit(10);
		for (i = 0; i < n; i++) {
			port = connect_port(AF_INET, &fd);
			if (!in(port, low, high)) {
				fprintf(stderr, "# connect %d: %d\n", i, port);
				_exit(11);
			}
		}
		port = connect_port(AF_INET, &fd);
		if (port != -EADDRNOTAVAIL) {
			fprintf(stderr, "# connect %d: %d, not EADDRNOTAVAIL\n", n, port);
			_exit(12);
		}
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int enter_cgroup(const void *name)
{
	return cg_enter(name);
}

int become_uid(const void *uid)
{
	return setuid(*(const uid_t *)uid);
}

void remove_all_rules(void)
{
	struct dirent *d;
	DIR *dir = opendir(RULES);

	if (!dir)
		return;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			rule_del(d->d_name);
	closedir(dir);
}
