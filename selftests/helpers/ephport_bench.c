// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_bench - the cost of one allocation against the range's
 * occupancy, for the stock allocator and each strategy, in one boot.
 *
 * Workloads, each at several occupancies of a 10,000-port range:
 *   connect-filled     connect() to a loopback listener; the occupancy is
 *                      made by the allocator under test (connections to
 *                      the same listener)
 *   connect-scattered  connect(); the occupancy is exclusive binds on
 *                      uniformly random ports
 *   bind-scattered     bind(0) + close, same occupancy
 *   udp-scattered      UDP bind(0) + close, UDP sockets on random ports
 * Measured connections are closed with RST: no TIME_WAIT builds up.
 *
 * Rounds interleave the allocators; each cell runs in a fresh network
 * namespace.  Output: one CSV line per cell, prefixed "bench-csv: ", with
 * the median over rounds of the per-round median time per operation, its
 * ratio to stock (stock / cell) and overhead against stock in percent, the
 * mean and max probes per allocation from the module's statistics, and the
 * clock (-c): "wall", or "icount" when the VM counts instructions (QEMU
 * -icount shift=0: the guest clock advances 1 ns per instruction, so the
 * median is in instructions; the column is then named median_insns).
 *
 * Then the cost of the scoped-policy lookup: udp-scattered at 0 % with
 * random-pick, with no rule and with RULES rules that the allocations
 * walk past (each fails on its last check, the cgroup), interleaved over
 * 3 x ROUNDS rounds of 10 x OPS operations; output lines are prefixed
 * "bench-rules-csv: " (rules,median_ns,delta_ns).
 *
 * usage: ephport_bench [-r ROUNDS] [-n OPS] [-o OCC,OCC,...] [-w WORKLOAD]
 *                      [-s STRATEGY,...] [-R RULES] [-p MODULE_PARAMS]
 *                      [-c wall|icount] [-S SEED] [-N NAMESPACES]
 * SEED (default 1) seeds the random ports of the scattered occupancy.
 *
 * An allocator of -s may name module parameters after an "@", "+" between
 * them: "sequential@log_size=0", "kernel@enabled=0+log_size=0".  The
 * module is loaded again with them (after those of -p) when they differ
 * from the loaded module's; the cell's line names the allocator so.
 *
 * netns-churn (-N NAMESPACES, default 1000; 0 skips it): the time to
 * create NAMESPACES network namespaces, one unshare() each, and to
 * destroy them, until the kernel has dismantled the last one, without
 * the module and with it loaded (default parameters and those of -p),
 * ROUNDS rounds interleaved.  Output lines are prefixed
 * "bench-netns-csv: " (module,median,per_namespace,overhead_pct,clock).
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
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include "ephport.h"
#include "netlink.h"

#define LOW		40000
#define SIZE		10000
#define DPORT		5000
#define MAX_ROUNDS	15
#define MAX_ALLOCATORS	16
#define MAX_OCC		8
#define RULES_DIR	"/sys/kernel/config/ephport/rules"

enum workload { CONNECT_FILLED, CONNECT_SCATTERED, BIND_SCATTERED, UDP_SCATTERED, WORKLOADS };

static const char *const workload_names[WORKLOADS] = {
	"connect-filled", "connect-scattered", "bind-scattered", "udp-scattered",
};

/* The statistics path each workload allocates on. */
static const char *const workload_paths[WORKLOADS] = {
	"tcp4-connect", "tcp4-connect", "tcp-bind", "udp4",
};

struct result {
	double median_ns;
	double mean_probes;
	long long max_probes;
	int ok;
};

static int ops = 200;
static const char *params = "";
static const char *clock_name = "wall";

