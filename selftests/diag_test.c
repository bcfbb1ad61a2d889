// SPDX-License-Identifier: GPL-2.0
/*
 * Diagnosis: a failed allocation is logged with its errno and what it
 * tried; /proc/net/ephport/stats counts the ports in use and free per
 * protocol, as the kernel's tables hold them; warn_pct is validated, and
 * crossing it (up, then back down) is told once each way in the kernel log
 * and by the ephport_occupancy tracepoint, naming the namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ephport.h"

#define DPORT		5000
#define TRACING		"/sys/kernel/tracing"
#define OCC_TP		TRACING "/events/ephport/ephport_occupancy"
#define WARN_PCT	EP_SYSFS "/warn_pct"

static int read_str(const char *path, char *buf, size_t size)
{
	int err = ep_read(path, buf, size);

	if (!err)
		buf[strcspn(buf, "\n")] = '\0';
	return err;
}

/* The last line of the log, split: 0, or -errno. */
struct entry {
	char time[32], path[32], local[64], remote[64], probes[16], strategy[32];
	char rule[32], result[32], pid[16], comm[32];
};

static int last_entry(struct entry *e)
{
	char line[1024], last[1024] = "";
	int off = 0, n = 0;
	FILE *f;

	f = fopen(EP_PROCFS "/allocations", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (n++)
			snprintf(last, sizeof(last), "%s", line);
	fclose(f);
	if (n < 2)
		return -ENOENT;
	last[strcspn(last, "\n")] = '\0';
	if (sscanf(last, "%31s %31s %63s %63s %15s %31s %31s %31s %15s %n", e->time, e->path,
		   e->local, e->remote, e->probes, e->strategy, e->rule, e->result, e->pid,
		   &off) != 9 || !off)
		return -EBADMSG;
	snprintf(e->comm, sizeof(e->comm), "%s", last + off);
	return 0;
}

/* From the occupancy table of stats: @proto's low, high, used and free. */
static int occupancy(const char *proto, long *v)
{
	char line[1024], name[16];
	bool in = false;
	FILE *f;

	f = fopen(EP_PROCFS "/stats", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "protocol ", 9)) {
			in = !strcmp(strtok(line + 9, "\n "), "low");
			continue;
		}
		if (in && sscanf(line, "%15s %ld %ld %ld %ld", name, &v[0], &v[1], &v[2],
				 &v[3]) == 5 && !strcmp(name, proto)) {
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

FIXTURE(diag) {
	int fd;
};

FIXTURE_SETUP(diag)
{
	self->fd = -1;
	if (!ep_loaded())
		ASSERT_EQ(0, ep_load(""));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/enabled", "1"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/range", "auto"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", "random-pick"));
	ASSERT_EQ(0, ep_write(WARN_PCT, "0"));
	ASSERT_EQ(0, ep_new_netns());
}

FIXTURE_TEARDOWN(diag)
{
	if (self->fd >= 0)
		close(self->fd);
	ep_write(WARN_PCT, "0");
	if (!access(OCC_TP "/enable", W_OK))
		ep_write(OCC_TP "/enable", "0");
}

/* connect() with no port left: logged with the destination and errno. */
TEST_F(diag, log_failed_connect)
{
	char want[64], pid[16];
	struct entry e;
	int fd, fd2, port;

	self->fd = ep_listener(AF_INET, DPORT);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ep_write(EP_SYSFS "/range", "40000 40000"));
	ASSERT_EQ(0, prctl(PR_SET_NAME, "ep-diag", 0, 0, 0));
	fd = ep_alloc(AF_INET, EP_TCP_CONNECT, DPORT, &port);
	ASSERT_LE(0, fd);
	EXPECT_EQ(40000, port);
	ASSERT_EQ(0, last_entry(&e));
	EXPECT_STREQ("ok", e.result);
	EXPECT_STREQ("127.0.0.1:40000", e.local);

	fd2 = ep_alloc(AF_INET, EP_TCP_CONNECT, DPORT, &port);
	EXPECT_EQ(-EADDRNOTAVAIL, fd2);
	if (fd2 >= 0)
		close(fd2);
	ASSERT_EQ(0, last_entry(&e));
	EXPECT_STREQ("tcp4-connect", e.path);
	EXPECT_STREQ("EADDRNOTAVAIL", e.result);
	EXPECT_STREQ("127.0.0.1:0", e.local);
	snprintf(want, sizeof(want), "127.0.0.1:%d", DPORT);
	EXPECT_STREQ(want, e.remote);
	EXPECT_STREQ("random-pick", e.strategy);
	EXPECT_STREQ("-", e.rule);
	snprintf(pid, sizeof(pid), "%d", getpid());
	EXPECT_STREQ(pid, e.pid);
	EXPECT_STREQ("ep-diag", e.comm);
	EXPECT_EQ(1, ep_proc_stat("tcp4-connect", "failures"));

	/* bind(0) too: TCP and UDP, EADDRINUSE. */
	fd2 = ep_alloc(AF_INET, EP_TCP_BIND, 0, &port);
	EXPECT_EQ(-EADDRINUSE, fd2);
	ASSERT_EQ(0, last_entry(&e));
	EXPECT_STREQ("tcp-bind", e.path);
	EXPECT_STREQ("EADDRINUSE", e.result);
	EXPECT_STREQ("-", e.remote);
	close(fd);
}

/* Ports in use and free per protocol, in the range in force. */
TEST_F(diag, occupancy)
{
	int tcp[3], udp[2], fd, i, port;
	long v[4];

	ASSERT_EQ(0, ep_write(EP_SYSFS "/range", "40000 40009"));
	ASSERT_EQ(0, occupancy("tcp", v));
	EXPECT_EQ(40000, v[0]);
	EXPECT_EQ(40009, v[1]);
	EXPECT_EQ(0, v[2]);
	EXPECT_EQ(10, v[3]);
	for (i = 0; i < 3; i++) {
		tcp[i] = ep_alloc(AF_INET, EP_TCP_BIND, 0, &port);
		ASSERT_LE(0, tcp[i]);
	}
	for (i = 0; i < 2; i++) {
		udp[i] = ep_alloc(AF_INET6, EP_UDP_BIND, 0, &port);
		ASSERT_LE(0, udp[i]);
	}
	/* Outside the range: not counted. */
	fd = ep_socket(AF_INET, SOCK_STREAM);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ep_bind_port(fd, AF_INET, 30000));
	ASSERT_EQ(0, occupancy("tcp", v));
	EXPECT_EQ(3, v[2]);
	EXPECT_EQ(7, v[3]);
	ASSERT_EQ(0, occupancy("udp", v));
	EXPECT_EQ(2, v[2]);
	EXPECT_EQ(8, v[3]);
	/* A port let go is free again; the range follows the settings. */
	close(tcp[0]);
	ASSERT_EQ(0, occupancy("tcp", v));
	EXPECT_EQ(2, v[2]);
	ASSERT_EQ(0, ep_write(EP_SYSFS "/range", "auto"));
	ASSERT_EQ(0, ep_sysctl("ip_local_port_range", "40000 40019"));
	ASSERT_EQ(0, occupancy("tcp", v));
	EXPECT_EQ(40000, v[0]);
	EXPECT_EQ(40019, v[1]);
	EXPECT_EQ(2, v[2]);
	EXPECT_EQ(18, v[3]);
	close(fd);
	close(tcp[1]);
	close(tcp[2]);
	close(udp[0]);
	close(udp[1]);
}

