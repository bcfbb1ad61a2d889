// SPDX-License-Identifier: GPL-2.0
/*
 * Scoped policies (/sys/kernel/config/ephport/rules): a rule's range and
 * strategy apply to the sockets it matches, by cgroup, uid, network
 * namespace, protocol and path, and to nothing else; the first enabled
 * rule by priority wins; a netns rule outlives its namespace without
 * matching the next one with its number; rules come and go while their
 * sockets allocate; a cgroup may go before its rule; bad input changes
 * nothing; statistics and the allocation log name the rule.
 *
 * The module is loaded once; each test runs in a network namespace of its
 * own, with the global range 40000-49999 and strategy random-pick, and
 * removes its rules and cgroups when it ends.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ephport.h"

#define RULES		"/sys/kernel/config/ephport/rules"
#define CGROOT		"/sys/fs/cgroup"
#define DPORT		5000
#define GLOW		40000
#define GHIGH		49999

static int rule_set(const char *name, const char *attr, const char *value)
{
	char path[256];

	snprintf(path, sizeof(path), RULES "/%s/%s", name, attr);
	return ep_write(path, value);
}

static int rule_get(const char *name, const char *attr, char *buf, size_t size)
{
	char path[256];
	int err;

	snprintf(path, sizeof(path), RULES "/%s/%s", name, attr);
	err = ep_read(path, buf, size);
	buf[strcspn(buf, "\n")] = '\0';
	return err;
}

/* A rule with the given attribute/value pairs, then enabled; 0 or -errno. */
static int rule_add(const char *name, const char *const *kv)
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

#define RULE(...)	((const char *const[]){ __VA_ARGS__, NULL })

static int rule_del(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), RULES "/%s", name);
	return rmdir(path) ? -errno : 0;
}

static long long rule_stat(const char *name, const char *key)
{
	char path[256], buf[256], *p;

	snprintf(path, sizeof(path), RULES "/%s/stats", name);
	if (ep_read(path, buf, sizeof(buf)))
		return -1;
	p = strstr(buf, key);
	return p ? atoll(p + strlen(key) + 1) : -1;
}

static int cg_make(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), CGROOT "/%s", name);
	return mkdir(path, 0755) && errno != EEXIST ? -errno : 0;
}

/* Move the calling process into cgroup @name ("" for the root). */
static int cg_enter(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), CGROOT "/%s/cgroup.procs", name);
	return ep_write(path, "0");
}

static unsigned long netns_inode(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : st.st_ino;
}

/* Whether sockets remember their cgroup (CONFIG_SOCK_CGROUP_DATA). */
static bool have_sock_cgroup;

#define NO_SOCK_CGROUP	"cgroup rules need CONFIG_SOCK_CGROUP_DATA"

static bool in(int port, int low, int high)
{
	return port >= low && port <= high;
}

/* connect() to DPORT; the local port, or -errno. */
static int connect_port(int family, int *fd)
{
	int port;

	*fd = ep_alloc(family, EP_TCP_CONNECT, DPORT, &port);
	return *fd < 0 ? *fd : port;
}

/*
 * In a child: after @setup, @n connect()s to one destination all get a port
 * in [low, high], and one more fails with EADDRNOTAVAIL.  Returns the
 * child's exit status (0: as expected).
 */
static int child_exhausts(int (*setup)(const void *), const void *arg,
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

static int enter_cgroup(const void *name)
{
	return cg_enter(name);
}

static int become_uid(const void *uid)
{
	return setuid(*(const uid_t *)uid);
}

static void remove_all_rules(void)
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

FIXTURE(rules) {
	int listener;
};

FIXTURE_SETUP(rules)
{
	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, ep_write(EP_SYSFS "/enabled", "1"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", "random-pick"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/range", "40000 49999"));
	self->listener = ep_listener(AF_INET, DPORT);
	ASSERT_LE(0, self->listener);
}