/* The unit of the medians: instructions when the clock counts them. */
static const char *unit(void)
{
	return strcmp(clock_name, "icount") ? "ns" : "insns";
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Hold @count random ports of the range with exclusive binds. */
static int scatter(int type, int count, int *fds)
{
	static char used[SIZE];
	int i, port, n = 0;

	memset(used, 0, sizeof(used));
	for (i = 0; i < count; i++) {
		do
			port = rand() % SIZE;
		while (used[port]);
		used[port] = 1;
		fds[n] = ep_socket(AF_INET, type);
		if (fds[n] < 0 || ep_bind_port(fds[n], AF_INET, LOW + port))
			return -1;
		n++;
	}
	return n;
}

/* One cell, in the calling process (a child in its own namespace). */
static int run_cell(enum workload w, int occ_pct, bool module, struct result *r)
{
	int held = SIZE * occ_pct / 100, n = 0, i, fd, port;
	double *t = calloc(ops, sizeof(double)), t0;
	int *fds = calloc(SIZE, sizeof(int));
	long long a0 = 0, p0 = 0;

	if (!t || !fds || ep_new_netns())
		return -1;
	ep_write("/proc/sys/net/core/somaxconn", "65535");
	ep_sysctl("ip_local_port_range", "40000 49999");
	fd = ep_listener(AF_INET, DPORT);
	/* Connections wait in the accept queue: make room for all of them. */
	if (fd < 0 || listen(fd, 65535))
		return -1;

	switch (w) {
	case CONNECT_FILLED:
		for (n = 0; n < held; n++) {
			fds[n] = ep_alloc(AF_INET, EP_TCP_CONNECT, DPORT, &port);
			if (fds[n] < 0)
				return -1;
		}
		break;
	case CONNECT_SCATTERED:
	case BIND_SCATTERED:
		n = scatter(SOCK_STREAM, held, fds);
		break;
	case UDP_SCATTERED:
		n = scatter(SOCK_DGRAM, held, fds);
		break;
	default:
		return -1;
	}
	if (n < 0)
		return -1;

	if (module) {
		ep_write(EP_SYSFS "/stats/reset", "1");
		a0 = ep_proc_stat(workload_paths[w], "allocations");
		p0 = ep_proc_stat(workload_paths[w], "probes");
	}
	for (i = 0; i < ops; i++) {
		t0 = now_ns();
		switch (w) {
		case CONNECT_FILLED:
		case CONNECT_SCATTERED:
			fd = ep_alloc(AF_INET, EP_TCP_CONNECT, DPORT, &port);
			break;
		case BIND_SCATTERED:
			fd = ep_alloc(AF_INET, EP_TCP_BIND, 0, &port);
			break;
		default:
			fd = ep_alloc(AF_INET, EP_UDP_BIND, 0, &port);
			break;
		}
		t[i] = now_ns() - t0;
		if (fd < 0) {
			fprintf(stderr, "# %s %d%%: %s\n", workload_names[w], occ_pct,
				strerror(-fd));
			return -1;
		}
		ep_close_rst(fd);
	}
	r->median_ns = median(t, ops);
	r->mean_probes = 0;
	r->max_probes = 0;
	if (module) {
		long long a = ep_proc_stat(workload_paths[w], "allocations") - a0;
		long long p = ep_proc_stat(workload_paths[w], "probes") - p0;

		r->mean_probes = a > 0 ? (double)p / a : 0;
		r->max_probes = ep_proc_stat(workload_paths[w], "max_probes");
	}
	r->ok = 1;
	return 0;
}

static int run_cell_isolated(enum workload w, int occ_pct, bool module, struct result *r)
{
	int p[2];
	pid_t pid;
	ssize_t len;

	memset(r, 0, sizeof(*r));
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (run_cell(w, occ_pct, module, r))
			r->ok = 0;
		_exit(write(p[1], r, sizeof(*r)) != sizeof(*r));
	}
	close(p[1]);
	len = read(p[0], r, sizeof(*r));
	close(p[0]);
	waitpid(pid, NULL, 0);
	return len == sizeof(*r) && r->ok ? 0 : -1;
}

/* The parameters the module was last loaded with by use_allocator(). */
static char loaded_params[512];

/*
 * Have the module loaded with the parameters of -p and those @spec names
 * after its "@" (see the top), loading it again if it runs with others,
 * and select the strategy @spec names first.
 */
