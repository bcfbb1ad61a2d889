// SPDX-License-Identifier: GPL-2.0
/*
 * The statistics and control surfaces: the files in /sys/kernel/ephport,
 * /proc/net/ephport and /sys/module/ephport/parameters, their modes, exact
 * counter deltas per allocation path, the allocation log, per-namespace
 * isolation, strict parsing of every writable file, module parameters,
 * permissions, the ephport_alloc tracepoint and stats/reset.
 *
 * The tests of module parameters load the module themselves; the others
 * share one load with the default parameters, their settings and counters
 * reset before each (unloading takes over a second), and make their
 * allocations in a network namespace of their own unless they are about
 * the initial one.  Nothing else allocates ports while a test runs, so the
 * global counters move by exactly what the test does.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ephport.h"

#define DPORT		5000	/* listeners: outside every range used here */
#define PARAMS		"/sys/module/ephport/parameters"
#define TRACING		"/sys/kernel/tracing"
#define TP_DIR		TRACING "/events/ephport/ephport_alloc"
#define NOBODY		65534
#define BIG		(64 * 1024)

enum path {
	TCP4_CONNECT,
	TCP6_CONNECT,
	TCP_BIND,
	UDP4,
	UDP6,
	PATHS
};

static const char *const path_names[PATHS] = {
	"tcp4-connect", "tcp6-connect", "tcp-bind", "udp4", "udp6",
};

static const char *const path_attrs[PATHS] = {
	"tcp4_connect", "tcp6_connect", "tcp_bind", "udp4", "udp6",
};

static const int path_family[PATHS] = {
	AF_INET, AF_INET6, AF_INET, AF_INET, AF_INET6,
};

/* The errno the stock kernel gives when no port is left. */
static const int path_exhausted[PATHS] = {
	EADDRNOTAVAIL, EADDRNOTAVAIL, EADDRINUSE, EADDRINUSE, EADDRINUSE,
};

static const char *const strategies =
	"kernel sequential random-start random-pick hash double-hash random-inc";

/*
 * Let the kernel pick a port on @path (a loopback address of @family for
 * tcp-bind).  Returns the socket, holding the port, or -errno.
 */
static int alloc_on(enum path p, int family, int *port)
{
	int connect = p == TCP4_CONNECT || p == TCP6_CONNECT;
	int type = p >= UDP4 ? SOCK_DGRAM : SOCK_STREAM;
	int fd, err;

	if (p != TCP_BIND)
		family = path_family[p];
	fd = ep_socket(family, type);
	if (fd < 0)
		return fd;
	if (connect)
		err = ep_connect_port(fd, family, DPORT);
	else
		err = ep_bind_port(fd, family, 0);
	if (err) {
		close(fd);
		return err;
	}
	*port = ep_local_port(fd);
	return fd;
}

static void close_fds(int *fds, int n)
{
	while (n-- > 0)
		if (fds[n] >= 0)
			ep_close_rst(fds[n]);
}

/* The whole file, NUL-terminated: its length or -errno. */
static ssize_t read_all(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

/* One write(2) of exactly @len bytes: the count written or -errno. */
static ssize_t write_buf(const char *path, const void *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

/* A value for a log message: C escapes, long values cut short. */
static const char *show(const char *s, size_t len)
{
	static char out[128];
	size_t i, o = 0;

	for (i = 0; i < len && o < 96; i++) {
		unsigned char c = s[i];

		if (c == '\n')
			o += sprintf(out + o, "\\n");
		else if (c == '\t')
			o += sprintf(out + o, "\\t");
		else if (c < 32 || c > 126)
			o += sprintf(out + o, "\\x%02x", c);
		else
			out[o++] = c;
	}
	if (i < len)
		o += sprintf(out + o, "...(%zu bytes)", len);
	out[o] = '\0';
	return out;
}

static int read_str(const char *path, char *buf, size_t size)
{
	int err = ep_read(path, buf, size);

	if (err)
		snprintf(buf, size, "<%s>", strerror(-err));
	return err;
}

/* ---- /proc/net/ephport/stats ---- */

#define MAX_HIST	32

struct pstat {
	long long alloc, fail, probes, max_probes;
	long long hist[MAX_HIST];
	long long hist_sum;
	int found;
};

struct pstats {
	int nhist;
	char hist_label[MAX_HIST][16];
	struct pstat p[PATHS];
};

static void add_hist_col(struct pstats *s, int *hist_col, const char *label, int col)
{
	snprintf(s->hist_label[s->nhist], sizeof(s->hist_label[0]), "%s", label);
	hist_col[s->nhist++] = col;
}

/*
 * Parse the table by its header: path, allocations, failures, probes,
 * max_probes, and the histogram columns (labels "1", "2-3", ..., ">=1024").
 */
static int read_pstats(struct pstats *s)
{
	int col_alloc = -1, col_fail = -1, col_probes = -1, col_max = -1;
	int hist_col[MAX_HIST], ncols = 0, i, p;
	char line[2048], *tok, *save;
	FILE *f;

	memset(s, 0, sizeof(*s));
	f = fopen(EP_PROCFS "/stats", "r");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -ENODATA;
	}
	for (tok = strtok_r(line, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save), ncols++) {
		if (!strcmp(tok, "allocations"))
			col_alloc = ncols;
		else if (!strcmp(tok, "failures"))
			col_fail = ncols;
		else if (!strcmp(tok, "probes"))
			col_probes = ncols;
		else if (!strcmp(tok, "max_probes"))
			col_max = ncols;
		else if (((tok[0] >= '0' && tok[0] <= '9') || tok[0] == '>') &&
			 s->nhist < MAX_HIST)
			add_hist_col(s, hist_col, tok, ncols);
	}
	if (col_alloc < 0 || col_fail < 0 || col_probes < 0 || col_max < 0) {
		fclose(f);
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		long long v[64];
		int n = 0;

		tok = strtok_r(line, " \t\n", &save);
		if (!tok)
			break;
		for (p = 0; p < PATHS; p++)
			if (!strcmp(tok, path_names[p]))
				break;
		if (p == PATHS)
			continue;
		v[n++] = 0;
		while ((tok = strtok_r(NULL, " \t\n", &save)) && n < 64)
			v[n++] = strtoll(tok, NULL, 10);
		if (n != ncols)
			continue;
		s->p[p].alloc = v[col_alloc];
		s->p[p].fail = v[col_fail];
		s->p[p].probes = v[col_probes];
		s->p[p].max_probes = v[col_max];
		for (i = 0; i < s->nhist; i++) {
			s->p[p].hist[i] = v[hist_col[i]];
			s->p[p].hist_sum += v[hist_col[i]];
		}
		s->p[p].found = 1;
	}
	fclose(f);
	return 0;
}

/* Every path is there and every count zero. */
static int pstats_zero(struct __test_metadata *_metadata, const struct pstats *s)
{
	int p, i, bad = 0;

	for (p = 0; p < PATHS; p++) {
		const struct pstat *r = &s->p[p];

		if (!r->found || r->alloc || r->fail || r->probes || r->max_probes ||
		    r->hist_sum) {
			TH_LOG("%s: found %d allocations %lld failures %lld probes %lld max %lld",
			       path_names[p], r->found, r->alloc, r->fail, r->probes,
			       r->max_probes);
			bad++;
		}
		for (i = 0; i < s->nhist; i++)
			bad += r->hist[i] != 0;
	}
	return bad;
}

/* ---- /sys/kernel/ephport/stats ---- */

struct gstats {
	long long alloc, fail, probes, path[PATHS];
};

static void read_gstats(struct gstats *g)
{
	char name[128];
	int p;

	g->alloc = ep_read_u64(EP_SYSFS "/stats/allocations");
	g->fail = ep_read_u64(EP_SYSFS "/stats/failures");
	g->probes = ep_read_u64(EP_SYSFS "/stats/probes");
	for (p = 0; p < PATHS; p++) {
		snprintf(name, sizeof(name), EP_SYSFS "/stats/%s", path_attrs[p]);
		g->path[p] = ep_read_u64(name);
	}
}

/* ---- /proc/net/ephport/allocations ---- */

#define MAX_LOG		64

struct log_entry {
	double time;
	char path[32], local[64], remote[64], strategy[32], rule[32], result[32], comm[32];
	long long probes;
	int pid;
};

struct log {
	char header[1024];
	int n;
	struct log_entry e[MAX_LOG];
};

/* Returns the number of entries, or -errno (-EBADMSG: a malformed line). */
static int read_log(struct log *l)
{
	char line[1024];
	FILE *f;

	memset(l, 0, sizeof(*l));
	f = fopen(EP_PROCFS "/allocations", "r");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -ENODATA;
	}
	snprintf(l->header, sizeof(l->header), "%s", line);
	while (fgets(line, sizeof(line), f)) {
		struct log_entry *e = &l->e[l->n < MAX_LOG ? l->n : MAX_LOG - 1];
		int off = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%lf %31s %63s %63s %lld %31s %31s %31s %d %n", &e->time,
			   e->path, e->local, e->remote, &e->probes, e->strategy, e->rule,
			   e->result, &e->pid, &off) != 9 || !off) {
			fclose(f);
			return -EBADMSG;
		}
		snprintf(e->comm, sizeof(e->comm), "%s", line + off);
		l->n++;
	}
	fclose(f);
	return l->n;
}

