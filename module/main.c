// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: choose the local port wherever the kernel picks one itself
 * (connect(), bind() to port 0, listen() and UDP autobind), by a pluggable
 * strategy, and let the kernel's own code take it.
 *
 * Set up in this order: statistics, strategies, the hooks (which pass
 * every allocation through until the end of init), per-netns state with
 * /proc/net/ephport, /sys/kernel/ephport, then the rules in configfs.  The
 * hooks come before anything visible by name.  A second copy of the module
 * is refused before anything: /sys/kernel/ephport tells it is there (while
 * enabled, its hooks would refuse ours too, but not while disabled).
 *
 * An init error undoes what was set up in reverse.  Unloading differs in
 * one place: the hooks come off right after the rules and
 * /sys/kernel/ephport (whose "enabled" registers them), before the
 * per-netns state, so that no replacement runs any more (those of bind()
 * and of ports let go update the index even while allocations pass
 * through) when the state goes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/srcu.h>

#include "alloc.h"
#include "ephport.h"
#include "netns.h"
#include "params.h"
#include "rules.h"
#include "stats.h"
#include "sysfs.h"

struct srcu_struct ephport_srcu;

static int __init ephport_init(void)
{
	int err;

	if (ephport_sysfs_taken()) {
		pr_err("another copy of ephport is loaded (/sys/kernel/ephport exists)\n");
		return -EEXIST;
	}
	err = init_srcu_struct(&ephport_srcu);
	if (err)
		return err;
	err = ephport_stats_init();
	if (err)
		goto err_srcu;
	err = ephport_strategies_init(ephport_param_strategy);
	if (err)
		goto err_stats;
	err = ephport_alloc_init();
	if (err)
		goto err_strategies;
	err = ephport_netns_init();
	if (err)
		goto err_hooks;
	err = ephport_sysfs_init();
	if (err)
		goto err_netns;
	err = ephport_rules_init();
	if (err)
		goto err_sysfs;
	ephport_set_ready(true);
	return 0;

err_sysfs:
	ephport_sysfs_uninit();
err_netns:
	ephport_netns_uninit();
err_hooks:
	ephport_alloc_uninit();
err_strategies:
	ephport_strategies_uninit();
err_stats:
	ephport_stats_uninit();
err_srcu:
	cleanup_srcu_struct(&ephport_srcu);
	return err;
}

static void __exit ephport_exit(void)
{
	ephport_set_ready(false);
	ephport_rules_uninit();
	/* No write to "enabled" can register the hooks again after this. */
	ephport_sysfs_uninit();
	ephport_alloc_uninit();
	ephport_netns_uninit();
	ephport_strategies_uninit();
	ephport_stats_uninit();
	cleanup_srcu_struct(&ephport_srcu);
}

module_init(ephport_init);
module_exit(ephport_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Pluggable inet ephemeral port selection");
MODULE_AUTHOR("The ephport authors");
MODULE_VERSION(EPHPORT_VERSION);