/* warn_pct takes 0 to 100; anything else is EINVAL and changes nothing. */
TEST_F(diag, warn_pct_validated)
{
	static const char *const bad[] = {
		"101", "-1", "abc", "\n", "50x", "1000", "5 0", "0x10", "+5", "99999999999",
	};
	char buf[32];
	unsigned int i;

	ASSERT_EQ(0, read_str(WARN_PCT, buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, ep_write(WARN_PCT, "100"));
	ASSERT_EQ(0, ep_write(WARN_PCT, "37"));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, ep_write(WARN_PCT, bad[i])) TH_LOG("\"%s\"", bad[i]);
		ASSERT_EQ(0, read_str(WARN_PCT, buf, sizeof(buf)));
		EXPECT_STREQ("37", buf);
	}
}

/* The number of trace lines holding @what. */
static int count(const char *trace, const char *what)
{
	const char *p;
	int n = 0;

	for (p = trace; (p = strstr(p, what)); p++)
		n++;
	return n;
}

/* Read @fd (to its end, or while it has records) into @buf, then close it. */
static void slurp(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t r;

	while (len < size - 1 && (r = read(fd, buf + len, size - 1 - len)) > 0)
		len += r;
	buf[len] = '\0';
	close(fd);
}

/* Crossing warn_pct: one event and one message up, one down. */
TEST_F(diag, warn_pct_crossing)
{
	char up[128], down[128], msg[128], *buf;
	int fds[6], i, port, fd, n;

	if (access(OCC_TP "/enable", W_OK))
		SKIP(return, "no %s (tracefs not mounted?)", OCC_TP);
	ASSERT_EQ(0, ep_write(EP_SYSFS "/range", "40000 40009"));
	ASSERT_EQ(0, ep_write(WARN_PCT, "50"));
	fd = open(TRACING "/trace", O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);
	/* Skip what the kernel log holds already. */
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	lseek(fd, 0, SEEK_END);
	ASSERT_EQ(0, ep_write(OCC_TP "/enable", "1"));

	for (i = 0; i < 6; i++) {
		fds[i] = ep_alloc(AF_INET, EP_UDP_BIND, 0, &port);
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < 3; i++)
		close(fds[i]);
	/* 3 in use: the next allocation (4 of 10) finds it below. */
	fds[0] = ep_alloc(AF_INET, EP_UDP_BIND, 0, &port);
	ASSERT_LE(0, fds[0]);
	ASSERT_EQ(0, ep_write(OCC_TP "/enable", "0"));

	buf = malloc(1 << 20);
	ASSERT_NE(NULL, buf);
	n = open(TRACING "/trace", O_RDONLY);
	ASSERT_LE(0, n);
	slurp(n, buf, 1 << 20);
	snprintf(up, sizeof(up), "netns_inode=%lu protocol=IPPROTO_UDP %s", ep_netns_inode(),
		 "used=5 size=10 warn_pct=50 above=1");
	snprintf(down, sizeof(down), "netns_inode=%lu protocol=IPPROTO_UDP %s", ep_netns_inode(),
		 "used=4 size=10 warn_pct=50 above=0");
	EXPECT_EQ(1, count(buf, up)) TH_LOG("%s", buf);
	EXPECT_EQ(1, count(buf, down)) TH_LOG("%s", buf);
	EXPECT_EQ(2, count(buf, "ephport_occupancy:")) TH_LOG("%s", buf);

	/* The kernel log: one line each way, naming namespace and protocol. */
	slurp(fd, buf, 1 << 20);
	snprintf(msg, sizeof(msg), "ephport: netns %lu: udp ports %s", ep_netns_inode(),
		 "5 of 10 used (40000-40009), at or above warn_pct 50%");
	EXPECT_EQ(1, count(buf, msg)) TH_LOG("%s", buf);
	snprintf(msg, sizeof(msg), "ephport: netns %lu: udp ports %s", ep_netns_inode(),
		 "4 of 10 used (40000-40009), back below warn_pct 50%");
	EXPECT_EQ(1, count(buf, msg)) TH_LOG("%s", buf);
	free(buf);
	close(fds[0]);
	for (i = 3; i < 6; i++)
		close(fds[i]);
}

TEST_HARNESS_MAIN
