/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The global settings (params.c).
 */
#ifndef _EPHPORT_PARAMS_H
#define _EPHPORT_PARAMS_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#define EPHPORT_RANGE_AUTO	0U
#define EPHPORT_RANGE_MIN	1024
#define EPHPORT_RANGE_MAX	65535

extern bool ephport_enabled;
extern u32 ephport_range;		/* low | high << 16, or EPHPORT_RANGE_AUTO */
extern unsigned int ephport_random_inc_n;
extern unsigned int ephport_log_size;
extern unsigned int ephport_warn_pct;
extern const char *ephport_param_strategy;
extern struct mutex ephport_config_lock;

int ephport_parse_enabled(const char *buf, size_t len, bool *enabled);
int ephport_parse_range(const char *buf, size_t len, u32 *range);
int ephport_parse_strategy(const char *buf, size_t len, char *name);
int ephport_value(const char *buf, size_t len, size_t max);
int ephport_format_range(char *buf, size_t size, u32 range);
int ephport_parse_warn_pct(const char *buf, size_t len, unsigned int *pct);
bool ephport_range_net(const struct net *net, u32 range, int *low, int *high);
bool ephport_range_get(const struct sock *sk, u32 range, int *low, int *high,
		       bool *local);
bool ephport_active(void);
void ephport_set_ready(bool ready);

#endif /* _EPHPORT_PARAMS_H */
