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

/* Set while the module registers: namespaces that exist already. */
static bool ephport_netns_loading;

/*
 * Set once every namespace has its ephport_net: before that, net_generic()
 * may not know ephport_net_id yet for some of them.
 */
static bool ephport_netns_up;

/*
 * NULL while the namespace is being set up or torn down (kernel sockets
 * may allocate ports then): such allocations pass through.  The caller
 * holds a reference on the namespace (through its socket), is in an
 * ephport_srcu read section, which namespace teardown waits for, or runs
 * with preemption disabled (the index observers), which
 * ephport_netns_uninit() waits for.
 */
struct ephport_net *ephport_net(const struct net *net)
{
	struct ephport_net *en;

	/* Pairs with the release in ephport_netns_init(). */
	if (!smp_load_acquire(&ephport_netns_up))
		return NULL;
	rcu_read_lock();
	en = net_generic(net, ephport_net_id);
	rcu_read_unlock();
	/* Pairs with the release at the end of ephport_net_init(). */
	return en && smp_load_acquire(&en->live) ? en : NULL;
}

static int __net_init ephport_net_init(struct net *net)
{
	struct ephport_net *en = net_generic(net, ephport_net_id);
	int err = -ENOMEM;
	int i;

	en->salt = get_random_u32();
	for (i = 0; i < EPHPORT_PROTOS; i++) {
		en->busy[i] = kvcalloc(BITS_TO_LONGS(EPHPORT_PORTS),
				       sizeof(unsigned long), GFP_KERNEL);
		if (!en->busy[i])
			goto err_index;
	}
	en->state.dh_table = kvcalloc(EPHPORT_DH_TABLE_SIZE,
				      sizeof(*en->state.dh_table), GFP_KERNEL);
	if (!en->state.dh_table)
		goto err_index;
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
	if (ephport_netns_loading)
		ephport_index_fill(net, en);
	/* Everything above is visible to whoever sees live set. */
	smp_store_release(&en->live, true);
	return 0;

err_log:
	kvfree(en->log.entries);
err_stats:
	free_percpu(en->stats);
err_table:
	kvfree(en->state.dh_table);
err_index:
	for (i = 0; i < EPHPORT_PROTOS; i++)
		kvfree(en->busy[i]);
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
		kvfree(en->busy[EPHPORT_PROTO_TCP]);
		kvfree(en->busy[EPHPORT_PROTO_UDP]);
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
	int err;

	ephport_netns_loading = true;
	err = register_pernet_subsys(&ephport_net_ops);
	ephport_netns_loading = false;
	if (err)
		return err;
	/* Every namespace's ephport_net is set up before this is seen. */
	smp_store_release(&ephport_netns_up, true);
	return 0;
}

void ephport_netns_uninit(void)
{
	WRITE_ONCE(ephport_netns_up, false);
	/* Observers that found it up are done after this. */
	synchronize_rcu();
	unregister_pernet_subsys(&ephport_net_ops);
}
