// SPDX-License-Identifier: GPL-2.0
/*
 * Scoped policies: rules that give some sockets a range or a strategy of
 * their own, chosen by the socket's cgroup, owner, network namespace,
 * protocol, address family and allocation path.  The first enabled rule
 * that matches, by priority (lower first, then by name), applies; no match
 * means the global settings.
 *
 * This file keeps the list of rules and the lookup; rules_configfs.c makes
 * them configfs items.  Every change publishes a fresh array of the
 * enabled rules' settings, which allocations read inside their
 * ephport_srcu section; the previous array, and the references it held,
 * go once no allocation can still see it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/cgroup.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "ephport.h"
#include "params.h"
#include "rules.h"
#include "rules_internal.h"
#include "stats.h"

/*
 * With at most EPHPORT_RULESET_MASKED rules, the lookup tries only the rules
 * that can match the socket's cgroup: those with none, and those whose
 * cgroup is the socket's or one of its ancestors, found in a small hash
 * table of the rules' cgroups (bit i of a mask: entries[i]).  The cost is
 * then that of the socket's cgroup depth, not of the number of rules.
 */
#define EPHPORT_RULESET_MASKED	64

struct ephport_cgroup_slot {
	struct cgroup *cgroup;		/* NULL: empty */
	u64 rules;			/* the rules naming it */
};

struct ephport_ruleset {
	unsigned int n;
	unsigned int cg_bits;		/* 0: no masks, try every rule */
	u64 no_cgroup;			/* the rules naming no cgroup */
	struct ephport_cgroup_slot *cg_slots;	/* 1 << cg_bits, after entries */
	struct {
		struct ephport_rule_conf conf;
		const struct ephport_rule *rule;
	} entries[];
};

/* Protects ephport_rules, every rule's conf and cgroup_path, and publishing. */
DEFINE_MUTEX(ephport_rules_lock);
LIST_HEAD(ephport_rules);
static struct ephport_ruleset __rcu *ephport_ruleset;
/* What the rules match on, read from the socket once per allocation. */
struct ephport_rule_key {
	u8 proto;
	u8 path;
	u8 family;		/* as the allocation log shows it */
	u64 netns;		/* the namespace's cookie */
	kuid_t uid;
	struct cgroup *cgroup;	/* the socket's, or NULL */
};

static bool ephport_rule_matches(const struct ephport_rule_conf *c,
				 const struct ephport_rule_key *k)
{
	if (c->proto && c->proto != k->proto)
		return false;
	if (c->path && c->path != k->path)
		return false;
	if (c->family && c->family != k->family)
		return false;
	if (c->netns && c->netns != k->netns)
		return false;
	if (uid_valid(c->uid_min) &&
	    (uid_lt(k->uid, c->uid_min) || uid_gt(k->uid, c->uid_max)))
		return false;
	if (c->cgroup && (!k->cgroup || !cgroup_is_descendant(k->cgroup, c->cgroup)))
		return false;
	return true;
}

/* The policy of rule @i of @set, if it matches @k. */
static bool ephport_rule_apply(const struct ephport_ruleset *set, unsigned int i,
			       const struct ephport_rule_key *k,
			       struct ephport_policy *p)
{
	const struct ephport_rule_conf *c = &set->entries[i].conf;

	if (!ephport_rule_matches(c, k))
		return false;
	if (c->strategy)
		p->strategy = c->strategy;
	if (c->range != EPHPORT_RANGE_AUTO) {
		p->range = c->range;
		p->rule_range = true;
	}
	p->rule = set->entries[i].rule;
	return true;
}

static struct ephport_cgroup_slot *ephport_cgroup_slot(const struct ephport_ruleset *set,
						       const struct cgroup *cg)
{
	unsigned int mask = (1U << set->cg_bits) - 1;
	unsigned int h = hash_ptr(cg, set->cg_bits);

	/* Never full: twice as many slots as rules, at least. */
	while (set->cg_slots[h].cgroup && set->cg_slots[h].cgroup != cg)
		h = (h + 1) & mask;
	return &set->cg_slots[h];
}

/*
 * The rules of @set that can match a socket of cgroup @cg (NULL: none known),
 * by cgroup alone.  The socket holds a reference on its cgroup, which holds
 * one on its parent.
 */