static int use_allocator(const char *spec)
{
	const char *at = strchr(spec, '@');
	char name[64], want[512];
	size_t len;
	char *c;

	snprintf(name, sizeof(name), "%.*s", (int)(at ? (size_t)(at - spec) : strlen(spec)), spec);
	len = snprintf(want, sizeof(want), "%s", params);
	if (at && len < sizeof(want))
		snprintf(want + len, sizeof(want) - len, " %s", at + 1);
	for (c = want; *c; c++)
		if (*c == '+')
			*c = ' ';
	if (!ep_loaded() || strcmp(want, loaded_params)) {
		if (ep_load(want))
			return -1;
		snprintf(loaded_params, sizeof(loaded_params), "%s", want);
	}
	ep_write(EP_SYSFS "/strategy", name);
	ep_write(EP_SYSFS "/range", "40000 49999");
	return 0;
}

/*
 * A sentinel: a new namespace, held by the fd returned, with a veth pair
 * whose peer @peer is in @home (the caller's namespace, where it returns).
 */
static int sentinel(int home, const char *peer)
{
	int fd;

	if (unshare(CLONE_NEWNET))
		return -1;
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ep_veth_pair("epchurn", peer, home) || setns(home, CLONE_NEWNET))
		return -1;
	return fd;
}

/*
 * Namespaces are dismantled by one work item, in batches: once the peer
 * of sentinel @a is deleted, the batch holding @a (and every namespace
 * let go before it) is under way; the next batch, @b's, starts when it
 * is done.  @b's peer deleted, all of them are gone.
 */
static int flush(int nl, int a, int b)
{
	close(a);
	if (ep_wait_dellink(nl, "epchurn_a"))
		return -1;
	close(b);
	return ep_wait_dellink(nl, "epchurn_b");
}

/*
 * One netns-churn cell, in a child: create @count namespaces, then let
 * them go and wait until the kernel has dismantled them.  Namespaces of
 * earlier cells are waited for first, untimed.
 */
static int churn(int count, double *t)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int *fds = calloc(count, sizeof(int));
	int home, nl, a, b, i;
	double t0;

	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (!fds || home < 0 || nl < 0 || bind(nl, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	a = sentinel(home, "epchurn_a");
	b = sentinel(home, "epchurn_b");
	if (a < 0 || b < 0 || flush(nl, a, b))
		return -1;
	a = sentinel(home, "epchurn_a");
	b = sentinel(home, "epchurn_b");
	if (a < 0 || b < 0)
		return -1;

	t0 = now_ns();
	for (i = 0; i < count; i++) {
		if (unshare(CLONE_NEWNET))
			return -1;
		fds[i] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			return -1;
	}
	if (setns(home, CLONE_NEWNET))
		return -1;
	for (i = 0; i < count; i++)
		close(fds[i]);
	if (flush(nl, a, b))
		return -1;
	*t = now_ns() - t0;
	return 0;
}

static int churn_isolated(int count, double *t)
{
	int p[2];
	pid_t pid;
	ssize_t len;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (churn(count, t)) {
			fprintf(stderr, "# netns-churn: %s\n", strerror(errno));
			*t = -1;
		}
		_exit(write(p[1], t, sizeof(*t)) != sizeof(*t));
	}
	close(p[1]);
	len = read(p[0], t, sizeof(*t));
	close(p[0]);
	waitpid(pid, NULL, 0);
	return len == sizeof(*t) && *t >= 0 ? 0 : -1;
}

/* netns-churn: @count namespaces, without the module and with it. */
static int bench_netns(int count, int rounds)
{
	double t[2][MAX_ROUNDS], m[2];
	int k, with;

	/* The sentinels' veth pairs. */
	if (system("modprobe veth 2>/dev/null"))
		fprintf(stderr, "# modprobe veth failed\n");
	for (k = 0; k < rounds; k++) {
		for (with = 0; with < 2; with++) {
			if (with ? use_allocator("kernel") : (ep_unload(), 0))
				return -1;
			if (churn_isolated(count, &t[with][k])) {
				fprintf(stderr, "# netns-churn failed\n");
				return -1;
			}
		}
	}
	m[0] = median(t[0], rounds);
	m[1] = median(t[1], rounds);
	printf("bench-netns-csv: module,namespaces,median_%s,per_namespace_%s,overhead_pct,clock\n",
	       unit(), unit());
	printf("bench-netns-csv: none,%d,%.0f,%.0f,0.0,%s\n", count, m[0],
	       m[0] / count, clock_name);
	printf("bench-netns-csv: loaded,%d,%.0f,%.0f,%.1f,%s\n", count, m[1],
	       m[1] / count, (m[1] / m[0] - 1) * 100, clock_name);
	return 0;
}

