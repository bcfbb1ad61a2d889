// SPDX-License-Identifier: GPL-2.0
/*
 * The module core, for every strategy: each allocation path and family
 * lands in the range, exhaustion gives the stock errno only when no port is
 * left, connect() shares ports across 4-tuples and skips bound ports,
 * reserved ports, the unprivileged floor and IP_LOCAL_PORT_RANGE are
 * honoured, SO_REUSEADDR shares only as net.ipv4.ip_autobind_reuse allows,
 * SCTP keeps the stock range, DCCP gets ports of the range from its own
 * tables, and concurrent connect() never duplicates a 4-tuple.
 *
 * The module is loaded once; each test runs in a network namespace of its
 * own and selects its strategy and range through sysfs.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ephport.h"

#define DPORT		5000	/* listeners: outside every range used here */
#define LOW		40000

static const int families[] = { AF_INET, AF_INET6 };

static void close_all(int *fds, int n)
{
	while (n-- > 0)
		ep_close_rst(fds[n]);
}

static void set_range(struct __test_metadata *_metadata, int low, int high)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d %d", low, high);
	ASSERT_EQ(0, ep_write(EP_SYSFS "/range", buf));
}

/*
 * On every path and family: @n allocations each get a distinct port in
 * [@low, @high], and one more gets the stock errno.
 */
static void fill_then_exhaust(struct __test_metadata *_metadata, int n, int low, int high)
{
	int f, k, i, fds[33], port;
	char seen[32];

	ASSERT_GE(32, n);
	ASSERT_GE(32, high - low + 1);
	for (f = 0; f < 2; f++) {
		for (k = 0; k < EP_KINDS; k++) {
			memset(seen, 0, sizeof(seen));
			for (i = 0; i < n; i++) {
				fds[i] = ep_alloc(families[f], k, DPORT, &port);
				ASSERT_LE(0, fds[i]) TH_LOG("%s/%d #%d: %s", ep_kind_names[k],
							    families[f], i, strerror(-fds[i]));
				ASSERT_LE(low, port);
				ASSERT_GE(high, port);
				ASSERT_EQ(0, seen[port - low]);
				seen[port - low] = 1;
			}
			fds[n] = ep_alloc(families[f], k, DPORT, &port);
			EXPECT_EQ(-ep_kind_exhausted[k], fds[n]) TH_LOG("%s/%d", ep_kind_names[k],
									families[f]);
			if (fds[n] >= 0)
				close(fds[n]);
			close_all(fds, n);
		}
	}
}

FIXTURE(alloc) {
	int listener[2];
};

FIXTURE_VARIANT(alloc) {
	const char *strategy;
};

/*
 * One variant per strategy the loaded module offers (available_strategies,
 * a strategy module's too), named as the strategy with '_' for '-'
 * (alloc.random_pick.in_range): registered at run time, as
 * FIXTURE_VARIANT_ADD() does at build time.
 */
static void add_strategy_variants(void)
{
	static FIXTURE_VARIANT(alloc) data[EP_MAX_STRATEGIES];
	static struct __fixture_variant_metadata v[EP_MAX_STRATEGIES];
	static char names[EP_MAX_STRATEGIES][32];
	int i;
	char *c;

	for (i = 0; i < ep_nr_strategies; i++) {
		data[i].strategy = ep_strategies[i];
		snprintf(names[i], sizeof(names[i]), "%s", ep_strategies[i]);
		for (c = names[i]; *c; c++)
			if (*c == '-')
				*c = '_';
		v[i].name = names[i];
		v[i].data = &data[i];
		__register_fixture_variant(&_alloc_fixture_object, &v[i]);
	}
}

FIXTURE_SETUP(alloc)
{
	int i;

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", variant->strategy));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/enabled", "1"));
	for (i = 0; i < 2; i++) {
		self->listener[i] = ep_listener(families[i], DPORT);
		ASSERT_LE(0, self->listener[i]);
	}
}

