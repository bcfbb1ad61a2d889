// SPDX-License-Identifier: GPL-2.0
/*
 * The rules (rules.c) as configfs items, /sys/kernel/config/ephport/rules/NAME,
 * one attribute per setting; making a rule and changing one needs
 * CAP_NET_ADMIN, as the global settings do.  A new rule is disabled, so it can be set up
 * before it applies.  A change takes effect once published (ephport_rule_update()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/configfs.h>
#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "ephport.h"
#include "params.h"
#include "rules.h"
#include "rules_internal.h"

#define EPHPORT_RULE_PRIORITY	100
#define EPHPORT_CGROUP_PATH_MAX	1024

static struct ephport_rule *to_rule(struct config_item *item)
{
	return container_of(item, struct ephport_rule, item);
}

/* @buf's value as a C string in @s, of at most @size - 1 characters. */
static int ephport_rule_string(const char *buf, size_t len, char *s, size_t size)
{
	int n = ephport_value(buf, len, size - 1);

	if (n < 0)
		return n;
	memcpy(s, buf, n);
	s[n] = '\0';
	return n;
}

#define EPHPORT_RULE_STORE(field, parse)				\
static ssize_t ephport_rule_##field##_store(struct config_item *item,	\
					    const char *buf,		\
					    size_t count)		\
{									\
	struct ephport_rule *r = to_rule(item);				\
	struct ephport_rule_conf c;					\
	int err;							\
									\
	if (!capable(CAP_NET_ADMIN))					\
		return -EPERM;						\
	mutex_lock(&ephport_rules_lock);				\
	c = r->conf;							\
	err = parse(buf, count, &c);					\
	if (!err)							\
		err = ephport_rule_update(r, &c);			\
	mutex_unlock(&ephport_rules_lock);				\
	return err ?: count;						\
}

/*
 * Give @r the settings @c, in which @ref (a new reference, or NULL) takes
 * the place of @held.  *@drop tells the caller to put @ref again: the
 * rule holds it already, or the update failed.
 */
static int ephport_rule_update_ref(struct ephport_rule *r,
				   const struct ephport_rule_conf *c,
				   const void *ref, const void *held, bool *drop)
{
	int err;

	*drop = ref && ref == held;
	if (*drop)
		return 0;
	err = ephport_rule_update(r, c);
	*drop = err && ref;
	return err;
}

/* cgroup: a cgroup v2 path, as in /proc/PID/cgroup; empty for any. */
static ssize_t ephport_rule_cgroup_show(struct config_item *item, char *page)
{
	struct ephport_rule *r = to_rule(item);
	ssize_t len;

	mutex_lock(&ephport_rules_lock);
	len = scnprintf(page, PAGE_SIZE, "%s\n", r->cgroup_path ?: "");
	mutex_unlock(&ephport_rules_lock);
	return len;
}

static ssize_t ephport_rule_cgroup_store(struct config_item *item,
					 const char *buf, size_t count)
{
	struct ephport_rule *r = to_rule(item);
	struct cgroup *cgroup = NULL;
	struct ephport_rule_conf c;
	char *path = NULL;
	bool drop;
	int n, err;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	n = ephport_value(buf, count, EPHPORT_CGROUP_PATH_MAX);
	if (n < 0 || (n && buf[0] != '/'))
		return -EINVAL;
	if (n) {
		if (!IS_ENABLED(CONFIG_SOCK_CGROUP_DATA))
			return -EOPNOTSUPP;
		path = kmemdup_nul(buf, n, GFP_KERNEL);
		if (!path)
			return -ENOMEM;
		cgroup = cgroup_get_from_path(path);
		if (IS_ERR(cgroup)) {
			kfree(path);
			return PTR_ERR(cgroup);
		}
	}

	mutex_lock(&ephport_rules_lock);
	c = r->conf;
	c.cgroup = cgroup;
	err = ephport_rule_update_ref(r, &c, cgroup, r->conf.cgroup, &drop);
	if (drop)
		cgroup_put(cgroup);
	if (!err)
		swap(r->cgroup_path, path);
	mutex_unlock(&ephport_rules_lock);
	kfree(path);
	return err ?: count;
}