/* @n rules that match nothing the benchmark does: a cgroup nobody is in. */
static int rules_add(int n)
{
	char path[128], value[64];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/ep_bench%d", i);
		if (mkdir(path, 0755) && errno != EEXIST)
			return -1;
		snprintf(path, sizeof(path), RULES_DIR "/bench%d", i);
		if (mkdir(path, 0755))
			return -1;
		snprintf(path, sizeof(path), RULES_DIR "/bench%d/cgroup", i);
		snprintf(value, sizeof(value), "/ep_bench%d", i);
		if (ep_write(path, value))
			return -1;
		snprintf(path, sizeof(path), RULES_DIR "/bench%d/range", i);
		if (ep_write(path, "50000 50009"))
			return -1;
		snprintf(path, sizeof(path), RULES_DIR "/bench%d/enabled", i);
		if (ep_write(path, "1"))
			return -1;
	}
	return 0;
}

static void rules_del(int n)
{
	char path[128];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), RULES_DIR "/bench%d", i);
		rmdir(path);
		snprintf(path, sizeof(path), "/sys/fs/cgroup/ep_bench%d", i);
		rmdir(path);
	}
}

/* The cost of walking past @nrules rules, against none. */
static int bench_rules(int nrules, int rounds)
{
	double med[2][3 * MAX_ROUNDS], m[2];
	int saved = ops, k, with, n = 0;
	struct result r;

	if (use_allocator("random-pick"))
		return -1;
	ops *= 10;
	for (k = 0; k < 3 * rounds; k++) {
		for (with = 0; with < 2; with++) {
			if (with && rules_add(nrules))
				goto fail;
			if (run_cell_isolated(UDP_SCATTERED, 0, true, &r))
				goto fail;
			med[with][n] = r.median_ns;
			if (with)
				rules_del(nrules);
		}
		n++;
	}
	ops = saved;
	m[0] = median(med[0], n);
	m[1] = median(med[1], n);
	printf("bench-rules-csv: rules,median_%s,delta_%s,clock\n", unit(), unit());
	printf("bench-rules-csv: 0,%.0f,0,%s\n", m[0], clock_name);
	printf("bench-rules-csv: %d,%.0f,%.0f,%s\n", nrules, m[1], m[1] - m[0],
	       clock_name);
	return 0;
fail:
	ops = saved;
	rules_del(nrules);
	fprintf(stderr, "# rules benchmark failed\n");
	return -1;
}

/* The comma-separated items of @s, at most @max: more is an error (exit). */
static int split(char *s, char **out, int max)
{
	int n = 0;

	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (n == max) {
			fprintf(stderr, "ephport_bench: more than %d items at \"%s\"\n",
				max, tok);
			exit(2);
		}
		out[n++] = tok;
	}
	return n;
}