FIXTURE_TEARDOWN(alloc)
{
	close(self->listener[0]);
	close(self->listener[1]);
}

/* Every path and family allocates inside the range. */
TEST_F(alloc, in_range)
{
	int f, k, i, fds[20], port;

	set_range(_metadata, LOW, LOW + 999);
	for (f = 0; f < 2; f++) {
		for (k = 0; k < EP_KINDS; k++) {
			for (i = 0; i < 20; i++) {
				fds[i] = ep_alloc(families[f], k, DPORT, &port);
				ASSERT_LE(0, fds[i]) TH_LOG("%s/%d: %s", ep_kind_names[k],
							    families[f], strerror(-fds[i]));
				ASSERT_LE(LOW, port);
				ASSERT_GE(LOW + 999, port);
			}
			close_all(fds, 20);
		}
	}
}

/*
 * A 16-port range gives 16 distinct ports to one destination, then the
 * stock errno.
 */
TEST_F(alloc, exhaustion)
{
	set_range(_metadata, LOW, LOW + 15);
	fill_then_exhaust(_metadata, 16, LOW, LOW + 15);
}

/* With every port but one held, each path finds the free one. */
TEST_F(alloc, complete)
{
	int f, round, i, free_port, port, fd, held[64];
	int kinds[] = { EP_TCP_BIND, EP_TCP_CONNECT, EP_TCP_LISTEN, EP_UDP_BIND };

	set_range(_metadata, LOW, LOW + 63);
	for (round = 0; round < 3; round++) {
		for (f = 0; f < 2; f++) {
			for (unsigned int k = 0; k < 4; k++) {
				int type = kinds[k] == EP_UDP_BIND ? SOCK_DGRAM : SOCK_STREAM;

				free_port = LOW + rand() % 64;
				for (i = 0; i < 64; i++) {
					held[i] = -1;
					if (LOW + i == free_port)
						continue;
					held[i] = ep_socket(families[f], type);
					ASSERT_LE(0, held[i]);
					ASSERT_EQ(0, ep_bind_port(held[i], families[f], LOW + i));
				}
				fd = ep_alloc(families[f], kinds[k], DPORT, &port);
				ASSERT_LE(0, fd) TH_LOG("%s/%d: %s", ep_kind_names[kinds[k]],
							families[f], strerror(-fd));
				EXPECT_EQ(free_port, port);
				ep_close_rst(fd);
				for (i = 0; i < 64; i++)
					if (held[i] >= 0)
						close(held[i]);
			}
		}
	}
}

/*
 * connect()s to two destinations (the second a listener on DPORT + 1) both
 * get the one free port @want; one more to the first destination, none.
 */
static void two_destinations_one_port(struct __test_metadata *_metadata, int family,
				      int want)
{
	int l2, a, b, c, pa, pb, pc;

	l2 = ep_listener(family, DPORT + 1);
	ASSERT_LE(0, l2);
	a = ep_alloc(family, EP_TCP_CONNECT, DPORT, &pa);
	ASSERT_LE(0, a);
	b = ep_alloc(family, EP_TCP_CONNECT, DPORT + 1, &pb);
	ASSERT_LE(0, b);
	EXPECT_EQ(want, pa);
	EXPECT_EQ(want, pb);
	c = ep_alloc(family, EP_TCP_CONNECT, DPORT, &pc);
	EXPECT_EQ(-EADDRNOTAVAIL, c);
	if (c >= 0)
		close(c);
	ep_close_rst(a);
	ep_close_rst(b);
	close(l2);
}

/* connect() shares a port between distinct destinations, not within one. */
TEST_F(alloc, four_tuple_sharing)
{
	int f;

	set_range(_metadata, LOW, LOW);
	for (f = 0; f < 2; f++)
		two_destinations_one_port(_metadata, families[f], LOW);
}