FIXTURE_TEARDOWN(rules)
{
	remove_all_rules();
	cg_enter("");
	rmdir(CGROOT "/ep_a");
	rmdir(CGROOT "/ep_a/sub");
	rmdir(CGROOT "/ep_a");
	rmdir(CGROOT "/ep_b");
	close(self->listener);
}

/*
 * A process in cgroup A (or a child cgroup of A) gets ports from A's
 * 10-port range only and EADDRNOTAVAIL on the 11th connection; a process
 * outside A keeps the global range.
 */
TEST_F(rules, cgroup)
{
	int i, fd, port;

	if (!have_sock_cgroup)
		SKIP(return, NO_SOCK_CGROUP);
	ASSERT_EQ(0, cg_make("ep_a"));
	ASSERT_EQ(0, cg_make("ep_a/sub"));
	ASSERT_EQ(0, rule_add("a", RULE("cgroup", "/ep_a", "range", "50000 50009")));

	EXPECT_EQ(0, child_exhausts(enter_cgroup, "ep_a", 10, 50000, 50009));
	/* The first child's ports are in TIME_WAIT now: move the range. */
	ASSERT_EQ(0, rule_set("a", "range", "50010 50019"));
	EXPECT_EQ(0, child_exhausts(enter_cgroup, "ep_a/sub", 10, 50010, 50019));
	for (i = 0; i < 20; i++) {
		port = connect_port(AF_INET, &fd);
		EXPECT_TRUE(in(port, GLOW, GHIGH)) TH_LOG("outside A: %d", port);
	}
	EXPECT_EQ(20, rule_stat("a", "allocations"));
	EXPECT_EQ(2, rule_stat("a", "failures"));
}

/* A uid rule: the uid's sockets only. */
TEST_F(rules, uid)
{
	uid_t uid = 4321, other = 4322;
	int fd, port;

	ASSERT_EQ(0, rule_add("u", RULE("uid", "4300-4321", "range", "50100 50104")));
	EXPECT_EQ(0, child_exhausts(become_uid, &uid, 5, 50100, 50104));
	EXPECT_NE(0, child_exhausts(become_uid, &other, 5, 50100, 50104));
	port = connect_port(AF_INET, &fd);
	EXPECT_TRUE(in(port, GLOW, GHIGH)) TH_LOG("uid 0: %d", port);
}

/* A netns rule: that namespace's sockets only. */
TEST_F(rules, netns)
{
	char ino[32];
	int status, fd, port;
	pid_t pid;

	snprintf(ino, sizeof(ino), "%lu", netns_inode());
	ASSERT_EQ(0, rule_add("n", RULE("netns", ino, "range", "50200 50209")));
	EXPECT_EQ(0, child_exhausts(NULL, NULL, 10, 50200, 50209));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (ep_new_netns() || ep_listener(AF_INET, DPORT) < 0)
			_exit(10);
		port = connect_port(AF_INET, &fd);
		_exit(in(port, GLOW, GHIGH) ? 0 : 11);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("another netns got a rule port");
}

/*
 * Namespace inode numbers are given again as soon as a namespace is gone.
 * A rule written for namespace A matches no namespace that gets A's
 * number later (its sockets get the global settings), and reads back
 * "A (gone)".
 */
#define REUSE_SECONDS	60

/* Holding numbers ran into a limit: -2 (skip, saying which), or -1. */
static int out_of_namespaces(int n)
{
	int err = errno;

	if (err == EINVAL && !n) {
		fprintf(stderr, "# no UTS namespaces in this kernel (CONFIG_UTS_NS)\n");
		return -2;
	}
	if (err != EMFILE && err != ENFILE && err != ENOSPC && err != ENOMEM) {
		fprintf(stderr, "# UTS namespace %d: %s\n", n, strerror(err));
		return -1;
	}
	fprintf(stderr, "# A's number not reached: %s after %d UTS namespaces\n",
		strerror(err), n);
	return -2;
}

