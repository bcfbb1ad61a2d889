// SPDX-License-Identifier: GPL-2.0
/*
 * The occupancy index (/proc/net/ephport/index) agrees with the kernel's
 * tables after churn on every path, range changes, strategy switches and
 * namespaces coming and going; it knows the ports held before its first
 * walk, the module loaded or not, and after the module was disabled;
 * allocation never fails while a port is free; and it leaves DCCP and
 * UDP-Lite, which have tables of their own, alone.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ephport.h"

#define DPORT		5000
#define PORTS		65536

/* Ports in the index, from /proc/net/ephport/index, for "tcp" or "udp". */
static int read_index(const char *proto, char *set)
{
	char line[1 << 16], *tok, *save;
	FILE *f = fopen(EP_PROCFS "/index", "r");

	if (!f)
		return -errno;
	memset(set, 0, PORTS);
	while (fgets(line, sizeof(line), f)) {
		tok = strtok_r(line, "\n ", &save);
		if (!tok || strcmp(tok, proto))
			continue;
		while ((tok = strtok_r(NULL, "\n ", &save))) {
			unsigned int lo, hi;

			if (sscanf(tok, "%u-%u", &lo, &hi) != 2) {
				lo = strtoul(tok, NULL, 10);
				hi = lo;
			}
			while (lo <= hi && lo < PORTS)
				set[lo++] = 1;
		}
	}
	fclose(f);
	return 0;
}

/* Local ports of every socket in /proc/net/{tcp,tcp6} or {udp,udp6}. */
static int read_held(const char *proto, char *set)
{
	char path[64], line[512];
	int v6;

	memset(set, 0, PORTS);
	for (v6 = 0; v6 < 2; v6++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/net/%s%s", proto, v6 ? "6" : "");
		f = fopen(path, "r");
		if (!f)
			return -errno;
		if (!fgets(line, sizeof(line), f)) {
			fclose(f);
			continue;
		}
		while (fgets(line, sizeof(line), f)) {
			char *colon = strchr(line, ':');

			/* "  sl  local_address ..." -> "ADDR:PORT" */
			colon = colon ? strchr(colon + 1, ':') : NULL;
			if (colon)
				set[strtoul(colon + 1, NULL, 16) & 0xffff] = 1;
		}
		fclose(f);
	}
	return 0;
}

/*
 * /proc/net/tcp does not list TCP sockets that are bound but neither
 * listening nor connected: the test tells which ports it holds that way.
 */
static void compare(struct __test_metadata *_metadata, const char *proto,
		    int skip_port, const int *bound, int nbound)
{
	static char index[PORTS], held[PORTS];
	int p, missing = 0, stale = 0;

	ASSERT_EQ(0, read_index(proto, index));
	ASSERT_EQ(0, read_held(proto, held));
	for (p = 0; p < nbound && !strcmp(proto, "tcp"); p++)
		held[bound[p]] = 1;
	for (p = 1; p < PORTS; p++) {
		if (p == skip_port)
			continue;
		if (held[p] && !index[p]) {
			if (missing++ < 5)
				TH_LOG("%s port %d held, index says free", proto, p);
		} else if (!held[p] && index[p]) {
			if (stale++ < 5)
				TH_LOG("%s port %d free, index says held", proto, p);
		}
	}
	EXPECT_EQ(0, missing);
	EXPECT_EQ(0, stale);
}

/*
 * A socket bound to the wildcard address (dual-stack for IPv6) on @port:
 * it conflicts with every other bind of that port, so no two sockets here
 * share a port (a shared port's bit goes when any of them lets it go).
 */
