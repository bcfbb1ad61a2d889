// SPDX-License-Identifier: GPL-2.0
/*
 * The control files of /sys/kernel/ephport and the module parameters:
 * each file with its documented mode, strict parsing of every writable
 * file (a refused write returns EINVAL and changes no file; enabling,
 * which ftrace may refuse, EBUSY), the accepted
 * forms read back canonically, and a new range or strategy taking effect
 * on the next allocation.
 *
 * The module is loaded once with its default parameters, its settings and
 * counters reset before each test (surface_fixture.h); tests make their
 * allocations in a network namespace of their own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "surface_fixture.h"

/* Each file with its documented mode; the parameters and their descriptions. */
TEST_F(surface, files_and_modes)
{
	static const struct {
		const char *path;
		mode_t mode;
	} files[] = {
		{ EP_SYSFS "/enabled", 0644 },
		{ EP_SYSFS "/range", 0644 },
		{ EP_SYSFS "/strategy", 0644 },
		{ EP_SYSFS "/available_strategies", 0444 },
		{ EP_SYSFS "/warn_pct", 0644 },
		{ EP_SYSFS "/stats/allocations", 0444 },
		{ EP_SYSFS "/stats/failures", 0444 },
		{ EP_SYSFS "/stats/probes", 0444 },
		{ EP_SYSFS "/stats/tcp4_connect", 0444 },
		{ EP_SYSFS "/stats/tcp6_connect", 0444 },
		{ EP_SYSFS "/stats/tcp_bind", 0444 },
		{ EP_SYSFS "/stats/udp4", 0444 },
		{ EP_SYSFS "/stats/udp6", 0444 },
		{ EP_SYSFS "/stats/reset", 0200 },
		{ EP_PROCFS "/stats", 0444 },
		{ EP_PROCFS "/allocations", 0444 },
		{ PARAMS "/random_inc_n", 0644 },
		{ PARAMS "/log_size", 0444 },
	};
	static const char *const params[] = {
		"enabled", "range", "strategy", "random_inc_n", "log_size",
	};
	const char *ko = getenv("EPHPORT_KO") ?: "/ephport/ephport.ko";
	char path[256], buf[256], *modinfo;
	unsigned int i;
	struct stat st;
	ssize_t n;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		if (stat(files[i].path, &st)) {
			EXPECT_EQ(0, -errno) TH_LOG("%s", files[i].path);
			continue;
		}
		EXPECT_TRUE(S_ISREG(st.st_mode)) TH_LOG("%s", files[i].path);
		EXPECT_EQ(files[i].mode, st.st_mode & 07777)
			TH_LOG("%s is %04o", files[i].path, st.st_mode & 07777);
	}
	ASSERT_EQ(0, stat(EP_SYSFS "/stats", &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));

	/* Every parameter is there, readable, with a description in .modinfo. */
	modinfo = malloc(16 << 20);
	ASSERT_NE(NULL, modinfo);
	n = ep_read_all(ko, modinfo, 16 << 20);
	ASSERT_LT(0, n) TH_LOG("cannot read %s", ko);
	for (i = 0; i < ARRAY_SIZE(params); i++) {
		const char *p;
		size_t len;

		snprintf(path, sizeof(path), PARAMS "/%s", params[i]);
		EXPECT_EQ(0, read_str(path, buf, sizeof(buf))) TH_LOG("%s", path);
		EXPECT_LT(0, (int)strlen(buf)) TH_LOG("%s is empty", path);
		len = snprintf(buf, sizeof(buf), "parm=%s:", params[i]);
		p = memmem(modinfo, n, buf, len);
		EXPECT_NE(NULL, p) TH_LOG("no description of %s in %s", params[i], ko);
		if (p) {
			EXPECT_LT(8, (int)strnlen(p + len, modinfo + n - p - len))
				TH_LOG("description of %s too short", params[i]);
		}
	}
	free(modinfo);

	EXPECT_EQ(0, read_str(EP_SYSFS "/available_strategies", buf, sizeof(buf)));
	EXPECT_TRUE(ep_builtins_first(buf)) TH_LOG("available_strategies: %s", buf);
}