/*
 * Make the calling process's network namespace one with inode number @a,
 * which the namespace that had it gave back or is about to.  Namespaces
 * of every type take the lowest free number of one pool, and a network
 * namespace takes dozens more for its /proc/net files right after its
 * own: so first the numbers below @a are filled with UTS namespaces (one
 * number each, kept open) until one gets @a itself; that one goes (its
 * number is free again at once) and the next network namespace gets @a.
 * Returns how many UTS namespaces that took, -1 on error, or -2 if @a did
 * not come back within REUSE_SECONDS, or a limit on namespaces or open
 * files, or a kernel without UTS namespaces, stopped it.
 */
static int netns_with_number(unsigned long a)
{
	time_t end = time(NULL) + REUSE_SECONDS;
	struct rlimit fds = { 1 << 16, 1 << 16 };
	struct stat st;
	int n = 0;

	/* One descriptor per number held: more than the default 1024. */
	setrlimit(RLIMIT_NOFILE, &fds);
	while (time(NULL) < end) {
		if (unshare(CLONE_NEWUTS) || stat("/proc/self/ns/uts", &st))
			return out_of_namespaces(n);
		n++;
		if (st.st_ino < a) {
			if (open("/proc/self/ns/uts", O_RDONLY) < 0)
				return out_of_namespaces(n);
			continue;
		}
		if (st.st_ino > a) {
			usleep(20000);	/* the cleanup of A has not given it back yet */
			continue;
		}
		if (unshare(CLONE_NEWUTS) || ep_new_netns()) {
			fprintf(stderr, "# A's namespace again: %s\n", strerror(errno));
			return -1;
		}
		if (netns_inode() == a)
			return n;
	}
	return -2;
}

/* Whether rule @name's netns reads @want within 5 s (the sockets' references go). */
static bool rule_netns_becomes(const char *name, const char *want)
{
	char got[48] = "";
	int i;

	for (i = 0; i < 250; i++) {
		if (!rule_get(name, "netns", got, sizeof(got)) && !strcmp(got, want))
			return true;
		usleep(20000);
	}
	fprintf(stderr, "# netns reads \"%s\", not \"%s\"\n", got, want);
	return false;
}