static int bind_any(int family, int type, int port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = ep_socket(family, type);
	int err;

	if (fd < 0)
		return fd;
	if (family == AF_INET)
		err = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	else
		err = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
	if (err) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Allocate and free on every path, from @seed on, until stopped.  Only
 * IPv4 connects: an IPv4 and an IPv6 connection may share a local port.
 */
static void churn(int seed, int *stop)
{
	int fds[64] = { 0 }, n = 0, k = seed, port, fd;

	srand(seed);
	while (!__atomic_load_n(stop, __ATOMIC_RELAXED)) {
		int family = k & 1 ? AF_INET6 : AF_INET;
		enum ep_kind kind = (k / 2) % EP_KINDS;

		k++;
		if (rand() % 4 == 0) {
			/* An explicit bind on a random port of the range. */
			fd = bind_any(family, rand() % 2 ? SOCK_STREAM : SOCK_DGRAM,
				      40000 + rand() % 200);
		} else if (kind == EP_TCP_BIND || kind == EP_UDP_BIND) {
			fd = bind_any(family, kind == EP_TCP_BIND ? SOCK_STREAM : SOCK_DGRAM, 0);
		} else {
			fd = ep_alloc(kind == EP_TCP_CONNECT ? AF_INET : family, kind, DPORT,
				      &port);
		}
		if (fd < 0)
			continue;
		ep_keep(fds, &n, 64, fd);
	}
	while (n-- > 0)
		ep_close_rst(fds[n]);
}

FIXTURE(index) {
	struct ep_servers servers;
};

FIXTURE_SETUP(index)
{
	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, ep_servers_start(&self->servers, DPORT));
}

FIXTURE_TEARDOWN(index)
{
	ep_servers_stop(&self->servers);
	ep_unload();
}

/* No port in the index: none set up yet, or an empty one. */
static void expect_empty(struct __test_metadata *_metadata, const char *proto)
{
	static char index[PORTS];
	int p, n = 0;

	ASSERT_EQ(0, read_index(proto, index));
	for (p = 0; p < PORTS; p++)
		n += index[p];
	EXPECT_EQ(0, n) TH_LOG("%s: %d ports in the index", proto, n);
}

/*
 * A namespace gets its index when a strategy first walks it, filled then
 * from the kernel's tables: the ports held before the module loads are in
 * it; ports taken and let go afterwards leave it as they came.
 */
TEST_F(index, agrees_with_kernel_tables)
{
	static const char *const ranges[] = {
		"40000 40199", "40000-40099", "auto", "40100 40199", "40000 40009",
	};
	int *stop, held[20], bound[10], nbound = 0, i, fd, port;
	pid_t pids[5];

	/* Held before loading: found in the kernel's tables at the first walk. */
	for (i = 0; i < 20; i++) {
		held[i] = bind_any(i % 2 ? AF_INET6 : AF_INET,
				   i % 4 < 2 ? SOCK_STREAM : SOCK_DGRAM, 41000 + i);
		ASSERT_LE(0, held[i]);
		if (i % 4 < 2)
			bound[nbound++] = 41000 + i;
	}
	ASSERT_EQ(0, ep_load("range=40000-40199 strategy=sequential"));
	ASSERT_LT(0, ep_read_strategies());
	expect_empty(_metadata, "tcp");
	expect_empty(_metadata, "udp");
	/* The first walk of each protocol sets its index up. */
	fd = ep_alloc(AF_INET, EP_TCP_BIND, 0, &port);
	ASSERT_LE(0, fd);
	close(fd);
	expect_empty(_metadata, "udp");
	fd = ep_alloc(AF_INET, EP_UDP_BIND, 0, &port);
	ASSERT_LE(0, fd);
	close(fd);
	compare(_metadata, "tcp", DPORT, bound, nbound);
	compare(_metadata, "udp", DPORT, bound, nbound);

	stop = mmap(NULL, sizeof(*stop), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stop);
	*stop = 0;
	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			churn(i + 1, stop);
			_exit(0);
		}
	}
	pids[4] = fork();
	if (pids[4] == 0) {
		/* Short-lived namespaces with traffic inside. */
		ep_netns_churn(stop, DPORT, 20, false);
		_exit(0);
	}
	for (i = 0; i < 40; i++) {
		ep_write(EP_SYSFS "/range", ranges[i % ARRAY_SIZE(ranges)]);
		ep_write(EP_SYSFS "/strategy", ep_strategies[i % ep_nr_strategies]);
		usleep(100000);
	}
	__atomic_store_n(stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 5; i++)
		waitpid(pids[i], NULL, 0);

	/*
	 * Accepted sockets share the listener's port and clear its bit when
	 * they close: the listening port is left out.
	 */
	compare(_metadata, "tcp", DPORT, bound, nbound);
	compare(_metadata, "udp", DPORT, bound, nbound);
	for (i = 0; i < 20; i++)
		close(held[i]);
	compare(_metadata, "tcp", DPORT, NULL, 0);
	compare(_metadata, "udp", DPORT, NULL, 0);
}