/* ---- strict parsing ---- */

struct value {
	const char *s;
	size_t len;
};

#define V(str)	{ str, sizeof(str) - 1 }

/* Refused by every writable file. */
static const struct value bad_values[] = {
	V("\n"), V(" "), V(" \n"), V("   "), V("\t"), V("\n\n"),
	V("garbage"), V("garbage\n"), V("\x01"), V("\xff\xfe"),
	V("1\0"), V("1\0\n"), V("\0"), V("\0001"), V("auto\0"), V("kernel\0"),
	V("40000 40010\0"),
	V("40000 40010x"), V("40000 40010x\n"), V("1 2 3"), V("40000 40010 40020"),
	V("99999999999 1"), V("65536 65537"), V("-1 2000"), V("50000 40000"),
	V("80 90"), V("1023 2000"), V("60000 70000"), V("0 0"), V("1024 65536"),
	V("40000"), V("40000-"), V("-40010"), V("40000--40010"), V("40000 - 40010"),
	V("40000,40010"), V("0x9c40 0x9c4a"), V(" 40000 40010"), V("40000 40010 "),
	V("40000 40010\n\n"), V("40000 40010\r"),
	V("AUTO"), V("auto "), V(" auto"), V("auto\n\n"), V("autox"),
	V("nope"), V("Kernel"), V("kernel "), V(" kernel"), V("kernel\n\n"),
	V("kernel\r"), V("sequential,hash"), V("random-start-and-then-some"),
	V("kernel sequential"),
	V("2"), V("yes"), V("no"), V("on"), V("true"), V("10"), V("01"), V("-1"),
	V("-0"), V("+1"), V("1 "), V(" 1"), V("1\r"), V("1\n\n"), V("0x1"), V("y"),
};

/* The bad values that are specific to one file's syntax. */
static const struct {
	const char *file;
	struct value v;
} bad_for[] = {
	{ "stats/reset", V("0") }, { "stats/reset", V("0\n") },
};

static const struct value bad_inc_n[] = {
	V("0"), V("0\n"), V("-1"), V("garbage"), V("\n"), V("1 2"), V("7x"),
	V("99999999999"),
};

static const char *const writable[] = {
	"enabled", "range", "strategy", "stats/reset",
};

static void write_refused(struct __test_metadata *_metadata, const char *file,
			  const char *s, size_t len, const struct state *st)
{
	char path[256];
	ssize_t n;

	if (file[0] == '/')
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), EP_SYSFS "/%s", file);
	n = ep_write_buf(path, s, len);
	EXPECT_EQ(-EINVAL, n) TH_LOG("%s <- \"%s\": %s", file, ep_show(s, len),
				     n < 0 ? strerror(-n) : "accepted");
	EXPECT_EQ(0, state_diff(st, file));
}

TEST_F(surface, bad_writes)
{
	const size_t big = 8192;
	unsigned int f, i;
	char path[256];
	struct state st;
	char *buf;

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, make_state());
	buf = malloc(big);
	ASSERT_NE(NULL, buf);
	/* Both states of enabled, so that neither "0" nor "1" can slip in. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ep_write(EP_SYSFS "/enabled", i ? "1" : "0"));
		state_read(&st);
		for (f = 0; f < ARRAY_SIZE(writable); f++) {
			unsigned int v;

			for (v = 0; v < ARRAY_SIZE(bad_values); v++)
				write_refused(_metadata, writable[f], bad_values[v].s,
					      bad_values[v].len, &st);
			/* 8 KiB: sysfs passes on the first page; still refused. */
			memset(buf, 'x', big);
			write_refused(_metadata, writable[f], buf, big, &st);
			memset(buf, '1', big);
			write_refused(_metadata, writable[f], buf, big, &st);
			memset(buf, ' ', big);
			memcpy(buf, "40000 40010", 11);
			write_refused(_metadata, writable[f], buf, big, &st);
			memset(buf, '\n', big);
			memcpy(buf, "auto", 4);
			write_refused(_metadata, writable[f], buf, big, &st);
			/* 65 bytes of a plausible value. */
			memset(buf, '1', 65);
			write_refused(_metadata, writable[f], buf, 65, &st);
			/* An empty write never reaches the module: nothing changes. */
			snprintf(path, sizeof(path), EP_SYSFS "/%s", writable[f]);
			EXPECT_LE(0, ep_write_buf(path, "", 0));
			EXPECT_EQ(0, state_diff(&st, "empty write"));
		}
		for (f = 0; f < ARRAY_SIZE(bad_for); f++)
			write_refused(_metadata, bad_for[f].file, bad_for[f].v.s,
				      bad_for[f].v.len, &st);
		/* The one writable parameter: increments are 1..N. */
		for (f = 0; f < ARRAY_SIZE(bad_inc_n); f++)
			write_refused(_metadata, PARAMS "/random_inc_n",
				      bad_inc_n[f].s, bad_inc_n[f].len, &st);
		state_free(&st);
	}
	free(buf);
}

