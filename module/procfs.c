// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/ephport: each network namespace sees its own statistics and
 * allocation log.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/capability.h>
#include <linux/nsproxy.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <net/net_namespace.h>

#include "ephport.h"
#include "index.h"
#include "netns.h"
#include "params.h"
#include "procfs.h"
#include "rules.h"
#include "stats.h"

static const char *const ephport_hist_labels[EPHPORT_HIST_BUCKETS] = {
	"1", "2-3", "4-7", "8-15", "16-31", "32-63", "64-127", "128-255",
	"256-511", "512-1023", ">=1024",
};

static const char *const ephport_proto_names[EPHPORT_PROTOS] = { "tcp", "udp" };

/*
 * Occupancy, after a blank line: per protocol, the namespace's effective
 * range without rules (ephport's range, or the sysctl's when auto) and the
 * ports of it in use and free, counted from the kernel's tables now (TCP:
 * bound ports, listeners, connections and TIME_WAIT alike).  An empty
 * range shows 0 used and 0 free.
 */
static int ephport_occupancy_show(struct seq_file *seq, struct net *net)
{
	unsigned int used, size;
	unsigned long *bits;
	int low, high, proto;
	bool ok;

	seq_printf(seq, "\n%-8s %5s %5s %6s %6s\n", "protocol", "low", "high",
		   "used", "free");
	ok = ephport_range_net(net, READ_ONCE(ephport_range), &low, &high);
	bits = ok ? bitmap_zalloc(EPHPORT_PORTS, GFP_KERNEL) : NULL;
	if (ok && !bits)
		return -ENOMEM;
	for (proto = 0; proto < EPHPORT_PROTOS; proto++) {
		used = 0;
		size = 0;
		if (bits) {
			bitmap_zero(bits, EPHPORT_PORTS);
			ephport_ports_scan(net, proto, bits);
			used = ephport_ports_count(bits, low, high);
			size = high - low + 1;
		} else {
			low = 0;
			high = 0;
		}
		seq_printf(seq, "%-8s %5d %5d %6u %6u\n", ephport_proto_names[proto],
			   low, high, used, size - used);
	}
	bitmap_free(bits);
	return 0;
}

static int ephport_stats_show(struct seq_file *seq, void *v)
{
	struct ephport_net *en = ephport_net(seq_file_single_net(seq));
	struct ephport_pcpu_stats *sum;
	unsigned int p, b;
	int err;

	if (!en)
		return 0;
	sum = kmalloc(sizeof(*sum), GFP_KERNEL);
	if (!sum)
		return -ENOMEM;
	ephport_stats_sum(READ_ONCE(en->stats), sum);

	seq_printf(seq, "%-12s %11s %10s %10s %10s", "path", "allocations",
		   "failures", "probes", "max_probes");
	for (b = 0; b < EPHPORT_HIST_BUCKETS; b++)
		seq_printf(seq, " %8s", ephport_hist_labels[b]);
	seq_putc(seq, '\n');
	for (p = 0; p < EPHPORT_PATHS; p++) {
		seq_printf(seq, "%-12s %11llu %10llu %10llu %10llu",
			   ephport_path_names[p], sum->allocations[p],
			   sum->failures[p], sum->probes[p], sum->max_probes[p]);
		for (b = 0; b < EPHPORT_HIST_BUCKETS; b++)
			seq_printf(seq, " %8llu", sum->hist[p][b]);
		seq_putc(seq, '\n');
	}
	kfree(sum);
	err = ephport_occupancy_show(seq, seq_file_single_net(seq));
	if (err)
		return err;
	/* Rules are global: the initial namespace shows them. */
	if (net_eq(seq_file_single_net(seq), &init_net))
		ephport_rules_show(seq);
	return 0;
}

/*
 * The occupancy index, for debugging and tests: the ports believed held,
 * as ranges, one protocol per line ("tcp 40000-40099 40200").
 */