TEST_F(rules, netns_number_reused)
{
	char ino[32], want[48], got[48], go;
	int to_a[2], from_a[2], status, i, fd, port;
	unsigned long a = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_a));
	ASSERT_EQ(0, pipe(from_a));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Namespace A: the rule applies here, until A is gone. */
		if (ep_new_netns() || ep_listener(AF_INET, DPORT) < 0)
			_exit(10);
		a = netns_inode();
		if (write(from_a[1], &a, sizeof(a)) != sizeof(a) ||
		    read(to_a[0], &go, 1) != 1)
			_exit(11);
		port = connect_port(AF_INET, &fd);
		_exit(in(port, 50200, 50209) ? 0 : 12);
	}
	ASSERT_EQ((ssize_t)sizeof(a), read(from_a[0], &a, sizeof(a)));
	snprintf(ino, sizeof(ino), "%lu", a);
	ASSERT_EQ(0, rule_add("a", RULE("netns", ino, "range", "50200 50209")));
	ASSERT_EQ(0, rule_get("a", "netns", got, sizeof(got)));
	EXPECT_STREQ(ino, got);
	ASSERT_EQ(1, write(to_a[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("namespace A did not get the rule's range");
	EXPECT_EQ(1, rule_stat("a", "allocations"));

	/* A is gone once its last reference is, before its cleanup. */
	snprintf(want, sizeof(want), "%lu (gone)", a);
	ASSERT_TRUE(rule_netns_becomes("a", want));

	/* A new namespace with A's number: its sockets get the global settings. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		i = netns_with_number(a);
		if (i == -2)
			_exit(KSFT_SKIP);
		if (i < 0)
			_exit(11);
		if (ep_listener(AF_INET, DPORT) < 0)
			_exit(12);
		port = connect_port(AF_INET, &fd);
		if (!in(port, GLOW, GHIGH)) {
			fprintf(stderr, "# namespace %lu again: port %d\n", a, port);
			_exit(13);
		}
		if (rule_get("a", "netns", got, sizeof(got)) || strcmp(got, want)) {
			fprintf(stderr, "# netns reads \"%s\"\n", got);
			_exit(14);
		}
		/* Written again, the number names the namespace that has it now. */
		if (rule_set("a", "netns", ino) || rule_get("a", "netns", got, sizeof(got)) ||
		    strcmp(got, ino)) {
			fprintf(stderr, "# netns written again reads \"%s\"\n", got);
			_exit(15);
		}
		fprintf(stderr, "# namespace %lu again, after %d UTS namespaces\n", a, i);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == KSFT_SKIP)
		SKIP(return, "A's number not back within %d s, or stopped (above)",
		     REUSE_SECONDS);
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("the rule matched another namespace");
	EXPECT_EQ(1, rule_stat("a", "allocations"));
	EXPECT_TRUE(rule_netns_becomes("a", want));
}

/* Lower priority first, then name; a disabled rule does not count. */
TEST_F(rules, priority)
{
	int fd, port;

	ASSERT_EQ(0, rule_add("p1", RULE("proto", "tcp", "range", "50300 50309",
					 "priority", "20")));
	ASSERT_EQ(0, rule_add("p2", RULE("proto", "tcp", "range", "50400 50409",
					 "priority", "10")));
	port = connect_port(AF_INET, &fd);
	EXPECT_TRUE(in(port, 50400, 50409)) TH_LOG("priority 10 first: %d", port);

	ASSERT_EQ(0, rule_set("p2", "priority", "30"));
	port = connect_port(AF_INET, &fd);
	EXPECT_TRUE(in(port, 50300, 50309)) TH_LOG("priority 20 first: %d", port);

	ASSERT_EQ(0, rule_set("p2", "priority", "20"));
	port = connect_port(AF_INET, &fd);
	EXPECT_TRUE(in(port, 50300, 50309)) TH_LOG("equal priority, p1 first: %d", port);

	ASSERT_EQ(0, rule_set("p1", "enabled", "0"));
	port = connect_port(AF_INET, &fd);
	EXPECT_TRUE(in(port, 50400, 50409)) TH_LOG("p1 disabled: %d", port);

	ASSERT_EQ(0, rule_set("p2", "enabled", "0"));
	port = connect_port(AF_INET, &fd);
	EXPECT_TRUE(in(port, GLOW, GHIGH)) TH_LOG("both disabled: %d", port);
}

/* proto and path select what they say, on every allocation path. */
TEST_F(rules, proto_path)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int f, k, fd, port, udp, connect, low, high;

	ASSERT_LE(0, ep_listener(AF_INET6, DPORT));
	ASSERT_EQ(0, rule_add("udp", RULE("proto", "udp", "range", "50500 50509")));
	ASSERT_EQ(0, rule_add("conn", RULE("path", "connect", "range", "50600 50609")));
	for (f = 0; f < 2; f++) {
		for (k = 0; k < EP_KINDS; k++) {
			fd = ep_alloc(families[f], k, DPORT, &port);
			ASSERT_LE(0, fd) TH_LOG("%s: %s", ep_kind_names[k], strerror(-fd));
			udp = k >= EP_UDP_BIND;
			connect = k == EP_TCP_CONNECT;
			low = udp ? 50500 : connect ? 50600 : GLOW;
			high = udp ? 50509 : connect ? 50609 : GHIGH;
			EXPECT_TRUE(in(port, low, high))
				TH_LOG("%s: %d", ep_kind_names[k], port);
			close(fd);
		}
	}
}

/* An IPv6 socket connecting to 127.0.0.1 as ::ffff:127.0.0.1: its port. */
static int connect_mapped(int *fd)
{
	struct sockaddr_in6 sin6 = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(DPORT),
	};

	sin6.sin6_addr.s6_addr[10] = 0xff;
	sin6.sin6_addr.s6_addr[11] = 0xff;
	sin6.sin6_addr.s6_addr[12] = 127;
	sin6.sin6_addr.s6_addr[15] = 1;
	*fd = ep_socket(AF_INET6, SOCK_STREAM);
	if (*fd < 0)
		return *fd;
	if (connect(*fd, (struct sockaddr *)&sin6, sizeof(sin6)))
		return -errno;
	return ep_local_port(*fd);
}

