/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the strategy core (core.c) needs from its environment: fixed-size
 * types, siphash, a random source, find_next_zero_bit() and test_bit(),
 * single-copy accesses to shared state, the double-hash table set up on
 * first use and EXPORT_SYMBOL_GPL() for what strategy modules call.
 * selftests/unit/core_shim.h provides the same for userspace.
 */
#ifndef _EPHPORT_CORE_SHIM_H
#define _EPHPORT_CORE_SHIM_H

#include <linux/bitmap.h>
#include <linux/compiler.h>
#include <linux/export.h>
#include <linux/random.h>
#include <linux/siphash.h>
#include <linux/types.h>

#define EPHPORT_READ(x)		READ_ONCE(x)
#define EPHPORT_WRITE(x, v)	WRITE_ONCE(x, v)

static inline u32 ephport_random_u32(void)
{
	return get_random_u32();
}

/*
 * The double-hash table of a namespace's state, allocated by the first
 * call (netns.c); NULL if there is no memory for it.
 */
struct ephport_state;
u16 *ephport_dh_table_get(struct ephport_state *state);
#define EPHPORT_DH_TABLE(state)	ephport_dh_table_get(state)

#endif /* _EPHPORT_CORE_SHIM_H */
