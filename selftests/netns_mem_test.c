// SPDX-License-Identifier: GPL-2.0
/*
 * What an idle network namespace costs with ephport loaded: NS_COUNT
 * namespaces are created without the module, then NS_COUNT more with it
 * loaded (default parameters), and the kernel's memory (Slab + Percpu +
 * VmallocUsed of /proc/meminfo) each batch added is compared.  ephport may
 * add at most LIMIT_BYTES per namespace; the figures are printed.
 *
 * Each batch is held by a process that unshare()s a new network namespace
 * NS_COUNT times and keeps an fd to each.  Both batches stay alive until
 * the end, so that no namespace is torn down (asynchronously) while
 * memory is measured; a batch stops early should memory run low (a module
 * that costs too much), and its figure is then over fewer namespaces.
 *
 * And what a namespace costs once used is charged to the memory cgroup of
 * the task that uses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ephport.h"

#define NS_COUNT	1000
#define WARMUP_COUNT	20
#define LIMIT_BYTES	(16 * 1024)
#define LOW_MEM_KIB	(160 * 1024)	/* stop there, before the OOM killer */

static const char *const fields[] = { "Slab:", "Percpu:", "VmallocUsed:" };
#define NFIELDS		3

struct mem {
	long long kib[NFIELDS];
	long long total;
};

static int read_mem(struct mem *m)
{
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");
	int i, found = 0;

	if (!f)
		return -errno;
	memset(m, 0, sizeof(*m));
	while (fgets(line, sizeof(line), f)) {
		for (i = 0; i < NFIELDS; i++) {
			size_t len = strlen(fields[i]);

			if (!strncmp(line, fields[i], len)) {
				m->kib[i] = strtoll(line + len, NULL, 10);
				m->total += m->kib[i];
				found++;
			}
		}
	}
	fclose(f);
	return found == NFIELDS ? 0 : -ENOENT;
}

/* Memory once reclaimable caches are dropped and RCU frees are done. */
static int settled_mem(struct mem *m)
{
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd >= 0) {
		/* 1 | 2: page cache and slab; 4: without a line in dmesg. */
		if (write(fd, "7", 1) != 1)
			fprintf(stderr, "# drop_caches: %s\n", strerror(errno));
		close(fd);
	}
	usleep(500 * 1000);
	return read_mem(m);
}

/* MemAvailable of /proc/meminfo, in KiB; -1 if unknown. */
static long long mem_available(void)
{
	char line[256];
	long long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "MemAvailable:", 13))
			kib = strtoll(line + 13, NULL, 10);
	fclose(f);
	return kib;
}

/*
 * A process holding up to *@n new network namespaces, fewer if memory runs
 * low (*@n tells how many); returns its pid once they exist (it exits when
 * the write end *@release closes), or -errno.
 */