static void loopback_str(int family, int port, char *buf, size_t size)
{
	if (family == AF_INET)
		snprintf(buf, size, "127.0.0.1:%d", port);
	else
		snprintf(buf, size, "[::1]:%d", port);
}

/* ---- the state of every file, to see that a refused write changed nothing ---- */

static const char *const state_files[] = {
	EP_SYSFS "/enabled",
	EP_SYSFS "/range",
	EP_SYSFS "/strategy",
	EP_SYSFS "/available_strategies",
	EP_SYSFS "/stats/allocations",
	EP_SYSFS "/stats/failures",
	EP_SYSFS "/stats/probes",
	EP_SYSFS "/stats/tcp4_connect",
	EP_SYSFS "/stats/tcp6_connect",
	EP_SYSFS "/stats/tcp_bind",
	EP_SYSFS "/stats/udp4",
	EP_SYSFS "/stats/udp6",
	PARAMS "/enabled",
	PARAMS "/range",
	PARAMS "/strategy",
	PARAMS "/random_inc_n",
	PARAMS "/log_size",
	EP_PROCFS "/stats",
	EP_PROCFS "/allocations",
};

#define NR_STATE	(ARRAY_SIZE(state_files))

struct state {
	char *v[NR_STATE];
};

static void state_read(struct state *s)
{
	char *buf = malloc(BIG);
	unsigned int i;

	for (i = 0; i < NR_STATE; i++) {
		ssize_t n = read_all(state_files[i], buf, BIG);

		if (n < 0)
			snprintf(buf, BIG, "<%s>", strerror(-n));
		s->v[i] = strdup(buf);
	}
	free(buf);
}

static void state_free(struct state *s)
{
	unsigned int i;

	for (i = 0; i < NR_STATE; i++)
		free(s->v[i]);
}

/* The files that differ, logged; 0 if none. */
static int state_diff(struct __test_metadata *_metadata, const struct state *a,
		      const char *what)
{
	struct state b;
	unsigned int i;
	int n = 0;

	state_read(&b);
	for (i = 0; i < NR_STATE; i++) {
		if (strcmp(a->v[i], b.v[i])) {
			TH_LOG("%s changed %s: \"%s\"", what, state_files[i],
			       show(a->v[i], strlen(a->v[i])));
			TH_LOG("  now \"%s\"", show(b.v[i], strlen(b.v[i])));
			n++;
		}
	}
	state_free(&b);
	return n;
}

/* ---- child processes ---- */

/*
 * Run @fn in a child process; what it checks is reported through its exit
 * status (the number of failed checks) and "# " lines on stderr.
 */
static int in_child(int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid)
		_exit(fn(arg) & 0x7f);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

#define CHILD_CHECK(failed, cond, fmt, ...) do {				\
	if (!(cond)) {								\
		fprintf(stderr, "# %s:%d: %s: " fmt "\n", __FILE__, __LINE__,	\
			#cond, ##__VA_ARGS__);					\
		(failed)++;							\
	}									\
} while (0)

static int become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -errno;
	/* Keep /proc/self ours despite the uid change. */
	prctl(PR_SET_DUMPABLE, 1);
	return 0;
}

/* A pipe to say "go" to the other side, one byte at a time. */
static int wait_go(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? 0 : -1;
}

static int send_go(int fd)
{
	return write(fd, "g", 1) == 1 ? 0 : -1;
}

static int listeners(int fds[2])
{
	fds[0] = ep_listener(AF_INET, DPORT);
	fds[1] = ep_listener(AF_INET6, DPORT);
	return fds[0] < 0 ? fds[0] : fds[1] < 0 ? fds[1] : 0;
}