/* A range below the namespace's net.ipv4.ip_unprivileged_port_start. */
TEST_F(surface, range_below_unprivileged_floor)
{
	static const char *const below[] = {
		"1500 2499", "1999 2000", "1024 65535", "1024-1999", "1999-1999",
	};
	char buf[64];
	struct state st;
	unsigned int i;

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, make_state());
	ASSERT_EQ(0, ep_sysctl("ip_local_port_range", "2000 60999"));
	ASSERT_EQ(0, ep_sysctl("ip_unprivileged_port_start", "2000"));
	state_read(&st);
	for (i = 0; i < ARRAY_SIZE(below); i++)
		write_refused(_metadata, "range", below[i], strlen(below[i]), &st);
	state_free(&st);
	/* At the floor is fine. */
	EXPECT_EQ(0, set_range("2000 2499"));
	EXPECT_EQ(0, read_str(EP_SYSFS "/range", buf, sizeof(buf)));
	EXPECT_STREQ("2000 2499", buf);
}

/* The accepted forms, read back in the canonical form. */
TEST_F(surface, good_writes)
{
	static const struct {
		const char *file;
		struct value v;
		const char *reads;
	} good[] = {
		{ "range", V("40000 40010"), "40000 40010" },
		{ "range", V("auto"), "auto" },
		{ "range", V("40001 40011\n"), "40001 40011" },
		{ "range", V("auto\n"), "auto" },
		{ "range", V("40002-40012"), "40002 40012" },
		{ "range", V("40003-40013\n"), "40003 40013" },
		{ "range", V("40004  40014"), "40004 40014" },
		{ "range", V("40005    40015\n"), "40005 40015" },
		{ "range", V("1024 65535"), "1024 65535" },
		{ "range", V("65535 65535"), "65535 65535" },
		{ "range", V("1024-1024"), "1024 1024" },
		{ "enabled", V("0"), "0" },
		{ "enabled", V("1"), "1" },
		{ "enabled", V("0\n"), "0" },
		{ "enabled", V("1\n"), "1" },
		{ "strategy", V("sequential"), "sequential" },
		{ "strategy", V("hash\n"), "hash" },
		{ PARAMS "/random_inc_n", V("7"), "7" },
		{ PARAMS "/random_inc_n", V("9\n"), "9" },
	};
	char path[256], buf[256];
	unsigned int i;
	ssize_t n;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		if (good[i].file[0] == '/')
			snprintf(path, sizeof(path), "%s", good[i].file);
		else
			snprintf(path, sizeof(path), EP_SYSFS "/%s", good[i].file);
		n = ep_write_buf(path, good[i].v.s, good[i].v.len);
		EXPECT_EQ((ssize_t)good[i].v.len, n)
			TH_LOG("%s <- \"%s\": %s", good[i].file,
			       ep_show(good[i].v.s, good[i].v.len),
			       n < 0 ? strerror(-n) : "short write");
		EXPECT_EQ(0, read_str(path, buf, sizeof(buf)));
		EXPECT_STREQ(good[i].reads, buf)
			TH_LOG("after \"%s\"", ep_show(good[i].v.s, good[i].v.len));
	}
	EXPECT_EQ(1, ep_write_buf(EP_SYSFS "/stats/reset", "1", 1));
	EXPECT_EQ(2, ep_write_buf(EP_SYSFS "/stats/reset", "1\n", 2));
}