/* A port held by an explicit bind() is never used by connect(). */
TEST_F(alloc, connect_skips_bound_ports)
{
	int f, bound;

	set_range(_metadata, LOW, LOW + 1);
	for (f = 0; f < 2; f++) {
		bound = ep_socket(families[f], SOCK_STREAM);
		ASSERT_LE(0, bound);
		ASSERT_EQ(0, ep_bind_port(bound, families[f], LOW));
		two_destinations_one_port(_metadata, families[f], LOW + 1);
		close(bound);
	}
}

/* net.ipv4.ip_local_reserved_ports are never handed out. */
TEST_F(alloc, reserved_ports)
{
	set_range(_metadata, LOW, LOW + 31);
	ASSERT_EQ(0, ep_sysctl("ip_local_reserved_ports", "40000-40015"));
	fill_then_exhaust(_metadata, 16, LOW + 16, LOW + 31);
}

/*
 * Ports below the namespace's net.ipv4.ip_unprivileged_port_start are never
 * handed out, and a range below it cannot be set from that namespace.
 */
TEST_F(alloc, unprivileged_floor)
{
	char buf[32];

	set_range(_metadata, 1990, 2009);
	ASSERT_EQ(0, ep_sysctl("ip_local_port_range", "2000 60999"));
	ASSERT_EQ(0, ep_sysctl("ip_unprivileged_port_start", "2000"));
	EXPECT_EQ(-EINVAL, ep_write(EP_SYSFS "/range", "1500 2499"));
	ASSERT_EQ(0, ep_read(EP_SYSFS "/range", buf, sizeof(buf)));
	EXPECT_STREQ("1990 2009", buf);
	fill_then_exhaust(_metadata, 10, 2000, 2009);
}

/* IP_LOCAL_PORT_RANGE narrows the module's range as it narrows the sysctl. */
TEST_F(alloc, ip_local_port_range)
{
	int kinds[] = { EP_TCP_CONNECT, EP_TCP_BIND, EP_UDP_BIND };
	int f, i, n, fd, port, fds[11];

	set_range(_metadata, LOW, LOW + 999);
	for (f = 0; f < 2; f++) {
		for (unsigned int k = 0; k < 3; k++) {
			int type = kinds[k] == EP_UDP_BIND ? SOCK_DGRAM : SOCK_STREAM;

			for (n = 0; n < 11; n++) {
				fd = ep_socket(families[f], type);
				ASSERT_LE(0, fd);
				ASSERT_EQ(0, ep_set_port_range(fd, LOW + 100, LOW + 109));
				if (kinds[k] == EP_TCP_CONNECT)
					i = ep_connect_port(fd, families[f], DPORT);
				else
					i = ep_bind_port(fd, families[f], 0);
				if (n == 10) {
					EXPECT_EQ(-ep_kind_exhausted[kinds[k]], i);
					close(fd);
					break;
				}
				ASSERT_EQ(0, i) TH_LOG("%s/%d #%d: %s", ep_kind_names[kinds[k]],
						       families[f], n, strerror(-i));
				port = ep_local_port(fd);
				ASSERT_LE(LOW + 100, port);
				ASSERT_GE(LOW + 109, port);
				fds[n] = fd;
			}
			close_all(fds, 10);
		}
	}
}

