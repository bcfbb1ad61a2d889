// SPDX-License-Identifier: GPL-2.0
/*
 * Scoped policies (/sys/kernel/config/ephport/rules), what they match: a
 * rule's range and strategy apply to the sockets it matches, by cgroup,
 * uid, network namespace, protocol and path, and to nothing else; the
 * first enabled rule by priority wins; statistics and the allocation log
 * name the rule.  rules_change_test.c has rules changing under their
 * sockets; lib/rules_fixture.h the set-up both share.
 */
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
#include "rules_fixture.h"

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

/*
 * Rules on a cgroup, on its child and on none, in priority order: the
 * first enabled one that matches applies, whatever cgroup it names (the
 * lookup tries only the rules whose cgroup can match, section 5.4).  Each
 * step gets a one-port range of its own: one connect() takes it, the next
 * fails.
 */
TEST_F(rules, cgroup_priority)
{
	static const struct {
		const char *rule, *attr, *value, *cgroup;
		int port;
		const char *why;
	} steps[] = {
		{ NULL, NULL, NULL, "ep_p/sub", 50520, "ep_p's rule (20) first" },
		{ NULL, NULL, NULL, "ep_q", 50500, "ep_q's own rule (10)" },
		{ "b", "enabled", "0", "ep_p/sub", 50521, "then the cgroup-less rule (25)" },
		{ "any", "enabled", "0", "ep_p/sub", 50522, "then ep_p/sub's rule (30)" },
		{ "sub", "enabled", "0", "ep_p/sub", 0, "none left: the global range" },
		{ "any", "enabled", "1", "", 50523, "the root cgroup: the cgroup-less rule" },
	};
	unsigned int i;
	char range[32];

	if (!have_sock_cgroup)
		SKIP(return, NO_SOCK_CGROUP);
	ASSERT_EQ(0, cg_make("ep_p"));
	ASSERT_EQ(0, cg_make("ep_p/sub"));
	ASSERT_EQ(0, cg_make("ep_q"));
	ASSERT_EQ(0, rule_add("c", RULE("cgroup", "/ep_q", "range", "50500 50500",
					"priority", "10")));
	ASSERT_EQ(0, rule_add("b", RULE("cgroup", "/ep_p", "range", "50520 50520",
					"priority", "20")));
	ASSERT_EQ(0, rule_add("any", RULE("proto", "tcp", "range", "50521 50521",
					  "priority", "25")));
	ASSERT_EQ(0, rule_add("sub", RULE("cgroup", "/ep_p/sub", "range", "50522 50522",
					  "priority", "30")));
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		if (steps[i].rule)
			ASSERT_EQ(0, rule_set(steps[i].rule, steps[i].attr, steps[i].value));
		/* The rule that applies moves to a port no step used. */
		if (i == ARRAY_SIZE(steps) - 1) {
			snprintf(range, sizeof(range), "%d %d", steps[i].port, steps[i].port);
			ASSERT_EQ(0, rule_set("any", "range", range));
		}
		if (!steps[i].port) {
			/* 11: the first connect()'s port is outside the range. */
			EXPECT_EQ(11, child_exhausts(enter_cgroup, steps[i].cgroup, 1,
						     50500, 50523)) TH_LOG("%s", steps[i].why);
			continue;
		}
		EXPECT_EQ(0, child_exhausts(enter_cgroup, steps[i].cgroup, 1,
					    steps[i].port, steps[i].port))
			TH_LOG("%s", steps[i].why);
	}
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

	snprintf(ino, sizeof(ino), "%lu", ep_netns_inode());
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

/* Lower priority first, then name; a disabled rule does not count. */
TEST_F(rules, priority)
{
	/* After each change (none at first), where the next connect() goes. */
	static const struct {
		const char *rule, *attr, *value;
		int low, high;
		const char *why;
	} steps[] = {
		{ NULL, NULL, NULL, 50400, 50409, "priority 10 first" },
		{ "p2", "priority", "30", 50300, 50309, "priority 20 first" },
		{ "p2", "priority", "20", 50300, 50309, "equal priority, p1 first" },
		{ "p1", "enabled", "0", 50400, 50409, "p1 disabled" },
		{ "p2", "enabled", "0", GLOW, GHIGH, "both disabled" },
	};
	unsigned int i;
	int fd, port;

	ASSERT_EQ(0, rule_add("p1", RULE("proto", "tcp", "range", "50300 50309",
					 "priority", "20")));
	ASSERT_EQ(0, rule_add("p2", RULE("proto", "tcp", "range", "50400 50409",
					 "priority", "10")));
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		ASSERT_EQ(0, steps[i].rule ?
			  rule_set(steps[i].rule, steps[i].attr, steps[i].value) : 0);
		port = connect_port(AF_INET, &fd);
		EXPECT_TRUE(in(port, steps[i].low, steps[i].high))
			TH_LOG("%s: %d", steps[i].why, port);
	}
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

/* A rule's strategy, each one ("kernel" over a rule's range too), on every path. */
TEST_F(rules, strategy)
{
	char ino[32];
	int s, k, fd, port, prev = 0;

	ASSERT_LE(0, ep_listener(AF_INET6, DPORT));
	snprintf(ino, sizeof(ino), "%lu", ep_netns_inode());
	ASSERT_EQ(0, rule_add("s", RULE("netns", ino, "range", "50700 50799")));
	/* Every strategy the module offers. */
	ASSERT_LT(0, ep_read_strategies());
	ASSERT_GE(16, ep_nr_strategies) TH_LOG("6 ports each, 100 in the range");
	for (s = 0; s < ep_nr_strategies; s++) {
		ASSERT_EQ(0, rule_set("s", "strategy", ep_strategies[s]));
		for (k = 0; k < EP_KINDS; k++) {
			fd = ep_alloc(k % 2 ? AF_INET6 : AF_INET, k, DPORT, &port);
			ASSERT_LE(0, fd) TH_LOG("%s: %s", ep_kind_names[k], strerror(-fd));
			EXPECT_TRUE(in(port, 50700, 50799))
				TH_LOG("%s %s: %d", ep_strategies[s], ep_kind_names[k], port);
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

	snprintf(ino, sizeof(ino), "%lu", ep_netns_inode());
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
