/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /proc/net/ephport (procfs.c).
 */
#ifndef _EPHPORT_PROCFS_H
#define _EPHPORT_PROCFS_H

#include <net/net_namespace.h>

int ephport_procfs_net_init(struct net *net);
void ephport_procfs_net_exit(struct net *net);

#endif /* _EPHPORT_PROCFS_H */