/* A TCP socket of the effective user @euid (0: this one) with the options. */
static int reuse_socket(int family, uid_t euid, int reuseaddr, int reuseport)
{
	int fd;

	if (euid && seteuid(euid))
		return -errno;
	fd = ep_socket(family, SOCK_STREAM);
	if (euid && seteuid(0))
		return -errno;
	if (fd >= 0 && (ep_set_int(fd, SOL_SOCKET, SO_REUSEADDR, reuseaddr) ||
			ep_set_int(fd, SOL_SOCKET, SO_REUSEPORT, reuseport))) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/*
 * SO_REUSEADDR makes bind(0) share a port only when
 * net.ipv4.ip_autobind_reuse is set, as in the stock kernel.
 */
TEST_F(alloc, autobind_reuse)
{
	int f, a, b, c;

	set_range(_metadata, LOW, LOW);
	for (f = 0; f < 2; f++) {
		ASSERT_EQ(0, ep_sysctl("ip_autobind_reuse", "0"));
		a = reuse_socket(families[f], 0, 1, 0);
		b = reuse_socket(families[f], 0, 1, 0);
		c = ep_socket(families[f], SOCK_STREAM);
		ASSERT_LE(0, a);
		ASSERT_LE(0, b);
		ASSERT_EQ(0, ep_bind_port(a, families[f], 0));
		EXPECT_EQ(LOW, ep_local_port(a));
		EXPECT_EQ(-EADDRINUSE, ep_bind_port(b, families[f], 0));
		close(b);

		ASSERT_EQ(0, ep_sysctl("ip_autobind_reuse", "1"));
		b = reuse_socket(families[f], 0, 1, 0);
		ASSERT_LE(0, b);
		EXPECT_EQ(0, ep_bind_port(b, families[f], 0));
		EXPECT_EQ(LOW, ep_local_port(b));
		/* Without SO_REUSEADDR, no sharing either way. */
		EXPECT_EQ(-EADDRINUSE, ep_bind_port(c, families[f], 0));
		close(a);
		close(b);
		close(c);
	}
}

/*
 * With every port taken and net.ipv4.ip_autobind_reuse set, bind(0) shares
 * a port held by SO_REUSEADDR, but never one both sockets could then
 * listen() on through SO_REUSEPORT: not between two sockets of one user
 * with both options, yes between two users (only one of them can listen).
 * The rules of the stock relaxed autobind, tried as the kernel's own
 * reuseaddr_ports_exhausted does.
 */
TEST_F(alloc, autobind_reuse_reuseport)
{
	static const struct {
		int reuseaddr[2], reuseport[2];
		bool same_user_shares;
	} cases[] = {
		{ { 1, 1 }, { 0, 0 }, true },
		{ { 1, 1 }, { 0, 1 }, true },
		{ { 1, 1 }, { 1, 0 }, true },
		{ { 1, 1 }, { 1, 1 }, false },
		{ { 1, 0 }, { 1, 1 }, false },	/* the second has no SO_REUSEADDR */
	};
	int f, i, u, a, b, ret;

	set_range(_metadata, LOW, LOW);
	ASSERT_EQ(0, ep_sysctl("ip_autobind_reuse", "1"));
	for (f = 0; f < 2; f++) {
		for (i = 0; i < (int)ARRAY_SIZE(cases); i++) {
			for (u = 0; u < 2; u++) {
				/* u = 1: two users, 10 and 20. */
				a = reuse_socket(families[f], u * 10, cases[i].reuseaddr[0],
						 cases[i].reuseport[0]);
				b = reuse_socket(families[f], u * 20, cases[i].reuseaddr[1],
						 cases[i].reuseport[1]);
				ASSERT_LE(0, a);
				ASSERT_LE(0, b);
				ASSERT_EQ(0, ep_bind_port(a, families[f], 0));
				ASSERT_EQ(LOW, ep_local_port(a));
				ret = ep_bind_port(b, families[f], 0);
				if (cases[i].reuseaddr[0] && cases[i].reuseaddr[1] &&
				    (u || cases[i].same_user_shares)) {
					EXPECT_EQ(0, ret) TH_LOG("family %d case %d users %d",
								 families[f], i, u + 1);
					EXPECT_EQ(LOW, ep_local_port(b));
				} else {
					EXPECT_EQ(-EADDRINUSE, ret)
						TH_LOG("family %d case %d users %d",
						       families[f], i, u + 1);
				}
				if (!ret && u && cases[i].reuseport[0] && cases[i].reuseport[1]) {
					/* Only one user may listen on the port. */
					EXPECT_EQ(0, listen(a, 1));
					EXPECT_EQ(-1, listen(b, 1));
				}
				close(a);
				close(b);
			}
		}
	}
	ASSERT_EQ(0, ep_sysctl("ip_autobind_reuse", "0"));
}

/*
 * A socket bound before connect() keeps its port: explicitly, or by
 * bind(0), which the module chose.
 */
TEST_F(alloc, bound_socket_connect)
{
	int f, fd, port;

	set_range(_metadata, LOW, LOW + 99);
	for (f = 0; f < 2; f++) {
		fd = ep_socket(families[f], SOCK_STREAM);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ep_bind_port(fd, families[f], 6000));
		ASSERT_EQ(0, ep_connect_port(fd, families[f], DPORT));
		EXPECT_EQ(6000, ep_local_port(fd));
		ep_close_rst(fd);

		fd = ep_socket(families[f], SOCK_STREAM);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ep_bind_port(fd, families[f], 0));
		port = ep_local_port(fd);
		ASSERT_LE(LOW, port);
		ASSERT_GE(LOW + 99, port);
		ASSERT_EQ(0, ep_connect_port(fd, families[f], DPORT));
		EXPECT_EQ(port, ep_local_port(fd));
		ep_close_rst(fd);
	}
}

