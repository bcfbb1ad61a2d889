// SPDX-License-Identifier: GPL-2.0
/*
 * Links over rtnetlink, without iproute2 (the VM has none): a veth pair
 * across two namespaces, and waiting for a link to go.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include "netlink.h"

/* An rtnetlink attribute at the end of @n (room for it was checked). */
static struct rtattr *nl_attr(struct nlmsghdr *n, size_t max, int type,
			      const void *data, int len)
{
	struct rtattr *rta = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	if (NLMSG_ALIGN(n->nlmsg_len) + RTA_SPACE(len) > max)
		return NULL;
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_SPACE(len);
	return rta;
}

static void nl_nest_end(struct nlmsghdr *n, struct rtattr *nest)
{
	nest->rta_len = (char *)n + n->nlmsg_len - (char *)nest;
}

/*
 * A veth pair, @name in the caller's namespace and @peer in the one of
 * @peer_ns (an fd): dismantling the caller's namespace deletes @peer,
 * which listeners of the peer's namespace hear (RTM_DELLINK).
 */
int ep_veth_pair(const char *name, const char *peer, int peer_ns)
{
	struct {
		struct nlmsghdr n;
		struct ifinfomsg i;
		char buf[256];
	} req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.n.nlmsg_type = RTM_NEWLINK,
		.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
	};
	struct {
		struct nlmsghdr n;
		struct nlmsgerr e;
	} ack;
	struct rtattr *info, *data, *p;
	struct ifinfomsg pi = {};
	/* The whole request, not its first member: attributes go past it. */
	struct nlmsghdr *n = (struct nlmsghdr *)&req;
	int fd, err = -1;

	nl_attr(n, sizeof(req), IFLA_IFNAME, name, strlen(name) + 1);
	info = nl_attr(n, sizeof(req), IFLA_LINKINFO, NULL, 0);
	nl_attr(n, sizeof(req), IFLA_INFO_KIND, "veth", 4);
	data = nl_attr(n, sizeof(req), IFLA_INFO_DATA, NULL, 0);
	p = nl_attr(n, sizeof(req), VETH_INFO_PEER, &pi, sizeof(pi));
	nl_attr(n, sizeof(req), IFLA_IFNAME, peer, strlen(peer) + 1);
	if (!nl_attr(n, sizeof(req), IFLA_NET_NS_FD, &peer_ns, sizeof(peer_ns)))
		return -1;
	nl_nest_end(n, p);
	nl_nest_end(n, data);
	nl_nest_end(n, info);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	if (send(fd, &req, req.n.nlmsg_len, 0) == (ssize_t)req.n.nlmsg_len &&
	    recv(fd, &ack, sizeof(ack), 0) >= (ssize_t)sizeof(ack) &&
	    ack.n.nlmsg_type == NLMSG_ERROR && !ack.e.error)
		err = 0;
	close(fd);
	return err;
}

/* Wait on @nl (RTMGRP_LINK) until the link @name is deleted. */
int ep_wait_dellink(int nl, const char *name)
{
	static char buf[16384];

	for (;;) {
		ssize_t len = recv(nl, buf, sizeof(buf), 0);
		struct nlmsghdr *n;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return -1;
		for (n = (struct nlmsghdr *)buf; NLMSG_OK(n, len); n = NLMSG_NEXT(n, len)) {
			struct rtattr *rta = IFLA_RTA(NLMSG_DATA(n));
			int alen = IFLA_PAYLOAD(n);

			if (n->nlmsg_type != RTM_DELLINK)
				continue;
			for (; RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen))
				if (rta->rta_type == IFLA_IFNAME &&
				    !strcmp(RTA_DATA(rta), name))
					return 0;
		}
	}
}
