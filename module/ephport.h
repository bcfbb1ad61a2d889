/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: declarations shared by the module's files.
 */
#ifndef _EPHPORT_H
#define _EPHPORT_H

#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <net/net_namespace.h>

#include "core.h"

/*
 * The allocation paths, in the order the statistics show them: the one
 * list the enum, the names (files, log) and the tracepoint are made of.
 * X(id, name, attribute name)
 */
#define EPHPORT_PATH_LIST(X)						\
	X(TCP4_CONNECT, "tcp4-connect", "tcp4_connect")			\
	X(TCP6_CONNECT, "tcp6-connect", "tcp6_connect")			\
	X(TCP_BIND, "tcp-bind", "tcp_bind")				\
	X(UDP4, "udp4", "udp4")						\
	X(UDP6, "udp6", "udp6")

#define EPHPORT_PATH_ENUM(id, name, attr)	EPHPORT_##id,

enum ephport_path {
	EPHPORT_PATH_LIST(EPHPORT_PATH_ENUM)
	EPHPORT_PATHS
};

extern const char *const ephport_path_names[EPHPORT_PATHS];	/* "tcp4-connect" */
extern const char *const ephport_path_attrs[EPHPORT_PATHS];	/* "tcp4_connect" */

/* Probe-count histogram buckets: 1, 2-3, 4-7, ..., 512-1023, >= 1024. */
#define EPHPORT_HIST_BUCKETS	11

/*
 * Every replacement function runs inside an SRCU read-side section of
 * ephport_srcu, so that unloading (and unregistering a strategy) can wait
 * until no task runs code or uses data that is about to go.
 */
extern struct srcu_struct ephport_srcu;

/* strategy.c; what other modules use of it is in <ephport/strategy.h> */
const struct ephport_strategy *ephport_strategy_get_active(void);
const struct ephport_strategy *ephport_strategy_get(const char *name);
void ephport_strategy_put(const struct ephport_strategy *s);
int ephport_strategy_set_active(const char *name);
ssize_t ephport_strategy_show_active(char *buf, const char *none);
ssize_t ephport_strategy_show_available(char *buf, size_t size);
bool ephport_strategy_name_builtin(const char *name);
int ephport_strategies_init(const char *initial);
void ephport_strategies_uninit(void);
extern struct ephport_secrets ephport_secrets;

/* rules.c: scoped policies */
#define EPHPORT_RULE_NAME_MAX		16

struct ephport_rule;

struct ephport_rule_stats {
	u64 allocations;
	u64 failures;
	u64 probes;
	u64 max_probes;
};

/* params.c: the global settings */
#define EPHPORT_RANGE_AUTO	0U
#define EPHPORT_RANGE_MIN	1024
#define EPHPORT_RANGE_MAX	65535

extern bool ephport_enabled;
extern u32 ephport_range;		/* low | high << 16, or EPHPORT_RANGE_AUTO */
extern unsigned int ephport_random_inc_n;
extern unsigned int ephport_log_size;
extern unsigned int ephport_warn_pct;
extern const char *ephport_param_strategy;
extern struct mutex ephport_config_lock;

int ephport_parse_enabled(const char *buf, size_t len, bool *enabled);
int ephport_parse_range(const char *buf, size_t len, u32 *range);
int ephport_parse_strategy(const char *buf, size_t len, char *name);
int ephport_format_range(char *buf, size_t size);
int ephport_parse_warn_pct(const char *buf, size_t len, unsigned int *pct);
bool ephport_range_net(const struct net *net, u32 range, int *low, int *high);
bool ephport_range_get(const struct sock *sk, u32 range, int *low, int *high,
		       bool *local);
bool ephport_active(void);
void ephport_set_ready(bool ready);