static u64 ephport_cgroup_candidates(const struct ephport_ruleset *set,
				     struct cgroup *cg)
{
	u64 mask = set->no_cgroup;

	for (; cg; cg = cgroup_parent(cg))
		mask |= ephport_cgroup_slot(set, cg)->rules;
	return mask;
}

/* Caller is in an ephport_srcu read section, which @p is valid within. */
void ephport_policy_get(const struct sock *sk, enum ephport_path path,
			struct ephport_policy *p)
{
	const struct ephport_ruleset *set;
	struct ephport_rule_key k;
	unsigned int i;
	u64 mask;

	p->strategy = ephport_strategy_get_active();
	p->range = READ_ONCE(ephport_range);
	p->rule = NULL;
	p->rule_range = false;

	set = srcu_dereference(ephport_ruleset, &ephport_srcu);
	if (!set)
		return;

	k.proto = sk->sk_protocol;
	k.path = path <= EPHPORT_TCP6_CONNECT ? EPHPORT_RULE_CONNECT : EPHPORT_RULE_BIND;
	/* An IPv6 socket connecting to an IPv4-mapped address is IPv4. */
	k.family = path == EPHPORT_TCP4_CONNECT ? AF_INET :
		   path == EPHPORT_TCP6_CONNECT ? AF_INET6 : sk->sk_family;
	k.netns = sock_net(sk)->net_cookie;
	k.uid = sk->sk_uid;
	k.cgroup = NULL;
#ifdef CONFIG_SOCK_CGROUP_DATA
	/* The cgroup the socket was created in, as for cgroup BPF. */
	k.cgroup = sock_cgroup_ptr((struct sock_cgroup_data *)&sk->sk_cgrp_data);
#endif

	if (!set->cg_bits) {
		for (i = 0; i < set->n; i++)
			if (ephport_rule_apply(set, i, &k, p))
				return;
		return;
	}
	mask = ephport_cgroup_candidates(set, k.cgroup);
	while (mask) {
		i = __ffs64(mask);
		mask &= mask - 1;
		if (ephport_rule_apply(set, i, &k, p))
			return;
	}
}

const char *ephport_rule_name(const struct ephport_rule *r)
{
	return r->name;
}

void ephport_rule_count(const struct ephport_rule *r, const struct ephport_alloc *a)
{
	struct ephport_rule_stats *s = get_cpu_ptr(r->stats);

	if (a->result)
		s->failures++;
	else
		s->allocations++;
	s->probes += a->probes;
	if (a->probes > s->max_probes)
		s->max_probes = a->probes;
	put_cpu_ptr(r->stats);
}

void ephport_rule_stats_sum(const struct ephport_rule *r,
			    struct ephport_rule_stats *sum)
{
	BUILD_BUG_ON(offsetof(struct ephport_rule_stats, max_probes) !=
		     sizeof(*sum) - sizeof(u64));
	ephport_pcpu_fold((const u64 __percpu *)r->stats, sizeof(*sum) / sizeof(u64),
			  1, (u64 *)sum);
}

/* The rule table of /proc/net/ephport/stats, after a blank line. */
void ephport_rules_show(struct seq_file *seq)
{
	struct ephport_rule_stats sum;
	struct ephport_rule *r;

	mutex_lock(&ephport_rules_lock);
	if (list_empty(&ephport_rules))
		goto out;
	seq_printf(seq, "\n%-15s %8s %7s %11s %10s %10s %10s\n", "rule",
		   "priority", "enabled", "allocations", "failures", "probes",
		   "max_probes");
	list_for_each_entry(r, &ephport_rules, list) {
		ephport_rule_stats_sum(r, &sum);
		seq_printf(seq, "%-15s %8u %7u %11llu %10llu %10llu %10llu\n",
			   r->name, r->conf.priority, r->conf.enabled,
			   sum.allocations, sum.failures, sum.probes,
			   sum.max_probes);
	}
out:
	mutex_unlock(&ephport_rules_lock);
}

