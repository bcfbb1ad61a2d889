/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the surface_*_test programs (the files in /sys/kernel/ephport,
 * /proc/net/ephport and /sys/module/ephport/parameters): the allocation
 * paths as the statistics name them, and the state of every file, to see
 * that a refused write changed nothing.  surface_fixture.h has their
 * fixture.
 */
#ifndef _EPHPORT_SURFACE_H
#define _EPHPORT_SURFACE_H

#include "ephport.h"

#define DPORT		5000	/* listeners: outside every range used here */
#define PARAMS		"/sys/module/ephport/parameters"
#define BIG		(64 * 1024)

enum path {
	TCP4_CONNECT,
	TCP6_CONNECT,
	TCP_BIND,
	UDP4,
	UDP6,
	PATHS
};

extern const char *const path_names[PATHS];	/* /proc/net/ephport/stats */
extern const char *const path_attrs[PATHS];	/* /sys/kernel/ephport/stats/ */
extern const int path_exhausted[PATHS];	/* the stock errno: no port left */

/* Every path once, tcp-bind in both families. */
#define NR_EVERY_PATH	6

struct path_family {
	enum path path;
	int family;
};

extern const struct path_family every_path[NR_EVERY_PATH];

/*
 * Let the kernel pick a port on @path (a loopback address of @family for
 * tcp-bind).  Returns the socket, holding the port, or -errno.
 */
int alloc_on(enum path p, int family, int *port);
void close_fds(int *fds, int n);
/* Listeners on DPORT, IPv4 and IPv6: 0 or -errno. */
int listeners(int fds[2]);
int set_range(const char *value);
/* ep_read(), or "<strerror>" in @buf. */
int read_str(const char *path, char *buf, size_t size);
void loopback_str(int family, int port, char *buf, size_t size);

/*
 * The module with its default parameters, and the settings and counters
 * back to their defaults: 0, or -errno.
 */
int fresh_module(void);
/* A known state (strategy, range, counters) that no refused write should change. */
int make_state(void);

#define NR_STATE	19

struct state {
	char *v[NR_STATE];
};

void state_read(struct state *s);
void state_free(struct state *s);
/* The files that differ from @a now, logged with @what; 0 if none. */
int state_diff(const struct state *a, const char *what);

#endif /* _EPHPORT_SURFACE_H */