static int set_range(const char *value)
{
	return ep_write(EP_SYSFS "/range", value);
}

/*
 * The module with its default parameters, and the settings and counters
 * back to their defaults.  Unloading takes a second or more (RCU tasks
 * grace periods): the module is loaded again only when a test before left
 * it unloaded or loaded with other parameters.
 */
static void fresh_module(struct __test_metadata *_metadata)
{
	char buf[64];

	if (!ep_loaded() || read_str(PARAMS "/log_size", buf, sizeof(buf)) ||
	    strcmp(buf, "1024"))
		ASSERT_EQ(0, ep_load(""));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/enabled", "1"));
	ASSERT_EQ(0, set_range("auto"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", "kernel"));
	ASSERT_EQ(0, ep_write(PARAMS "/random_inc_n", "500"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/stats/reset", "1"));
}

/* Tests that want their own network namespace make it. */
FIXTURE(surface) {
	int listener[2];
};

FIXTURE_SETUP(surface)
{
	self->listener[0] = -1;
	self->listener[1] = -1;
	fresh_module(_metadata);
}

FIXTURE_TEARDOWN(surface)
{
	if (self->listener[0] >= 0)
		close(self->listener[0]);
	if (self->listener[1] >= 0)
		close(self->listener[1]);
	if (!access(TP_DIR "/enable", W_OK))
		ep_write(TP_DIR "/enable", "0");
}

/* Each file with its documented mode; the parameters and their descriptions. */
TEST_F(surface, files_and_modes)
{
	static const struct {
		const char *path;
		mode_t mode;
	} files[] = {
		{ EP_SYSFS "/enabled", 0644 },
		{ EP_SYSFS "/range", 0644 },
		{ EP_SYSFS "/strategy", 0644 },
		{ EP_SYSFS "/available_strategies", 0444 },
		{ EP_SYSFS "/warn_pct", 0644 },
		{ EP_SYSFS "/stats/allocations", 0444 },
		{ EP_SYSFS "/stats/failures", 0444 },
		{ EP_SYSFS "/stats/probes", 0444 },
		{ EP_SYSFS "/stats/tcp4_connect", 0444 },
		{ EP_SYSFS "/stats/tcp6_connect", 0444 },
		{ EP_SYSFS "/stats/tcp_bind", 0444 },
		{ EP_SYSFS "/stats/udp4", 0444 },
		{ EP_SYSFS "/stats/udp6", 0444 },
		{ EP_SYSFS "/stats/reset", 0200 },
		{ EP_PROCFS "/stats", 0444 },
		{ EP_PROCFS "/allocations", 0444 },
		{ PARAMS "/random_inc_n", 0644 },
		{ PARAMS "/log_size", 0444 },
	};
	static const char *const params[] = {
		"enabled", "range", "strategy", "random_inc_n", "log_size",
	};
	const char *ko = getenv("EPHPORT_KO") ?: "/ephport/ephport.ko";
	char path[256], buf[256], *modinfo;
	unsigned int i;
	struct stat st;
	ssize_t n;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		if (stat(files[i].path, &st)) {
			EXPECT_EQ(0, -errno) TH_LOG("%s", files[i].path);
			continue;
		}
		EXPECT_TRUE(S_ISREG(st.st_mode)) TH_LOG("%s", files[i].path);
		EXPECT_EQ(files[i].mode, st.st_mode & 07777)
			TH_LOG("%s is %04o", files[i].path, st.st_mode & 07777);
	}
	ASSERT_EQ(0, stat(EP_SYSFS "/stats", &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));

	/* Every parameter is there, readable, with a description in .modinfo. */
	modinfo = malloc(16 << 20);
	ASSERT_NE(NULL, modinfo);
	n = read_all(ko, modinfo, 16 << 20);
	ASSERT_LT(0, n) TH_LOG("cannot read %s", ko);
	for (i = 0; i < ARRAY_SIZE(params); i++) {
		const char *p;
		size_t len;

		snprintf(path, sizeof(path), PARAMS "/%s", params[i]);
		EXPECT_EQ(0, read_str(path, buf, sizeof(buf))) TH_LOG("%s", path);
		EXPECT_LT(0, (int)strlen(buf)) TH_LOG("%s is empty", path);
		len = snprintf(buf, sizeof(buf), "parm=%s:", params[i]);
		p = memmem(modinfo, n, buf, len);
		EXPECT_NE(NULL, p) TH_LOG("no description of %s in %s", params[i], ko);
		if (p) {
			EXPECT_LT(8, (int)strnlen(p + len, modinfo + n - p - len))
				TH_LOG("description of %s too short", params[i]);
		}
	}
	free(modinfo);

	EXPECT_EQ(0, read_str(EP_SYSFS "/available_strategies", buf, sizeof(buf)));
	EXPECT_STREQ(strategies, buf);
}

/*
 * Exact counter deltas per path: in a fresh namespace, 20 allocations from
 * a 20-port range and one exhaustion count as 20 allocations and one
 * failure on that path only, here and in the global counters.
 */
FIXTURE(counters) {
	int listener[2];
};

FIXTURE_VARIANT(counters) {
	enum path path;
	int family;
	const char *strategy;
};

FIXTURE_VARIANT_ADD(counters, tcp4_connect_kernel) { TCP4_CONNECT, AF_INET, "kernel" };
FIXTURE_VARIANT_ADD(counters, tcp6_connect_kernel) { TCP6_CONNECT, AF_INET6, "kernel" };
FIXTURE_VARIANT_ADD(counters, tcp_bind4_kernel) { TCP_BIND, AF_INET, "kernel" };
FIXTURE_VARIANT_ADD(counters, tcp_bind6_kernel) { TCP_BIND, AF_INET6, "kernel" };
FIXTURE_VARIANT_ADD(counters, udp4_kernel) { UDP4, AF_INET, "kernel" };
FIXTURE_VARIANT_ADD(counters, udp6_kernel) { UDP6, AF_INET6, "kernel" };
FIXTURE_VARIANT_ADD(counters, tcp4_connect_seq) { TCP4_CONNECT, AF_INET, "sequential" };
FIXTURE_VARIANT_ADD(counters, tcp6_connect_seq) { TCP6_CONNECT, AF_INET6, "sequential" };
FIXTURE_VARIANT_ADD(counters, tcp_bind4_seq) { TCP_BIND, AF_INET, "sequential" };
FIXTURE_VARIANT_ADD(counters, tcp_bind6_seq) { TCP_BIND, AF_INET6, "sequential" };
FIXTURE_VARIANT_ADD(counters, udp4_seq) { UDP4, AF_INET, "sequential" };
FIXTURE_VARIANT_ADD(counters, udp6_seq) { UDP6, AF_INET6, "sequential" };

FIXTURE_SETUP(counters)
{
	fresh_module(_metadata);
	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, listeners(self->listener));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", variant->strategy));
	ASSERT_EQ(0, set_range("40000 40019"));
}

FIXTURE_TEARDOWN(counters)
{
	close(self->listener[0]);
	close(self->listener[1]);
}

TEST_F(counters, exact_deltas)
{
	enum path path = variant->path;
	struct gstats g0, g1;
	struct pstats s0, s1;
	int fds[21], i, p, b, port, last = -1;
	long long hsum = 0;

	ASSERT_EQ(0, read_pstats(&s0));
	EXPECT_EQ(0, pstats_zero(_metadata, &s0)) TH_LOG("fresh namespace not zero");
	read_gstats(&g0);

	for (i = 0; i < 20; i++) {
		fds[i] = alloc_on(path, variant->family, &port);
		ASSERT_LE(0, fds[i]) TH_LOG("#%d: %s", i, strerror(-fds[i]));
		ASSERT_LE(40000, port);
		ASSERT_GE(40019, port);
	}
	fds[20] = alloc_on(path, variant->family, &port);
	EXPECT_EQ(-path_exhausted[path], fds[20]);

	ASSERT_EQ(0, read_pstats(&s1));
	read_gstats(&g1);
	close_fds(fds, 21);

	for (p = 0; p < PATHS; p++) {
		const struct pstat *r = &s1.p[p];

		ASSERT_TRUE(r->found) TH_LOG("no line for %s", path_names[p]);
		if (p != (int)path) {
			EXPECT_EQ(0, r->alloc) TH_LOG("%s", path_names[p]);
			EXPECT_EQ(0, r->fail) TH_LOG("%s", path_names[p]);
			EXPECT_EQ(0, r->probes) TH_LOG("%s", path_names[p]);
			EXPECT_EQ(0, r->hist_sum) TH_LOG("%s", path_names[p]);
			EXPECT_EQ(0, g1.path[p] - g0.path[p]) TH_LOG("global %s", path_attrs[p]);
			continue;
		}
		EXPECT_EQ(20, r->alloc);
		EXPECT_EQ(1, r->fail);
		EXPECT_LE(r->alloc, r->probes);
		/* Every attempt here needed at least one probe. */
		EXPECT_EQ(r->alloc + r->fail, r->hist_sum);
		EXPECT_LE(1, r->max_probes);
		EXPECT_GE(r->probes, r->max_probes);
		/* The highest non-empty bucket is the one max_probes falls in. */
		for (b = 0; b < s1.nhist; b++)
			if (r->hist[b])
				last = b;
		ASSERT_LE(0, last);
		for (b = 0, i = 1; b < last && i < (1 << 30); b++)
			i <<= 1;
		EXPECT_LE(i, r->max_probes)
			TH_LOG("max_probes %lld, bucket %s", r->max_probes, s1.hist_label[last]);
		if (last < s1.nhist - 1) {
			EXPECT_GT(2 * i, r->max_probes)
				TH_LOG("max_probes %lld, bucket %s", r->max_probes,
				       s1.hist_label[last]);
		}
		hsum = r->hist_sum;

		EXPECT_EQ(20, g1.path[p] - g0.path[p]) TH_LOG("global %s", path_attrs[p]);
		EXPECT_EQ(20, g1.alloc - g0.alloc);
		EXPECT_EQ(1, g1.fail - g0.fail);
		EXPECT_EQ(r->probes, g1.probes - g0.probes);
	}
	EXPECT_EQ(21, hsum);
	EXPECT_EQ(11, s1.nhist);
}

/*
 * The log: each allocation shows as the newest entry right away, with its
 * path, addresses, strategy, pid and comm; oldest first; failures are not
 * logged.
 */
TEST_F(surface, log_entries)
{
	static const struct {
		enum path path;
		int family;
	} seq[] = {
		{ TCP4_CONNECT, AF_INET }, { TCP6_CONNECT, AF_INET6 },
		{ TCP_BIND, AF_INET }, { TCP_BIND, AF_INET6 },
		{ UDP4, AF_INET }, { UDP6, AF_INET6 },
	};
	const int n = ARRAY_SIZE(seq);
	char want[64], hdr[1024], *tok, *save;
	int fds[6], ports[6], i, j, fd, err;
	static struct log l;
	static const char *const cols[] = {
		"time", "path", "local", "remote", "probes", "strategy", "rule",
		"result", "pid", "comm",
	};

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, listeners(self->listener));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", "random-pick"));
	ASSERT_EQ(0, set_range("40000 40099"));
	ASSERT_EQ(0, prctl(PR_SET_NAME, "ep-logtest", 0, 0, 0));

	ASSERT_EQ(0, read_log(&l)) TH_LOG("fresh namespace: log not empty");
	snprintf(hdr, sizeof(hdr), "%s", l.header);
	for (i = 0, tok = strtok_r(hdr, " \n", &save); tok;
	     i++, tok = strtok_r(NULL, " \n", &save)) {
		if (i < 10) {
			EXPECT_STREQ(cols[i], tok);
		}
	}
	EXPECT_EQ(10, i);

	for (i = 0; i < n; i++) {
		struct log_entry *e;

		fds[i] = alloc_on(seq[i].path, seq[i].family, &ports[i]);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(i + 1, read_log(&l));
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
		EXPECT_EQ(getpid(), e->pid);
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
	ASSERT_EQ(n + 1, read_log(&l));
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
	static struct log l;

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
	ASSERT_EQ(size, read_log(&l));
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
	static struct log l;
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
	ASSERT_EQ(size, read_log(&l));
	for (i = 0; i < size; i++) {
		loopback_str(AF_INET, ports[total - size + i], want, sizeof(want));
		EXPECT_STREQ(want, l.e[i].local) TH_LOG("entry %d", i);
	}
	close_fds(fds, total);
}

/*
 * Per-namespace isolation: a fresh namespace starts with an empty log and
 * zero counters and sees only its own allocations, while those of the
 * initial namespace keep going.
 */
struct iso {
	int to_child[2], to_parent[2];
	int ports[2];
};

static int isolated_child(void *arg)
{
	struct iso *x = arg;
	int failed = 0, fds[2], i, p;
	static struct log l;
	struct pstats s;
	char want[64];

	close(x->to_child[1]);
	close(x->to_parent[0]);
	if (ep_new_netns() || prctl(PR_SET_NAME, "ep-nsb", 0, 0, 0))
		return 1;
	CHILD_CHECK(failed, read_pstats(&s) == 0, "");
	for (p = 0; p < PATHS; p++)
		CHILD_CHECK(failed, s.p[p].found && !s.p[p].alloc && !s.p[p].fail &&
			    !s.p[p].probes && !s.p[p].hist_sum, "%s", path_names[p]);
	CHILD_CHECK(failed, read_log(&l) == 0, "fresh namespace: %d entries", l.n);

	for (i = 0; i < 2; i++) {
		fds[i] = alloc_on(UDP4, AF_INET, &x->ports[i]);
		CHILD_CHECK(failed, fds[i] >= 0, "udp4: %s", strerror(-fds[i]));
	}
	/* Tell the parent the ports, wait for its allocations. */
	if (write(x->to_parent[1], x->ports, sizeof(x->ports)) != sizeof(x->ports) ||
	    wait_go(x->to_child[0]))
		return failed + 1;

	CHILD_CHECK(failed, read_log(&l) == 2, "%d entries", l.n);
	for (i = 0; i < l.n && i < 2; i++) {
		loopback_str(AF_INET, x->ports[i], want, sizeof(want));
		CHILD_CHECK(failed, !strcmp(want, l.e[i].local), "%s", l.e[i].local);
		CHILD_CHECK(failed, l.e[i].pid == getpid(), "pid %d", l.e[i].pid);
		CHILD_CHECK(failed, !strcmp(l.e[i].comm, "ep-nsb"), "%s", l.e[i].comm);
	}
	CHILD_CHECK(failed, read_pstats(&s) == 0, "");
	for (p = 0; p < PATHS; p++)
		CHILD_CHECK(failed, s.p[p].alloc == (p == UDP4 ? 2 : 0) && !s.p[p].fail,
			    "%s: %lld", path_names[p], s.p[p].alloc);
	close_fds(fds, 2);
	return failed;
}

TEST_F(surface, netns_isolation)
{
	int fds[4], port, i, status, nlog0;
	struct pstats s0, s1, s2;
	struct gstats g0, g1;
	static struct log l;
	struct iso x;
	pid_t pid;

	/* The initial namespace allocates before, meanwhile and after. */
	ASSERT_EQ(0, listeners(self->listener));
	ASSERT_EQ(0, set_range("40000 40999"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", "random-pick"));
	ASSERT_EQ(0, prctl(PR_SET_NAME, "ep-host", 0, 0, 0));
	ASSERT_EQ(0, read_pstats(&s0));
	read_gstats(&g0);
	nlog0 = read_log(&l);
	ASSERT_LE(0, nlog0);
	for (i = 0; i < 2; i++) {
		fds[i] = alloc_on(TCP4_CONNECT, AF_INET, &port);
		ASSERT_LE(0, fds[i]);
	}

	ASSERT_EQ(0, pipe(x.to_child));
	ASSERT_EQ(0, pipe(x.to_parent));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(isolated_child(&x) & 0x7f);
	close(x.to_child[0]);
	close(x.to_parent[1]);
	ASSERT_EQ((ssize_t)sizeof(x.ports), read(x.to_parent[0], x.ports, sizeof(x.ports)));
	ASSERT_EQ(0, read_pstats(&s1));
	for (i = 2; i < 4; i++) {
		fds[i] = alloc_on(TCP4_CONNECT, AF_INET, &port);
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_EQ(0, send_go(x.to_child[1]));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("the namespace's own view was wrong (status %#x)", status);

	ASSERT_EQ(0, read_pstats(&s2));
	read_gstats(&g1);
	/* The other namespace's UDP allocations are not counted here ... */
	EXPECT_EQ(s0.p[UDP4].alloc, s1.p[UDP4].alloc);
	EXPECT_EQ(s0.p[UDP4].alloc, s2.p[UDP4].alloc);
	/* ... this one's keep counting ... */
	EXPECT_EQ(s0.p[TCP4_CONNECT].alloc + 2, s1.p[TCP4_CONNECT].alloc);
	EXPECT_EQ(s0.p[TCP4_CONNECT].alloc + 4, s2.p[TCP4_CONNECT].alloc);
	/* ... and the global counters have both. */
	EXPECT_EQ(2, g1.path[UDP4] - g0.path[UDP4]);
	EXPECT_EQ(4, g1.path[TCP4_CONNECT] - g0.path[TCP4_CONNECT]);
	EXPECT_EQ(6, g1.alloc - g0.alloc);

	/* This namespace's log has its own entries and none of the other's. */
	ASSERT_EQ(nlog0 + 4, read_log(&l));
	for (i = 0; i < l.n; i++) {
		EXPECT_NE(pid, l.e[i].pid);
		EXPECT_STRNE("ep-nsb", l.e[i].comm);
	}
	for (i = nlog0; i < l.n; i++) {
		EXPECT_STREQ("tcp4-connect", l.e[i].path);
		EXPECT_EQ(getpid(), l.e[i].pid);
	}
	close_fds(fds, 4);
}

/* ---- strict parsing ---- */

struct value {
	const char *s;
	size_t len;
};

#define V(str)	{ str, sizeof(str) - 1 }

/* Refused by every writable file. */
static const struct value bad_values[] = {
	V("\n"), V(" "), V(" \n"), V("   "), V("\t"), V("\n\n"),
	V("garbage"), V("garbage\n"), V("\x01"), V("\xff\xfe"),
	V("1\0"), V("1\0\n"), V("\0"), V("\0001"), V("auto\0"), V("kernel\0"),
	V("40000 40010\0"),
	V("40000 40010x"), V("40000 40010x\n"), V("1 2 3"), V("40000 40010 40020"),
	V("99999999999 1"), V("65536 65537"), V("-1 2000"), V("50000 40000"),
	V("80 90"), V("1023 2000"), V("60000 70000"), V("0 0"), V("1024 65536"),
	V("40000"), V("40000-"), V("-40010"), V("40000--40010"), V("40000 - 40010"),
	V("40000,40010"), V("0x9c40 0x9c4a"), V(" 40000 40010"), V("40000 40010 "),
	V("40000 40010\n\n"), V("40000 40010\r"),
	V("AUTO"), V("auto "), V(" auto"), V("auto\n\n"), V("autox"),
	V("nope"), V("Kernel"), V("kernel "), V(" kernel"), V("kernel\n\n"),
	V("kernel\r"), V("sequential,hash"), V("random-start-and-then-some"),
	V("kernel sequential"),
	V("2"), V("yes"), V("no"), V("on"), V("true"), V("10"), V("01"), V("-1"),
	V("-0"), V("+1"), V("1 "), V(" 1"), V("1\r"), V("1\n\n"), V("0x1"), V("y"),
};

/* The bad values that are specific to one file's syntax. */
static const struct {
	const char *file;
	struct value v;
} bad_for[] = {
	{ "stats/reset", V("0") }, { "stats/reset", V("0\n") },
};

static const struct value bad_inc_n[] = {
	V("0"), V("0\n"), V("-1"), V("garbage"), V("\n"), V("1 2"), V("7x"),
	V("99999999999"),
};

static const char *const writable[] = {
	"enabled", "range", "strategy", "stats/reset",
};

static void write_refused(struct __test_metadata *_metadata, const char *file,
			  const char *s, size_t len, const struct state *st)
{
	char path[256];
	ssize_t n;

	if (file[0] == '/')
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), EP_SYSFS "/%s", file);
	n = write_buf(path, s, len);
	EXPECT_EQ(-EINVAL, n) TH_LOG("%s <- \"%s\": %s", file, show(s, len),
				     n < 0 ? strerror(-n) : "accepted");
	EXPECT_EQ(0, state_diff(_metadata, st, file));
}

/* A known state that no refused write should change. */
static void make_state(struct __test_metadata *_metadata)
{
	int fds[3], port, i;

	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", "hash"));
	ASSERT_EQ(0, set_range("40000 40010"));
	for (i = 0; i < 3; i++) {
		fds[i] = alloc_on(UDP4, AF_INET, &port);
		ASSERT_LE(0, fds[i]);
	}
	close_fds(fds, 3);
	ASSERT_LT(0, ep_read_u64(EP_SYSFS "/stats/allocations"));
}

TEST_F(surface, bad_writes)
{
	const size_t big = 8192;
	unsigned int f, i;
	char path[256];
	struct state st;
	char *buf;

	ASSERT_EQ(0, ep_new_netns());
	make_state(_metadata);
	buf = malloc(big);
	ASSERT_NE(NULL, buf);
	/* Both states of enabled, so that neither "0" nor "1" can slip in. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ep_write(EP_SYSFS "/enabled", i ? "1" : "0"));
		state_read(&st);
		for (f = 0; f < ARRAY_SIZE(writable); f++) {
			unsigned int v;

			for (v = 0; v < ARRAY_SIZE(bad_values); v++)
				write_refused(_metadata, writable[f], bad_values[v].s,
					      bad_values[v].len, &st);
			/* 8 KiB: sysfs passes on the first page; still refused. */
			memset(buf, 'x', big);
			write_refused(_metadata, writable[f], buf, big, &st);
			memset(buf, '1', big);
			write_refused(_metadata, writable[f], buf, big, &st);
			memset(buf, ' ', big);
			memcpy(buf, "40000 40010", 11);
			write_refused(_metadata, writable[f], buf, big, &st);
			memset(buf, '\n', big);
			memcpy(buf, "auto", 4);
			write_refused(_metadata, writable[f], buf, big, &st);
			/* 65 bytes of a plausible value. */
			memset(buf, '1', 65);
			write_refused(_metadata, writable[f], buf, 65, &st);
			/* An empty write never reaches the module: nothing changes. */
			snprintf(path, sizeof(path), EP_SYSFS "/%s", writable[f]);
			EXPECT_LE(0, write_buf(path, "", 0));
			EXPECT_EQ(0, state_diff(_metadata, &st, "empty write"));
		}
		for (f = 0; f < ARRAY_SIZE(bad_for); f++)
			write_refused(_metadata, bad_for[f].file, bad_for[f].v.s,
				      bad_for[f].v.len, &st);
		/* The one writable parameter: increments are 1..N. */
		for (f = 0; f < ARRAY_SIZE(bad_inc_n); f++)
			write_refused(_metadata, PARAMS "/random_inc_n",
				      bad_inc_n[f].s, bad_inc_n[f].len, &st);
		state_free(&st);
	}
	free(buf);
}

/* A range below the namespace's net.ipv4.ip_unprivileged_port_start. */
TEST_F(surface, range_below_unprivileged_floor)
{
	static const char *const below[] = {
		"1500 2499", "1999 2000", "1024 65535", "1024-1999", "1999-1999",
	};
	char buf[64];
	struct state st;
	unsigned int i;

	ASSERT_EQ(0, ep_new_netns());
	make_state(_metadata);
	ASSERT_EQ(0, ep_sysctl("ip_local_port_range", "2000 60999"));
	ASSERT_EQ(0, ep_sysctl("ip_unprivileged_port_start", "2000"));
	state_read(&st);
	for (i = 0; i < ARRAY_SIZE(below); i++)
		write_refused(_metadata, "range", below[i], strlen(below[i]), &st);
	state_free(&st);
	/* At the floor is fine. */
	EXPECT_EQ(0, set_range("2000 2499"));
	EXPECT_EQ(0, read_str(EP_SYSFS "/range", buf, sizeof(buf)));
	EXPECT_STREQ("2000 2499", buf);
}

/* The accepted forms, read back in the canonical form. */
TEST_F(surface, good_writes)
{
	static const struct {
		const char *file;
		struct value v;
		const char *reads;
	} good[] = {
		{ "range", V("40000 40010"), "40000 40010" },
		{ "range", V("auto"), "auto" },
		{ "range", V("40001 40011\n"), "40001 40011" },
		{ "range", V("auto\n"), "auto" },
		{ "range", V("40002-40012"), "40002 40012" },
		{ "range", V("40003-40013\n"), "40003 40013" },
		{ "range", V("40004  40014"), "40004 40014" },
		{ "range", V("40005    40015\n"), "40005 40015" },
		{ "range", V("1024 65535"), "1024 65535" },
		{ "range", V("65535 65535"), "65535 65535" },
		{ "range", V("1024-1024"), "1024 1024" },
		{ "enabled", V("0"), "0" },
		{ "enabled", V("1"), "1" },
		{ "enabled", V("0\n"), "0" },
		{ "enabled", V("1\n"), "1" },
		{ "strategy", V("sequential"), "sequential" },
		{ "strategy", V("hash\n"), "hash" },
		{ PARAMS "/random_inc_n", V("7"), "7" },
		{ PARAMS "/random_inc_n", V("9\n"), "9" },
	};
	char path[256], buf[256];
	unsigned int i;
	ssize_t n;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		if (good[i].file[0] == '/')
			snprintf(path, sizeof(path), "%s", good[i].file);
		else
			snprintf(path, sizeof(path), EP_SYSFS "/%s", good[i].file);
		n = write_buf(path, good[i].v.s, good[i].v.len);
		EXPECT_EQ((ssize_t)good[i].v.len, n)
			TH_LOG("%s <- \"%s\": %s", good[i].file,
			       show(good[i].v.s, good[i].v.len),
			       n < 0 ? strerror(-n) : "short write");
		EXPECT_EQ(0, read_str(path, buf, sizeof(buf)));
		EXPECT_STREQ(good[i].reads, buf)
			TH_LOG("after \"%s\"", show(good[i].v.s, good[i].v.len));
	}
	EXPECT_EQ(1, write_buf(EP_SYSFS "/stats/reset", "1", 1));
	EXPECT_EQ(2, write_buf(EP_SYSFS "/stats/reset", "1\n", 2));
}

