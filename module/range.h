/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The range hook (range.c), and the sockets whose range it forces.
 */
#ifndef _EPHPORT_RANGE_H
#define _EPHPORT_RANGE_H

#include <linux/list.h>
#include <linux/types.h>
#include <net/sock.h>

#include "rules.h"

/*
 * Sockets whose allocation is being driven: the range hook answers them
 * [low, high], a single port for a connect() that tries one candidate at
 * a time, a rule's range for the stock algorithm.  A socket is driven by
 * the one task holding its lock, which alone updates the entry; other
 * tasks only compare ->sk.
 */
struct ephport_force {
	struct hlist_node node;
	const struct sock *sk;
	int low;
	int high;
	bool local;		/* what the range hook returns */
};

void ephport_force_insert(struct ephport_force *f);
void ephport_force_remove(struct ephport_force *f);
void ephport_force_range(struct ephport_force *f,
			 const struct ephport_policy *pol, int low, int high);
void ephport_unforce(struct ephport_force *f, const struct ephport_policy *pol);
int ephport_range_init(void);
int ephport_range_enable(void);
void ephport_range_disable(void);
void ephport_range_uninit(void);

#endif /* _EPHPORT_RANGE_H */
