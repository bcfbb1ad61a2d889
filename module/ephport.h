/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: what the module's files share (the allocation paths, the SRCU
 * section every replacement runs in, the strategies).  Each file's own
 * declarations are in its header: params.h, rules.h, netns.h, index.h,
 * stats.h, procfs.h, sysfs.h, alloc.h, hook.h.
 */
#ifndef _EPHPORT_H
#define _EPHPORT_H

#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <net/net_namespace.h>

#include "core.h"

/*
 * The allocation paths, in the order the statistics show them: the one
 * list the enum, the names (files, log) and the tracepoint are made of.
 * X(id, name, attribute name)
 */
#define EPHPORT_PATH_LIST(X)						\
	X(TCP4_CONNECT, "tcp4-connect", "tcp4_connect")			\
	X(TCP6_CONNECT, "tcp6-connect", "tcp6_connect")			\
	X(TCP_BIND, "tcp-bind", "tcp_bind")				\
	X(UDP4, "udp4", "udp4")						\
	X(UDP6, "udp6", "udp6")

#define EPHPORT_PATH_ENUM(id, name, attr)	EPHPORT_##id,

enum ephport_path {
	EPHPORT_PATH_LIST(EPHPORT_PATH_ENUM)
	EPHPORT_PATHS
};

extern const char *const ephport_path_names[EPHPORT_PATHS];	/* "tcp4-connect" */
extern const char *const ephport_path_attrs[EPHPORT_PATHS];	/* "tcp4_connect" */

/*
 * Every replacement function (but the range getter's: range.c says why)
 * runs inside an SRCU read-side section of ephport_srcu, so that unloading
 * (and unregistering a strategy) can wait until no task runs code or uses
 * data that is about to go.
 */
extern struct srcu_struct ephport_srcu;

/* @stmt inside an ephport_srcu read section: the body of every replacement. */
#define EPHPORT_SRCU(stmt) do {					\
	int __idx = srcu_read_lock(&ephport_srcu);			\
	stmt;								\
	srcu_read_unlock(&ephport_srcu, __idx);				\
} while (0)

/* strategy.c; what other modules use of it is in <ephport/strategy.h> */
const struct ephport_strategy *ephport_strategy_get_active(void);
const struct ephport_strategy *ephport_strategy_get(const char *name);
void ephport_strategy_put(const struct ephport_strategy *s);
int ephport_strategy_set_active(const char *name);
ssize_t ephport_strategy_show_active(char *buf, const char *none);
ssize_t ephport_strategy_show_available(char *buf, size_t size);
bool ephport_strategy_name_builtin(const char *name);
int ephport_strategies_init(const char *initial);
void ephport_strategies_uninit(void);
extern struct ephport_secrets ephport_secrets;

#endif /* _EPHPORT_H */
