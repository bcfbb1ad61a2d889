/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Accounting of each allocation (stats.c): per-CPU counters, the allocation
 * log and the tracepoint.
 */
#ifndef _EPHPORT_STATS_H
#define _EPHPORT_STATS_H

#include <linux/in6.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "ephport.h"
#include "rules.h"

/* Probe-count histogram buckets: 1, 2-3, 4-7, ..., 512-1023, >= 1024. */
#define EPHPORT_HIST_BUCKETS	11

/* Counters, then maxima: see ephport_pcpu_fold(). */
struct ephport_pcpu_stats {
	u64 allocations[EPHPORT_PATHS];
	u64 failures[EPHPORT_PATHS];
	u64 probes[EPHPORT_PATHS];
	u64 hist[EPHPORT_PATHS][EPHPORT_HIST_BUCKETS];
	u64 max_probes[EPHPORT_PATHS];
};

struct ephport_log_entry {
	u64 time_ns;
	struct pid *pid;		/* a reference: the thread group's */
	struct in6_addr laddr;
	struct in6_addr raddr;
	u32 probes;
	int result;			/* 0 or a negative errno */
	u16 lport;
	u16 rport;
	u8 path;
	u8 family;
	char comm[TASK_COMM_LEN];
	char strategy[EPHPORT_STRATEGY_NAME_MAX];
	char rule[EPHPORT_RULE_NAME_MAX];
};

/*
 * The log is a ring per CPU, so that allocations on different CPUs take
 * different locks: each ring keeps the last size entries made on its
 * CPU, in time order, and readers merge the rings by time (procfs.c).
 */
struct ephport_log_ring {
	spinlock_t lock;		/* protects seq and the entries */
	u64 seq;			/* entries written so far */
	struct ephport_log_entry *entries;	/* lazy: size of them */
};

struct ephport_log {
	unsigned int size;
	struct ephport_log_ring __percpu *rings;	/* lazy */
};

/* One allocation, a success or a failure, as counted and logged. */
struct ephport_alloc {
	enum ephport_path path;
	const struct sock *sk;
	const struct ephport_strategy *strategy;
	const struct ephport_rule *rule;
	u32 probes;
	int result;
};

struct ephport_net;

extern struct ephport_pcpu_stats __percpu *ephport_global_stats;
void ephport_log_free(struct ephport_log *log);
void ephport_record(struct ephport_net *en, const struct ephport_alloc *a);
void ephport_pcpu_fold(const u64 __percpu *pcpu, unsigned int n,
		       unsigned int n_max, u64 *sum);
void ephport_stats_sum(struct ephport_pcpu_stats __percpu *pcpu,
		       struct ephport_pcpu_stats *sum);
void ephport_stats_reset(struct ephport_pcpu_stats __percpu *pcpu);
int ephport_stats_init(void);
void ephport_stats_uninit(void);

#endif /* _EPHPORT_STATS_H */
