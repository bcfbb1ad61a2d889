/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scoped policies (rules.c).
 */
#ifndef _EPHPORT_RULES_H
#define _EPHPORT_RULES_H

#include <linux/seq_file.h>
#include <linux/types.h>
#include <net/sock.h>

#include "ephport.h"

#define EPHPORT_RULE_NAME_MAX		16

struct ephport_alloc;
struct ephport_rule;

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
void ephport_rule_count(const struct ephport_rule *r, const struct ephport_alloc *a);
void ephport_rules_show(struct seq_file *seq);
void ephport_rules_strategy_gone(const struct ephport_strategy *s);
int ephport_rules_init(void);
void ephport_rules_uninit(void);

#endif /* _EPHPORT_RULES_H */