/* A new range applies to the very next allocation on every path. */
TEST_F(surface, range_change_takes_effect)
{
	static const struct {
		const char *write;
		int low, high;
	} ranges[] = {
		{ "41000 41010", 41000, 41010 },
		{ "42000-42010\n", 42000, 42010 },
		{ "auto", 43000, 43010 },	/* the namespace's sysctl */
		{ "44000 44000", 44000, 44000 },
	};
	static const struct {
		enum path path;
		int family;
	} seq[] = {
		{ TCP4_CONNECT, AF_INET }, { TCP6_CONNECT, AF_INET6 },
		{ TCP_BIND, AF_INET }, { TCP_BIND, AF_INET6 },
		{ UDP4, AF_INET }, { UDP6, AF_INET6 },
	};
	static const char *const strategy[] = { "kernel", "random-pick" };
	int r, i, k, fd, port;

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, listeners(self->listener));
	ASSERT_EQ(0, ep_sysctl("ip_local_port_range", "43000 43010"));
	for (k = 0; k < 2; k++) {
		ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", strategy[k]));
		for (r = 0; r < 4; r++) {
			ASSERT_EQ(0, set_range(ranges[r].write));
			for (i = 0; i < 6; i++) {
				fd = alloc_on(seq[i].path, seq[i].family, &port);
				ASSERT_LE(0, fd) TH_LOG("%s: %s", path_names[seq[i].path],
							strerror(-fd));
				EXPECT_LE(ranges[r].low, port)
					TH_LOG("%s %s after \"%s\": %d", strategy[k],
					       path_names[seq[i].path], ranges[r].write, port);
				EXPECT_GE(ranges[r].high, port)
					TH_LOG("%s %s after \"%s\": %d", strategy[k],
					       path_names[seq[i].path], ranges[r].write, port);
				ep_close_rst(fd);
			}
		}
	}
}

