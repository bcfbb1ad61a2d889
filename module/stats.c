// SPDX-License-Identifier: GPL-2.0
/*
 * Accounting of each allocation: per-CPU counters (global and per network
 * namespace), the namespace's allocation log, and the ephport_alloc
 * tracepoint.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>

#include "ephport.h"
#include "index.h"
#include "netns.h"
#include "params.h"
#include "rules.h"
#include "stats.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* In the order of the enum, which the same list makes. */
#define EPHPORT_PATH_NAME(id, name, attr)	name,
#define EPHPORT_PATH_ATTR(id, name, attr)	attr,

const char *const ephport_path_names[EPHPORT_PATHS] = {
	EPHPORT_PATH_LIST(EPHPORT_PATH_NAME)
};

const char *const ephport_path_attrs[EPHPORT_PATHS] = {
	EPHPORT_PATH_LIST(EPHPORT_PATH_ATTR)
};

struct ephport_pcpu_stats __percpu *ephport_global_stats;

static unsigned int ephport_hist_bucket(u32 probes)
{
	return min_t(unsigned int, fls(probes) - 1, EPHPORT_HIST_BUCKETS - 1);
}

static void ephport_count(struct ephport_pcpu_stats __percpu *pcpu,
			  const struct ephport_alloc *a)
{
	struct ephport_pcpu_stats *s;

	if (!pcpu)
		return;
	/* Process context only, but stay correct against preemption. */
	s = get_cpu_ptr(pcpu);
	if (a->result)
		s->failures[a->path]++;
	else
		s->allocations[a->path]++;
	s->probes[a->path] += a->probes;
	if (a->probes) {
		s->hist[a->path][ephport_hist_bucket(a->probes)]++;
		if (a->probes > s->max_probes[a->path])
			s->max_probes[a->path] = a->probes;
	}
	put_cpu_ptr(pcpu);
}

static void ephport_sk_addrs(const struct sock *sk, enum ephport_path path,
			     struct ephport_log_entry *e)
{
	const struct inet_sock *inet = inet_sk(sk);

	e->family = AF_INET;
#if IS_ENABLED(CONFIG_IPV6)
	if (path == EPHPORT_TCP6_CONNECT ||
	    (path != EPHPORT_TCP4_CONNECT && sk->sk_family == AF_INET6)) {
		e->family = AF_INET6;
		e->laddr = sk->sk_v6_rcv_saddr;
		e->raddr = sk->sk_v6_daddr;
		return;
	}
#endif
	/* A connect()ing socket's source address is set before its port. */
	ipv6_addr_set_v4mapped(path == EPHPORT_TCP4_CONNECT ? inet->inet_saddr :
			       inet->inet_rcv_saddr, &e->laddr);
	ipv6_addr_set_v4mapped(inet->inet_daddr, &e->raddr);
}

/*
 * A namespace's counters, allocated by its first counted allocation; NULL
 * if there is no memory for them (that allocation goes uncounted here).
 */
static struct ephport_pcpu_stats __percpu *ephport_net_stats(struct ephport_net *en)
{
	/* Pairs with the cmpxchg() of ephport_lazy_percpu_publish(). */
	struct ephport_pcpu_stats __percpu *pcpu = smp_load_acquire(&en->stats);

	if (pcpu)
		return pcpu;
	pcpu = alloc_percpu_gfp(struct ephport_pcpu_stats,
				GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	return ephport_lazy_percpu_publish((void __percpu **)&en->stats, pcpu);
}

/* What a log entry names when there is no strategy or rule. */
static const char ephport_none[EPHPORT_STRATEGY_NAME_MAX] = "-";

/*
 * What the log and the tracepoint show of allocation @a: every field of @e
 * but the time, pid and comm, which only the log keeps.
 * The names are copied whole (the arrays are NUL-padded), without a
 * string scan.
 */
static void ephport_entry_fill(const struct ephport_alloc *a,
			       struct ephport_log_entry *e)
{
	const struct sock *sk = a->sk;
	bool connect = a->path <= EPHPORT_TCP6_CONNECT;

