/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What rules.c (the list and the lookup) and rules_configfs.c (the
 * configfs items) share.
 */
#ifndef _EPHPORT_RULES_INTERNAL_H
#define _EPHPORT_RULES_INTERNAL_H

#include <linux/configfs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uidgid.h>

#include "rules.h"

/* path: what a rule matches, of the allocation paths. */
enum {
	EPHPORT_RULE_ANY_PATH,
	EPHPORT_RULE_CONNECT,
	EPHPORT_RULE_BIND,
};

/* Counters, then the maximum: see ephport_pcpu_fold(). */
struct ephport_rule_stats {
	u64 allocations;
	u64 failures;
	u64 probes;
	u64 max_probes;
};

/* What a rule matches and what it does: immutable once published. */
struct ephport_rule_conf {
	struct cgroup *cgroup;		/* a reference, or NULL: any */
	kuid_t uid_min, uid_max;	/* uid_min invalid: any */
	u64 netns;			/* the namespace's cookie, 0: any */
	u32 netns_inum;			/* its inode number, as written */
	u8 proto;			/* IPPROTO_TCP, IPPROTO_UDP, 0: any */
	u8 path;
	u8 family;			/* AF_INET, AF_INET6, 0: any */
	u16 priority;
	bool enabled;
	u32 range;			/* or EPHPORT_RANGE_AUTO */
	const struct ephport_strategy *strategy;	/* a reference, or NULL */
};

struct ephport_rule {
	struct config_item item;
	struct list_head list;		/* by priority and name */
	struct ephport_rule_conf conf;
	char *cgroup_path;		/* as written */
	struct ephport_rule_stats __percpu *stats;
	char name[EPHPORT_RULE_NAME_MAX];
};

extern struct mutex ephport_rules_lock;
extern struct list_head ephport_rules;

void ephport_rule_link(struct ephport_rule *r);
int ephport_rule_update(struct ephport_rule *r,
			const struct ephport_rule_conf *c);
void ephport_rule_stats_sum(const struct ephport_rule *r,
			    struct ephport_rule_stats *sum);

#endif /* _EPHPORT_RULES_INTERNAL_H */