/* Each strategy at run time: read back, and named in the log. */
TEST_F(surface, strategies_at_runtime)
{
	char buf[256], *list, *name, *save;
	static struct log l;
	int n = 0, fd, port;

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, set_range("40000 40999"));
	ASSERT_EQ(0, read_str(EP_SYSFS "/available_strategies", buf, sizeof(buf)));
	EXPECT_STREQ(strategies, buf);
	list = strdup(strategies);
	for (name = strtok_r(list, " ", &save); name; name = strtok_r(NULL, " ", &save)) {
		ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", name));
		EXPECT_EQ(0, read_str(EP_SYSFS "/strategy", buf, sizeof(buf)));
		EXPECT_STREQ(name, buf);
		fd = alloc_on(UDP4, AF_INET, &port);
		ASSERT_LE(0, fd);
		close(fd);
		ASSERT_EQ(++n, read_log(&l));
		EXPECT_STREQ(name, l.e[n - 1].strategy);
	}
	free(list);
	EXPECT_EQ(7, n);
}

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

	if (!buf || become_nobody())
		return 1;
	for (i = 0; i < ARRAY_SIZE(readable); i++) {
		n = read_all(readable[i], buf, BIG);
		CHILD_CHECK(failed, n > 0, "read %s: %s", readable[i],
			    n < 0 ? strerror(-n) : "empty");
	}
	for (i = 0; i < ARRAY_SIZE(all_writes); i++) {
		n = write_buf(all_writes[i][0], all_writes[i][1], strlen(all_writes[i][1]));
		CHILD_CHECK(failed, n == -EACCES, "write %s: %s", all_writes[i][0],
			    n < 0 ? strerror(-n) : "accepted");
	}
	fd = open(EP_SYSFS "/stats/reset", O_RDONLY);
	CHILD_CHECK(failed, fd < 0 && errno == EACCES, "read stats/reset");
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
	make_state(_metadata);
	state_read(&st);
	EXPECT_EQ(0, in_child(nobody_child, NULL));
	EXPECT_EQ(0, state_diff(_metadata, &st, "uid 65534"));
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
		n = write_buf(all_writes[i][0], all_writes[i][1], strlen(all_writes[i][1]));
		CHILD_CHECK(failed, n == -EPERM || n == -EACCES, "write %s: %s",
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

	if (!buf || become_nobody())
		return 1;
	snprintf(path, sizeof(path), "/proc/%s/net/ephport/stats", pid);
	n = read_all(path, buf, BIG);
	CHILD_CHECK(failed, n > 0, "read %s: %s", path, n < 0 ? strerror(-n) : "empty");
	snprintf(path, sizeof(path), "/proc/%s/net/ephport/allocations", pid);
	n = read_all(path, buf, BIG);
	CHILD_CHECK(failed, n == -EACCES, "read %s: %s", path,
		    n < 0 ? strerror(-n) : "allowed");
	n = read_all(EP_PROCFS "/allocations", buf, BIG);
	CHILD_CHECK(failed, n > 0, "own log: %s", n < 0 ? strerror(-n) : "empty");
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
	fresh_module(_metadata);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	owner = fork();
	ASSERT_LE(0, owner);
	if (!owner) {
		if (ep_new_netns())
			_exit(1);
		fd = ep_alloc(AF_INET, EP_TCP_BIND, 0, &port);
		send_go(go[1]);
		wait_go(done[0]);
		_exit(fd < 0);
	}
	ASSERT_EQ(0, wait_go(go[0]));
	snprintf(pid, sizeof(pid), "%d", owner);
	snprintf(path, sizeof(path), "/proc/%d/net/ephport/allocations", owner);
	/* Root holds CAP_NET_ADMIN over every namespace. */
	EXPECT_LT(0, read_all(path, buf, BIG));
	EXPECT_EQ(0, in_child(other_log_child, pid));
	send_go(done[1]);
	waitpid(owner, NULL, 0);
	free(buf);
}

