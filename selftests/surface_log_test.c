// SPDX-License-Identifier: GPL-2.0
/*
 * What each allocation leaves behind, and the module parameters: the
 * allocation log (/proc/net/ephport/allocations), its size (log_size),
 * the ephport_alloc tracepoint, and the parameters accepted and refused
 * at load.
 *
 * The tests of module parameters load the module themselves; the others
 * share one load with the default parameters (surface_fixture.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "surface_fixture.h"

/*
 * The log: each allocation shows as the newest entry right away, with its
 * path, addresses, strategy, pid and comm; oldest first; failures are not
 * logged.
 */
TEST_F(surface, log_entries)
{
	const struct path_family *seq = every_path;
	const int n = NR_EVERY_PATH;
	char want[64], hdr[1024], *tok, *save;
	int fds[6], ports[6], i, j, fd, err;
	static struct ep_log l;
	static const char *const cols[] = {
		"time", "path", "local", "remote", "probes", "strategy", "rule",
		"result", "pid", "comm",
	};

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, listeners(self->listener));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", "random-pick"));
	ASSERT_EQ(0, set_range("40000 40099"));
	ASSERT_EQ(0, prctl(PR_SET_NAME, "ep-logtest", 0, 0, 0));

	ASSERT_EQ(0, ep_read_log(&l)) TH_LOG("fresh namespace: log not empty");
	snprintf(hdr, sizeof(hdr), "%s", l.header);
	for (i = 0, tok = strtok_r(hdr, " \n", &save); tok;
	     i++, tok = strtok_r(NULL, " \n", &save)) {
		if (i < 10) {
			EXPECT_STREQ(cols[i], tok);
		}
	}
	EXPECT_EQ(10, i);

	for (i = 0; i < n; i++) {
		struct ep_log_entry *e;

		fds[i] = alloc_on(seq[i].path, seq[i].family, &ports[i]);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(i + 1, ep_read_log(&l));
		e = &l.e[i];
		EXPECT_STREQ(path_names[seq[i].path], e->path);
		loopback_str(seq[i].family, ports[i], want, sizeof(want));
		EXPECT_STREQ(want, e->local);
		if (seq[i].path <= TCP6_CONNECT) {
			loopback_str(seq[i].family, DPORT, want, sizeof(want));
			EXPECT_STREQ(want, e->remote);
		} else {
			EXPECT_STREQ("-", e->remote);
		}
		EXPECT_LE(1, e->probes);
		EXPECT_STREQ("random-pick", e->strategy);
		EXPECT_EQ(getpid(), atoi(e->pid));
		EXPECT_STREQ("ep-logtest", e->comm);
	}
	/* Oldest first: the earlier entries are unchanged, times do not go back. */
	for (i = 0; i < n; i++) {
		loopback_str(seq[i].family, ports[i], want, sizeof(want));
		EXPECT_STREQ(want, l.e[i].local);
		if (i) {
			EXPECT_LE(l.e[i - 1].time, l.e[i].time);
		}
	}

	/* A failed allocation is counted and logged: no port, its errno. */
	ASSERT_EQ(0, set_range("40200 40200"));
	fd = ep_socket(AF_INET, SOCK_DGRAM);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ep_bind_port(fd, AF_INET, 40200));
	err = alloc_on(UDP4, AF_INET, &j);
	EXPECT_EQ(-EADDRINUSE, err);
	if (err >= 0)
		close(err);
	ASSERT_EQ(n + 1, ep_read_log(&l));
	EXPECT_EQ(1, ep_proc_stat("udp4", "failures"));
	loopback_str(AF_INET, 0, want, sizeof(want));
	EXPECT_STREQ(want, l.e[n].local);
	EXPECT_STREQ("EADDRINUSE", l.e[n].result);
	EXPECT_STREQ("udp4", l.e[n].path);
	EXPECT_STREQ("ok", l.e[n - 1].result);
	close(fd);
	close_fds(fds, n);
}

/*
 * log_size bounds the log: the last log_size allocations, oldest first.
 * Loaded with a strategy too, as one of the strategies selectable at load.
 */