/*
 * family selects the allocations of that family, on every path; an IPv6
 * socket connecting to an IPv4-mapped address takes the IPv4 path and is
 * IPv4, as the log shows it.
 */
TEST_F(rules, family)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int f, k, fd, port, low, high;
	char buf[16];

	ASSERT_LE(0, ep_listener(AF_INET6, DPORT));
	ASSERT_EQ(0, rule_add("v6", RULE("family", "ipv6", "range", "50700 50709")));
	ASSERT_EQ(0, rule_get("v6", "family", buf, sizeof(buf)));
	EXPECT_STREQ("ipv6", buf);
	for (f = 0; f < 2; f++) {
		for (k = 0; k < EP_KINDS; k++) {
			fd = ep_alloc(families[f], k, DPORT, &port);
			ASSERT_LE(0, fd) TH_LOG("%s: %s", ep_kind_names[k], strerror(-fd));
			low = families[f] == AF_INET6 ? 50700 : GLOW;
			high = families[f] == AF_INET6 ? 50709 : GHIGH;
			EXPECT_TRUE(in(port, low, high))
				TH_LOG("%s %s: %d", families[f] == AF_INET6 ? "ipv6" : "ipv4",
				       ep_kind_names[k], port);
			close(fd);
		}
	}
	port = connect_mapped(&fd);
	EXPECT_TRUE(in(port, GLOW, GHIGH)) TH_LOG("v4-mapped, ipv6 rule: %d", port);
	close(fd);

	ASSERT_EQ(0, rule_add("v4", RULE("family", "ipv4", "range", "50800 50809")));
	port = connect_mapped(&fd);
	EXPECT_TRUE(in(port, 50800, 50809)) TH_LOG("v4-mapped, ipv4 rule: %d", port);
	close(fd);
	for (k = 0; k < EP_KINDS; k++) {
		fd = ep_alloc(AF_INET, k, DPORT, &port);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", ep_kind_names[k], strerror(-fd));
		EXPECT_TRUE(in(port, 50800, 50809)) TH_LOG("ipv4 %s: %d", ep_kind_names[k], port);
		close(fd);
	}

	/* Cleared: the rule matches both families again. */
	ASSERT_EQ(0, rule_set("v4", "family", "\n"));
	ASSERT_EQ(0, rule_get("v4", "family", buf, sizeof(buf)));
	EXPECT_STREQ("", buf);
	ASSERT_EQ(0, rule_set("v6", "enabled", "0"));
	fd = ep_alloc(AF_INET6, EP_UDP_BIND, DPORT, &port);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(in(port, 50800, 50809)) TH_LOG("ipv6, any-family rule: %d", port);
	close(fd);
}

/* A rule's strategy, also "kernel" over a rule's range, on every path. */
TEST_F(rules, strategy)
{
	static const char *const strategies[] = { "kernel", "sequential", "hash" };
	char ino[32];
	int s, k, fd, port, prev = 0;

	ASSERT_LE(0, ep_listener(AF_INET6, DPORT));
	snprintf(ino, sizeof(ino), "%lu", netns_inode());
	ASSERT_EQ(0, rule_add("s", RULE("netns", ino, "range", "50700 50799")));
	for (s = 0; s < 3; s++) {
		ASSERT_EQ(0, rule_set("s", "strategy", strategies[s]));
		for (k = 0; k < EP_KINDS; k++) {
			fd = ep_alloc(k % 2 ? AF_INET6 : AF_INET, k, DPORT, &port);
			ASSERT_LE(0, fd) TH_LOG("%s: %s", ep_kind_names[k], strerror(-fd));
			EXPECT_TRUE(in(port, 50700, 50799))
				TH_LOG("%s %s: %d", strategies[s], ep_kind_names[k], port);
		}
	}
	/* A strategy alone: sequential in the global range. */
	ASSERT_EQ(0, rule_set("s", "range", "\n"));
	ASSERT_EQ(0, rule_set("s", "strategy", "sequential"));
	for (k = 0; k < 5; k++) {
		port = connect_port(AF_INET, &fd);
		ASSERT_TRUE(in(port, GLOW, GHIGH)) TH_LOG("%d", port);
		if (prev && prev != GHIGH)
			EXPECT_EQ(prev + 1, port);
		prev = port;
	}
}