int main(int argc, char **argv)
{
	static struct result res[WORKLOADS][MAX_OCC][MAX_ALLOCATORS][MAX_ROUNDS];
	char occ_arg[64] = "0,50,90,99", strat_arg[256] = "", *occ_s[MAX_OCC];
	char *strats[MAX_ALLOCATORS];
	int rounds = 3, occ[MAX_OCC], nocc, nalloc, only = -1, opt, w, o, a, k;
	int nrules = 16, nnetns = 1000;
	unsigned int seed = 1;
	struct rlimit rl = { 1 << 16, 1 << 16 };

	while ((opt = getopt(argc, argv, "r:n:o:w:s:R:p:c:S:N:")) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'n':
			ops = atoi(optarg);
			break;
		case 'o':
			snprintf(occ_arg, sizeof(occ_arg), "%s", optarg);
			break;
		case 'w':
			for (w = 0; w < WORKLOADS; w++)
				if (!strcmp(optarg, workload_names[w]))
					only = w;
			break;
		case 's':
			snprintf(strat_arg, sizeof(strat_arg), "%s", optarg);
			break;
		case 'R':
			nrules = atoi(optarg);
			break;
		case 'p':
			params = optarg;
			break;
		case 'c':
			clock_name = optarg;
			break;
		case 'S':
			seed = strtoul(optarg, NULL, 0);
			break;
		case 'N':
			nnetns = atoi(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-r ROUNDS] [-n OPS] [-o OCC,...] [-w WORKLOAD] [-s STRATEGY,...] [-R RULES] [-p PARAMS] [-c wall|icount] [-S SEED] [-N NAMESPACES]\n",
				argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || ops < 1)
		return 2;
	nocc = split(occ_arg, occ_s, MAX_OCC);
	for (o = 0; o < nocc; o++)
		occ[o] = atoi(occ_s[o]);
	strats[0] = "stock";
	if (strat_arg[0]) {
		nalloc = 1 + split(strat_arg, strats + 1, MAX_ALLOCATORS - 1);
	} else {
		for (nalloc = 1; nalloc <= ep_nr_strategies && nalloc < MAX_ALLOCATORS; nalloc++)
			strats[nalloc] = (char *)ep_strategies[nalloc - 1];
	}
	setrlimit(RLIMIT_NOFILE, &rl);
	srand(seed);

	/* Rounds interleave the allocators, so that drift hits them all alike. */
	for (k = 0; k < rounds; k++) {
		for (a = 0; a < nalloc; a++) {
			if (a == 0)
				ep_unload();
			else if (use_allocator(strats[a]))
				return 1;
			for (w = 0; w < WORKLOADS; w++) {
				if (only >= 0 && w != only)
					continue;
				for (o = 0; o < nocc; o++) {
					struct result *r = &res[w][o][a][k];

					if (run_cell_isolated(w, occ[o], a > 0, r))
						fprintf(stderr, "# round %d %s %s %d%%: failed\n",
							k, strats[a], workload_names[w], occ[o]);
				}
			}
			fprintf(stderr, "# round %d: %s done\n", k, strats[a]);
		}
	}
	if (nrules > 0)
		bench_rules(nrules, rounds);
	if (nnetns > 0)
		bench_netns(nnetns, rounds);
	ep_unload();

	printf("bench-csv: workload,occupancy_pct,allocator,median_%s,%s\n", unit(),
	       "ratio_to_stock,mean_probes,max_probes,overhead_pct,clock");
	for (w = 0; w < WORKLOADS; w++) {
		if (only >= 0 && w != only)
			continue;
		for (o = 0; o < nocc; o++) {
			double stock = 0;

			for (a = 0; a < nalloc; a++) {
				double med[MAX_ROUNDS], probes = 0, m;
				long long maxp = 0;
				int n = 0;

				for (k = 0; k < rounds; k++) {
					struct result *r = &res[w][o][a][k];

					if (!r->ok)
						continue;
					med[n++] = r->median_ns;
					probes += r->mean_probes;
					if (r->max_probes > maxp)
						maxp = r->max_probes;
				}
				if (!n) {
					printf("bench-csv: %s,%d,%s,,,,,,%s\n", workload_names[w],
					       occ[o], strats[a], clock_name);
					continue;
				}
				m = median(med, n);
				if (a == 0) {
					stock = m;
					printf("bench-csv: %s,%d,stock,%.0f,1.00,,,0.0,%s\n",
					       workload_names[w], occ[o], m, clock_name);
				} else {
					printf("bench-csv: %s,%d,%s,%.0f,%.3f,%.2f,%lld,%.1f,%s\n",
					       workload_names[w], occ[o], strats[a], m,
					       stock > 0 ? stock / m : 0, probes / n, maxp,
					       stock > 0 ? (m / stock - 1) * 100 : 0, clock_name);
				}
			}
		}
	}
	return 0;
}
