// SPDX-License-Identifier: GPL-2.0
/*
 * The out-of-line half of the unit tests' core_shim.h: siphash() with the
 * semantics of the kernel's (lib/siphash.c: SipHash-2-4 over the bytes,
 * read as little-endian 64-bit words, keyed by two u64), and the state of
 * the deterministic random source.  core_test.c checks siphash() against
 * the test vector published with SipHash.
 */
#include "core_shim.h"

u64 ephport_test_rng_state;

static inline u64 rol64(u64 word, unsigned int shift)
{
	return (word << shift) | (word >> (64 - shift));
}

static void sipround(u64 v[4])
{
	v[0] += v[1];
	v[1] = rol64(v[1], 13);
	v[1] ^= v[0];
	v[0] = rol64(v[0], 32);
	v[2] += v[3];
	v[3] = rol64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = rol64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = rol64(v[1], 17);
	v[1] ^= v[2];
	v[2] = rol64(v[2], 32);
}

static u64 get_le64(const u8 *p)
{
	u64 word = 0;
	int i;

	for (i = 7; i >= 0; i--)
		word = (word << 8) | p[i];
	return word;
}

u64 siphash(const void *data, size_t len, const siphash_key_t *key)
{
	const u8 *p = data;
	const u8 *end = p + len - (len % 8);
	u64 b = (u64)len << 56;
	u64 v[4], m;
	size_t i;

	v[0] = 0x736f6d6570736575ULL ^ key->key[0];
	v[1] = 0x646f72616e646f6dULL ^ key->key[1];
	v[2] = 0x6c7967656e657261ULL ^ key->key[0];
	v[3] = 0x7465646279746573ULL ^ key->key[1];

	for (; p != end; p += 8) {
		m = get_le64(p);
		v[3] ^= m;
		sipround(v);
		sipround(v);
		v[0] ^= m;
	}
	for (i = 0; i < len % 8; i++)
		b |= (u64)p[i] << (8 * i);

	v[3] ^= b;
	sipround(v);
	sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sipround(v);
	return (v[0] ^ v[1]) ^ (v[2] ^ v[3]);
}