static void log_size_check(struct __test_metadata *_metadata, int size,
			   const char *strategy)
{
	int fds[20], ports[20], i, first;
	char params[64], want[64], buf[64];
	static struct ep_log l;

	snprintf(params, sizeof(params), "log_size=%d strategy=%s", size, strategy);
	ASSERT_EQ(0, ep_load(params));
	EXPECT_EQ(0, read_str(PARAMS "/log_size", buf, sizeof(buf)));
	snprintf(want, sizeof(want), "%d", size);
	EXPECT_STREQ(want, buf);
	EXPECT_EQ(0, read_str(EP_SYSFS "/strategy", buf, sizeof(buf)));
	EXPECT_STREQ(strategy, buf);

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, set_range("40000 40999"));
	for (i = 0; i < 20; i++) {
		fds[i] = alloc_on(UDP4, AF_INET, &ports[i]);
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_EQ(size, ep_read_log(&l));
	EXPECT_NE(NULL, strstr(l.header, "comm"));
	first = 20 - size;
	for (i = 0; i < size; i++) {
		loopback_str(AF_INET, ports[first + i], want, sizeof(want));
		EXPECT_STREQ(want, l.e[i].local) TH_LOG("entry %d", i);
		EXPECT_STREQ(strategy, l.e[i].strategy);
	}
	/* Counting does not depend on the log. */
	EXPECT_EQ(20, ep_proc_stat("udp4", "allocations"));
	close_fds(fds, 20);
}

/*
 * A full log (the default log_size, 1024) read a few bytes at a time, as
 * a slow reader would: exactly the last 1024 allocations, in order, each
 * line whole.
 */
TEST_F(surface, log_full_small_reads)
{
	const int total = 1100, size = 1024;
	int i, fd, *ports, n = 0, nl = 0;
	char *buf, *line, *save, want[64];
	size_t len = 0, cap = 1 << 20;
	ssize_t r;

	ports = calloc(total, sizeof(*ports));
	buf = malloc(cap);
	ASSERT_NE(NULL, ports);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, set_range("40000 40999"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", "sequential"));
	for (i = 0; i < total; i++) {
		fd = alloc_on(UDP4, AF_INET, &ports[i]);
		ASSERT_LE(0, fd);
		close(fd);
	}
	fd = open(EP_PROCFS "/allocations", O_RDONLY);
	ASSERT_LE(0, fd);
	while (len < cap - 1 && (r = read(fd, buf + len, 97)) > 0)
		len += r;
	close(fd);
	buf[len] = '\0';
	for (i = 0; i < (int)len; i++)
		nl += buf[i] == '\n';
	EXPECT_EQ(size + 1, nl);
	line = strtok_r(buf, "\n", &save);	/* the header */
	ASSERT_NE(NULL, line);
	while ((line = strtok_r(NULL, "\n", &save))) {
		char local[64] = "";

		if (n >= size)
			break;
		EXPECT_EQ(1, sscanf(line, "%*s %*s %63s", local)) TH_LOG("%s", line);
		loopback_str(AF_INET, ports[total - size + n], want, sizeof(want));
		EXPECT_STREQ(want, local) TH_LOG("entry %d", n);
		if (strcmp(want, local))
			break;
		n++;
	}
	EXPECT_EQ(size, n);
	free(buf);
	free(ports);
}

/* Run on @cpu only; false if it cannot (fewer CPUs, or not allowed). */
static bool pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return !sched_setaffinity(0, sizeof(set), &set);
}

/*
 * The log has a ring per CPU: allocations made on two CPUs in turn read
 * back in the order they were made, and a log_size of them only.
 */
TEST(log_merges_cpus)
{
	const int total = 12, size = 8;
	int fds[12], ports[12], i;
	static struct ep_log l;
	char want[64];
	cpu_set_t saved;

	ASSERT_EQ(0, sched_getaffinity(0, sizeof(saved), &saved));
	if (!pin_to(1))
		SKIP(return, "no second CPU to run on: %s", strerror(errno));
	ASSERT_EQ(0, ep_load("log_size=8 strategy=sequential"));
	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, set_range("40000 40999"));
	for (i = 0; i < total; i++) {
		/* 0, 0, 1, 1, 0, 0, ...: runs on each CPU. */
		ASSERT_TRUE(pin_to(i / 2 % 2));
		fds[i] = alloc_on(UDP4, AF_INET, &ports[i]);
		ASSERT_LE(0, fds[i]);
	}
	sched_setaffinity(0, sizeof(saved), &saved);
	ASSERT_EQ(size, ep_read_log(&l));
	for (i = 0; i < size; i++) {
		loopback_str(AF_INET, ports[total - size + i], want, sizeof(want));
		EXPECT_STREQ(want, l.e[i].local) TH_LOG("entry %d", i);
	}
	close_fds(fds, total);
}

/* ---- the tracepoint ---- */

