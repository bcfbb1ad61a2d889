// SPDX-License-Identifier: GPL-2.0
/*
 * Scoped policies (/sys/kernel/config/ephport/rules) that change: a netns
 * rule outlives its namespace without matching the next one with its
 * number; rules come and go while their sockets allocate; a cgroup may go
 * before its rule; bad input changes nothing; a rule pins the module.
 * (rules_test.c: what rules match; lib/rules_fixture.h: the set-up.)
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
		if (ep_netns_inode() == a)
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
		a = ep_netns_inode();
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

	snprintf(ino, sizeof(ino), "%lu", ep_netns_inode());
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
