/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ephport

#if !defined(_EPHPORT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _EPHPORT_TRACE_H

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <net/net_namespace.h>

#include "ephport.h"
#include "stats.h"

/* The path names, from the list the enum is made of (ephport.h). */
#define EPHPORT_TP_ENUM(id, name, attr)		TRACE_DEFINE_ENUM(EPHPORT_##id);
#define EPHPORT_TP_SYMBOL(id, name, attr)	{ EPHPORT_##id, name },

EPHPORT_PATH_LIST(EPHPORT_TP_ENUM)
TRACE_DEFINE_ENUM(EPHPORT_PATHS);
TRACE_DEFINE_ENUM(IPPROTO_TCP);
TRACE_DEFINE_ENUM(IPPROTO_UDP);

#define ephport_show_path(p)						\
	__print_symbolic(p, EPHPORT_PATH_LIST(EPHPORT_TP_SYMBOL)	\
			 { EPHPORT_PATHS, "?" })
#define ephport_show_family(f)						\
	__print_symbolic(f, { AF_INET, "AF_INET" }, { AF_INET6, "AF_INET6" })
#define ephport_show_protocol(p)					\
	__print_symbolic(p, { IPPROTO_TCP, "IPPROTO_TCP" },		\
			 { IPPROTO_UDP, "IPPROTO_UDP" })

/*
 * One allocation, a success or a failure, in the namespace of the given
 * cookie (as SO_NETNS_COOKIE reports it): its path, the local address and
 * port (port 0 on failure), the remote ones (0 without a destination), as
 * IPv4 in laddr/raddr and as IPv6 (IPv4 mapped for AF_INET) in
 * laddr_v6/raddr_v6, the strategy, the rule ("-" for none), the candidate
 * ports tried and the result (0 or a negative errno).
 */
TRACE_EVENT(ephport_alloc,
	TP_PROTO(const struct ephport_log_entry *e, const struct net *net),

	TP_ARGS(e, net),

	TP_STRUCT__entry(
		__field(u64, netns_cookie)
		__field(u16, family)
		__field(u16, protocol)
		__field(int, path)
		__array(u8, laddr, 4)
		__array(u8, raddr, 4)
		__array(u8, laddr_v6, 16)
		__array(u8, raddr_v6, 16)
		__field(u16, lport)
		__field(u16, rport)
		__array(char, strategy, EPHPORT_STRATEGY_NAME_MAX)
		__array(char, rule, EPHPORT_RULE_NAME_MAX)
		__field(u32, probes)
		__field(int, result)
	),

	TP_fast_assign(
		__entry->netns_cookie = net->net_cookie;
		__entry->family = e->family;
		__entry->protocol = e->path <= EPHPORT_TCP_BIND ? IPPROTO_TCP :
								  IPPROTO_UDP;
		__entry->path = e->path;
		memset(__entry->laddr, 0, sizeof(__entry->laddr));
		memset(__entry->raddr, 0, sizeof(__entry->raddr));
		if (e->family == AF_INET) {
			memcpy(__entry->laddr, &e->laddr.s6_addr32[3], 4);
			memcpy(__entry->raddr, &e->raddr.s6_addr32[3], 4);
		}
		memcpy(__entry->laddr_v6, &e->laddr, 16);
		memcpy(__entry->raddr_v6, &e->raddr, 16);
		__entry->lport = e->lport;
		__entry->rport = e->rport;
		memcpy(__entry->strategy, e->strategy, sizeof(__entry->strategy));
		memcpy(__entry->rule, e->rule, sizeof(__entry->rule));
		__entry->probes = e->probes;
		__entry->result = e->result;
	),

	TP_printk("path=%s family=%s protocol=%s netns_cookie=%llu laddr=%pI4 lport=%u raddr=%pI4 rport=%u laddr_v6=%pI6c raddr_v6=%pI6c strategy=%s rule=%s probes=%u result=%d",
		  ephport_show_path(__entry->path),
		  ephport_show_family(__entry->family),
		  ephport_show_protocol(__entry->protocol),
		  __entry->netns_cookie, __entry->laddr,
		  __entry->lport, __entry->raddr, __entry->rport,
		  __entry->laddr_v6, __entry->raddr_v6, __entry->strategy,
		  __entry->rule, __entry->probes, __entry->result)
);

/*
 * The used share of a protocol's range in a namespace (cookie and inode)
 * crossed warn_pct: upward (above=1) or back below (above=0).
 */
TRACE_EVENT(ephport_occupancy,
	TP_PROTO(const struct net *net, int protocol, u32 used, u32 size,
		 u32 warn_pct, bool above),

	TP_ARGS(net, protocol, used, size, warn_pct, above),

	TP_STRUCT__entry(
		__field(u64, netns_cookie)
		__field(u32, netns_inode)
		__field(u16, protocol)
		__field(u32, used)
		__field(u32, size)
		__field(u32, warn_pct)
		__field(bool, above)
	),

	TP_fast_assign(
		__entry->netns_cookie = net->net_cookie;
		__entry->netns_inode = net->ns.inum;
		__entry->protocol = protocol;
		__entry->used = used;
		__entry->size = size;
		__entry->warn_pct = warn_pct;
		__entry->above = above;
	),

	TP_printk("netns_cookie=%llu netns_inode=%u protocol=%s used=%u size=%u warn_pct=%u above=%d",
		  __entry->netns_cookie, __entry->netns_inode,
		  ephport_show_protocol(__entry->protocol), __entry->used,
		  __entry->size, __entry->warn_pct, __entry->above)
);

#endif /* _EPHPORT_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
