// SPDX-License-Identifier: GPL-2.0
/*
 * The global settings: enabled, range and strategy, as module parameters at
 * load time and through /sys/kernel/ephport at run time.  Both go through
 * the same strict parsers; a value that does not parse changes nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/string.h>
#include <net/inet_sock.h>
#include <net/ip.h>

#include "compat.h"
#include "ephport.h"
#include "params.h"

bool ephport_enabled = true;
u32 ephport_range = EPHPORT_RANGE_AUTO;
unsigned int ephport_random_inc_n = EPHPORT_RANDOM_INC_N;
unsigned int ephport_log_size = 1024;
unsigned int ephport_warn_pct;		/* 0: off */
/* Serialises changes of the active strategy. */
DEFINE_MUTEX(ephport_config_lock);

/* Set once everything the replacements use is in place. */
static bool ephport_ready;

void ephport_set_ready(bool ready)
{
	/* Everything set up before is visible to whoever sees it ready. */
	smp_store_release(&ephport_ready, ready);
}

/* warn_pct: 0 (off) to 100, in decimal. */
int ephport_parse_warn_pct(const char *buf, size_t len, unsigned int *pct)
{
	char tmp[8];
	unsigned int v;

	if (!len || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, buf, len);
	tmp[len] = '\0';
	if (!isdigit(tmp[0]) || kstrtouint(tmp, 10, &v) || v > 100)
		return -EINVAL;
	*pct = v;
	return 0;
}

bool ephport_active(void)
{
	/* Pairs with the release in ephport_set_ready(). */
	return READ_ONCE(ephport_enabled) && smp_load_acquire(&ephport_ready);
}

/*
 * A value as written to a file or a rule's attribute: printable text of at
 * most @max characters, optionally followed by one newline, possibly empty.
 * Embedded NULs and any other control character make it invalid.  Returns
 * the length without the newline, or -EINVAL.
 */
int ephport_value(const char *buf, size_t len, size_t max)
{
	size_t i;

	if (len && buf[len - 1] == '\n')
		len--;
	if (len > max)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!isprint(buf[i]) && buf[i] != '\t')
			return -EINVAL;
	return len;
}

/* A value of the global settings: not empty. */
static int ephport_value_len(const char *buf, size_t len)
{
	int n = ephport_value(buf, len, 64);

	return n ? n : -EINVAL;
}

int ephport_parse_enabled(const char *buf, size_t len, bool *enabled)
{
	int n = ephport_value_len(buf, len);

	if (n != 1 || (buf[0] != '0' && buf[0] != '1'))
		return -EINVAL;
	*enabled = buf[0] == '1';
	return 0;
}

/* A port number: 1 to 5 decimal digits, nothing else. */
static int ephport_parse_port(const char **p, const char *end, u32 *port)
{
	const char *s = *p;
	u32 v = 0;

	while (s < end && isdigit(*s) && s - *p < 5)
		v = v * 10 + (*s++ - '0');
	if (s == *p || (s < end && isdigit(*s)))
		return -EINVAL;
	*p = s;
	*port = v;
	return 0;
}

/*
 * "auto", "LOW HIGH" or "LOW-HIGH" with
 * 1024 <= LOW <= HIGH <= 65535, and LOW not below the writer's network
 * namespace's net.ipv4.ip_unprivileged_port_start (as the sysctl demands).
 */
int ephport_parse_range(const char *buf, size_t len, u32 *range)
{
	int n = ephport_value_len(buf, len);
	const char *p = buf, *end;
	u32 low, high;

	if (n < 0)
		return n;
	end = buf + n;
	if (n == 4 && !memcmp(buf, "auto", 4)) {
		*range = EPHPORT_RANGE_AUTO;
		return 0;
	}
	if (ephport_parse_port(&p, end, &low))
		return -EINVAL;
	if (p < end && *p == '-') {
		p++;
	} else {
		if (p == end || (*p != ' ' && *p != '\t'))
			return -EINVAL;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
	}
	if (ephport_parse_port(&p, end, &high) || p != end)
		return -EINVAL;
	if (low < EPHPORT_RANGE_MIN || high > EPHPORT_RANGE_MAX || low > high)
		return -EINVAL;
	if (low < READ_ONCE(current->nsproxy->net_ns->ipv4.sysctl_ip_prot_sock))
		return -EINVAL;
	*range = low | high << 16;
	return 0;
}

/* A strategy name: [a-z0-9-], shorter than EPHPORT_STRATEGY_NAME_MAX. */
int ephport_parse_strategy(const char *buf, size_t len, char *name)
{
	int n = ephport_value_len(buf, len);
	int i;

	if (n < 0 || n >= EPHPORT_STRATEGY_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!islower(buf[i]) && !isdigit(buf[i]) && buf[i] != '-')
			return -EINVAL;
	memcpy(name, buf, n);
	name[n] = '\0';
	return 0;
}

/*
 * The range an allocation for @sk may use: @range, or with
 * EPHPORT_RANGE_AUTO the namespace's sysctl range, never below its
 * unprivileged floor, narrowed by the socket's IP_LOCAL_PORT_RANGE exactly
 * as the stock getter narrows it.
 * Returns false when no port is left.
 */
/*
 * The range @range (or the sysctl's, if auto) is in namespace @net, above
 * its unprivileged port floor; false if that leaves nothing.
 */
