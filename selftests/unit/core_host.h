/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the host unit tests of the strategy core share (core_host.c): the
 * strategies by number, a host (one network namespace with its secrets
 * and the request being served) and the flows it connects.
 *
 * module/core.h includes <core_shim.h>, found on the include path: the
 * Makefile puts this directory before module/, so core.c and the tests
 * get this directory's core_shim.h, not the module's.
 */
#ifndef _EPHPORT_CORE_HOST_H
#define _EPHPORT_CORE_HOST_H

#include "core.h"

/* Build with -DTEST_SEED=... to try another seed. */
#ifndef TEST_SEED
#define TEST_SEED	0x6570686f7274ULL	/* "ephort" */
#endif

enum {
	STRAT_SEQUENTIAL,
	STRAT_RANDOM_START,
	STRAT_RANDOM_PICK,
	STRAT_HASH,
	STRAT_DOUBLE_HASH,
	STRAT_RANDOM_INC,
	STRAT_KERNEL_BIND,
	/* The walk engine alone, without a strategy around it. */
	WALK_STRIDE_1,
	WALK_STRIDE_2,
	WALK_STUCK_PICKS,	/* a pick function that repeats itself */
	WALK_WILD_PICKS,	/* any u32 as a pick, then stride 2 */
};

struct strategy_ops {
	const char *name;
	void (*begin)(struct ephport_walk *w, const struct ephport_req *r);
	void (*commit)(const struct ephport_req *r, u32 off, u32 probes);
};

/* By STRAT_ number: the name as sysfs has it, begin() and commit(). */
extern const struct strategy_ops strategies[STRAT_KERNEL_BIND + 1];

void random_key(siphash_key_t *key);

/* One network namespace with its secrets and the request being served. */
struct host {
	struct ephport_secrets secrets;
	struct ephport_state state;
	struct ephport_req req;
};

/* A range of @n ports from @low; with a double-hash table if @table. */
void host_init(struct host *h, u32 low, u32 n, bool table);
void host_fill_table(struct host *h);
void host_free(struct host *h);

/* A TCP connection from 192.0.2.2 in namespace @salt to @raddr:@rport. */
struct ephport_flow tcp_flow(u32 raddr, u16 rport, u32 salt);
struct ephport_flow random_flow(void);

/*
 * connect() on a host where every port is free: the first candidate is
 * taken after one probe, and the strategy's commit() is told so, as the
 * module does.  Returns the offset in the range.
 */
u32 host_connect(struct host *h, int strat, const struct ephport_flow *flow);
/* The first candidate of a walk of strategy @strat for the host's request. */
u32 first_candidate(int strat, const struct host *h);

/* The table slot, as RFC 6056's G() picks it, computed here from siphash(). */
u32 dh_index(const struct host *h, const struct ephport_flow *flow);
/* RFC 6056's F(), computed here from siphash(). */
u32 flow_f(const struct host *h, const struct ephport_flow *flow);

#endif /* _EPHPORT_CORE_HOST_H */
