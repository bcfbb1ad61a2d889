/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per network namespace state (netns.c).
 */
#ifndef _EPHPORT_NETNS_H
#define _EPHPORT_NETNS_H

#include <linux/types.h>
#include <net/net_namespace.h>

#include "core.h"
#include "index.h"
#include "stats.h"

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
	unsigned int busy_epoch[EPHPORT_PROTOS];	/* when filled (index.c) */
	unsigned long warned;			/* BIT(proto): above warn_pct */
	struct ephport_pcpu_stats __percpu *stats;	/* lazy */
	struct ephport_log log;
};

struct ephport_net *ephport_net(const struct net *net);
void *ephport_lazy_kvcalloc(void **slot, size_t n, size_t size, bool *created);
void __percpu *ephport_lazy_percpu_publish(void __percpu **slot, void __percpu *p);
int ephport_netns_init(void);
void ephport_netns_uninit(void);

#endif /* _EPHPORT_NETNS_H */