/*
 * SCTP asks the range getter too, but ephport steers only TCP and UDP:
 * with a fixed range outside the sysctl's, an SCTP bind() to port 0 still
 * gets a port of net.ipv4.ip_local_port_range, and a TCP one the module's.
 */
TEST_F(alloc, sctp_keeps_stock_range)
{
	int f, i, fd, port, modprobe;

	/* sctp.ko is in the VM; a kernel may also have it built in, or none. */
	modprobe = system("modprobe sctp 2>/dev/null");
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
	if (fd < 0)
		SKIP(return, "no SCTP in this kernel (modprobe sctp %s): %s",
		     modprobe ? "failed" : "worked", strerror(errno));
	close(fd);

	set_range(_metadata, LOW, LOW + 999);
	ASSERT_EQ(0, ep_sysctl("ip_local_port_range", "50000 50999"));
	for (f = 0; f < 2; f++) {
		for (i = 0; i < 10; i++) {
			fd = socket(families[f], SOCK_STREAM, IPPROTO_SCTP);
			ASSERT_LE(0, fd) TH_LOG("SCTP/%d: %s", families[f], strerror(errno));
			ASSERT_EQ(0, ep_bind_port(fd, families[f], 0));
			port = ep_local_port(fd);
			EXPECT_LE(50000, port) TH_LOG("SCTP/%d got %d", families[f], port);
			EXPECT_GE(50999, port) TH_LOG("SCTP/%d got %d", families[f], port);
			close(fd);

			fd = ep_alloc(families[f], EP_TCP_BIND, DPORT, &port);
			ASSERT_LE(0, fd);
			EXPECT_LE(LOW, port);
			EXPECT_GE(LOW + 999, port);
			close(fd);
		}
	}
}

#ifndef SOL_DCCP
#define SOL_DCCP		269
#endif
#define DCCP_SOCKOPT_SERVICE	2	/* <linux/dccp.h> */

/* A DCCP socket with the service code the test's listener takes, or -errno. */
static int dccp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DCCP, IPPROTO_DCCP);
	int service = htonl(42), err;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_DCCP, DCCP_SOCKOPT_SERVICE, &service, sizeof(service))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * DCCP (until 6.16) goes through the TCP functions: its bind(0) and its
 * connect() each get 16 distinct ports of a 16-port range, then the stock
 * errno, the ports committed in DCCP's own tables.
 */