	BUILD_BUG_ON(sizeof(e->strategy) != sizeof(a->strategy->name) ||
		     sizeof(e->rule) != EPHPORT_RULE_NAME_MAX ||
		     sizeof(e->rule) != sizeof(ephport_none));
	e->path = a->path;
	e->probes = a->probes;
	e->result = a->result;
	e->lport = a->result ? 0 : inet_sk(sk)->inet_num;
	/* A connect()ing socket's destination is set before its port. */
	e->rport = connect ? ntohs(inet_sk(sk)->inet_dport) : 0;
	ephport_sk_addrs(sk, a->path, e);
	if (!connect)
		memset(&e->raddr, 0, sizeof(e->raddr));
	memcpy(e->strategy, a->strategy ? a->strategy->name : ephport_none,
	       sizeof(e->strategy));
	memcpy(e->rule, a->rule ? ephport_rule_name(a->rule) : ephport_none,
	       sizeof(e->rule));
}

/*
 * The namespace's rings, set up by its first logged allocation, or NULL
 * without memory for them.  Racing first users each allocate; the first
 * to publish wins.
 */
static struct ephport_log_ring __percpu *ephport_log_rings(struct ephport_log *log)
{
	/* Pairs with the cmpxchg() of ephport_lazy_percpu_publish(). */
	struct ephport_log_ring __percpu *rings = smp_load_acquire(&log->rings);
	unsigned int cpu;

