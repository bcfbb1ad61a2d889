/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The allocation paths (alloc.c): the replacements of the kernel functions
 * that hook.c redirects.
 */
#ifndef _EPHPORT_ALLOC_H
#define _EPHPORT_ALLOC_H

#include <linux/types.h>

int ephport_alloc_init(void);
int ephport_alloc_set_enabled(bool enabled);
void ephport_alloc_uninit(void);

#endif /* _EPHPORT_ALLOC_H */