static pid_t hold_namespaces(int *n, int *release)
{
	int ready[2], go[2], i, fd, msg[2] = { 0, 0 };
	char c;
	pid_t pid;

	if (pipe(ready) || pipe(go))
		return -errno;
	pid = ep_fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		struct rlimit rl = { *n + 64, *n + 64 };

		close(ready[0]);
		close(go[1]);
		if (setrlimit(RLIMIT_NOFILE, &rl))
			msg[0] = errno;
		for (i = 0; i < *n && !msg[0]; i++) {
			if (i % 25 == 0 && mem_available() >= 0 &&
			    mem_available() < LOW_MEM_KIB)
				break;
			if (unshare(CLONE_NEWNET)) {
				msg[0] = errno;
				break;
			}
			fd = open("/proc/self/ns/net", O_RDONLY);
			if (fd < 0)
				msg[0] = errno;
		}
		msg[1] = i;
		if (write(ready[1], msg, sizeof(msg)) != sizeof(msg))
			_exit(1);
		/* Until the test lets go. */
		while (read(go[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	*release = go[1];
	if (read(ready[0], msg, sizeof(msg)) != sizeof(msg))
		msg[0] = EIO;
	close(ready[0]);
	if (msg[0] || !msg[1]) {
		close(go[1]);
		waitpid(pid, NULL, 0);
		return -(msg[0] ? msg[0] : ENOMEM);
	}
	*n = msg[1];
	return pid;
}

static void release_namespaces(pid_t pid, int release)
{
	if (pid <= 0)
		return;
	close(release);
	waitpid(pid, NULL, 0);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What one batch of @n namespaces added, in bytes per namespace. */
static int batch_cost(struct __test_metadata *_metadata, const char *what,
		      int n, pid_t *pid, int *release, double per_ns[NFIELDS + 1])
{
	struct mem before, after;
	double t;
	int i;

	if (settled_mem(&before))
		return -ENOENT;
	t = now();
	*pid = hold_namespaces(&n, release);
	if (*pid < 0) {
		TH_LOG("%s: cannot create %d namespaces: %s", what, n, strerror(-*pid));
		return *pid;
	}
	t = now() - t;
	if (settled_mem(&after))
		return -ENOENT;
	for (i = 0; i < NFIELDS; i++)
		per_ns[i] = (after.kib[i] - before.kib[i]) * 1024.0 / n;
	per_ns[NFIELDS] = (after.total - before.total) * 1024.0 / n;
	TH_LOG("%s: %d namespaces in %.1f s", what, n, t);
	TH_LOG("  per namespace: Slab %.0f, Percpu %.0f, VmallocUsed %.0f, total %.0f bytes",
	       per_ns[0], per_ns[1], per_ns[2], per_ns[3]);
	return 0;
}

FIXTURE(netns_mem) {
};

FIXTURE_SETUP(netns_mem)
{
}

FIXTURE_TEARDOWN(netns_mem)
{
	ep_unload();
}

/* About 25 s on 6.12 under QEMU's TCG, about 3 min on the debug kernel. */
TEST_F_TIMEOUT(netns_mem, idle_namespace_cost, 1800)
{
	double without[NFIELDS + 1], with[NFIELDS + 1], extra;
	pid_t warm, pid0 = -1, pid1 = -1;
	int rwarm, r0, r1, nwarm = WARMUP_COUNT;

	ep_unload();
	/* Caches and tables that grow once: not a namespace's cost. */
	warm = hold_namespaces(&nwarm, &rwarm);
	ASSERT_LT(0, warm) TH_LOG("cannot create namespaces: %s", strerror(-warm));

	ASSERT_EQ(0, batch_cost(_metadata, "without ephport", NS_COUNT, &pid0, &r0,
				without));
	ASSERT_EQ(0, ep_load(""));
	ASSERT_EQ(0, batch_cost(_metadata, "with ephport", NS_COUNT, &pid1, &r1, with));
	extra = with[NFIELDS] - without[NFIELDS];
	TH_LOG("ephport adds %.0f bytes (%.1f KiB) per idle namespace (limit %d KiB)",
	       extra, extra / 1024, LIMIT_BYTES / 1024);
	EXPECT_GE(LIMIT_BYTES, (long long)extra);

	release_namespaces(pid1, r1);
	release_namespaces(pid0, r0);
	release_namespaces(warm, rwarm);
}

#define CGROUP		"/sys/fs/cgroup/ep_mem"

static long long cgroup_mem(void)
{
	char buf[64];

	if (ep_read(CGROUP "/memory.current", buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/*
 * A child in cgroup ep_mem and a namespace of its own makes one
 * allocation when told to (@go), and says when it is ready and done
 * (@ready); it exits when @go closes.
 */
static void charged_child(int go, int ready)
{
	int fd, port;
	char c = 0;

	if (ep_write(CGROUP "/cgroup.procs", "0") || ep_new_netns())
		c = 1;
	if (write(ready, &c, 1) != 1 || c || read(go, &c, 1) != 1)
		_exit(1);
	fd = ep_alloc(AF_INET, EP_UDP_BIND, 0, &port);
	c = fd < 0;
	if (write(ready, &c, 1) != 1)
		_exit(1);
	while (read(go, &c, 1) > 0)
		;
	_exit(0);
}

/*
 * What a namespace costs once used is charged to the memory cgroup of the
 * task that uses it: with log_size=65536 (7 MiB of log, allocated at the
 * first logged allocation), the first allocation in a fresh namespace
 * raises its cgroup's memory.current by at least 6 MiB.
 */
TEST_F_TIMEOUT(netns_mem, charged_to_the_user, 900)
{
	long long before, after;
	int go[2], ready[2];
	char c = 1;
	pid_t pid;

	ASSERT_EQ(0, ep_load("log_size=65536"));
	if (ep_write("/sys/fs/cgroup/cgroup.subtree_control", "+memory"))
		SKIP(return, "no memory controller in /sys/fs/cgroup");
	ASSERT_TRUE(mkdir(CGROUP, 0755) == 0 || errno == EEXIST);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	pid = ep_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(go[1]);
		close(ready[0]);
		charged_child(go[0], ready[1]);
	}
	close(go[0]);
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(0, c) TH_LOG("cannot enter the cgroup or a new namespace");
	before = cgroup_mem();
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(ready[0], &c, 1));
	EXPECT_EQ(0, c) TH_LOG("the allocation failed");
	after = cgroup_mem();
	TH_LOG("the first allocation charged %lld KiB to its cgroup", (after - before) / 1024);
	EXPECT_LE(0, before);
	EXPECT_LE(6LL << 20, after - before);
	close(go[1]);
	close(ready[0]);
	waitpid(pid, NULL, 0);
	rmdir(CGROUP);
}

TEST_HARNESS_MAIN
