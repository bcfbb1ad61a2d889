// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/ephport: the global settings and statistics.  Reads are open
 * to everyone; writes need CAP_NET_ADMIN, and a value that does not parse
 * fails with EINVAL and changes nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/nsproxy.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "alloc.h"
#include "ephport.h"
#include "netns.h"
#include "params.h"
#include "stats.h"
#include "sysfs.h"

/* Not KBUILD_MODNAME: a copy built under another name clashes on it. */
#define EPHPORT_SYSFS_DIR	"ephport"

static struct kobject *ephport_kobj;

/*
 * Whether /sys/kernel/ephport exists already: another copy of the module
 * (built under another name) is loaded, and every name this one would
 * create is taken.  Its hooks no longer refuse ours while it is disabled,
 * when it holds none; two copies loading at the same instant may both
 * find it free, and then refuse each other's hooks only while enabled.
 */
bool ephport_sysfs_taken(void)
{
	struct kernfs_node *kn = kernfs_find_and_get(kernel_kobj->sd, EPHPORT_SYSFS_DIR);

	if (!kn)
		return false;
	kernfs_put(kn);
	return true;
}

static ssize_t enabled_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(ephport_enabled));
}

static ssize_t enabled_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	bool enabled;
	int err;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	if (ephport_parse_enabled(buf, count, &enabled))
		return -EINVAL;
	err = ephport_alloc_set_enabled(enabled);
	return err ? err : count;
}

static ssize_t range_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return ephport_format_range(buf, PAGE_SIZE, READ_ONCE(ephport_range));
}

static ssize_t range_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	u32 range;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	if (ephport_parse_range(buf, count, &range))
		return -EINVAL;
	WRITE_ONCE(ephport_range, range);
	return count;
}

static ssize_t strategy_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return ephport_strategy_show_active(buf, "");
}

static ssize_t strategy_store(struct kobject *kobj, struct kobj_attribute *attr,
			      const char *buf, size_t count)
{
	char name[EPHPORT_STRATEGY_NAME_MAX];

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	if (ephport_parse_strategy(buf, count, name) ||
	    ephport_strategy_set_active(name))
		return -EINVAL;
	return count;
}

static ssize_t available_strategies_show(struct kobject *kobj,
					 struct kobj_attribute *attr, char *buf)
{
	return ephport_strategy_show_available(buf, PAGE_SIZE);
}

static ssize_t warn_pct_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(ephport_warn_pct));
}

static ssize_t warn_pct_store(struct kobject *kobj, struct kobj_attribute *attr,
			      const char *buf, size_t count)
{
	unsigned int pct;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	if (ephport_parse_warn_pct(buf, count, &pct))
		return -EINVAL;
	WRITE_ONCE(ephport_warn_pct, pct);
	return count;
}

static struct kobj_attribute ephport_attr_enabled = __ATTR_RW(enabled);
static struct kobj_attribute ephport_attr_warn_pct = __ATTR_RW(warn_pct);
static struct kobj_attribute ephport_attr_range = __ATTR_RW(range);
static struct kobj_attribute ephport_attr_strategy = __ATTR_RW(strategy);
static struct kobj_attribute ephport_attr_available = __ATTR_RO(available_strategies);

static struct attribute *ephport_attrs[] = {
	&ephport_attr_enabled.attr,
	&ephport_attr_range.attr,
	&ephport_attr_strategy.attr,
	&ephport_attr_available.attr,
	&ephport_attr_warn_pct.attr,
	NULL,
};

static const struct attribute_group ephport_group = {
	.attrs = ephport_attrs,
};

/* stats/: totals, and allocations per path. */
enum ephport_stat {
	EPHPORT_STAT_ALLOCATIONS = EPHPORT_PATHS,
	EPHPORT_STAT_FAILURES,
	EPHPORT_STAT_PROBES,
};

struct ephport_stat_attr {
	struct kobj_attribute attr;
	int which;			/* a path, or an enum ephport_stat */
};

static ssize_t ephport_stat_show(struct kobject *kobj, struct kobj_attribute *attr,
				 char *buf)
{
	int which = container_of(attr, struct ephport_stat_attr, attr)->which;
	struct ephport_pcpu_stats *sum;
	u64 v = 0;
	int p;

	sum = kmalloc(sizeof(*sum), GFP_KERNEL);
	if (!sum)
		return -ENOMEM;
	ephport_stats_sum(ephport_global_stats, sum);
	for (p = 0; p < EPHPORT_PATHS; p++) {
		if (which == p || which == EPHPORT_STAT_ALLOCATIONS)
			v += sum->allocations[p];
		else if (which == EPHPORT_STAT_FAILURES)
			v += sum->failures[p];
		else if (which == EPHPORT_STAT_PROBES)
			v += sum->probes[p];
	}
	kfree(sum);
	return sysfs_emit(buf, "%llu\n", v);
}

static ssize_t reset_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	struct ephport_net *en;
	bool reset;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	if (ephport_parse_enabled(buf, count, &reset) || !reset)
		return -EINVAL;
	ephport_stats_reset(ephport_global_stats);
	en = ephport_net(current->nsproxy->net_ns);
	if (en)
		ephport_stats_reset(READ_ONCE(en->stats));
	return count;
}

#define EPHPORT_STAT_ATTR(_name, _which)				\
	static struct ephport_stat_attr ephport_stat_##_name = {	\
		.attr = __ATTR(_name, 0444, ephport_stat_show, NULL),	\
		.which = _which,					\
	}

EPHPORT_STAT_ATTR(allocations, EPHPORT_STAT_ALLOCATIONS);
EPHPORT_STAT_ATTR(failures, EPHPORT_STAT_FAILURES);
EPHPORT_STAT_ATTR(probes, EPHPORT_STAT_PROBES);
EPHPORT_STAT_ATTR(tcp4_connect, EPHPORT_TCP4_CONNECT);
EPHPORT_STAT_ATTR(tcp6_connect, EPHPORT_TCP6_CONNECT);
EPHPORT_STAT_ATTR(tcp_bind, EPHPORT_TCP_BIND);
EPHPORT_STAT_ATTR(udp4, EPHPORT_UDP4);
EPHPORT_STAT_ATTR(udp6, EPHPORT_UDP6);
static struct kobj_attribute ephport_stat_reset = __ATTR_WO(reset);

static struct attribute *ephport_stats_attrs[] = {
	&ephport_stat_allocations.attr.attr,
	&ephport_stat_failures.attr.attr,
	&ephport_stat_probes.attr.attr,
	&ephport_stat_tcp4_connect.attr.attr,
	&ephport_stat_tcp6_connect.attr.attr,
	&ephport_stat_tcp_bind.attr.attr,
	&ephport_stat_udp4.attr.attr,
	&ephport_stat_udp6.attr.attr,
	&ephport_stat_reset.attr,
	NULL,
};

static const struct attribute_group ephport_stats_group = {
	.name = "stats",
	.attrs = ephport_stats_attrs,
};

static const struct attribute_group *ephport_groups[] = {
	&ephport_group,
	&ephport_stats_group,
	NULL,
};

int ephport_sysfs_init(void)
{
	int err;

	ephport_kobj = kobject_create_and_add(EPHPORT_SYSFS_DIR, kernel_kobj);
	if (!ephport_kobj)
		return -ENOMEM;
	err = sysfs_create_groups(ephport_kobj, ephport_groups);
	if (err) {
		kobject_put(ephport_kobj);
		return err;
	}
	return 0;
}

void ephport_sysfs_uninit(void)
{
	sysfs_remove_groups(ephport_kobj, ephport_groups);
	kobject_put(ephport_kobj);
}
