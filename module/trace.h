/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ephport

#if !defined(_EPHPORT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _EPHPORT_TRACE_H

#include <linux/tracepoint.h>

/*
 * One allocation: its path (enum ephport_path), address family, the local
 * port (0 on failure), the remote port (0 without a destination), the
 * candidate ports tried and the result (0 or a negative errno).
 */
TRACE_EVENT(ephport_alloc,
	TP_PROTO(int path, int family, u16 lport, u16 rport, u32 probes, int result),

	TP_ARGS(path, family, lport, rport, probes, result),

	TP_STRUCT__entry(
		__field(int, path)
		__field(int, family)
		__field(u16, lport)
		__field(u16, rport)
		__field(u32, probes)
		__field(int, result)
	),

	TP_fast_assign(
		__entry->path = path;
		__entry->family = family;
		__entry->lport = lport;
		__entry->rport = rport;
		__entry->probes = probes;
		__entry->result = result;
	),

	TP_printk("path=%s family=%s lport=%u rport=%u probes=%u result=%d",
		  __print_symbolic(__entry->path,
				   { 0, "tcp4-connect" }, { 1, "tcp6-connect" },
				   { 2, "tcp-bind" }, { 3, "udp4" }, { 4, "udp6" }),
		  __print_symbolic(__entry->family,
				   { 2, "AF_INET" }, { 10, "AF_INET6" }),
		  __entry->lport, __entry->rport, __entry->probes, __entry->result)
);

#endif /* _EPHPORT_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