/* Root of a user namespace is not root: writes need CAP_NET_ADMIN. */
TEST_F(surface, user_namespace_root)
{
	struct state st;
	int ret;

	ASSERT_EQ(0, ep_new_netns());
	make_state(_metadata);
	state_read(&st);
	ret = in_child(userns_child, NULL);
	if (ret == 100) {
		state_free(&st);
		SKIP(return, "cannot create a user namespace");
	}
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, state_diff(_metadata, &st, "user namespace root"));
	state_free(&st);
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
	ASSERT_LT(0, read_all(TP_DIR "/format", trace, 1 << 20));
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
	len = read_all(TRACING "/trace", trace, 1 << 20);
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

/* ---- stats/reset ---- */

struct reset_ctx {
	int to_child[2], to_parent[2];
};

static int other_ns_child(void *arg)
{
	struct reset_ctx *x = arg;
	int failed = 0, fds[3], port, i;
	long long n;

	close(x->to_child[1]);
	close(x->to_parent[0]);
	if (ep_new_netns())
		return 1;
	for (i = 0; i < 3; i++) {
		fds[i] = alloc_on(UDP4, AF_INET, &port);
		CHILD_CHECK(failed, fds[i] >= 0, "%s", strerror(-fds[i]));
	}
	if (send_go(x->to_parent[1]) || wait_go(x->to_child[0]))
		return failed + 1;
	n = ep_proc_stat("udp4", "allocations");
	CHILD_CHECK(failed, n == 3, "another namespace's reset zeroed this one: %lld", n);
	close_fds(fds, 3);
	return failed;
}

