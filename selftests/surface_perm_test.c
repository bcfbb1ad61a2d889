// SPDX-License-Identifier: GPL-2.0
/*
 * Permissions on the files of /sys/kernel/ephport, /proc/net/ephport and
 * the module parameters: an unprivileged user reads and cannot write, the
 * log of another network namespace needs CAP_NET_ADMIN over it, and root
 * of a user namespace is not root.
 *
 * The module is loaded once with its default parameters (surface_fixture.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "surface_fixture.h"

/* ---- permissions ---- */

static const char *const readable[] = {
	EP_SYSFS "/enabled", EP_SYSFS "/range", EP_SYSFS "/strategy",
	EP_SYSFS "/available_strategies", EP_SYSFS "/stats/allocations",
	EP_SYSFS "/stats/failures", EP_SYSFS "/stats/probes",
	EP_SYSFS "/stats/tcp4_connect", EP_SYSFS "/stats/tcp6_connect",
	EP_SYSFS "/stats/tcp_bind", EP_SYSFS "/stats/udp4", EP_SYSFS "/stats/udp6",
	EP_PROCFS "/stats", EP_PROCFS "/allocations",
	PARAMS "/enabled", PARAMS "/range", PARAMS "/strategy",
	PARAMS "/random_inc_n", PARAMS "/log_size",
};

static const char *const all_writes[][2] = {
	{ EP_SYSFS "/enabled", "0" },
	{ EP_SYSFS "/range", "41000 41010" },
	{ EP_SYSFS "/strategy", "sequential" },
	{ EP_SYSFS "/stats/reset", "1" },
	{ EP_SYSFS "/available_strategies", "kernel" },
	{ EP_SYSFS "/stats/allocations", "0" },
	{ EP_PROCFS "/stats", "0" },
	{ EP_PROCFS "/allocations", "0" },
	{ PARAMS "/random_inc_n", "7" },
	{ PARAMS "/enabled", "0" },
	{ PARAMS "/range", "41000-41010" },
	{ PARAMS "/strategy", "hash" },
	{ PARAMS "/log_size", "1" },
};

static int nobody_child(void *arg)
{
	char *buf = malloc(BIG);
	int failed = 0, fd;
	unsigned int i;
	ssize_t n;

	if (!buf || ep_become_nobody())
		return 1;
	for (i = 0; i < ARRAY_SIZE(readable); i++) {
		n = ep_read_all(readable[i], buf, BIG);
		EP_CHILD_CHECK(failed, n > 0, "read %s: %s", readable[i],
			       n < 0 ? strerror(-n) : "empty");
	}
	for (i = 0; i < ARRAY_SIZE(all_writes); i++) {
		n = ep_write_buf(all_writes[i][0], all_writes[i][1], strlen(all_writes[i][1]));
		EP_CHILD_CHECK(failed, n == -EACCES, "write %s: %s", all_writes[i][0],
			       n < 0 ? strerror(-n) : "accepted");
	}
	fd = open(EP_SYSFS "/stats/reset", O_RDONLY);
	EP_CHILD_CHECK(failed, fd < 0 && errno == EACCES, "read stats/reset");
	if (fd >= 0)
		close(fd);
	free(buf);
	return failed;
}

/*
 * Everyone must be able to reach the files: an initramfs packed from a
 * mktemp -d directory has a 0700 root.
 */
static void searchable_root(struct __test_metadata *_metadata)
{
	struct stat st;

	ASSERT_EQ(0, stat("/", &st));
	if (!(st.st_mode & 0001)) {
		TH_LOG("/ has mode %04o, not searchable by others: chmod 0755",
		       st.st_mode & 07777);
		ASSERT_EQ(0, chmod("/", st.st_mode | 0555));
	}
}

/* uid 65534 reads every file and writes none (EACCES from the modes). */
TEST_F(surface, unprivileged)
{
	struct state st;

	searchable_root(_metadata);
	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, make_state());
	state_read(&st);
	EXPECT_EQ(0, ep_in_child(nobody_child, NULL));
	EXPECT_EQ(0, state_diff(&st, "uid 65534"));
	state_free(&st);
}

static int userns_child(void *arg)
{
	int failed = 0;
	unsigned int i;
	ssize_t n;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
		return 100;
	for (i = 0; i < 4; i++) {
		n = ep_write_buf(all_writes[i][0], all_writes[i][1], strlen(all_writes[i][1]));
		EP_CHILD_CHECK(failed, n == -EPERM || n == -EACCES, "write %s: %s",
			       all_writes[i][0], n < 0 ? strerror(-n) : "accepted");
	}
	return failed;
}

/*
 * /proc/PID/net/ephport/allocations of a process in another network
 * namespace: its stats are readable like any /proc/PID/net file, but its
 * log, which names processes, needs CAP_NET_ADMIN over that namespace.
 */
static int other_log_child(void *arg)
{
	const char *pid = arg;
	char path[128], *buf = malloc(BIG);
	int failed = 0;
	ssize_t n;

	if (!buf || ep_become_nobody())
		return 1;
	snprintf(path, sizeof(path), "/proc/%s/net/ephport/stats", pid);
	n = ep_read_all(path, buf, BIG);
	EP_CHILD_CHECK(failed, n > 0, "read %s: %s", path, n < 0 ? strerror(-n) : "empty");
	snprintf(path, sizeof(path), "/proc/%s/net/ephport/allocations", pid);
	n = ep_read_all(path, buf, BIG);
	EP_CHILD_CHECK(failed, n == -EACCES, "read %s: %s", path,
		       n < 0 ? strerror(-n) : "allowed");
	n = ep_read_all(EP_PROCFS "/allocations", buf, BIG);
	EP_CHILD_CHECK(failed, n > 0, "own log: %s", n < 0 ? strerror(-n) : "empty");
	free(buf);
	return failed;
}

TEST_F(surface, other_namespace_log)
{
	char pid[16], path[128], *buf = malloc(BIG);
	int go[2], done[2], port, fd;
	pid_t owner;

	ASSERT_NE(NULL, buf);
	searchable_root(_metadata);
	ASSERT_EQ(0, fresh_module());
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	owner = fork();
	ASSERT_LE(0, owner);
	if (!owner) {
		if (ep_new_netns())
			_exit(1);
		fd = ep_alloc(AF_INET, EP_TCP_BIND, 0, &port);
		ep_send_go(go[1]);
		ep_wait_go(done[0]);
		_exit(fd < 0);
	}
	ASSERT_EQ(0, ep_wait_go(go[0]));
	snprintf(pid, sizeof(pid), "%d", owner);
	snprintf(path, sizeof(path), "/proc/%d/net/ephport/allocations", owner);
	/* Root holds CAP_NET_ADMIN over every namespace. */
	EXPECT_LT(0, ep_read_all(path, buf, BIG));
	EXPECT_EQ(0, ep_in_child(other_log_child, pid));
	ep_send_go(done[1]);
	waitpid(owner, NULL, 0);
	free(buf);
}

/* Root of a user namespace is not root: writes need CAP_NET_ADMIN. */
TEST_F(surface, user_namespace_root)
{
	struct state st;
	int ret;

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, make_state());
	state_read(&st);
	ret = ep_in_child(userns_child, NULL);
	if (ret == 100) {
		state_free(&st);
		SKIP(return, "cannot create a user namespace");
	}
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, state_diff(&st, "user namespace root"));
	state_free(&st);
}
