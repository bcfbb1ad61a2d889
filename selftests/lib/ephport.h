/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the ephport selftests that run in the test VM: loading the
 * module, reading and writing its files and sysctls, and making sockets.
 * Functions return 0 or a negative errno unless said otherwise.
 */
#ifndef _EPHPORT_SELFTEST_H
#define _EPHPORT_SELFTEST_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE	51
#endif

/*
 * The harness's default of 30 seconds a case is a timing assertion: on a
 * slow or busy machine (software emulation, a debug kernel, another VM
 * beside it) a case is slow, not failed.  Cases that bound their own work
 * get a wide default; run-tests.sh's per-program timeout still ends a hang.
 */
#ifdef TEST_TIMEOUT_DEFAULT
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT	900
#endif

#define EP_SYSFS	"/sys/kernel/ephport"
#define EP_PROCFS	"/proc/net/ephport"

/* The built-in strategies, in registration order. */
extern const char *const ep_strategies[];
extern const int ep_nr_strategies;

/* insmod the module with @params ("" for none), unloading it first. */
int ep_load(const char *params);
void ep_unload(void);
bool ep_loaded(void);

int ep_write(const char *path, const char *value);
int ep_read(const char *path, char *buf, size_t size);
long long ep_read_u64(const char *path);
int ep_sysctl(const char *name, const char *value);	/* net/ipv4/... */

/* A fresh network namespace for the calling process, loopback up. */
int ep_new_netns(void);

/* Sockets.  @family is AF_INET or AF_INET6, addresses are loopback. */
struct ep_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

void ep_loopback(int family, int port, struct ep_addr *a);
int ep_socket(int family, int type);
int ep_listener(int family, int port);		/* fd, or -errno */
/* A child process accepting and closing connections on @fd; returns its pid. */
int ep_acceptor(int fd);
int ep_local_port(int fd);
int ep_bind_port(int fd, int family, int port);	/* 0 or -errno */
int ep_connect_port(int fd, int family, int port);
int ep_set_int(int fd, int level, int opt, int value);
int ep_set_port_range(int fd, int low, int high);	/* IP_LOCAL_PORT_RANGE */
void ep_close_rst(int fd);			/* close with RST */

/* The ways a socket gets a port chosen by the kernel. */
enum ep_kind {
	EP_TCP_CONNECT,
	EP_TCP_BIND,
	EP_TCP_LISTEN,
	EP_UDP_BIND,
	EP_UDP_SENDTO,
	EP_UDP_CONNECT,
	EP_KINDS
};

extern const char *const ep_kind_names[EP_KINDS];
extern const int ep_kind_exhausted[EP_KINDS];	/* the stock errno */

/*
 * A new socket of @kind gets its port from the kernel (connect() and
 * sendto() go to loopback port @dport).  Returns the socket, which keeps
 * the port, and stores the port in *@port; or -errno.
 */
int ep_alloc(int family, enum ep_kind kind, int dport, int *port);

/* A count of allocations read from /proc/net/ephport/stats for @path. */
long long ep_proc_stat(const char *path, const char *column);

#endif /* _EPHPORT_SELFTEST_H */
