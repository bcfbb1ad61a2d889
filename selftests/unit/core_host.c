// SPDX-License-Identifier: GPL-2.0
/*
 * What the host unit tests of the strategy core share; see core_host.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core_host.h"

const struct strategy_ops strategies[STRAT_KERNEL_BIND + 1] = {
	[STRAT_SEQUENTIAL] = { "sequential", ephport_sequential_begin,
			       ephport_sequential_commit },
	[STRAT_RANDOM_START] = { "random-start", ephport_random_start_begin, NULL },
	[STRAT_RANDOM_PICK] = { "random-pick", ephport_random_pick_begin, NULL },
	[STRAT_HASH] = { "hash", ephport_hash_begin, ephport_hash_commit },
	[STRAT_DOUBLE_HASH] = { "double-hash", ephport_double_hash_begin,
				ephport_double_hash_commit },
	[STRAT_RANDOM_INC] = { "random-inc", ephport_random_inc_begin,
			       ephport_random_inc_commit },
	[STRAT_KERNEL_BIND] = { "kernel", ephport_kernel_bind_begin, NULL },
};

void random_key(siphash_key_t *key)
{
	key->key[0] = ephport_test_random_u64();
	key->key[1] = ephport_test_random_u64();
}

void host_init(struct host *h, u32 low, u32 n, bool table)
{
	memset(h, 0, sizeof(*h));
	random_key(&h->secrets.f);
	random_key(&h->secrets.g);
	if (table)
		h->state.dh_table = calloc(EPHPORT_DH_TABLE_SIZE, sizeof(u16));
	h->req.low = low;
	h->req.n = n;
	h->req.state = &h->state;
	h->req.secrets = &h->secrets;
}

void host_fill_table(struct host *h)
{
	u32 i;

	for (i = 0; i < EPHPORT_DH_TABLE_SIZE; i++)
		h->state.dh_table[i] = (u16)ephport_random_u32();
}

void host_free(struct host *h)
{
	free(h->state.dh_table);
	h->state.dh_table = NULL;
}

struct ephport_flow tcp_flow(u32 raddr, u16 rport, u32 salt)
{
	struct ephport_flow flow;

	memset(&flow, 0, sizeof(flow));
	flow.laddr[0] = htonl(0xc0000202);
	flow.raddr[0] = htonl(raddr);
	flow.rport = htons(rport);
	flow.salt = salt;
	flow.family = AF_INET;
	flow.proto = IPPROTO_TCP;
	return flow;
}

struct ephport_flow random_flow(void)
{
	struct ephport_flow flow;
	u32 i;

	memset(&flow, 0, sizeof(flow));
	flow.family = ephport_below(2) ? AF_INET : AF_INET6;
	flow.proto = ephport_below(2) ? IPPROTO_TCP : IPPROTO_UDP;
	for (i = 0; i < (flow.family == AF_INET ? 1 : 4); i++) {
		flow.laddr[i] = ephport_random_u32();
		flow.raddr[i] = ephport_random_u32();
	}
	flow.rport = (u16)ephport_random_u32();
	flow.salt = ephport_random_u32();
	return flow;
}

u32 host_connect(struct host *h, int strat, const struct ephport_flow *flow)
{
	struct ephport_walk w;
	u32 off = 0;

	h->req.flow = *flow;
	strategies[strat].begin(&w, &h->req);
	if (!ephport_walk_next(&w, &off))
		abort();
	if (strategies[strat].commit)
		strategies[strat].commit(&h->req, off, 1);
	return off;
}

u32 dh_index(const struct host *h, const struct ephport_flow *flow)
{
	return (u32)siphash(flow, sizeof(*flow), &h->secrets.g) &
	       (EPHPORT_DH_TABLE_SIZE - 1);
}

u32 flow_f(const struct host *h, const struct ephport_flow *flow)
{
	return (u32)siphash(flow, sizeof(*flow), &h->secrets.f);
}

u32 first_candidate(int strat, const struct host *h)
{
	struct ephport_walk w;
	u32 off = 0xffffffff;

	strategies[strat].begin(&w, &h->req);
	ephport_walk_next(&w, &off);
	return off;
}