static void expect_redirected(struct __test_metadata *_metadata, int yes)
{
	unsigned int i;

	for (i = 0; ep_hooked[i]; i++) {
		int r = ep_redirected(ep_hooked[i]);

		if (r < 0) {
			TH_LOG("no tracefs enabled_functions (%s): redirections not checked",
			       strerror(-r));
			return;
		}
		EXPECT_EQ(yes, r) TH_LOG("%s %sredirected", ep_hooked[i], r ? "" : "not ");
	}
}

/*
 * Disabled, the module redirects no kernel function, so its index misses
 * the ports taken and let go meanwhile; enabled again, the next walk of
 * each protocol fills the index again from the kernel's tables.
 */
TEST_F(index, refilled_after_disabled)
{
	int held[20], bound[20], nbound = 0, i, fd, port;

	ASSERT_EQ(0, ep_load("range=40000-40199 strategy=sequential"));
	expect_redirected(_metadata, 1);
	for (i = 0; i < 20; i++) {
		held[i] = bind_any(i % 2 ? AF_INET6 : AF_INET,
				   i % 4 < 2 ? SOCK_STREAM : SOCK_DGRAM, 41000 + i);
		ASSERT_LE(0, held[i]);
	}
	for (i = 0; i < 2; i++) {
		fd = ep_alloc(AF_INET, i ? EP_UDP_BIND : EP_TCP_BIND, 0, &port);
		ASSERT_LE(0, fd);
		close(fd);
	}

	ASSERT_EQ(0, ep_write(EP_SYSFS "/enabled", "0"));
	expect_redirected(_metadata, 0);
	/* Unseen by the module: half let go, as many others taken. */
	for (i = 0; i < 10; i++) {
		close(held[i]);
		held[i] = bind_any(i % 2 ? AF_INET6 : AF_INET,
				   i % 4 < 2 ? SOCK_STREAM : SOCK_DGRAM, 41100 + i);
		ASSERT_LE(0, held[i]);
	}
	for (i = 0; i < 20; i++)
		if (i % 4 < 2)
			bound[nbound++] = (i < 10 ? 41100 : 41000) + i;

	ASSERT_EQ(0, ep_write(EP_SYSFS "/enabled", "1"));
	expect_redirected(_metadata, 1);
	for (i = 0; i < 2; i++) {
		fd = ep_alloc(AF_INET, i ? EP_UDP_BIND : EP_TCP_BIND, 0, &port);
		ASSERT_LE(0, fd);
		close(fd);
	}
	compare(_metadata, "tcp", DPORT, bound, nbound);
	compare(_metadata, "udp", DPORT, bound, nbound);
	for (i = 0; i < 20; i++)
		close(held[i]);
}

/* Whatever the index says, every free port of the range is found. */
TEST_F(index, never_fails_while_a_port_is_free)
{
	int s, round, i, n, port, fds[65], held[64];

	/* Every strategy the module offers, each selected at load. */
	ASSERT_EQ(0, ep_load(""));
	ASSERT_LT(0, ep_read_strategies());
	for (s = 0; s < ep_nr_strategies; s++) {
		char params[64];

		snprintf(params, sizeof(params), "range=40000-40063 strategy=%s",
			 ep_strategies[s]);
		ASSERT_EQ(0, ep_load(params));
		for (round = 0; round < 3; round++) {
			int nheld = 0, free_ports;

			/* Hold a random half, release them, hold another half. */
			for (i = 0; i < 64; i++) {
				held[i] = -1;
				if (rand() % 2)
					continue;
				held[i] = ep_socket(AF_INET, SOCK_STREAM);
				ASSERT_EQ(0, ep_bind_port(held[i], AF_INET, 40000 + i));
				nheld++;
			}
			free_ports = 64 - nheld;
			for (n = 0; n < 64; n++) {
				fds[n] = ep_alloc(AF_INET, EP_TCP_BIND, 0, &port);
				if (fds[n] < 0)
					break;
			}
			EXPECT_EQ(free_ports, n) TH_LOG("%s: %d of %d free ports found",
							ep_strategies[s], n, free_ports);
			EXPECT_EQ(-EADDRINUSE, fds[n]);
			while (n-- > 0)
				close(fds[n]);
			for (i = 0; i < 64; i++)
				if (held[i] >= 0)
					close(held[i]);
		}
	}
}