TEST_F(surface, reset)
{
	int fds[3], port, i, status, err;
	struct reset_ctx x;
	struct gstats g;
	struct pstats s;
	pid_t pid;

	ASSERT_EQ(0, pipe(x.to_child));
	ASSERT_EQ(0, pipe(x.to_parent));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(other_ns_child(&x) & 0x7f);
	close(x.to_child[0]);
	close(x.to_parent[1]);
	ASSERT_EQ(0, wait_go(x.to_parent[0]));

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, set_range("40000 40001"));
	for (i = 0; i < 3; i++)
		fds[i] = alloc_on(TCP_BIND, AF_INET, &port);
	EXPECT_EQ(-EADDRINUSE, fds[2]);
	ASSERT_EQ(0, read_pstats(&s));
	EXPECT_EQ(2, s.p[TCP_BIND].alloc);
	EXPECT_EQ(1, s.p[TCP_BIND].fail);
	read_gstats(&g);
	EXPECT_EQ(5, g.alloc);

	ASSERT_EQ(0, ep_write(EP_SYSFS "/stats/reset", "1"));
	read_gstats(&g);
	EXPECT_EQ(0, g.alloc);
	EXPECT_EQ(0, g.fail);
	EXPECT_EQ(0, g.probes);
	for (i = 0; i < PATHS; i++) {
		EXPECT_EQ(0, g.path[i]) TH_LOG("%s", path_attrs[i]);
	}
	ASSERT_EQ(0, read_pstats(&s));
	EXPECT_EQ(0, pstats_zero(_metadata, &s));

	ASSERT_EQ(0, send_go(x.to_child[1]));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("status %#x", status);

	/* Counting goes on from zero. */
	close_fds(fds, 3);
	err = alloc_on(UDP6, AF_INET6, &port);
	ASSERT_LE(0, err);
	close(err);
	read_gstats(&g);
	EXPECT_EQ(1, g.alloc);
	EXPECT_EQ(1, g.path[UDP6]);
	EXPECT_EQ(1, ep_proc_stat("udp6", "allocations"));
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
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		const char *p = good[i].params;

		ASSERT_EQ(0, ep_load(p)) TH_LOG("insmod ephport.ko %s", p);
		EXPECT_EQ(0, read_str(EP_SYSFS "/enabled", buf, sizeof(buf)));
		EXPECT_STREQ(good[i].enabled, buf) TH_LOG("%s", p);
		EXPECT_EQ(0, read_str(EP_SYSFS "/range", buf, sizeof(buf)));
		EXPECT_STREQ(good[i].range, buf) TH_LOG("%s", p);
		EXPECT_EQ(0, read_str(EP_SYSFS "/strategy", buf, sizeof(buf)));
		EXPECT_STREQ(good[i].strategy, buf) TH_LOG("%s", p);
		EXPECT_EQ(0, read_str(EP_SYSFS "/available_strategies", buf, sizeof(buf)));
		EXPECT_STREQ(strategies, buf) TH_LOG("%s", p);
		/* The parameters show the same. */
		EXPECT_EQ(0, read_str(PARAMS "/enabled", buf, sizeof(buf)));
		EXPECT_STREQ(good[i].enabled, buf) TH_LOG("%s", p);
		EXPECT_EQ(0, read_str(PARAMS "/range", buf, sizeof(buf)));
		EXPECT_STREQ(good[i].range, buf) TH_LOG("%s", p);
		EXPECT_EQ(0, read_str(PARAMS "/strategy", buf, sizeof(buf)));
		EXPECT_STREQ(good[i].strategy, buf) TH_LOG("%s", p);
		EXPECT_EQ(0, read_str(PARAMS "/random_inc_n", buf, sizeof(buf)));
		EXPECT_STREQ(good[i].random_inc_n, buf) TH_LOG("%s", p);
		EXPECT_EQ(0, read_str(PARAMS "/log_size", buf, sizeof(buf)));
		EXPECT_STREQ(good[i].log_size, buf) TH_LOG("%s", p);
	}
}

int main(int argc, char **argv)
{
	int ret;

	ep_unload();
	ret = test_harness_run(argc, argv);
	ep_unload();
	return ret;
}
