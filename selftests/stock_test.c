// SPDX-License-Identifier: GPL-2.0
/*
 * The "kernel" strategy changes nothing observable: in one boot, the same
 * scenarios run without the module, with the module loaded without
 * parameters, and with the "kernel" strategy over a fixed range equal to
 * the sysctl one; what they observe is compared.
 *
 * Observed: the parity of the ports connect() and bind(0) pick (the stock
 * allocator gives connect() even offsets from the range start and bind()
 * odd ones), SO_REUSEADDR's preference for the lower half, how many
 * allocations a small range allows per path and the errno after that,
 * 4-tuple sharing, bound ports skipped by connect(), and autobind reuse.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ephport.h"

#define LOW	40000
#define SIZE	64
#define DPORT	5000

struct behaviour {
	int connect_even;		/* of 8 connect()s */
	int bind_odd;			/* of 8 bind(0)s */
	int reuse_lower;		/* of 8 SO_REUSEADDR bind(0)s */
	int count[EP_KINDS];		/* allocations a 16-port range allows */
	int err[EP_KINDS];		/* and the errno after them */
	int sharing;			/* bit per outcome, see observe_sharing() */
};

static void close_all(int *fds, int n)
{
	while (n-- > 0)
		ep_close_rst(fds[n]);
}

static int observe_parity(int family, enum ep_kind kind, bool reuse, int *lower)
{
	int fds[8], i, port, n = 0;

	*lower = 0;
	for (i = 0; i < 8; i++) {
		if (reuse) {
			fds[i] = ep_socket(family, SOCK_STREAM);
			ep_set_int(fds[i], SOL_SOCKET, SO_REUSEADDR, 1);
			if (ep_bind_port(fds[i], family, 0))
				return -1;
			port = ep_local_port(fds[i]);
		} else {
			fds[i] = ep_alloc(family, kind, DPORT, &port);
			if (fds[i] < 0)
				return -1;
		}
		n += (port - LOW) % 2 == (kind == EP_TCP_CONNECT ? 0 : 1);
		*lower += port < LOW + SIZE / 2;
	}
	close_all(fds, 8);
	return n;
}

static void observe_exhaustion(int family, struct behaviour *b)
{
	int k, i, fds[17], port;

	ep_sysctl("ip_local_port_range", "40000 40015");
	for (k = 0; k < EP_KINDS; k++) {
		for (i = 0; i < 17; i++) {
			fds[i] = ep_alloc(family, k, DPORT, &port);
			if (fds[i] < 0)
				break;
		}
		b->count[k] = i;
		b->err[k] = i < 17 ? -fds[i] : 0;
		close_all(fds, i);
	}
	ep_sysctl("ip_local_port_range", "40000 40063");
}

/* Bits: two destinations share one port, a bound port is skipped, reuse. */
static int observe_sharing(int family)
{
	int l2, a, b, c, bound, pa, pb, pc, bits = 0;

	ep_sysctl("ip_local_port_range", "40000 40001");
	l2 = ep_listener(family, DPORT + 1);
	bound = ep_socket(family, SOCK_STREAM);
	ep_bind_port(bound, family, LOW);
	a = ep_alloc(family, EP_TCP_CONNECT, DPORT, &pa);
	b = ep_alloc(family, EP_TCP_CONNECT, DPORT + 1, &pb);
	c = ep_alloc(family, EP_TCP_CONNECT, DPORT, &pc);
	bits |= (a >= 0 && b >= 0 && pa == pb) << 0;
	bits |= (a >= 0 && pa == LOW + 1) << 1;
	bits |= (c == -EADDRNOTAVAIL) << 2;
	if (c >= 0)
		close(c);
	ep_close_rst(a);
	ep_close_rst(b);
	close(bound);
	close(l2);

	ep_sysctl("ip_local_port_range", "40000 40001");
	for (int reuse = 0; reuse < 2; reuse++) {
		int s[3], ok = 0, i;

		ep_sysctl("ip_autobind_reuse", reuse ? "1" : "0");
		for (i = 0; i < 3; i++) {
			s[i] = ep_socket(family, SOCK_STREAM);
			ep_set_int(s[i], SOL_SOCKET, SO_REUSEADDR, 1);
			ok += !ep_bind_port(s[i], family, 0);
		}
		bits |= ok << (3 + 2 * reuse);
		for (i = 0; i < 3; i++)
			close(s[i]);
	}
	ep_sysctl("ip_autobind_reuse", "0");
	ep_sysctl("ip_local_port_range", "40000 40063");
	return bits;
}

/* Observe in a network namespace of its own, in a child process. */
static int observe(int family, struct behaviour *b)
{
	int p[2], l, lower;
	pid_t pid;

	if (pipe(p))
		return -errno;
	pid = fork();
	if (pid == 0) {
		memset(b, 0, sizeof(*b));
		if (ep_new_netns() || ep_sysctl("ip_local_port_range", "40000 40063"))
			_exit(1);
		l = ep_listener(family, DPORT);
		b->connect_even = observe_parity(family, EP_TCP_CONNECT, false, &lower);
		b->bind_odd = observe_parity(family, EP_TCP_BIND, false, &lower);
		observe_parity(family, EP_TCP_BIND, true, &b->reuse_lower);
		observe_exhaustion(family, b);
		b->sharing = observe_sharing(family);
		close(l);
		_exit(write(p[1], b, sizeof(*b)) != sizeof(*b));
	}
	close(p[1]);
	l = read(p[0], b, sizeof(*b));
	close(p[0]);
	waitpid(pid, NULL, 0);
	return l == sizeof(*b) ? 0 : -EIO;
}