/* The list stays sorted by priority, then name. */
void ephport_rule_link(struct ephport_rule *r)
{
	struct ephport_rule *pos;

	list_for_each_entry(pos, &ephport_rules, list) {
		if (pos->conf.priority > r->conf.priority ||
		    (pos->conf.priority == r->conf.priority &&
		     strcmp(pos->name, r->name) > 0))
			break;
	}
	list_add_tail(&r->list, &pos->list);
}

/* Entry @i of @set names @cg (or none): add it to the masks. */
static void ephport_ruleset_mask(struct ephport_ruleset *set,
				 struct cgroup *cg, unsigned int i)
{
	struct ephport_cgroup_slot *slot;

	if (!cg) {
		set->no_cgroup |= BIT_ULL(i);
		return;
	}
	slot = ephport_cgroup_slot(set, cg);
	slot->cgroup = cg;
	slot->rules |= BIT_ULL(i);
}

/*
 * Publish the enabled rules of the list as they are; once no allocation
 * can see the previous ones, free them.
 */
static int ephport_rules_publish(gfp_t gfp)
{
	struct ephport_ruleset *set = NULL, *prev;
	struct ephport_rule *pos;
	unsigned int n = 0;

	lockdep_assert_held(&ephport_rules_lock);

	list_for_each_entry(pos, &ephport_rules, list)
		n += pos->conf.enabled;
	if (n) {
		unsigned int bits = n <= EPHPORT_RULESET_MASKED ?
				    order_base_2(2 * n) : 0;
		size_t size = struct_size(set, entries, n);

		if (bits)
			size += sizeof(*set->cg_slots) << bits;
		set = kzalloc(size, gfp);
		if (!set)
			return -ENOMEM;
		set->cg_bits = bits;
		set->cg_slots = bits ? (void *)&set->entries[n] : NULL;
		list_for_each_entry(pos, &ephport_rules, list) {
			if (!pos->conf.enabled)
				continue;
			set->entries[set->n].conf = pos->conf;
			set->entries[set->n].rule = pos;
			if (bits)
				ephport_ruleset_mask(set, pos->conf.cgroup, set->n);
			set->n++;
		}
	}
	prev = rcu_replace_pointer(ephport_ruleset, set,
				   lockdep_is_held(&ephport_rules_lock));
	synchronize_srcu(&ephport_srcu);
	kfree(prev);
	return 0;
}

/*
 * Give @r the settings @c and publish the enabled rules, or, with @c NULL,
 * take @r out.  Once no allocation can see the previous settings, drop
 * the references they held that @c does not keep.
 */
int ephport_rule_update(struct ephport_rule *r,
			const struct ephport_rule_conf *c)
{
	struct ephport_rule_conf old = r->conf;

	lockdep_assert_held(&ephport_rules_lock);

	list_del(&r->list);
	if (c) {
		r->conf = *c;
		ephport_rule_link(r);
	}
	/* Taking a rule out must not fail. */
	if (ephport_rules_publish(c ? GFP_KERNEL : GFP_KERNEL | __GFP_NOFAIL)) {
		if (c)
			list_del(&r->list);
		r->conf = old;
		ephport_rule_link(r);
		return -ENOMEM;
	}

	/* A rule taken out keeps its references until released. */
	if (c && old.cgroup && old.cgroup != c->cgroup)
		cgroup_put(old.cgroup);
	if (c && old.strategy && old.strategy != c->strategy)
		ephport_strategy_put(old.strategy);
	return 0;
}

/*
 * @s is being unregistered while rules may name it (its module's init
 * failed after registering it): they use the global strategy from now on,
 * and their references on its module go.  Called once @s is off the list
 * of strategies, so no rule can take it any more.
 */
void ephport_rules_strategy_gone(const struct ephport_strategy *s)
{
	struct ephport_rule *r;
	unsigned int n = 0;

	mutex_lock(&ephport_rules_lock);
	list_for_each_entry(r, &ephport_rules, list) {
		if (r->conf.strategy == s) {
			r->conf.strategy = NULL;
			n++;
		}
	}
	if (n) {
		ephport_rules_publish(GFP_KERNEL | __GFP_NOFAIL);
		pr_notice("strategy %s unregistered: %u rule(s) now use the global strategy\n",
			  s->name, n);
		while (n--)
			ephport_strategy_put(s);
	}
	mutex_unlock(&ephport_rules_lock);
}