bool ephport_range_net(const struct net *net, u32 range, int *low, int *high)
{
	int lo, hi, floor;

	if (range == EPHPORT_RANGE_AUTO) {
		inet_get_local_port_range(net, &lo, &hi);
	} else {
		lo = range & 0xffff;
		hi = range >> 16;
	}
	floor = READ_ONCE(net->ipv4.sysctl_ip_prot_sock);
	if (lo < floor)
		lo = floor;
	if (lo > hi)
		return false;
	*low = lo;
	*high = hi;
	return true;
}

bool ephport_range_get(const struct sock *sk, u32 range, int *low, int *high,
		       bool *local)
{
	int lo, hi, sk_lo, sk_hi;

	if (!ephport_range_net(sock_net(sk), range, &lo, &hi))
		return false;

	ephport_sk_port_range(sk, &sk_lo, &sk_hi);
	if (lo <= sk_lo && sk_lo <= hi)
		lo = sk_lo;
	if (lo <= sk_hi && sk_hi <= hi)
		hi = sk_hi;
	if (local)
		*local = sk_lo || sk_hi;
	*low = lo;
	*high = hi;
	return true;
}

/*
 * Module parameters.  They are read-only in /sys/module/ephport/parameters,
 * but random_inc_n (0644, CAP_NET_ADMIN to write), which has no file in
 * /sys/kernel/ephport; /sys/kernel/ephport is where the other settings
 * change at run time.
 */
static int ephport_param_set_enabled(const char *val, const struct kernel_param *kp)
{
	return ephport_parse_enabled(val, strlen(val), &ephport_enabled);
}

static int ephport_param_get_enabled(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(ephport_enabled));
}

static const struct kernel_param_ops ephport_enabled_ops = {
	.set = ephport_param_set_enabled,
	.get = ephport_param_get_enabled,
};
module_param_cb(enabled, &ephport_enabled_ops, NULL, 0444);
MODULE_PARM_DESC(enabled, "Choose ports (1, default) or pass every allocation through (0)");

static int ephport_param_set_range(const char *val, const struct kernel_param *kp)
{
	return ephport_parse_range(val, strlen(val), &ephport_range);
}

/* @range as the range files show it: "auto" or "LOW HIGH". */
int ephport_format_range(char *buf, size_t size, u32 range)
{
	if (range == EPHPORT_RANGE_AUTO)
		return scnprintf(buf, size, "auto\n");
	return scnprintf(buf, size, "%u %u\n", range & 0xffff, range >> 16);
}

static int ephport_param_get_range(char *buf, const struct kernel_param *kp)
{
	return ephport_format_range(buf, PAGE_SIZE, READ_ONCE(ephport_range));
}

static const struct kernel_param_ops ephport_range_ops = {
	.set = ephport_param_set_range,
	.get = ephport_param_get_range,
};
module_param_cb(range, &ephport_range_ops, NULL, 0444);
MODULE_PARM_DESC(range, "Ports to allocate from: LOW-HIGH (1024 <= LOW <= HIGH <= 65535) or auto (default: net.ipv4.ip_local_port_range)");

static char ephport_param_strategy_buf[EPHPORT_STRATEGY_NAME_MAX] = "kernel";
const char *ephport_param_strategy = ephport_param_strategy_buf;

static int ephport_param_set_strategy(const char *val, const struct kernel_param *kp)
{
	char name[EPHPORT_STRATEGY_NAME_MAX];
	int err;

	err = ephport_parse_strategy(val, strlen(val), name);
	if (err)
		return err;
	if (!ephport_strategy_name_builtin(name))
		return -EINVAL;
	strscpy(ephport_param_strategy_buf, name, sizeof(ephport_param_strategy_buf));
	return 0;
}

/* The file outlives ephport_srcu at both ends: no SRCU here. */
static int ephport_param_get_strategy(char *buf, const struct kernel_param *kp)
{
	return ephport_strategy_show_active(buf, ephport_param_strategy_buf);
}

static const struct kernel_param_ops ephport_strategy_ops = {
	.set = ephport_param_set_strategy,
	.get = ephport_param_get_strategy,
};
module_param_cb(strategy, &ephport_strategy_ops, NULL, 0444);
MODULE_PARM_DESC(strategy, "Port selection strategy (default: kernel); see /sys/kernel/ephport/available_strategies");

static int ephport_param_set_random_inc_n(const char *val, const struct kernel_param *kp)
{
	unsigned int n;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	if (kstrtouint(val, 10, &n) || n < 1 || n > EPHPORT_RANGE_MAX)
		return -EINVAL;
	WRITE_ONCE(ephport_random_inc_n, n);
	return 0;
}

static const struct kernel_param_ops ephport_random_inc_n_ops = {
	.set = ephport_param_set_random_inc_n,
	.get = param_get_uint,
};
module_param_cb(random_inc_n, &ephport_random_inc_n_ops, &ephport_random_inc_n, 0644);
MODULE_PARM_DESC(random_inc_n, "random-inc: increments are 1..N (default 500, RFC 6056 3.3.5)");

static int ephport_param_set_log_size(const char *val, const struct kernel_param *kp)
{
	unsigned int n;

	if (kstrtouint(val, 10, &n) || n > 65536)
		return -EINVAL;
	ephport_log_size = n;
	return 0;
}

static const struct kernel_param_ops ephport_log_size_ops = {
	.set = ephport_param_set_log_size,
	.get = param_get_uint,
};
module_param_cb(log_size, &ephport_log_size_ops, &ephport_log_size, 0444);
MODULE_PARM_DESC(log_size, "Allocations kept in each namespace's /proc/net/ephport/allocations (default 1024, 0 disables)");