/* The log names the rule and its strategy; stats count it. */
TEST_F(rules, log_and_stats)
{
	char ino[32], line[512], strategy[32], rule[32], path[32];
	int fd, port, found = 0, other = 0;
	FILE *f;

	snprintf(ino, sizeof(ino), "%lu", netns_inode());
	ASSERT_EQ(0, rule_add("logged", RULE("netns", ino, "proto", "udp",
					     "strategy", "sequential")));
	fd = ep_alloc(AF_INET, EP_UDP_BIND, 0, &port);
	ASSERT_LE(0, fd);
	fd = ep_alloc(AF_INET, EP_TCP_BIND, 0, &port);
	ASSERT_LE(0, fd);

	f = fopen(EP_PROCFS "/allocations", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %31s %*s %*s %*s %31s %31s", path, strategy,
			   rule) != 3 || !strcmp(path, "path"))
			continue;
		if (!strcmp(path, "udp4")) {
			EXPECT_STREQ("logged", rule);
			EXPECT_STREQ("sequential", strategy);
			found++;
		} else {
			EXPECT_STREQ("-", rule);
			EXPECT_STREQ("random-pick", strategy);
			other++;
		}
	}
	fclose(f);
	EXPECT_EQ(1, found);
	EXPECT_EQ(1, other);
	EXPECT_EQ(1, rule_stat("logged", "allocations"));
	EXPECT_EQ(1, rule_stat("logged", "probes"));

	/* The rule table is in the initial namespace's stats, not here. */
	f = fopen(EP_PROCFS "/stats", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		EXPECT_NE(0, strncmp(line, "logged ", 7));
	fclose(f);
	f = fopen("/proc/1/net/ephport/stats", "r");
	ASSERT_NE(NULL, f);
	found = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long prio, en, allocs;

		if (sscanf(line, "logged %llu %llu %llu", &prio, &en, &allocs) == 3) {
			EXPECT_EQ(100ULL, prio);
			EXPECT_EQ(1ULL, en);
			EXPECT_EQ(1ULL, allocs);
			found++;
		}
	}
	fclose(f);
	EXPECT_EQ(1, found);
}

/*
 * Rules removed, added and changed while their cgroup allocates: every
 * allocation succeeds, in the rule's range or the global one.
 */
TEST_F_TIMEOUT(rules, churn, 900)
{
	int i, status, go[2];
	pid_t pid, acceptor;
	int *done;

	if (!have_sock_cgroup)
		SKIP(return, NO_SOCK_CGROUP);
	ASSERT_EQ(0, cg_make("ep_a"));
	acceptor = ep_acceptor(self->listener);
	ASSERT_LT(0, acceptor);
	done = mmap(NULL, sizeof(*done), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, done);
	*done = 0;
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd, port, bad = 0, ruled = 0, n = 0;
		char c;

		close(go[1]);
		if (cg_enter("ep_a"))
			_exit(10);
		fcntl(go[0], F_SETFL, O_NONBLOCK);
		while (read(go[0], &c, 1) < 0 && n < 100000) {
			fd = ep_alloc(AF_INET, n % 2 ? EP_UDP_BIND : EP_TCP_CONNECT,
				      DPORT, &port);
			if (fd < 0 || !(in(port, 50800, 50899) || in(port, GLOW, GHIGH))) {
				fprintf(stderr, "# allocation %d: %d %d\n", n, fd, port);
				bad++;
			}
			ruled += fd >= 0 && in(port, 50800, 50899);
			if (fd >= 0)
				ep_close_rst(fd);
			__atomic_store_n(done, ++n, __ATOMIC_RELAXED);
		}
		fprintf(stderr, "# %d allocations during churn, %d by the rule\n", n, ruled);
		_exit(bad ? 11 : !ruled ? 12 : 0);
	}
	close(go[0]);
	/* At least 40 rounds, and until the child made 2000 allocations. */
	for (i = 0; i < 5000; i++) {
		if (i >= 40 && __atomic_load_n(done, __ATOMIC_RELAXED) >= 2000)
			break;
		ASSERT_EQ(0, rule_add("churn", RULE("cgroup", "/ep_a",
						    "range", "50800 50899")));
		ASSERT_EQ(0, rule_set("churn", "strategy",
				      i % 2 ? "sequential" : "kernel"));
		ASSERT_EQ(0, rule_set("churn", "range", i % 2 ? "50800 50849" : "50850 50899"));
		ASSERT_EQ(0, rule_del("churn"));
	}
	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	kill(acceptor, SIGKILL);
	waitpid(acceptor, NULL, 0);
}