/* The number of trace lines holding every one of the @n strings. */
static int trace_count(const char *trace, const char *const *want, int n)
{
	const char *line = trace, *end;
	char buf[512];
	int count = 0, i;

	for (; *line; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		snprintf(buf, sizeof(buf), "%.*s ", (int)(end - line), line);
		if (!strstr(buf, "ephport_alloc:"))
			continue;
		for (i = 0; i < n; i++)
			if (!strstr(buf, want[i]))
				break;
		count += i == n;
	}
	return count;
}

TEST_F(surface, tracepoint)
{
	int fds[5], ports[5], fd, fd2, i;
	char lport[5][32], cookie[64], *trace;
	const char *want[6];
	unsigned long long c = 0;
	socklen_t clen = sizeof(c);
	ssize_t len;

	if (access(TP_DIR "/enable", W_OK))
		SKIP(return, "no %s (tracefs not mounted?)", TP_DIR);
	trace = malloc(1 << 20);
	ASSERT_NE(NULL, trace);
	ASSERT_LT(0, ep_read_all(TP_DIR "/format", trace, 1 << 20));
	/* Names, not enum symbols: TRACE_DEFINE_ENUM turned them to numbers. */
	EXPECT_EQ(NULL, strstr(trace, "EPHPORT_")) TH_LOG("%s", trace);
	EXPECT_NE(NULL, strstr(trace, "\"tcp-bind\""));
	for (i = 0; i < 14; i++) {
		static const char *const fields[] = {
			"path;", "family;", "lport;", "rport;", "probes;", "result;",
			"netns_cookie;", "protocol;", "laddr[4];", "raddr[4];",
			"laddr_v6[16];", "raddr_v6[16];", "strategy[16];", "rule[16];",
		};

		EXPECT_NE(NULL, strstr(trace, fields[i])) TH_LOG("field %s", fields[i]);
	}

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, listeners(self->listener));
	ASSERT_EQ(0, set_range("40000 40001"));
	fd = ep_socket(AF_INET, SOCK_DGRAM);
	ASSERT_LE(0, fd);
	/* SO_NETNS_COOKIE: 71 */
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, 71, &c, &clen));
	close(fd);
	snprintf(cookie, sizeof(cookie), " netns_cookie=%llu ", c);
	fd = open(TRACING "/trace", O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, ep_write(TP_DIR "/enable", "1"));

	fds[0] = alloc_on(TCP4_CONNECT, AF_INET, &ports[0]);
	fds[1] = alloc_on(UDP4, AF_INET, &ports[1]);
	fds[2] = alloc_on(UDP6, AF_INET6, &ports[2]);
	fds[3] = alloc_on(TCP4_CONNECT, AF_INET, &ports[3]);
	fds[4] = alloc_on(UDP4, AF_INET, &ports[4]);
	fd = alloc_on(TCP4_CONNECT, AF_INET, &i);	/* no port left */
	fd2 = alloc_on(UDP4, AF_INET, &i);		/* no port left */

	EXPECT_EQ(0, ep_write(TP_DIR "/enable", "0"));
	for (i = 0; i < 5; i++) {
		if (fds[i] < 0)
			TH_LOG("allocation %d: %s", i, strerror(-fds[i]));
		ASSERT_LE(0, fds[i]);
	}
	EXPECT_EQ(-EADDRNOTAVAIL, fd);
	EXPECT_EQ(-EADDRINUSE, fd2);
	len = ep_read_all(TRACING "/trace", trace, 1 << 20);
	ASSERT_LT(0, len);

	for (i = 0; i < 5; i++)
		snprintf(lport[i], sizeof(lport[i]), " lport=%d ", ports[i]);
	want[0] = "path=tcp4-connect family=AF_INET ";
	want[1] = lport[0];
	want[2] = " rport=5000 ";
	want[3] = " result=0 ";
	EXPECT_EQ(1, trace_count(trace, want, 4)) TH_LOG("%s", trace);
	want[1] = lport[3];
	EXPECT_EQ(1, trace_count(trace, want, 4));
	want[0] = "path=udp4 family=AF_INET ";
	want[1] = lport[1];
	want[2] = " rport=0 ";
	EXPECT_EQ(1, trace_count(trace, want, 4));
	want[1] = lport[4];
	EXPECT_EQ(1, trace_count(trace, want, 4));
	want[0] = "path=udp6 family=AF_INET6 ";
	want[1] = lport[2];
	EXPECT_EQ(1, trace_count(trace, want, 4));
	/* The exhaustions. */
	want[0] = "path=tcp4-connect family=AF_INET protocol=IPPROTO_TCP ";
	want[1] = " laddr=127.0.0.1 lport=0 raddr=127.0.0.1 rport=5000 ";
	want[2] = " result=-99";
	want[3] = cookie;
	want[4] = " rule=- ";
	EXPECT_EQ(1, trace_count(trace, want, 5)) TH_LOG("%s", trace);
	want[0] = "path=udp4 family=AF_INET protocol=IPPROTO_UDP ";
	want[1] = " laddr=127.0.0.1 lport=0 raddr=0.0.0.0 rport=0 ";
	want[2] = " result=-98";
	EXPECT_EQ(1, trace_count(trace, want, 4)) TH_LOG("%s", trace);
	/* Nothing else: exactly 7 events. */
	want[0] = "ephport_alloc:";
	EXPECT_EQ(7, trace_count(trace, want, 1)) TH_LOG("%s", trace);

	close_fds(fds, 5);
	free(trace);
}

