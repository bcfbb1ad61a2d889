/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _EP_NETLINK_H
#define _EP_NETLINK_H

/*
 * A veth pair, @name in the caller's namespace and @peer in the one of
 * @peer_ns (an fd).  0 or -1.
 */
int ep_veth_pair(const char *name, const char *peer, int peer_ns);

/* Wait on @nl (an RTMGRP_LINK listener) until the link @name is deleted. */
int ep_wait_dellink(int nl, const char *name);

#endif /* _EP_NETLINK_H */
