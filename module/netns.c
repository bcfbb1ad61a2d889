// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state: the strategies' state, statistics, the
 * allocation log and the /proc/net/ephport files.
 *
 * A namespace gets only struct ephport_net and its /proc/net/ephport
 * files when it comes up.  The rest (the index, the double-hash table, the
 * counters, the log: about 250 KiB) is allocated when an allocation in the
 * namespace first needs it, and charged to the memory cgroup of the task
 * making that allocation: thousands of idle namespaces, or namespaces
 * created while ephport is disabled, cost next to nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "ephport.h"
#include "index.h"
#include "netns.h"
#include "params.h"
#include "procfs.h"
#include "stats.h"

static unsigned int ephport_net_id __read_mostly;

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

/*
 * The piece of a namespace at *@slot (@n zeroed elements of @size bytes),
 * allocated if it has none yet, or NULL if there is no memory for it: the
 * caller does without.  It may sleep.  Racing first users each allocate;
 * the first to publish wins and the others free theirs.  *@created (if
 * not NULL) tells whether this call published it.
 */
void *ephport_lazy_kvcalloc(void **slot, size_t n, size_t size, bool *created)
{
	void *old, *p;

	if (created)
		*created = false;
	/* Pairs with the cmpxchg() below. */
	p = smp_load_acquire(slot);
	if (p)
		return p;
	p = kvcalloc(n, size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!p)
		return NULL;
	/* Fully ordered: the zeroed memory is seen by whoever sees p. */
	old = cmpxchg(slot, NULL, p);
	if (old) {
		kvfree(p);
		return old;
	}
	if (created)
		*created = true;
	return p;
}

/*
 * The per-CPU counterpart, for memory the caller has just allocated (and
 * set up) as @p: published at *@slot unless a racing first user published
 * its own first, in which case @p is freed.  Returns what *@slot points
 * to now, or NULL if @p is NULL and nothing was published.
 */
void __percpu *ephport_lazy_percpu_publish(void __percpu **slot, void __percpu *p)
{
	void __percpu *old;

	if (!p) {
		/* What a racer may have published; pairs with the cmpxchg(). */
		return smp_load_acquire(slot);
	}
	/* Fully ordered: what @p holds is seen by whoever sees it. */
	old = cmpxchg(slot, NULL, p);
	if (old) {
		free_percpu(p);
		return old;
	}
	return p;
}

/* core.c: the double-hash table, when that strategy first runs here. */
u16 *ephport_dh_table_get(struct ephport_state *state)
{
	return ephport_lazy_kvcalloc((void **)&state->dh_table,
				     EPHPORT_DH_TABLE_SIZE,
				     sizeof(*state->dh_table), NULL);
}

static int __net_init ephport_net_init(struct net *net)
{
	struct ephport_net *en = net_generic(net, ephport_net_id);
	int err;

	en->salt = get_random_u32();
	en->log.size = ephport_log_size;
	err = ephport_procfs_net_init(net);
	if (err)
		return err;
	/* Everything above is visible to whoever sees live set. */
	smp_store_release(&en->live, true);
	return 0;
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
		ephport_log_free(&en->log);
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

	err = register_pernet_subsys(&ephport_net_ops);
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