/* ---- module parameters ---- */

TEST(log_size_eight)
{
	log_size_check(_metadata, 8, "random-pick");
}

TEST(log_size_zero)
{
	log_size_check(_metadata, 0, "hash");
}

TEST(params_refused)
{
	static const char *const bad[] = {
		"range=80-90", "range=garbage", "range=50000-40000", "strategy=nope",
		"enabled=2", "enabled=yes", "enabled=10", "range=1023-2000",
		"range=60000-70000", "range=40000-40010x", "range=99999999999-1",
		"range=-1-2000", "range=65536-65537", "range=40000", "range=",
		"strategy=", "strategy=Kernel", "strategy=kernel,hash",
		"range=40000-49999 strategy=nope",
		"strategy=sequential enabled=2",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_NE(0, ep_load(bad[i])) TH_LOG("insmod ephport.ko %s succeeded", bad[i]);
		EXPECT_FALSE(ep_loaded()) TH_LOG("%s left %s", bad[i], EP_SYSFS);
		EXPECT_NE(0, access("/sys/module/ephport", F_OK)) TH_LOG("%s", bad[i]);
		ep_unload();
	}
}

/*
 * Good parameters load and show in sysfs; with log_size_eight and
 * log_size_zero, each strategy is selected at load once.  The last load
 * has no parameters: the documented defaults.
 */
TEST(params_accepted)
{
	static const struct {
		const char *params;
		const char *enabled, *range, *strategy, *random_inc_n, *log_size;
	} good[] = {
		{ "range=40000-49999 strategy=sequential", "1", "40000 49999",
		  "sequential", "500", "1024" },
		{ "strategy=kernel enabled=0 range=auto", "0", "auto", "kernel", "500", "1024" },
		{ "enabled=1 range=1024-65535 strategy=double-hash", "1", "1024 65535",
		  "double-hash", "500", "1024" },
		{ "range=40000-40000 strategy=random-start log_size=3", "1", "40000 40000",
		  "random-start", "500", "3" },
		{ "strategy=random-inc random_inc_n=7", "1", "auto", "random-inc", "7", "1024" },
		{ "", "1", "auto", "kernel", "500", "1024" },
	};
	char buf[256];
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		const char *p = good[i].params;
		/* The parameters show the same as the control files. */
		const char *const reads[][2] = {
			{ EP_SYSFS "/enabled", good[i].enabled },
			{ EP_SYSFS "/range", good[i].range },
			{ EP_SYSFS "/strategy", good[i].strategy },
			{ PARAMS "/enabled", good[i].enabled },
			{ PARAMS "/range", good[i].range },
			{ PARAMS "/strategy", good[i].strategy },
			{ PARAMS "/random_inc_n", good[i].random_inc_n },
			{ PARAMS "/log_size", good[i].log_size },
		};

		ASSERT_EQ(0, ep_load(p)) TH_LOG("insmod ephport.ko %s", p);
		for (j = 0; j < ARRAY_SIZE(reads); j++) {
			EXPECT_EQ(0, read_str(reads[j][0], buf, sizeof(buf)));
			EXPECT_STREQ(reads[j][1], buf) TH_LOG("%s: %s", p, reads[j][0]);
		}
		EXPECT_EQ(0, read_str(EP_SYSFS "/available_strategies", buf, sizeof(buf)));
		EXPECT_TRUE(ep_builtins_first(buf)) TH_LOG("%s: %s", p, buf);
	}
}
