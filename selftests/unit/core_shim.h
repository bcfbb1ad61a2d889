/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-in for module/core_shim.h in the host unit tests (as
 * tools/testing/radix-tree stands in for the kernel headers of
 * lib/radix-tree.c): fixed-size types, siphash() (siphash.c), plain
 * accesses for EPHPORT_READ/WRITE and a deterministic, seedable random
 * source in place of get_random_u32(), so that every run draws the same
 * numbers and a statistical test gives the same verdict each time.
 *
 * module/core.h includes <core_shim.h>, which the include path finds:
 * the module's Kbuild puts module/ on it, this directory's Makefile puts
 * this directory before module/, so core.c and the tests built here get
 * this file.  It keeps the include guard of module/core_shim.h, so only
 * one of the two is ever in.
 */
#ifndef _EPHPORT_CORE_SHIM_H
#define _EPHPORT_CORE_SHIM_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

#include <sys/cdefs.h>

#ifndef __aligned
#define __aligned(x)		__attribute__((aligned(x)))
#endif

#define BIT(n)			(1UL << (n))

/* What <ephport/strategy.h> needs of the kernel's types, and no exports. */
struct list_head {
	struct list_head *next, *prev;
};

#define EXPORT_SYMBOL_GPL(sym)

typedef struct { u64 key[2]; } siphash_key_t;

/* SipHash-2-4, as the kernel's: the key words are k0 and k1 as numbers. */
u64 siphash(const void *data, size_t len, const siphash_key_t *key);

#define EPHPORT_READ(x)		(x)
#define EPHPORT_WRITE(x, v)	((x) = (v))

/* The tests set up the double-hash table themselves, or test without. */
#define EPHPORT_DH_TABLE(state)	((state)->dh_table)

/*
 * splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): passes BigCrush, and any seed is a good one.
 * The state lives in siphash.c so that core.c and the tests share it.
 */
extern u64 ephport_test_rng_state;

static inline void ephport_test_seed(u64 seed)
{
	ephport_test_rng_state = seed;
}

static inline u64 ephport_test_random_u64(void)
{
	u64 z = (ephport_test_rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline u32 ephport_random_u32(void)
{
	return (u32)(ephport_test_random_u64() >> 32);
}

#define EPHPORT_BITS_PER_LONG	(8 * sizeof(unsigned long))

/* The kernel's find_next_zero_bit(): the first clear bit in [offset, size). */
static inline unsigned long find_next_zero_bit(const unsigned long *addr,
					       unsigned long size,
					       unsigned long offset)
{
	while (offset < size) {
		unsigned long word = ~addr[offset / EPHPORT_BITS_PER_LONG] >>
				     (offset % EPHPORT_BITS_PER_LONG);

		if (word) {
			offset += __builtin_ctzl(word);
			return offset < size ? offset : size;
		}
		offset += EPHPORT_BITS_PER_LONG - offset % EPHPORT_BITS_PER_LONG;
	}
	return size;
}

/* The kernel's test_bit(). */
static inline bool test_bit(unsigned long nr, const unsigned long *addr)
{
	return addr[nr / EPHPORT_BITS_PER_LONG] >> (nr % EPHPORT_BITS_PER_LONG) & 1;
}

#endif /* _EPHPORT_CORE_SHIM_H */
