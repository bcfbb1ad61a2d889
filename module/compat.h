/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels ephport builds for, decided by what the
 * kernel headers declare (probed in Kbuild), not by version numbers.
 */
#ifndef _EPHPORT_COMPAT_H
#define _EPHPORT_COMPAT_H

#include <linux/ftrace.h>
#include <net/inet_hashtables.h>
#include <net/inet_sock.h>
#include <net/udp.h>

/* 6.2 renamed ftrace_instruction_pointer_set(). */
#ifdef EPHPORT_HAVE_FTRACE_REGS_SET_IP
#define ephport_ftrace_set_ip(fregs, ip) ftrace_regs_set_instruction_pointer(fregs, ip)
#else
#define ephport_ftrace_set_ip(fregs, ip) ftrace_instruction_pointer_set(fregs, ip)
#endif

/*
 * inet_sk_get_local_port_range() returns whether a per-socket range
 * (IP_LOCAL_PORT_RANGE) applies since 6.5; the 6.1 backport returns void.
 */
#ifdef EPHPORT_HAVE_RANGE_BOOL
#define ephport_range_ret bool
/* What the getter returns: return EPHPORT_RANGE_RET(local); */
#define EPHPORT_RANGE_RET(local)	(local)
/* What calling it tells: whether a per-socket range applies (false: void). */
#define ephport_range_call(call)	(call)
#else
#define ephport_range_ret void
#define EPHPORT_RANGE_RET(local)	((void)(local))
#define ephport_range_call(call)	({ call; false; })
#endif

/* The per-socket range: a u32 (high << 16 | low) since 6.5, a pair before. */
static inline void ephport_sk_port_range(const struct sock *sk, int *lo, int *hi)
{
#ifdef EPHPORT_HAVE_RANGE_U32
	u32 range = READ_ONCE(inet_sk(sk)->local_port_range);

	*lo = range & 0xffff;
	*hi = range >> 16;
#else
	*lo = READ_ONCE(inet_sk(sk)->local_port_range.lo);
	*hi = READ_ONCE(inet_sk(sk)->local_port_range.hi);
#endif
}

/* The TCP bind hash of @sk: DCCP had its own until 6.16 removed DCCP. */
#ifdef EPHPORT_HAVE_TCP_OR_DCCP_HASHINFO
#define ephport_bind_hashinfo(sk) tcp_or_dccp_get_hashinfo(sk)
#else
#define ephport_bind_hashinfo(sk) tcp_get_hashinfo(sk)
#endif

/* A socket's owner as the bind conflict rules compare it (6.16: sk_uid()). */
#ifdef EPHPORT_HAVE_SK_UID
#define ephport_sk_owner_uid(sk) sk_uid(sk)
#else
#define ephport_sk_owner_uid(sk) sock_i_uid(sk)
#endif

/*
 * The lists of the sockets bound to bind bucket @tb's port, TIME_WAIT ones
 * included, one per call (*@pos NULL for the first), then NULL: the owners
 * lists of its bhash2 buckets since 6.8, its own owners list before.
 */
static inline struct hlist_head *ephport_tb_owners(struct inet_bind_bucket *tb,
						   struct hlist_node **pos)
{
#ifdef EPHPORT_HAVE_TB_BHASH2
	*pos = *pos ? (*pos)->next : tb->bhash2.first;
	if (!*pos)
		return NULL;
	return &hlist_entry(*pos, struct inet_bind2_bucket, bhash_node)->owners;
#else
	if (*pos)
		return NULL;
	*pos = &tb->node;
	return &tb->owners;
#endif
}

/* The namespace's UDP table: per namespace since 6.2, one global before. */
static inline struct udp_table *ephport_udp_table(struct net *net)
{
#ifdef EPHPORT_HAVE_NETNS_UDP_TABLE
	return net->ipv4.udp_table;
#else
	return &udp_table;
#endif
}

/*
 * The UDP table @sk's port is in: UDP-Lite's own (struct proto's
 * h.udp_table) until 7.x removed UDP-Lite, else the namespace's.
 */
static inline struct udp_table *ephport_sk_udp_table(const struct sock *sk)
{
#ifdef EPHPORT_HAVE_PROTO_UDP_TABLE
	if (sk->sk_prot->h.udp_table)
		return sk->sk_prot->h.udp_table;
#endif
	return ephport_udp_table(sock_net(sk));
}

#endif /* _EPHPORT_COMPAT_H */