	if (rings)
		return rings;
	rings = alloc_percpu_gfp(struct ephport_log_ring,
				 GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	for_each_possible_cpu(cpu)
		if (rings)
			spin_lock_init(&per_cpu_ptr(rings, cpu)->lock);
	return ephport_lazy_percpu_publish((void __percpu **)&log->rings, rings);
}

/*
 * The entries hold a reference on the pid of the task that made the
 * allocation, which the reader translates into its own pid namespace:
 * the one shared write of a logged allocation (an atomic on the process's
 * struct pid, which its threads share, and one on that of the entry
 * overwritten), the price of naming the right process; log_size=0 saves
 * it with the rest of the log.
 * The entry goes to the ring of this CPU, or of the one the task ran on a
 * moment ago: the ring's lock makes either right, and only the log's
 * readers share it with this CPU.  The time is read under the lock, so
 * that a ring's entries are in time order.
 */
static void ephport_log(struct ephport_log *log, const struct ephport_alloc *a)
{
	struct ephport_log_ring __percpu *rings;
	struct ephport_log_entry *entries, *slot;
	struct ephport_log_ring *ring;
	struct pid *pid, *old;

	/* The first entry sets the log up; without memory, none is kept. */
	rings = ephport_log_rings(log);
	if (!rings)
		return;
	ring = raw_cpu_ptr(rings);
	entries = ephport_lazy_kvcalloc((void **)&ring->entries, log->size,
					sizeof(*entries), NULL);
	if (!entries)
		return;
	pid = get_pid(task_tgid(current));

	/* Filled in place: the entry is copied nowhere. */
	spin_lock_bh(&ring->lock);
	slot = &entries[ring->seq++ % log->size];
	old = slot->pid;
	ephport_entry_fill(a, slot);
	slot->pid = pid;
	slot->time_ns = ktime_get_boottime_ns();
	/* As the scheduler's tracepoints do: no lock, comm ends in a NUL. */
	memcpy(slot->comm, current->comm, sizeof(slot->comm));
	spin_unlock_bh(&ring->lock);
	put_pid(old);
}

/* The namespace is gone: so is its log. */
void ephport_log_free(struct ephport_log *log)
{
	unsigned int cpu, i;

	if (!log->rings)
		return;
	for_each_possible_cpu(cpu) {
		struct ephport_log_ring *ring = per_cpu_ptr(log->rings, cpu);

		if (!ring->entries)
			continue;
		for (i = 0; i < log->size; i++)
			put_pid(ring->entries[i].pid);
		kvfree(ring->entries);
	}
	free_percpu(log->rings);
}

/*
 * warn_pct: after an allocation, the share of the namespace's range (as
 * /proc/net/ephport/stats shows it) that the occupancy index of the
 * protocol says is used; crossing warn_pct upward, or falling back below
 * it, is told once each way: a rate-limited message and the
 * ephport_occupancy event.  Ports let go are seen at the next allocation.
 * A namespace without an index (no walk yet, or the kernel strategy) is
 * not checked.
 */
static void ephport_warn_check(struct ephport_net *en, const struct ephport_alloc *a,
			       unsigned int pct)
{
	enum ephport_proto proto = a->path <= EPHPORT_TCP_BIND ? EPHPORT_PROTO_TCP :
								 EPHPORT_PROTO_UDP;
	struct net *net = sock_net(a->sk);
	unsigned int used, size;
	unsigned long *busy;
	int low, high;
	bool above;

	/* Pairs with the publication in ephport_lazy_kvcalloc(). */
	busy = smp_load_acquire(&en->busy[proto]);
	if (!busy || !ephport_range_net(net, READ_ONCE(ephport_range), &low, &high))
		return;
	size = high - low + 1;
	used = ephport_ports_count(busy, low, high);
	above = (u64)used * 100 >= (u64)pct * size;
	if (above == test_bit(proto, &en->warned))
		return;
	if (above ? test_and_set_bit(proto, &en->warned) :
		    !test_and_clear_bit(proto, &en->warned))
		return;
	if (above)
		pr_warn_ratelimited("netns %u: %s ports %u of %u used (%d-%d), at or above warn_pct %u%%\n",
				    net->ns.inum, proto == EPHPORT_PROTO_TCP ? "tcp" : "udp",
				    used, size, low, high, pct);
	else
		pr_info_ratelimited("netns %u: %s ports %u of %u used (%d-%d), back below warn_pct %u%%\n",
				    net->ns.inum, proto == EPHPORT_PROTO_TCP ? "tcp" : "udp",
				    used, size, low, high, pct);
	trace_ephport_occupancy(net, proto == EPHPORT_PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP,
				used, size, pct, above);
}

/*
 * Count allocation @a (a success or a failure), and log and trace it if
 * the log is on or the tracepoint enabled: nothing more otherwise.
 */
void ephport_record(struct ephport_net *en, const struct ephport_alloc *a)
{
	bool log = en->log.size, trace = trace_ephport_alloc_enabled();
	unsigned int pct = READ_ONCE(ephport_warn_pct);

	ephport_count(ephport_global_stats, a);
	ephport_count(ephport_net_stats(en), a);
	if (a->rule)
		ephport_rule_count(a->rule, a);
	if (pct)
		ephport_warn_check(en, a, pct);
	if (trace) {
		struct ephport_log_entry e = {};

		ephport_entry_fill(a, &e);
		trace_ephport_alloc(&e, sock_net(a->sk));
	}
	if (log)
		ephport_log(&en->log, a);
}

/*
 * Per-CPU counters of @n u64 words, folded into @sum: the first @n - @n_max
 * words add up, the last @n_max are maxima.  NULL (counters not allocated
 * yet) folds to zero.
 */
void ephport_pcpu_fold(const u64 __percpu *pcpu, unsigned int n,
		       unsigned int n_max, u64 *sum)
{
	unsigned int cpu, i;

	memset(sum, 0, n * sizeof(*sum));
	if (!pcpu)
		return;
	for_each_possible_cpu(cpu) {
		const u64 *s = per_cpu_ptr(pcpu, cpu);

		for (i = 0; i < n - n_max; i++)
			sum[i] += READ_ONCE(s[i]);
		for (; i < n; i++)
			sum[i] = max(sum[i], READ_ONCE(s[i]));
	}
}

void ephport_stats_sum(struct ephport_pcpu_stats __percpu *pcpu,
		       struct ephport_pcpu_stats *sum)
{
	BUILD_BUG_ON(sizeof(*sum) % sizeof(u64) ||
		     offsetof(struct ephport_pcpu_stats, max_probes) +
		     sizeof(sum->max_probes) != sizeof(*sum));
	ephport_pcpu_fold((const u64 __percpu *)pcpu, sizeof(*sum) / sizeof(u64),
			  ARRAY_SIZE(sum->max_probes), (u64 *)sum);
}

/* Allocations counted meanwhile may survive the reset; that is fine. */
void ephport_stats_reset(struct ephport_pcpu_stats __percpu *pcpu)
{
	unsigned int cpu;

	if (!pcpu)
		return;
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(pcpu, cpu), 0, sizeof(struct ephport_pcpu_stats));
}

int ephport_stats_init(void)
{
	ephport_global_stats = alloc_percpu(struct ephport_pcpu_stats);
	return ephport_global_stats ? 0 : -ENOMEM;
}

void ephport_stats_uninit(void)
{
	free_percpu(ephport_global_stats);
}