TEST_F(alloc, dccp)
{
	int fds[17], lfd, c, i, err, port;
	char seen[16];

	/* In the VM where the kernel has it as a module. */
	if (system("modprobe dccp_ipv4 2>/dev/null"))
		TH_LOG("modprobe dccp_ipv4 failed");
	lfd = dccp_socket();
	if (lfd < 0)
		SKIP(return, "no DCCP in this kernel: %s", strerror(-lfd));
	ASSERT_EQ(0, ep_bind_port(lfd, AF_INET, DPORT + 1));
	ASSERT_EQ(0, listen(lfd, 64));
	set_range(_metadata, LOW, LOW + 15);

	/* bind(0) first: connected sockets keep their ports a while after. */
	for (c = 0; c < 2; c++) {
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < 17; i++) {
			fds[i] = dccp_socket();
			ASSERT_LE(0, fds[i]);
			err = c ? ep_connect_port(fds[i], AF_INET, DPORT + 1) :
				  ep_bind_port(fds[i], AF_INET, 0);
			if (i == 16)
				break;
			ASSERT_EQ(0, err) TH_LOG("%s #%d: %s", c ? "connect()" : "bind(0)",
						 i, strerror(-err));
			port = ep_local_port(fds[i]);
			ASSERT_LE(LOW, port);
			ASSERT_GE(LOW + 15, port);
			EXPECT_EQ(0, seen[port - LOW]) TH_LOG("port %d twice", port);
			seen[port - LOW] = 1;
		}
		EXPECT_EQ(c ? -EADDRNOTAVAIL : -EADDRINUSE, err);
		close_all(fds, 17);
	}
	close(lfd);
}

/*
 * 8 processes make 150 connect()s each to one destination through a
 * 1,000-port range: exactly 1,000 succeed, on distinct ports, and the 200
 * others fail with EADDRNOTAVAIL.
 */
TEST_F_TIMEOUT(alloc, concurrent_connect, 900)
{
	int pipes[2], go[2], i, j, ok = 0, notavail = 0, other = 0;
	static char seen[1000];
	int result[2];

	set_range(_metadata, LOW, LOW + 999);
	ASSERT_EQ(0, pipe(pipes));
	ASSERT_EQ(0, pipe(go));
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 8; i++) {
		if (fork() == 0) {
			int fds[150], port, n = 0;
			char c;

			close(pipes[0]);
			close(go[1]);
			for (j = 0; j < 150; j++) {
				fds[n] = ep_alloc(AF_INET, EP_TCP_CONNECT, DPORT, &port);
				result[0] = fds[n] < 0 ? fds[n] : 0;
				result[1] = fds[n] < 0 ? 0 : port;
				if (fds[n] >= 0)
					n++;
				if (write(pipes[1], result, sizeof(result)) != sizeof(result))
					_exit(1);
			}
			/* Hold the ports until the parent has counted. */
			close(pipes[1]);
			if (read(go[0], &c, 1) < 0)
				_exit(1);
			close_all(fds, n);
			_exit(0);
		}
	}
	close(pipes[1]);
	close(go[0]);
	while (read(pipes[0], result, sizeof(result)) == sizeof(result)) {
		if (!result[0]) {
			ok++;
			ASSERT_LE(LOW, result[1]);
			ASSERT_GE(LOW + 999, result[1]);
			EXPECT_EQ(0, seen[result[1] - LOW]) TH_LOG("port %d twice", result[1]);
			seen[result[1] - LOW] = 1;
		} else if (result[0] == -EADDRNOTAVAIL) {
			notavail++;
		} else {
			other++;
			TH_LOG("unexpected error %s", strerror(-result[0]));
		}
	}
	close(go[1]);
	for (i = 0; i < 8; i++)
		wait(NULL);
	EXPECT_EQ(1000, ok);
	EXPECT_EQ(200, notavail);
	EXPECT_EQ(0, other);
}

int main(int argc, char **argv)
{
	int ret;

	srand(getpid());
	if (ep_load("") || ep_read_strategies() <= 0) {
		fprintf(stderr, "# cannot load the module and read its strategies\n");
		return KSFT_FAIL;
	}
	add_strategy_variants();
	ret = test_harness_run(argc, argv);
	ep_unload();
	return ret;
}