/*
 * A cgroup removed while its rule exists: the rule stays, still applies
 * to the sockets created in it, and goes when deleted.
 */
TEST_F(rules, cgroup_removed)
{
	int status, go[2], ready[2], fd, port;
	char buf[64], c;
	pid_t pid;

	if (!have_sock_cgroup)
		SKIP(return, NO_SOCK_CGROUP);
	ASSERT_EQ(0, cg_make("ep_b"));
	ASSERT_EQ(0, rule_add("gone", RULE("cgroup", "/ep_b", "range", "50900 50909")));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int s;

		if (cg_enter("ep_b"))
			_exit(10);
		s = ep_socket(AF_INET, SOCK_STREAM);
		if (s < 0 || cg_enter(""))
			_exit(11);
		/* The parent removes the cgroup, then lets us go on. */
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(12);
		if (ep_connect_port(s, AF_INET, DPORT))
			_exit(13);
		_exit(in(ep_local_port(s), 50900, 50909) ? 0 : 14);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	EXPECT_EQ(0, rmdir(CGROOT "/ep_b")) TH_LOG("rmdir: %s", strerror(errno));
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));

	ASSERT_EQ(0, rule_get("gone", "cgroup", buf, sizeof(buf)));
	EXPECT_STREQ("/ep_b", buf);
	port = connect_port(AF_INET, &fd);
	EXPECT_TRUE(in(port, GLOW, GHIGH));
	EXPECT_EQ(0, rule_del("gone"));
}

