/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The occupancy index (index.c): a bit per port believed held, per
 * namespace and port space.
 */
#ifndef _EPHPORT_INDEX_H
#define _EPHPORT_INDEX_H

#include <linux/types.h>
#include <net/net_namespace.h>

#include "core.h"

/* The occupancy index has a bitmap per port space. */
enum ephport_proto {
	EPHPORT_PROTO_TCP,
	EPHPORT_PROTO_UDP,
	EPHPORT_PROTOS
};

#define EPHPORT_PORTS		65536

struct ephport_net;

bool ephport_index_mirrors(const struct sock *sk, enum ephport_proto proto);
void ephport_index_set(struct ephport_net *en, enum ephport_proto proto, u16 port);
void ephport_index_clear(struct ephport_net *en, enum ephport_proto proto, u16 port);
void ephport_index_learn(struct sock *sk, struct ephport_net *en,
			 enum ephport_proto proto, u16 port);
void ephport_index_release(struct sock *sk, enum ephport_proto proto, u16 port);
void ephport_ports_scan(struct net *net, enum ephport_proto proto,
			unsigned long *bits);
unsigned int ephport_ports_count(const unsigned long *bits, int low, int high);
void ephport_index_invalidate(void);
void ephport_index_use(struct ephport_walk *w, struct net *net,
		       struct ephport_net *en, enum ephport_proto proto, u32 low);

#endif /* _EPHPORT_INDEX_H */