/* uid: "UID" or "MIN-MAX", in the writer's user namespace; empty for any. */
static ssize_t ephport_rule_uid_show(struct config_item *item, char *page)
{
	struct ephport_rule *r = to_rule(item);
	struct user_namespace *ns = current_user_ns();
	ssize_t len;

	mutex_lock(&ephport_rules_lock);
	if (!uid_valid(r->conf.uid_min))
		len = sprintf(page, "\n");
	else if (uid_eq(r->conf.uid_min, r->conf.uid_max))
		len = sprintf(page, "%u\n", from_kuid_munged(ns, r->conf.uid_min));
	else
		len = sprintf(page, "%u-%u\n", from_kuid_munged(ns, r->conf.uid_min),
			      from_kuid_munged(ns, r->conf.uid_max));
	mutex_unlock(&ephport_rules_lock);
	return len;
}

static int ephport_rule_parse_uid(const char *buf, size_t count,
				  struct ephport_rule_conf *c)
{
	struct user_namespace *ns = current_user_ns();
	char s[24], *dash;
	u32 min, max;
	int n;

	n = ephport_rule_string(buf, count, s, sizeof(s));
	if (n <= 0) {
		c->uid_min = INVALID_UID;
		c->uid_max = INVALID_UID;
		return n;
	}
	dash = strchr(s, '-');
	if (dash)
		*dash++ = '\0';
	if (!isdigit(s[0]) || kstrtou32(s, 10, &min))
		return -EINVAL;
	max = min;
	if (dash && (!isdigit(dash[0]) || kstrtou32(dash, 10, &max)))
		return -EINVAL;
	c->uid_min = make_kuid(ns, min);
	c->uid_max = make_kuid(ns, max);
	if (!uid_valid(c->uid_min) || !uid_valid(c->uid_max) ||
	    uid_gt(c->uid_min, c->uid_max))
		return -EINVAL;
	return 0;
}

EPHPORT_RULE_STORE(uid, ephport_rule_parse_uid)

/*
 * netns: a network namespace, written as its inode number and matched by
 * its cookie: inode numbers are given again once a namespace is gone,
 * cookies never.  Empty for any.
 *
 * The cookie of the namespace with inode number @inum that is alive (and,
 * with @cookie not 0, has that cookie), or 0.  A namespace on its way out
 * (no reference left) is gone already.
 */