static int ephport_index_show(struct seq_file *seq, void *v)
{
	struct ephport_net *en = ephport_net(seq_file_single_net(seq));
	unsigned long first, last;
	int proto;

	if (!en)
		return 0;
	for (proto = 0; proto < EPHPORT_PROTOS; proto++) {
		/* None until a strategy first walks it: no port listed. */
		const unsigned long *busy = smp_load_acquire(&en->busy[proto]);

		seq_puts(seq, ephport_proto_names[proto]);
		first = busy ? find_first_bit(busy, EPHPORT_PORTS) : EPHPORT_PORTS;
		while (first < EPHPORT_PORTS) {
			last = find_next_zero_bit(busy, EPHPORT_PORTS, first) - 1;
			if (first == last)
				seq_printf(seq, " %lu", first);
			else
				seq_printf(seq, " %lu-%lu", first, last);
			first = find_next_bit(busy, EPHPORT_PORTS, last + 1);
		}
		seq_putc(seq, '\n');
	}
	return 0;
}

/*
 * The log is read entry by entry, merging the rings of the CPUs by time
 * (then CPU, then position in the ring): each entry is copied under its
 * ring's lock, so a reader sees whole entries, and entries overwritten
 * while it reads are skipped, like dmesg does.  A read from the start
 * begins at the oldest of the last log_size entries of all rings.
 *
 * The pid and command name of an entry are shown only to a reader that
 * opened the file with CAP_NET_ADMIN over the namespace's user namespace,
 * and only if the process is in the reader's pid namespace (or below it):
 * its pid as that namespace numbers it.  Other readers see "-" for both,
 * as /proc/net/tcp shows no pid at all, so that hidepid= keeps its word.
 */
struct ephport_log_key {
	u64 time_ns;
	unsigned int cpu;
	u64 seq;			/* in the CPU's ring */
};

struct ephport_log_iter {
	struct seq_net_private p;	/* first, for seq_file_net() */
	loff_t pos;			/* of the entry at cur; 0: none yet */
	struct ephport_log_key cur;
	struct pid_namespace *pid_ns;	/* the reader's, for this read() */
	bool entitled;			/* the opener may see pid and comm */
	pid_t pid;			/* e's, in pid_ns; 0 hides pid and comm */
	struct ephport_log_entry e;	/* its pid is not kept */
};

/* Whether entry @seq of @ring (of CPU @cpu) comes after @k, or is @k. */
static bool ephport_log_after(const struct ephport_log_ring *ring, u32 size,
			      unsigned int cpu, u64 seq,
			      const struct ephport_log_key *k, bool strict)
{
	u64 t = ring->entries[seq % size].time_ns;

	if (t != k->time_ns)
		return t > k->time_ns;
	if (cpu != k->cpu)
		return cpu > k->cpu;
	return strict ? seq > k->seq : seq >= k->seq;
}

/*
 * Under the ring's lock: the first entry of @ring after @k (or @k itself
 * unless @strict), in *@seq; false if none.
 */
static bool ephport_log_ring_find(const struct ephport_log_ring *ring, u32 size,
				  unsigned int cpu, const struct ephport_log_key *k,
				  bool strict, u64 *seq)
{
	u64 lo = ring->seq > size ? ring->seq - size : 0, hi = ring->seq;

	if (!ring->entries)
		return false;
	while (lo < hi) {
		u64 mid = lo + (hi - lo) / 2;

		if (ephport_log_after(ring, size, cpu, mid, k, strict))
			hi = mid;
		else
			lo = mid + 1;
	}
	*seq = lo;
	return lo < ring->seq;
}

/* The first entry of all rings after @k (or @k itself unless @strict). */
static bool ephport_log_find(struct ephport_log *log, struct ephport_log_key *k,
			     bool strict)
{
	struct ephport_log_key best = {};
	bool found = false;
	unsigned int cpu;
	u64 seq;

	for_each_possible_cpu(cpu) {
		struct ephport_log_ring *ring = per_cpu_ptr(log->rings, cpu);
		u64 t;

		spin_lock_bh(&ring->lock);
		if (ephport_log_ring_find(ring, log->size, cpu, k, strict, &seq)) {
			t = ring->entries[seq % log->size].time_ns;
			if (!found || t < best.time_ns) {
				best.time_ns = t;
				best.cpu = cpu;
				best.seq = seq;
				found = true;
			}
		}
		spin_unlock_bh(&ring->lock);
	}
	if (found)
		*k = best;
	return found;
}

