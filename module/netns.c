// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state: the strategies' state, statistics, the
 * allocation log and the /proc/net/ephport files.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "ephport.h"

static unsigned int ephport_net_id __read_mostly;

/*
 * NULL while the namespace is being set up or torn down (kernel sockets
 * may allocate ports then): such allocations pass through.  The caller
 * holds a reference on the namespace (through its socket) or is in an
 * ephport_srcu read section, which namespace teardown waits for.
 */
struct ephport_net *ephport_net(const struct net *net)
{
	struct ephport_net *en;

	rcu_read_lock();
	en = net_generic(net, ephport_net_id);
	rcu_read_unlock();
	return en && smp_load_acquire(&en->live) ? en : NULL;
}

static int __net_init ephport_net_init(struct net *net)
{
	struct ephport_net *en = net_generic(net, ephport_net_id);
	int err = -ENOMEM;

	en->salt = get_random_u32();
	en->state.dh_table = kvcalloc(EPHPORT_DH_TABLE_SIZE,
				      sizeof(*en->state.dh_table), GFP_KERNEL);
	if (!en->state.dh_table)
		goto err;
	en->stats = alloc_percpu(struct ephport_pcpu_stats);
	if (!en->stats)
		goto err_table;
	spin_lock_init(&en->log.lock);
	en->log.size = ephport_log_size;
	if (en->log.size) {
		en->log.entries = kvcalloc(en->log.size, sizeof(*en->log.entries),
					   GFP_KERNEL);
		if (!en->log.entries)
			goto err_stats;
	}
	err = ephport_procfs_net_init(net);
	if (err)
		goto err_log;
	smp_store_release(&en->live, true);
	return 0;

err_log:
	kvfree(en->log.entries);
err_stats:
	free_percpu(en->stats);
err_table:
	kvfree(en->state.dh_table);
err:
	return err;
}

static void __net_exit ephport_net_pre_exit(struct net *net)
{
	struct ephport_net *en = net_generic(net, ephport_net_id);

	WRITE_ONCE(en->live, false);
}

static void __net_exit ephport_net_exit_batch(struct list_head *net_exit_list)
{
	struct net *net;

	/* Allocations that found the namespace live are done after this. */
	synchronize_srcu(&ephport_srcu);
	list_for_each_entry(net, net_exit_list, exit_list) {
		struct ephport_net *en = net_generic(net, ephport_net_id);

		ephport_procfs_net_exit(net);
		kvfree(en->log.entries);
		free_percpu(en->stats);
		kvfree(en->state.dh_table);
	}
}

static struct pernet_operations ephport_net_ops = {
	.init = ephport_net_init,
	.pre_exit = ephport_net_pre_exit,
	.exit_batch = ephport_net_exit_batch,
	.id = &ephport_net_id,
	.size = sizeof(struct ephport_net),
};

int ephport_netns_init(void)
{
	return register_pernet_subsys(&ephport_net_ops);
}

void ephport_netns_uninit(void)
{
	unregister_pernet_subsys(&ephport_net_ops);
}
