// SPDX-License-Identifier: GPL-2.0
/*
 * Who sees whom in /proc/net/ephport/allocations: the pid and command name
 * of each entry are shown only to a reader whose file was opened with
 * CAP_NET_ADMIN over the network namespace's user namespace, and the pid
 * as the reader's pid namespace numbers it ("-" for both when the process
 * is outside that pid namespace); every other reader sees "-".
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ephport.h"

/* A UDP port for this process, logged with @comm; the socket, or -errno. */
static int logged_alloc(const char *comm)
{
	int port;

	if (prctl(PR_SET_NAME, comm, 0, 0, 0))
		return -errno;
	return ep_alloc(AF_INET, EP_UDP_BIND, 0, &port);
}

static bool shows(const struct ep_log_entry *e, pid_t pid, const char *comm)
{
	char want[16];

	snprintf(want, sizeof(want), "%d", pid);
	return !strcmp(e->pid, want) && !strcmp(e->comm, comm);
}

static bool hides(const struct ep_log_entry *e)
{
	return !strcmp(e->pid, "-") && !strcmp(e->comm, "-");
}

FIXTURE(privacy) {
	int fd;
};

FIXTURE_SETUP(privacy)
{
	ASSERT_EQ(0, ep_load(""));
	ASSERT_EQ(0, ep_new_netns());
	self->fd = logged_alloc("ep-root");
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(privacy)
{
	close(self->fd);
	ep_unload();
}

/*
 * Root sees pid and comm; uid 65534 without capabilities sees "-" for
 * both, also for its own entry; a file root opened keeps showing them
 * after root gave up its privileges (the opener's credentials count).
 */
static int nobody_child(int root_fd)
{
	struct ep_log l;
	int failed = 0, fd, n;

	if (ep_become_nobody())
		return 100 + errno;
	fd = logged_alloc("ep-nobody");
	EP_CHILD_CHECK(failed, fd >= 0, "alloc: %s", strerror(-fd));
	n = ep_read_log(&l);
	EP_CHILD_CHECK(failed, n == 2, "%d entries", n);
	for (n = 0; n < l.n; n++)
		EP_CHILD_CHECK(failed, hides(&l.e[n]), "entry %d shows pid %s comm %s",
			       n, l.e[n].pid, l.e[n].comm);
	n = ep_parse_log(root_fd, &l);
	EP_CHILD_CHECK(failed, n == 2, "root's file: %d entries", n);
	EP_CHILD_CHECK(failed, shows(&l.e[0], getppid(), "ep-root"),
		       "root's file: pid %s comm %s", l.e[0].pid, l.e[0].comm);
	EP_CHILD_CHECK(failed, shows(&l.e[1], getpid(), "ep-nobody"),
		       "root's file: pid %s comm %s", l.e[1].pid, l.e[1].comm);
	return failed;
}

TEST_F(privacy, unprivileged_reader_sees_no_pid)
{
	int root_fd, ret;
	struct ep_log l;
	pid_t pid;

	ASSERT_EQ(1, ep_read_log(&l));
	EXPECT_TRUE(shows(&l.e[0], getpid(), "ep-root"))
		TH_LOG("root sees pid %s comm %s", l.e[0].pid, l.e[0].comm);

	root_fd = open(EP_PROCFS "/allocations", O_RDONLY);
	ASSERT_LE(0, root_fd);
	pid = ep_fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(nobody_child(root_fd));
	close(root_fd);
	ret = ep_child_status(pid);
	EXPECT_EQ(0, ret);

	/* Root still sees both. */
	ASSERT_EQ(2, ep_read_log(&l));
	EXPECT_TRUE(shows(&l.e[0], getpid(), "ep-root"));
	EXPECT_TRUE(shows(&l.e[1], pid, "ep-nobody"))
		TH_LOG("root sees pid %s comm %s", l.e[1].pid, l.e[1].comm);
}

/*
 * uid 65534 in a user namespace of its own holds CAP_NET_ADMIN over the
 * network namespace it creates there: it sees its own pid.
 */
static int userns_child(void)
{
	struct ep_log l;
	int failed = 0, fd, n;

	if (ep_become_nobody())
		return 100 + errno;
	if (unshare(CLONE_NEWUSER) || ep_new_netns())
		return 100 + errno;
	fd = logged_alloc("ep-userns");
	EP_CHILD_CHECK(failed, fd >= 0, "alloc: %s", strerror(-fd));
	n = ep_read_log(&l);
	EP_CHILD_CHECK(failed, n == 1, "%d entries", n);
	EP_CHILD_CHECK(failed, shows(&l.e[0], getpid(), "ep-userns"),
		       "pid %s comm %s", l.e[0].pid, l.e[0].comm);
	return failed;
}

TEST_F(privacy, user_namespace_owner_sees_pid)
{
	int ret;
	pid_t pid;

	pid = ep_fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(userns_child());
	ret = ep_child_status(pid);
	if (ret > 100)
		SKIP(return, "no user namespace for uid 65534: %s", strerror(ret - 100));
	EXPECT_EQ(0, ret);
}

/*
 * In a child pid namespace, root (CAP_NET_ADMIN) sees the pids of that
 * namespace's processes as it numbers them, and "-" for the test process
 * outside it; the test process sees the same entries with its own numbers.
 */
static int pidns_grandchild(void)
{
	int fd = logged_alloc("ep-inner");

	return fd < 0 ? 1 : 0;
}

static int pidns_init(void)
{
	struct ep_log l;
	int failed = 0, fd, n, ret;
	pid_t inner;

	EP_CHILD_CHECK(failed, getpid() == 1, "pid %d in the new pid namespace", getpid());
	fflush(stderr);
	inner = fork();
	if (inner < 0)
		return 100 + errno;
	if (!inner)
		_exit(pidns_grandchild());
	ret = ep_child_status(inner);
	EP_CHILD_CHECK(failed, ret == 0, "grandchild: %d", ret);
	fd = logged_alloc("ep-init");
	EP_CHILD_CHECK(failed, fd >= 0, "alloc: %s", strerror(-fd));
	n = ep_read_log(&l);
	EP_CHILD_CHECK(failed, n == 3, "%d entries", n);
	EP_CHILD_CHECK(failed, hides(&l.e[0]), "outsider: pid %s comm %s",
		       l.e[0].pid, l.e[0].comm);
	EP_CHILD_CHECK(failed, shows(&l.e[1], inner, "ep-inner"),
		       "grandchild %d: pid %s comm %s", inner, l.e[1].pid, l.e[1].comm);
	EP_CHILD_CHECK(failed, shows(&l.e[2], 1, "ep-init"),
		       "itself: pid %s comm %s", l.e[2].pid, l.e[2].comm);
	return failed;
}

TEST_F(privacy, child_pid_namespace)
{
	pid_t helper, init, init_out = 0;
	struct ep_log l;
	int ret, p[2];

	ASSERT_EQ(0, pipe(p));
	helper = ep_fork();
	ASSERT_LE(0, helper);
	if (!helper) {
		close(p[0]);
		/* The helper stays outside; its next child is pid 1 inside. */
		if (unshare(CLONE_NEWPID))
			_exit(100 + errno);
		init = fork();
		if (init < 0)
			_exit(100 + errno);
		if (!init)
			_exit(pidns_init());
		/* Tell the test process which pid "ep-init" has out here. */
		if (write(p[1], &init, sizeof(init)) != sizeof(init))
			_exit(99);
		_exit(ep_child_status(init));
	}
	close(p[1]);
	if (read(p[0], &init_out, sizeof(init_out)) != sizeof(init_out))
		init_out = 0;
	close(p[0]);
	ret = ep_child_status(helper);
	if (ret > 100)
		SKIP(return, "no pid namespace: %s", strerror(ret - 100));
	ASSERT_EQ(0, ret);

	/* Seen from the initial pid namespace, every entry has its pid here. */
	ASSERT_EQ(3, ep_read_log(&l));
	EXPECT_TRUE(shows(&l.e[0], getpid(), "ep-root"));
	EXPECT_STREQ("ep-inner", l.e[1].comm);
	EXPECT_STRNE("-", l.e[1].pid);
	EXPECT_STRNE("2", l.e[1].pid);
	EXPECT_TRUE(shows(&l.e[2], init_out, "ep-init"))
		TH_LOG("init is %d here: pid %s comm %s", init_out, l.e[2].pid,
		       l.e[2].comm);
}

TEST_HARNESS_MAIN