/* A new range applies to the very next allocation on every path. */
TEST_F(surface, range_change_takes_effect)
{
	static const struct {
		const char *write;
		int low, high;
	} ranges[] = {
		{ "41000 41010", 41000, 41010 },
		{ "42000-42010\n", 42000, 42010 },
		{ "auto", 43000, 43010 },	/* the namespace's sysctl */
		{ "44000 44000", 44000, 44000 },
	};
	static const char *const strategy[] = { "kernel", "random-pick" };
	const struct path_family *seq = every_path;
	int r, i, k, fd, port;

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, listeners(self->listener));
	ASSERT_EQ(0, ep_sysctl("ip_local_port_range", "43000 43010"));
	for (k = 0; k < 2; k++) {
		ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", strategy[k]));
		for (r = 0; r < 4; r++) {
			ASSERT_EQ(0, set_range(ranges[r].write));
			for (i = 0; i < 6; i++) {
				fd = alloc_on(seq[i].path, seq[i].family, &port);
				ASSERT_LE(0, fd) TH_LOG("%s: %s", path_names[seq[i].path],
							strerror(-fd));
				EXPECT_LE(ranges[r].low, port)
					TH_LOG("%s %s after \"%s\": %d", strategy[k],
					       path_names[seq[i].path], ranges[r].write, port);
				EXPECT_GE(ranges[r].high, port)
					TH_LOG("%s %s after \"%s\": %d", strategy[k],
					       path_names[seq[i].path], ranges[r].write, port);
				ep_close_rst(fd);
			}
		}
	}
}

/*
 * Enabling redirects the kernel's functions again, which ftrace may refuse:
 * here ftrace is turned off, which it allows only while the module is
 * disabled.  EBUSY, and the module stays disabled.
 */
TEST_F(surface, enable_refused_by_ftrace)
{
	static const char ftrace[] = "/proc/sys/kernel/ftrace_enabled";
	char buf[16];

	if (access(ftrace, W_OK))
		SKIP(return, "no %s", ftrace);
	/* While the module redirects, ftrace cannot be turned off. */
	EXPECT_EQ(-EBUSY, ep_write(ftrace, "0"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/enabled", "0"));
	ASSERT_EQ(0, ep_write(ftrace, "0"));
	EXPECT_EQ(-EBUSY, ep_write(EP_SYSFS "/enabled", "1"));
	EXPECT_EQ(0, ep_read(EP_SYSFS "/enabled", buf, sizeof(buf)));
	/* ftrace back on before anything can stop the test. */
	ASSERT_EQ(0, ep_write(ftrace, "1"));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, ep_write(EP_SYSFS "/enabled", "1"));
	ASSERT_EQ(0, ep_read(EP_SYSFS "/enabled", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
}

/* Each strategy offered, at run time: read back, and named in the log. */
TEST_F(surface, strategies_at_runtime)
{
	static struct ep_log l;
	int n = 0, fd, port;
	const char *name;
	char buf[256];

	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, set_range("40000 40999"));
	ASSERT_EQ(0, read_str(EP_SYSFS "/available_strategies", buf, sizeof(buf)));
	EXPECT_TRUE(ep_builtins_first(buf)) TH_LOG("available_strategies: %s", buf);
	ASSERT_LT(0, ep_read_strategies());
	while (n < ep_nr_strategies) {
		name = ep_strategies[n];
		ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", name));
		EXPECT_EQ(0, read_str(EP_SYSFS "/strategy", buf, sizeof(buf)));
		EXPECT_STREQ(name, buf);
		fd = alloc_on(UDP4, AF_INET, &port);
		ASSERT_LE(0, fd);
		close(fd);
		ASSERT_EQ(++n, ep_read_log(&l));
		EXPECT_STREQ(name, l.e[n - 1].strategy);
	}
}