/* How many entries of all rings are from @t on. */
static u64 ephport_log_count_since(struct ephport_log *log, u64 t)
{
	struct ephport_log_key k = { .time_ns = t };
	unsigned int cpu;
	u64 n = 0, seq;

	for_each_possible_cpu(cpu) {
		struct ephport_log_ring *ring = per_cpu_ptr(log->rings, cpu);

		k.cpu = cpu;
		spin_lock_bh(&ring->lock);
		if (ephport_log_ring_find(ring, log->size, cpu, &k, false, &seq))
			n += ring->seq - seq;
		spin_unlock_bh(&ring->lock);
	}
	return n;
}

/* Where a read from the start begins: the last log_size entries. */
static void ephport_log_oldest(struct ephport_log *log, struct ephport_log_key *k)
{
	u64 lo = 0, hi = U64_MAX;

	/* The earliest time from which at most log_size entries are left. */
	while (lo < hi) {
		u64 mid = lo + (hi - lo) / 2;

		if (ephport_log_count_since(log, mid) <= log->size)
			hi = mid;
		else
			lo = mid + 1;
	}
	memset(k, 0, sizeof(*k));
	k->time_ns = lo;
}

/*
 * The entry after it->cur (or it->cur itself unless @strict) into it->e,
 * and it->cur to it; one overwritten meanwhile is skipped.
 */
static bool ephport_log_step(struct ephport_log_iter *it, struct ephport_log *log,
			     bool strict)
{
	for (;;) {
		struct ephport_log_ring *ring;
		bool copied = false;

		if (!ephport_log_find(log, &it->cur, strict))
			return false;
		ring = per_cpu_ptr(log->rings, it->cur.cpu);
		spin_lock_bh(&ring->lock);
		if (it->cur.seq + log->size >= ring->seq) {
			const struct ephport_log_entry *src =
				&ring->entries[it->cur.seq % log->size];

			it->e = *src;
			it->e.pid = NULL;
			/* The entry holds a reference on the pid while the lock is held. */
			it->pid = it->entitled ? pid_nr_ns(src->pid, it->pid_ns) : 0;
			copied = true;
		}
		spin_unlock_bh(&ring->lock);
		if (copied)
			return true;
		strict = true;
	}
}

/* Position 0 is the header; position k the k-th entry from the oldest. */
static void *ephport_log_fetch(struct seq_file *seq, loff_t pos)
{
	struct ephport_log_iter *it = seq->private;
	struct ephport_net *en = ephport_net(seq_file_net(seq));
	struct ephport_log *log;

	if (!en || !en->log.size)
		return NULL;
	log = &en->log;
	/* Set up before the first entry is counted in a ring; NULL means none. */
	if (!smp_load_acquire(&log->rings))
		return NULL;
	if (it->pos && pos == it->pos)
		return ephport_log_step(it, log, false) ? &it->e : NULL;
	if (!it->pos || pos != it->pos + 1) {
		it->pos = 0;
		ephport_log_oldest(log, &it->cur);
	}
	while (it->pos < pos) {
		if (!ephport_log_step(it, log, it->pos > 0))
			return NULL;
		it->pos++;
	}
	return &it->e;
}

/*
 * The log names processes: a reader in another namespace (through
 * /proc/PID/net) needs CAP_NET_ADMIN over the namespace it reads.
 */