static u64 ephport_netns_lookup(u32 inum, u64 cookie)
{
	struct net *net;
	u64 found = 0;

	rcu_read_lock();
	for_each_net_rcu(net) {
		if (net->ns.inum == inum && (!cookie || net->net_cookie == cookie) &&
		    check_net(net)) {
			found = net->net_cookie;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/* "INODE", or "INODE (gone)" once that namespace is gone. */
static ssize_t ephport_rule_netns_show(struct config_item *item, char *page)
{
	struct ephport_rule *r = to_rule(item);
	ssize_t len;

	mutex_lock(&ephport_rules_lock);
	if (!r->conf.netns)
		len = sprintf(page, "\n");
	else
		len = sprintf(page, "%u%s\n", r->conf.netns_inum,
			      ephport_netns_lookup(r->conf.netns_inum, r->conf.netns) ?
			      "" : " (gone)");
	mutex_unlock(&ephport_rules_lock);
	return len;
}

static int ephport_rule_parse_netns(const char *buf, size_t count,
				    struct ephport_rule_conf *c)
{
	char s[16];
	u32 inum;
	int n;

	n = ephport_rule_string(buf, count, s, sizeof(s));
	if (n <= 0) {
		c->netns = 0;
		c->netns_inum = 0;
		return n;
	}
	if (!isdigit(s[0]) || kstrtou32(s, 10, &inum) || !inum)
		return -EINVAL;
	c->netns = ephport_netns_lookup(inum, 0);
	if (!c->netns)
		return -ENOENT;
	c->netns_inum = inum;
	return 0;
}

EPHPORT_RULE_STORE(netns, ephport_rule_parse_netns)

/* A match written as one of a few words; "" is any. */
struct ephport_rule_word {
	const char *name;
	u8 value;
};

static const struct ephport_rule_word ephport_rule_protos[] = {
	{ "", 0 }, { "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
};

/* path: "connect" (TCP connect()) or "bind" (bind(0), listen(), UDP). */
static const struct ephport_rule_word ephport_rule_paths[] = {
	{ "", EPHPORT_RULE_ANY_PATH },
	{ "connect", EPHPORT_RULE_CONNECT },
	{ "bind", EPHPORT_RULE_BIND },
};

static ssize_t ephport_rule_word_show(char *page, const struct ephport_rule_word *w,
				      unsigned int n, u8 value)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (w[i].value == value)
			return sprintf(page, "%s\n", w[i].name);
	return sprintf(page, "\n");
}

static int ephport_rule_word_parse(const char *buf, size_t count,
				   const struct ephport_rule_word *w,
				   unsigned int n, u8 *value)
{
	char s[8];
	unsigned int i;

	if (ephport_rule_string(buf, count, s, sizeof(s)) < 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!strcmp(s, w[i].name)) {
			*value = w[i].value;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * The attribute of the word match @field, one of the words of @words:
 * show, parse and store.
 */
#define EPHPORT_RULE_WORD_ATTR(field, words)				\
static ssize_t ephport_rule_##field##_show(struct config_item *item,	\
					   char *page)			\
{									\
	return ephport_rule_word_show(page, words, ARRAY_SIZE(words),	\
				      READ_ONCE(to_rule(item)->conf.field)); \
}									\
									\
static int ephport_rule_parse_##field(const char *buf, size_t count,	\
				      struct ephport_rule_conf *c)	\
{									\
	return ephport_rule_word_parse(buf, count, words,		\
				       ARRAY_SIZE(words), &c->field);	\
}									\
									\
EPHPORT_RULE_STORE(field, ephport_rule_parse_##field)

EPHPORT_RULE_WORD_ATTR(proto, ephport_rule_protos)
EPHPORT_RULE_WORD_ATTR(path, ephport_rule_paths)

/* family: "ipv4" or "ipv6", the family the allocation log shows. */
static const struct ephport_rule_word ephport_rule_families[] = {
	{ "", 0 }, { "ipv4", AF_INET }, { "ipv6", AF_INET6 },
};

EPHPORT_RULE_WORD_ATTR(family, ephport_rule_families)

/* range: as the global range; "auto" or empty for the global one. */
static ssize_t ephport_rule_range_show(struct config_item *item, char *page)
{
	return ephport_format_range(page, PAGE_SIZE, READ_ONCE(to_rule(item)->conf.range));
}

static int ephport_rule_parse_range(const char *buf, size_t count,
				    struct ephport_rule_conf *c)
{
	if (!ephport_value(buf, count, 0)) {
		c->range = EPHPORT_RANGE_AUTO;
		return 0;
	}
	return ephport_parse_range(buf, count, &c->range);
}

EPHPORT_RULE_STORE(range, ephport_rule_parse_range)

/* strategy: a registered strategy's name; empty for the global one. */
static ssize_t ephport_rule_strategy_show(struct config_item *item, char *page)
{
	struct ephport_rule *r = to_rule(item);
	ssize_t len;

	mutex_lock(&ephport_rules_lock);
	len = sprintf(page, "%s\n", r->conf.strategy ? r->conf.strategy->name : "");
	mutex_unlock(&ephport_rules_lock);
	return len;
}

/*
 * The strategy is looked up under ephport_rules_lock, which
 * ephport_rules_strategy_gone() takes once the strategy is off the list:
 * a rule never takes a strategy that is being unregistered without that
 * function seeing it.
 */
static ssize_t ephport_rule_strategy_store(struct config_item *item,
					   const char *buf, size_t count)
{
	struct ephport_rule *r = to_rule(item);
	const struct ephport_strategy *s = NULL;
	char name[EPHPORT_STRATEGY_NAME_MAX];
	struct ephport_rule_conf c;
	bool drop;
	int n, err;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	n = ephport_value(buf, count, EPHPORT_STRATEGY_NAME_MAX);
	if (n && ephport_parse_strategy(buf, count, name))
		return -EINVAL;

	mutex_lock(&ephport_rules_lock);
	if (n) {
		s = ephport_strategy_get(name);
		if (!s) {
			mutex_unlock(&ephport_rules_lock);
			return -EINVAL;
		}
	}
	c = r->conf;
	c.strategy = s;
	err = ephport_rule_update_ref(r, &c, s, r->conf.strategy, &drop);
	if (drop)
		ephport_strategy_put(s);
	mutex_unlock(&ephport_rules_lock);
	return err ?: count;
}

/* priority: 0 to 65535, lower first. */
static ssize_t ephport_rule_priority_show(struct config_item *item, char *page)
{
	return sprintf(page, "%u\n", READ_ONCE(to_rule(item)->conf.priority));
}

static int ephport_rule_parse_priority(const char *buf, size_t count,
				       struct ephport_rule_conf *c)
{
	char s[8];

	if (ephport_rule_string(buf, count, s, sizeof(s)) <= 0 ||
	    !isdigit(s[0]) || kstrtou16(s, 10, &c->priority))
		return -EINVAL;
	return 0;
}

EPHPORT_RULE_STORE(priority, ephport_rule_parse_priority)

/* enabled: 1 once the rule is to apply; a new rule is disabled. */
static ssize_t ephport_rule_enabled_show(struct config_item *item, char *page)
{
	return sprintf(page, "%u\n", READ_ONCE(to_rule(item)->conf.enabled));
}

static int ephport_rule_parse_enabled(const char *buf, size_t count,
				      struct ephport_rule_conf *c)
{
	return ephport_parse_enabled(buf, count, &c->enabled);
}

EPHPORT_RULE_STORE(enabled, ephport_rule_parse_enabled)

static ssize_t ephport_rule_stats_show(struct config_item *item, char *page)
{
	struct ephport_rule_stats sum;

	ephport_rule_stats_sum(to_rule(item), &sum);
	return sprintf(page, "allocations %llu\nfailures %llu\nprobes %llu\nmax_probes %llu\n",
		       sum.allocations, sum.failures, sum.probes, sum.max_probes);
}

CONFIGFS_ATTR(ephport_rule_, cgroup);
CONFIGFS_ATTR(ephport_rule_, uid);
CONFIGFS_ATTR(ephport_rule_, netns);
CONFIGFS_ATTR(ephport_rule_, proto);
CONFIGFS_ATTR(ephport_rule_, path);
CONFIGFS_ATTR(ephport_rule_, family);
CONFIGFS_ATTR(ephport_rule_, range);
CONFIGFS_ATTR(ephport_rule_, strategy);
CONFIGFS_ATTR(ephport_rule_, priority);
CONFIGFS_ATTR(ephport_rule_, enabled);
CONFIGFS_ATTR_RO(ephport_rule_, stats);

static struct configfs_attribute *ephport_rule_attrs[] = {
	&ephport_rule_attr_cgroup,
	&ephport_rule_attr_uid,
	&ephport_rule_attr_netns,
	&ephport_rule_attr_proto,
	&ephport_rule_attr_path,
	&ephport_rule_attr_family,
	&ephport_rule_attr_range,
	&ephport_rule_attr_strategy,
	&ephport_rule_attr_priority,
	&ephport_rule_attr_enabled,
	&ephport_rule_attr_stats,
	NULL,
};

/* Out of the published rules already: no allocation uses it any more. */
static void ephport_rule_release(struct config_item *item)
{
	struct ephport_rule *r = to_rule(item);

	if (r->conf.cgroup)
		cgroup_put(r->conf.cgroup);
	if (r->conf.strategy)
		ephport_strategy_put(r->conf.strategy);
	free_percpu(r->stats);
	kfree(r->cgroup_path);
	kfree(r);
}

static struct configfs_item_operations ephport_rule_item_ops = {
	.release = ephport_rule_release,
};

static const struct config_item_type ephport_rule_type = {
	.ct_item_ops = &ephport_rule_item_ops,
	.ct_attrs = ephport_rule_attrs,
	.ct_owner = THIS_MODULE,
};

/* A rule's name: [A-Za-z0-9_.-], as long as the allocation log shows. */
static bool ephport_rule_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len >= EPHPORT_RULE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!isascii(name[i]) || (!isalnum(name[i]) && !strchr("_.-", name[i])))
			return false;
	return true;
}

static struct config_item *ephport_rule_make(struct config_group *group,
					     const char *name)
{
	struct ephport_rule *r;

	if (!capable(CAP_NET_ADMIN))
		return ERR_PTR(-EPERM);
	if (!ephport_rule_name_valid(name))
		return ERR_PTR(-EINVAL);
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return ERR_PTR(-ENOMEM);
	r->stats = alloc_percpu(struct ephport_rule_stats);
	if (!r->stats) {
		kfree(r);
		return ERR_PTR(-ENOMEM);
	}
	strscpy(r->name, name, sizeof(r->name));
	r->conf.uid_min = INVALID_UID;
	r->conf.uid_max = INVALID_UID;
	r->conf.priority = EPHPORT_RULE_PRIORITY;
	r->conf.range = EPHPORT_RANGE_AUTO;
	config_item_init_type_name(&r->item, name, &ephport_rule_type);

	mutex_lock(&ephport_rules_lock);
	ephport_rule_link(r);
	mutex_unlock(&ephport_rules_lock);
	return &r->item;
}

static void ephport_rule_drop(struct config_group *group,
			      struct config_item *item)
{
	struct ephport_rule *r = to_rule(item);

	mutex_lock(&ephport_rules_lock);
	ephport_rule_update(r, NULL);
	/* Off the list, ephport_rules_strategy_gone() would not see it. */
	if (r->conf.strategy) {
		ephport_strategy_put(r->conf.strategy);
		r->conf.strategy = NULL;
	}
	mutex_unlock(&ephport_rules_lock);
	config_item_put(item);
}

static struct configfs_group_operations ephport_rules_group_ops = {
	.make_item = ephport_rule_make,
	.drop_item = ephport_rule_drop,
};

static const struct config_item_type ephport_rules_type = {
	.ct_group_ops = &ephport_rules_group_ops,
	.ct_owner = THIS_MODULE,
};

static const struct config_item_type ephport_subsys_type = {
	.ct_owner = THIS_MODULE,
};

static struct config_group ephport_rules_group;

static struct configfs_subsystem ephport_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf = "ephport",
			.ci_type = &ephport_subsys_type,
		},
	},
};

int ephport_rules_init(void)
{
	config_group_init(&ephport_subsys.su_group);
	mutex_init(&ephport_subsys.su_mutex);
	config_group_init_type_name(&ephport_rules_group, "rules",
				    &ephport_rules_type);
	configfs_add_default_group(&ephport_rules_group, &ephport_subsys.su_group);
	return configfs_register_subsystem(&ephport_subsys);
}

/* configfs holds a module reference per rule: none is left. */
void ephport_rules_uninit(void)
{
	configfs_unregister_subsystem(&ephport_subsys);
}
