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
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

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

/* The strategies built into the module, as available_strategies lists them first. */
#define EP_BUILTIN_STRATEGIES \
	"kernel sequential random-start random-pick hash double-hash random-inc"

/*
 * The strategies the loaded module offers: the built-in ones and any that
 * a strategy module registered, read from available_strategies by
 * ep_read_strategies() (their number, or -errno) into ep_strategies[].
 * Tests that mean "every strategy" use these; a test that needs one
 * strategy's semantics names it.
 */
#define EP_MAX_STRATEGIES	32
extern const char *ep_strategies[EP_MAX_STRATEGIES];
extern int ep_nr_strategies;
int ep_read_strategies(void);
/* Whether @list (available_strategies) names the built-in ones first. */
bool ep_builtins_first(const char *list);

/* insmod the module with @params ("" for none), unloading it first. */
int ep_load(const char *params);
void ep_unload(void);
bool ep_loaded(void);

int ep_write(const char *path, const char *value);
int ep_read(const char *path, char *buf, size_t size);
long long ep_read_u64(const char *path);
/* The whole file, NUL-terminated: its length or -errno. */
ssize_t ep_read_all(const char *path, char *buf, size_t size);
/* The kernel functions the module redirects while enabled, on every kernel: NULL-terminated. */
extern const char *const ep_hooked[];
/*
 * Whether ftrace redirects kernel function @name now, as tracefs lists it
 * in enabled_functions: 1 or 0, or -errno when that cannot be read.
 */
int ep_redirected(const char *name);
/* One write(2) of exactly @len bytes: the count written or -errno. */
ssize_t ep_write_buf(const char *path, const void *buf, size_t len);
/* @s for a log message: C escapes, long values cut short (static buffer). */
const char *ep_show(const char *s, size_t len);
int ep_sysctl(const char *name, const char *value);	/* net/ipv4/... */

/* A fresh network namespace for the calling process, loopback up. */
int ep_new_netns(void);
/* The inode number of the calling process's network namespace, or 0. */
unsigned long ep_netns_inode(void);

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

/* Listeners on loopback, IPv4 and IPv6, each with an ep_acceptor(). */
struct ep_servers {
	int listener[2];
	pid_t acceptor[2];
};

/* On @port: 0 or -errno.  ep_servers_stop() ends the acceptors, closes all. */
int ep_servers_start(struct ep_servers *s, int port);
void ep_servers_stop(struct ep_servers *s);
int ep_local_port(int fd);
int ep_bind_port(int fd, int family, int port);	/* 0 or -errno */
int ep_connect_port(int fd, int family, int port);
int ep_set_int(int fd, int level, int opt, int value);
int ep_set_port_range(int fd, int low, int high);	/* IP_LOCAL_PORT_RANGE */
void ep_close_rst(int fd);			/* close with RST */
/*
 * Keep @fd among the @max live sockets of @fds (*@n so far): when full, in
 * the place of one chosen at random (rand()), which is closed with RST.
 */
void ep_keep(int *fds, int *n, int max, int fd);

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

/*
 * Until *@stop: one short-lived network namespace after another, each with
 * @n allocations inside, every kind in turn, IPv4 (and IPv6 every other
 * one if @both_families), connect() going to a listener on @dport there.
 */
void ep_netns_churn(const int *stop, int dport, int n, bool both_families);

/* A count of allocations read from /proc/net/ephport/stats for @path. */
long long ep_proc_stat(const char *path, const char *column);

/*
 * /proc/net/ephport/allocations, parsed by its columns: "time path local
 * remote probes strategy rule result pid comm" ("-" for a hidden pid and
 * comm).  ep_parse_log() reads an open file (and closes it), ep_read_log()
 * this namespace's; both return the number of entries (only the first
 * EP_MAX_LOG are kept, the rest go to the last slot) or -errno
 * (-EBADMSG: a malformed line).
 */
#define EP_MAX_LOG	64

struct ep_log_entry {
	double time;
	char path[32], local[64], remote[64], strategy[32], rule[32], result[32];
	char pid[16], comm[32];
	long long probes;
};

struct ep_log {
	char header[1024];
	int n;
	struct ep_log_entry e[EP_MAX_LOG];
};

int ep_parse_log(int fd, struct ep_log *l);
int ep_read_log(struct ep_log *l);

/* Child processes: each reports its failed checks in its exit status. */
#define EP_NOBODY	65534

/* setgroups/setresgid/setresuid to 65534, keeping /proc/self readable. */
int ep_become_nobody(void);
/* fork(), nothing buffered on stdout or stderr left to print twice. */
pid_t ep_fork(void);
/* The exit status of @pid; 128 + the signal that ended it; -1 on error. */
int ep_child_status(pid_t pid);
/* @fn run in a child process: its return value (& 0x7f), or as above. */
int ep_in_child(int (*fn)(void *arg), void *arg);
/* One byte through a pipe saying "go": 0, or -1. */
int ep_wait_go(int fd);
int ep_send_go(int fd);

/* In a child, where the harness's EXPECT_*() cannot report: count a failure. */
#define EP_CHILD_CHECK(failed, cond, fmt, ...) do {				\
	if (!(cond)) {								\
		fprintf(stderr, "# %s:%d: %s: " fmt "\n", __FILE__, __LINE__,	\
			#cond, ##__VA_ARGS__);					\
		(failed)++;							\
	}									\
} while (0)

#endif /* _EPHPORT_SELFTEST_H */