static void *ephport_log_start(struct seq_file *seq, loff_t *pos)
{
	struct ephport_log_iter *it = seq->private;
	struct net *net = seq_file_net(seq);

	it->entitled = file_ns_capable(seq->file, net->user_ns, CAP_NET_ADMIN);
	if (net != current->nsproxy->net_ns && !it->entitled)
		return ERR_PTR(-EACCES);
	it->pid_ns = task_active_pid_ns(current);
	if (!*pos) {
		/* A read from the start: the oldest entry is found anew. */
		it->pos = 0;
		return SEQ_START_TOKEN;
	}
	return ephport_log_fetch(seq, *pos);
}

static void *ephport_log_next(struct seq_file *seq, void *v, loff_t *pos)
{
	++*pos;
	return ephport_log_fetch(seq, *pos);
}

static void ephport_log_stop(struct seq_file *seq, void *v)
{
}

static int ephport_addr_port(char *buf, size_t size, int family,
			     const struct in6_addr *addr, u16 port)
{
	if (family == AF_INET)
		return scnprintf(buf, size, "%pI4:%u", &addr->s6_addr32[3], port);
	return scnprintf(buf, size, "[%pI6c]:%u", addr, port);
}

/* "ok", or the errno's name ("EADDRNOTAVAIL"), or its number ("-12"). */
static const char *ephport_result_name(int result, char *buf, size_t size)
{
	switch (result) {
	case 0:
		return "ok";
	case -EADDRNOTAVAIL:
		return "EADDRNOTAVAIL";
	case -EADDRINUSE:
		return "EADDRINUSE";
	case -EAGAIN:
		return "EAGAIN";
	case -ENOMEM:
		return "ENOMEM";
	case -EPERM:
		return "EPERM";
	case -EACCES:
		return "EACCES";
	default:
		snprintf(buf, size, "%d", result);
		return buf;
	}
}

static int ephport_log_show(struct seq_file *seq, void *v)
{
	const struct ephport_log_iter *it = seq->private;
	const struct ephport_log_entry *e = v;
	char local[64], remote[64], pid[16] = "-", err[16];
	const char *comm = "-";

	if (v == SEQ_START_TOKEN) {
		seq_printf(seq, "%-17s %-12s %-47s %-47s %6s %-15s %-15s %-13s %7s %s\n",
			   "time", "path", "local", "remote", "probes", "strategy",
			   "rule", "result", "pid", "comm");
		return 0;
	}
	ephport_addr_port(local, sizeof(local), e->family, &e->laddr, e->lport);
	if (e->rport)
		ephport_addr_port(remote, sizeof(remote), e->family, &e->raddr,
				  e->rport);
	else
		strscpy(remote, "-", sizeof(remote));
	if (it->pid) {
		snprintf(pid, sizeof(pid), "%d", it->pid);
		comm = e->comm;
	}
	seq_printf(seq, "%10llu.%06llu %-12s %-47s %-47s %6u %-15s %-15s %-13s %7s %s\n",
		   e->time_ns / NSEC_PER_SEC, (e->time_ns % NSEC_PER_SEC) / NSEC_PER_USEC,
		   ephport_path_names[e->path], local, remote, e->probes,
		   e->strategy, e->rule,
		   ephport_result_name(e->result, err, sizeof(err)), pid, comm);
	return 0;
}

static const struct seq_operations ephport_log_seq_ops = {
	.start = ephport_log_start,
	.next = ephport_log_next,
	.stop = ephport_log_stop,
	.show = ephport_log_show,
};

int ephport_procfs_net_init(struct net *net)
{
	struct proc_dir_entry *dir;

	dir = proc_net_mkdir(net, "ephport", net->proc_net);
	if (!dir)
		return -ENOMEM;
	if (!proc_create_net_single("stats", 0444, dir, ephport_stats_show, NULL) ||
	    !proc_create_net_single("index", 0400, dir, ephport_index_show, NULL) ||
	    !proc_create_net("allocations", 0444, dir, &ephport_log_seq_ops,
			     sizeof(struct ephport_log_iter))) {
		remove_proc_subtree("ephport", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

void ephport_procfs_net_exit(struct net *net)
{
	remove_proc_subtree("ephport", net->proc_net);
}