static void compare(struct __test_metadata *_metadata, const char *what,
		    const struct behaviour *stock, const struct behaviour *b,
		    bool halves)
{
	int k;

	EXPECT_EQ(stock->connect_even, b->connect_even) TH_LOG("%s", what);
	EXPECT_EQ(stock->bind_odd, b->bind_odd) TH_LOG("%s", what);
	if (halves)
		EXPECT_EQ(stock->reuse_lower, b->reuse_lower) TH_LOG("%s", what);
	for (k = 0; k < EP_KINDS; k++) {
		EXPECT_EQ(stock->count[k], b->count[k]) TH_LOG("%s %s", what, ep_kind_names[k]);
		EXPECT_EQ(stock->err[k], b->err[k]) TH_LOG("%s %s", what, ep_kind_names[k]);
	}
	EXPECT_EQ(stock->sharing, b->sharing) TH_LOG("%s", what);
}

FIXTURE(stock) {
};

FIXTURE_VARIANT(stock) {
	int family;
};

FIXTURE_VARIANT_ADD(stock, ip4) { .family = AF_INET };
FIXTURE_VARIANT_ADD(stock, ip6) { .family = AF_INET6 };

FIXTURE_SETUP(stock)
{
}

FIXTURE_TEARDOWN(stock)
{
	ep_unload();
}

TEST_F_TIMEOUT(stock, kernel_strategy_is_stock, 900)
{
	struct behaviour stock, loaded, fixed;

	ep_unload();
	ASSERT_EQ(0, observe(variant->family, &stock));
	/* The stock allocator itself, as this test understands it. */
	EXPECT_EQ(8, stock.connect_even);
	EXPECT_EQ(8, stock.bind_odd);
	EXPECT_EQ(8, stock.reuse_lower);

	ASSERT_EQ(0, ep_load(""));
	ASSERT_EQ(0, observe(variant->family, &loaded));
	compare(_metadata, "loaded without parameters", &stock, &loaded, true);

	/*
	 * A fixed range equal to the sysctl's: only the order is compared,
	 * since the other scenarios narrow the sysctl range, which a fixed
	 * range overrides.  bind(0) follows the stock order itself there,
	 * SO_REUSEADDR's lower half first included.
	 */
	ASSERT_EQ(0, ep_load("strategy=kernel range=40000-40063"));
	ASSERT_EQ(0, observe(variant->family, &fixed));
	EXPECT_EQ(stock.connect_even, fixed.connect_even);
	EXPECT_EQ(stock.bind_odd, fixed.bind_odd);
	EXPECT_EQ(stock.reuse_lower, fixed.reuse_lower);
}

/*
 * How many bind(0)s, with SO_REUSEADDR or without, a range of @n ports
 * (40000 on; the sysctl's when @sysctl) allows, in a network namespace of
 * its own.
 */
static int count_binds(int family, int n, bool reuse, bool sysctl)
{
	char range[32];
	int fds[16], i, count = -1;
	pid_t pid;
	int status;

	pid = fork();
	if (pid == 0) {
		snprintf(range, sizeof(range), "40000 %d", 40000 + n - 1);
		if (ep_new_netns() || (sysctl && ep_sysctl("ip_local_port_range", range)))
			_exit(255);
		for (i = 0; i < 16; i++) {
			fds[i] = ep_socket(family, SOCK_STREAM);
			if (reuse)
				ep_set_int(fds[i], SOL_SOCKET, SO_REUSEADDR, 1);
			if (ep_bind_port(fds[i], family, 0))
				break;
		}
		_exit(i);
	}
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		count = WEXITSTATUS(status);
	return count;
}

/*
 * The stock bind(0) leaves one port of a range of odd size out of each
 * search (it walks n rounded down to even); which one depends on the random
 * start, except in a 3-port range (always the last), and in the upper half
 * of a 5-port range with SO_REUSEADDR (the halves are searched one by one).
 * The "kernel" strategy over a fixed range of that size does the same.
 */
TEST_F(stock, kernel_strategy_odd_range)
{
	static const struct {
		int size;
		bool reuse;
	} cases[] = { { 3, false }, { 3, true }, { 5, true } };
	char params[64];
	int i, stock, fixed;

	for (i = 0; i < (int)ARRAY_SIZE(cases); i++) {
		ep_unload();
		stock = count_binds(variant->family, cases[i].size, cases[i].reuse, true);
		snprintf(params, sizeof(params), "strategy=kernel range=40000-%d",
			 40000 + cases[i].size - 1);
		ASSERT_EQ(0, ep_load(params));
		fixed = count_binds(variant->family, cases[i].size, cases[i].reuse, false);
		EXPECT_LT(0, stock);
		EXPECT_EQ(stock, fixed)
			TH_LOG("%d ports, SO_REUSEADDR %d", cases[i].size, cases[i].reuse);
	}
}

TEST_HARNESS_MAIN