/* Bad input: the right errno, and the rule unchanged. */
TEST_F(rules, bad_input)
{
	static const struct {
		const char *attr, *value;
		int err;
	} bad[] = {
		{ "cgroup", "ep_a", -EINVAL }, { "cgroup", "/no/such/cgroup", -ENOENT },
		{ "cgroup", "/ep_a\x01", -EINVAL },
		{ "uid", "abc", -EINVAL }, { "uid", "5-3", -EINVAL },
		{ "uid", "-1", -EINVAL }, { "uid", "1-", -EINVAL },
		{ "uid", "4294967295", -EINVAL }, { "uid", "+5", -EINVAL },
		{ "netns", "0", -EINVAL }, { "netns", "x", -EINVAL }, { "netns", "-5", -EINVAL },
		{ "netns", "1", -ENOENT }, { "netns", "4026531840 (gone)", -EINVAL },
		{ "proto", "sctp", -EINVAL }, { "proto", "TCP", -EINVAL },
		{ "path", "listen", -EINVAL }, { "path", "connect bind", -EINVAL },
		{ "family", "inet6", -EINVAL }, { "family", "IPv4", -EINVAL },
		{ "family", "ipv4 ipv6", -EINVAL }, { "family", "6", -EINVAL },
		{ "range", "1000 2000", -EINVAL }, { "range", "50010 50000", -EINVAL },
		{ "range", "x", -EINVAL }, { "range", "50000 70000", -EINVAL },
		{ "strategy", "nope", -EINVAL }, { "strategy", "Sequential", -EINVAL },
		{ "priority", "65536", -EINVAL }, { "priority", "-1", -EINVAL },
		{ "priority", "\n", -EINVAL }, { "priority", "1x", -EINVAL },
		{ "enabled", "2", -EINVAL }, { "enabled", "\n", -EINVAL },
	};
	static const char *const bad_names[] = {
		"has space", "0123456789abcdef", "semi;colon",
	};
	char before[128], after[128], path[256], ino[32];
	unsigned int i;

	snprintf(ino, sizeof(ino), "%lu", netns_inode());
	ASSERT_EQ(0, cg_make("ep_a"));
	ASSERT_EQ(0, rule_add("bad", RULE("uid", "7", "netns", ino,
					  "proto", "tcp", "path", "bind", "family", "ipv6",
					  "range", "50000 50009", "strategy", "hash",
					  "priority", "5")));
	if (have_sock_cgroup)
		ASSERT_EQ(0, rule_set("bad", "cgroup", "/ep_a"));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (!have_sock_cgroup && !strcmp(bad[i].attr, "cgroup"))
			continue;
		ASSERT_EQ(0, rule_get("bad", bad[i].attr, before, sizeof(before)));
		EXPECT_EQ(bad[i].err, rule_set("bad", bad[i].attr, bad[i].value))
			TH_LOG("%s <- \"%s\"", bad[i].attr, bad[i].value);
		ASSERT_EQ(0, rule_get("bad", bad[i].attr, after, sizeof(after)));
		EXPECT_STREQ(before, after) TH_LOG("%s changed", bad[i].attr);
	}
	for (i = 0; i < ARRAY_SIZE(bad_names); i++) {
		snprintf(path, sizeof(path), RULES "/%s", bad_names[i]);
		EXPECT_EQ(-1, mkdir(path, 0755)) TH_LOG("%s", bad_names[i]);
		EXPECT_EQ(EINVAL, errno);
	}
	/* Every setting reads back as written, and clears. */
	ASSERT_EQ(0, rule_get("bad", "uid", after, sizeof(after)));
	EXPECT_STREQ("7", after);
	ASSERT_EQ(0, rule_get("bad", "range", after, sizeof(after)));
	EXPECT_STREQ("50000 50009", after);
	ASSERT_EQ(0, rule_get("bad", "strategy", after, sizeof(after)));
	EXPECT_STREQ("hash", after);
	ASSERT_EQ(0, rule_set("bad", "uid", "\n"));
	ASSERT_EQ(0, rule_get("bad", "uid", after, sizeof(after)));
	EXPECT_STREQ("", after);
	ASSERT_EQ(0, rule_set("bad", "range", "auto"));
	ASSERT_EQ(0, rule_get("bad", "range", after, sizeof(after)));
	EXPECT_STREQ("auto", after);
}

/* configfs pins the module while a rule exists. */
TEST_F(rules, rmmod_with_rules)
{
	ASSERT_EQ(0, rule_add("pin", RULE("proto", "udp")));
	EXPECT_NE(0, system("rmmod ephport 2>/dev/null"));
	EXPECT_TRUE(ep_loaded());
	ASSERT_EQ(0, rule_del("pin"));
	ASSERT_EQ(0, ep_load(""));
	EXPECT_EQ(0, access(RULES, F_OK));
}

int main(int argc, char **argv)
{
	int ret;

	if (access(CGROOT "/cgroup.procs", F_OK)) {
		fprintf(stderr, "# no cgroup v2 hierarchy at " CGROOT "\n");
		return KSFT_SKIP;
	}
	if (ep_load("")) {
		fprintf(stderr, "# cannot load the module\n");
		return KSFT_FAIL;
	}
	if (access(RULES, F_OK)) {
		fprintf(stderr, "# no " RULES " (configfs not mounted?)\n");
		ep_unload();
		return KSFT_FAIL;
	}
	if (mkdir(RULES "/probe", 0755) == 0) {
		have_sock_cgroup = rule_set("probe", "cgroup", "/") != -EOPNOTSUPP;
		rule_del("probe");
	}
	ret = test_harness_run(argc, argv);
	ep_unload();
	return ret;
}
