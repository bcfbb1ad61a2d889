/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /sys/kernel/ephport (sysfs.c): the global settings and statistics.
 */
#ifndef _EPHPORT_SYSFS_H
#define _EPHPORT_SYSFS_H

#include <linux/types.h>

bool ephport_sysfs_taken(void);
int ephport_sysfs_init(void);
void ephport_sysfs_uninit(void);

#endif /* _EPHPORT_SYSFS_H */