/* netns.c: per network namespace state */
struct ephport_pcpu_stats {
	u64 allocations[EPHPORT_PATHS];
	u64 failures[EPHPORT_PATHS];
	u64 probes[EPHPORT_PATHS];
	u64 max_probes[EPHPORT_PATHS];
	u64 hist[EPHPORT_PATHS][EPHPORT_HIST_BUCKETS];
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

struct ephport_log {
	spinlock_t lock;		/* protects seq and the entries */
	u64 seq;			/* entries written so far */
	unsigned int size;
	struct ephport_log_entry *entries;	/* lazy: size of them */
};

/* The occupancy index has a bitmap per port space. */
enum ephport_proto {
	EPHPORT_PROTO_TCP,
	EPHPORT_PROTO_UDP,
	EPHPORT_PROTOS
};

#define EPHPORT_PORTS		65536

/*
 * The pointers marked lazy are NULL until an allocation of the namespace
 * first needs what they point to (see ephport_lazy_kvcalloc()), and stay
 * set until the namespace goes; whoever finds one NULL does without.
 */
struct ephport_net {
	bool live;
	struct ephport_state state;		/* its dh_table is lazy */
	u32 salt;
	unsigned long *busy[EPHPORT_PROTOS];	/* lazy: EPHPORT_PORTS bits each */
	atomic_t released;			/* ports let go, ever */
	unsigned long warned;			/* BIT(proto): above warn_pct */
	struct ephport_pcpu_stats __percpu *stats;	/* lazy */
	struct ephport_log log;
};

struct ephport_net *ephport_net(const struct net *net);
void *ephport_lazy_kvcalloc(void **slot, size_t n, size_t size, bool *created);
int ephport_netns_init(void);
void ephport_netns_uninit(void);

/* index.c */
void ephport_index_set(struct ephport_net *en, enum ephport_proto proto, u16 port);
void ephport_index_clear(struct ephport_net *en, enum ephport_proto proto, u16 port);
void ephport_index_learn(struct ephport_net *en, enum ephport_proto proto,
			 u16 port, int released);
void ephport_index_release(struct sock *sk, enum ephport_proto proto, u16 port);
void ephport_ports_scan(struct net *net, enum ephport_proto proto,
			unsigned long *bits);
unsigned int ephport_ports_count(const unsigned long *bits, int low, int high);
void ephport_index_use(struct ephport_walk *w, struct net *net,
		       struct ephport_net *en, enum ephport_proto proto, u32 low);

/* What one allocation uses: the global settings, or a rule's. */
struct ephport_policy {
	const struct ephport_strategy *strategy;
	u32 range;			/* or EPHPORT_RANGE_AUTO */
	bool rule_range;		/* the range is the rule's */
	const struct ephport_rule *rule;	/* the rule that applied, or NULL */
};

void ephport_policy_get(const struct sock *sk, enum ephport_path path,
			struct ephport_policy *p);
const char *ephport_rule_name(const struct ephport_rule *r);
void ephport_rules_show(struct seq_file *seq);
void ephport_rules_strategy_gone(const struct ephport_strategy *s);
int ephport_rules_init(void);
void ephport_rules_uninit(void);

/* stats.c */
struct ephport_alloc {
	enum ephport_path path;
	const struct sock *sk;
	const struct ephport_strategy *strategy;
	const struct ephport_rule *rule;
	u32 probes;
	int result;
};

extern struct ephport_pcpu_stats __percpu *ephport_global_stats;
void ephport_log_free(struct ephport_log *log);
void ephport_record(struct ephport_net *en, const struct ephport_alloc *a);
void ephport_rule_count(const struct ephport_rule *r, const struct ephport_alloc *a);
void ephport_stats_sum(struct ephport_pcpu_stats __percpu *pcpu,
		       struct ephport_pcpu_stats *sum);
void ephport_stats_reset(struct ephport_pcpu_stats __percpu *pcpu);
int ephport_stats_init(void);
void ephport_stats_uninit(void);

/* procfs.c */
int ephport_procfs_net_init(struct net *net);
void ephport_procfs_net_exit(struct net *net);

/* sysfs.c */
int ephport_sysfs_init(void);
void ephport_sysfs_uninit(void);

/* hook.c and commit.c */
int ephport_hooks_init(void);
void ephport_hooks_uninit(void);

#endif /* _EPHPORT_H */
