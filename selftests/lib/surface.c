// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the surface_*_test programs; see surface.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "surface.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

const char *const path_names[PATHS] = {
	"tcp4-connect", "tcp6-connect", "tcp-bind", "udp4", "udp6",
};

const char *const path_attrs[PATHS] = {
	"tcp4_connect", "tcp6_connect", "tcp_bind", "udp4", "udp6",
};

static const int path_family[PATHS] = {
	AF_INET, AF_INET6, AF_INET, AF_INET, AF_INET6,
};

const int path_exhausted[PATHS] = {
	EADDRNOTAVAIL, EADDRNOTAVAIL, EADDRINUSE, EADDRINUSE, EADDRINUSE,
};

const struct path_family every_path[NR_EVERY_PATH] = {
	{ TCP4_CONNECT, AF_INET }, { TCP6_CONNECT, AF_INET6 },
	{ TCP_BIND, AF_INET }, { TCP_BIND, AF_INET6 },
	{ UDP4, AF_INET }, { UDP6, AF_INET6 },
};

int alloc_on(enum path p, int family, int *port)
{
	int connect = p == TCP4_CONNECT || p == TCP6_CONNECT;
	int type = p >= UDP4 ? SOCK_DGRAM : SOCK_STREAM;
	int fd, err;

	if (p != TCP_BIND)
		family = path_family[p];
	fd = ep_socket(family, type);
	if (fd < 0)
		return fd;
	if (connect)
		err = ep_connect_port(fd, family, DPORT);
	else
		err = ep_bind_port(fd, family, 0);
	if (err) {
		close(fd);
		return err;
	}
	*port = ep_local_port(fd);
	return fd;
}

void close_fds(int *fds, int n)
{
	while (n-- > 0)
		if (fds[n] >= 0)
			ep_close_rst(fds[n]);
}

int listeners(int fds[2])
{
	fds[0] = ep_listener(AF_INET, DPORT);
	fds[1] = ep_listener(AF_INET6, DPORT);
	return fds[0] < 0 ? fds[0] : fds[1] < 0 ? fds[1] : 0;
}

int set_range(const char *value)
{
	return ep_write(EP_SYSFS "/range", value);
}

int read_str(const char *path, char *buf, size_t size)
{
	int err = ep_read(path, buf, size);

	if (err)
		snprintf(buf, size, "<%s>", strerror(-err));
	return err;
}

void loopback_str(int family, int port, char *buf, size_t size)
{
	if (family == AF_INET)
		snprintf(buf, size, "127.0.0.1:%d", port);
	else
		snprintf(buf, size, "[::1]:%d", port);
}

/*
 * Unloading takes a second or more (RCU tasks grace periods): the module
 * is loaded again only when a test before left it unloaded or loaded with
 * other parameters.
 */
int fresh_module(void)
{
	static const char *const defaults[][2] = {
		{ EP_SYSFS "/enabled", "1" },
		{ EP_SYSFS "/range", "auto" },
		{ EP_SYSFS "/strategy", "kernel" },
		{ PARAMS "/random_inc_n", "500" },
		{ EP_SYSFS "/stats/reset", "1" },
	};
	unsigned int i;
	char buf[64];
	int err;

	if (!ep_loaded() || read_str(PARAMS "/log_size", buf, sizeof(buf)) ||
	    strcmp(buf, "1024")) {
		err = ep_load("");
		if (err) {
			fprintf(stderr, "# insmod ephport.ko: %s\n", strerror(-err));
			return err;
		}
	}
	for (i = 0; i < ARRAY_SIZE(defaults); i++) {
		err = ep_write(defaults[i][0], defaults[i][1]);
		if (err) {
			fprintf(stderr, "# %s <- %s: %s\n", defaults[i][0],
				defaults[i][1], strerror(-err));
			return err;
		}
	}
	return 0;
}

int make_state(void)
{
	int fds[3], port, i, err;

	err = ep_write(EP_SYSFS "/strategy", "hash");
	if (!err)
		err = set_range("40000 40010");
	for (i = 0; i < 3 && !err; i++) {
		fds[i] = alloc_on(UDP4, AF_INET, &port);
		if (fds[i] < 0)
			err = fds[i];
	}
	close_fds(fds, i);
	if (!err && ep_read_u64(EP_SYSFS "/stats/allocations") <= 0)
		err = -ENODATA;
	return err;
}

static const char *const state_files[NR_STATE] = {
	EP_SYSFS "/enabled",
	EP_SYSFS "/range",
	EP_SYSFS "/strategy",
	EP_SYSFS "/available_strategies",
	EP_SYSFS "/stats/allocations",
	EP_SYSFS "/stats/failures",
	EP_SYSFS "/stats/probes",
	EP_SYSFS "/stats/tcp4_connect",
	EP_SYSFS "/stats/tcp6_connect",
	EP_SYSFS "/stats/tcp_bind",
	EP_SYSFS "/stats/udp4",
	EP_SYSFS "/stats/udp6",
	PARAMS "/enabled",
	PARAMS "/range",
	PARAMS "/strategy",
	PARAMS "/random_inc_n",
	PARAMS "/log_size",
	EP_PROCFS "/stats",
	EP_PROCFS "/allocations",
};

void state_read(struct state *s)
{
	char *buf = malloc(BIG);
	unsigned int i;

	for (i = 0; i < NR_STATE; i++) {
		ssize_t n = ep_read_all(state_files[i], buf, BIG);

		if (n < 0)
			snprintf(buf, BIG, "<%s>", strerror(-n));
		s->v[i] = strdup(buf);
	}
	free(buf);
}

void state_free(struct state *s)
{
	unsigned int i;

	for (i = 0; i < NR_STATE; i++)
		free(s->v[i]);
}

int state_diff(const struct state *a, const char *what)
{
	struct state b;
	unsigned int i;
	int n = 0;

	state_read(&b);
	for (i = 0; i < NR_STATE; i++) {
		if (strcmp(a->v[i], b.v[i])) {
			fprintf(stderr, "# %s changed %s: \"%s\"\n", what, state_files[i],
				ep_show(a->v[i], strlen(a->v[i])));
			fprintf(stderr, "#   now \"%s\"\n", ep_show(b.v[i], strlen(b.v[i])));
			n++;
		}
	}
	state_free(&b);
	return n;
}