/* A socket of @type and @protocol bound to @port (0: ephport chooses), or -errno. */
static int bind_proto(int type, int protocol, int port)
{
	int fd = socket(AF_INET, type, protocol);
	int err;

	if (fd < 0)
		return -errno;
	err = ep_bind_port(fd, AF_INET, port);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* A bind(0) of @type/@protocol: its port, or -errno. */
static int bound_port(int type, int protocol, int *fd)
{
	*fd = bind_proto(type, protocol, 0);
	return *fd < 0 ? *fd : ep_local_port(*fd);
}

/*
 * With "sequential", a bind(0) of @type/@protocol after one that got
 * @port gets @port + 1 when @type/@held_protocol holds that port: a port
 * held in another table is free for it.
 */
static void after_other(struct __test_metadata *_metadata, const char *name,
			int type, int protocol, int held_type, int held_protocol)
{
	int first, second, held, port, expected;

	port = bound_port(type, protocol, &first);
	ASSERT_LE(0, port) TH_LOG("%s bind(0): %s", name, strerror(-port));
	expected = port + 1;
	held = bind_proto(held_type, held_protocol, expected);
	ASSERT_LE(0, held) TH_LOG("port %d: %s", expected, strerror(-held));
	port = bound_port(type, protocol, &second);
	EXPECT_EQ(expected, port) TH_LOG("%s bind(0) next to a port held in another table",
					 name);
	close(held);
	close(first);
	if (second >= 0)
		close(second);
}

/*
 * DCCP and UDP-Lite go through TCP's and UDP's functions but keep their
 * ports in tables of their own, as the stock kernel does: a port a TCP
 * (UDP) socket holds is free for DCCP (UDP-Lite), and the other way round.
 * The index, which mirrors the TCP and UDP tables, must not steer either
 * walk past it.
 */
static void own_table(struct __test_metadata *_metadata, const char *name,
		      int type, int protocol, int main_type)
{
	const char *main_name = main_type == SOCK_STREAM ? "TCP" : "UDP";
	int fd, i;

	fd = socket(AF_INET, type, protocol);
	if (fd < 0)
		SKIP(return, "no %s in this kernel: %s", name, strerror(errno));
	close(fd);

	ASSERT_EQ(0, ep_load("range=40000-40099 strategy=sequential"));
	/* Twice: the second time, every index is set up. */
	for (i = 0; i < 2; i++) {
		after_other(_metadata, name, type, protocol, main_type, 0);
		after_other(_metadata, main_name, main_type, 0, type, protocol);
	}
}

TEST_F(index, udplite_own_table)
{
	/* UDP-Lite is built into the kernels that have it (until 7.x). */
	own_table(_metadata, "UDP-Lite", SOCK_DGRAM, IPPROTO_UDPLITE, SOCK_DGRAM);
}

TEST_F(index, dccp_own_table)
{
	/* In the VM where the kernel has it as a module (until 6.16). */
	if (system("modprobe dccp_ipv4 2>/dev/null"))
		TH_LOG("modprobe dccp_ipv4 failed");
	own_table(_metadata, "DCCP", SOCK_DCCP, IPPROTO_DCCP, SOCK_STREAM);
}

int main(int argc, char **argv)
{
	srand(getpid());
	return test_harness_run(argc, argv);
}
