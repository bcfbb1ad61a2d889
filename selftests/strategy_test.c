// SPDX-License-Identifier: GPL-2.0
/*
 * The strategy API, through the sample strategy module
 * (samples/ephport_sample.c, strategy "first-fit": the lowest free port of
 * the range first):
 *
 *  - loaded, the strategy is listed after the built-in ones; selected
 *    globally, every path and family takes the lowest free port, and the
 *    strategy's commit() runs once per port taken; neither module can be
 *    unloaded meanwhile; unselected, the sample unloads, and its name is
 *    refused from then on;
 *  - selected by a rule, it applies to the rule's sockets, and the sample
 *    cannot be unloaded until the rule lets it go;
 *  - a module whose init fails after registering (the sample with
 *    fail_init_ms) while both the global strategy and a rule use it:
 *    the global strategy becomes "kernel", the rule falls back to the
 *    global strategy (its strategy reads back empty, the rest of it
 *    stays), the kernel log says so in one line, and the module is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ephport.h"

#define SAMPLE		"ephport_sample"
#define STRATEGY	"first-fit"
#define COMMITTED	"/sys/module/" SAMPLE "/parameters/committed"
#define RULES		"/sys/kernel/config/ephport/rules"
#define RULE_DIR	RULES "/ff"
#define DPORT		5000

static const char *sample_ko(void)
{
	const char *ko = getenv("EPHPORT_SAMPLE_KO");

	return ko ? ko : "/ephport/" SAMPLE ".ko";
}

/* Load the sample with @params: 0 or -errno (what its init returned). */
static int sample_load(const char *params)
{
	int fd = open(sample_ko(), O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (syscall(__NR_finit_module, fd, params, 0))
		err = -errno;
	close(fd);
	return err;
}

/* rmmod as kmod's does it (O_NONBLOCK): 0 or -errno. */
static int unload(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static bool sample_loaded(void)
{
	return access("/sys/module/" SAMPLE, F_OK) == 0;
}

/*
 * Whether available_strategies lists the sample's strategy; and whether
 * as the last word (after the built-in ones), in *@last.
 */
static bool available_last(bool *last)
{
	char buf[256], *word, *save;
	bool found = false;

	if (ep_read(EP_SYSFS "/available_strategies", buf, sizeof(buf)))
		return false;
	for (word = strtok_r(buf, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		*last = !strcmp(word, STRATEGY);
		found |= *last;
	}
	return found;
}

static bool available(void)
{
	bool last;

	return available_last(&last);
}

static bool reads(const char *path, const char *want)
{
	char buf[256];

	if (ep_read(path, buf, sizeof(buf)))
		return false;
	if (strcmp(buf, want))
		fprintf(stderr, "# %s: \"%s\", not \"%s\"\n", path, buf, want);
	return !strcmp(buf, want);
}

/*
 * first-fit over a range starting at @low that nothing holds a port of:
 * two sockets of @kind get low and low + 1, and once the first is closed,
 * a third gets low again.  Returns the ports taken (3), or -1 after saying
 * what went wrong.
 */
static int first_fit(int family, enum ep_kind kind, int low)
{
	int fd[3], port[3];
	int i;

	for (i = 0; i < 3; i++) {
		if (i == 2 && fd[0] >= 0)
			ep_close_rst(fd[0]);
		fd[i] = ep_alloc(family, kind, DPORT, &port[i]);
		if (fd[i] < 0)
			port[i] = fd[i];
	}
	for (i = 1; i < 3; i++)
		if (fd[i] >= 0)
			ep_close_rst(fd[i]);
	if (port[0] == low && port[1] == low + 1 && port[2] == low)
		return 3;
	fprintf(stderr, "# %s IPv%d: ports %d %d %d, not %d %d %d\n",
		ep_kind_names[kind], family == AF_INET ? 4 : 6,
		port[0], port[1], port[2], low, low + 1, low);
	return -1;
}

static int rule_set(const char *attr, const char *value)
{
	char path[256];

	snprintf(path, sizeof(path), RULE_DIR "/%s", attr);
	return ep_write(path, value);
}

/* Rule "ff": this network namespace's sockets, the range @range, first-fit. */
static int rule_add(const char *range)
{
	char ino[32];
	struct stat st;
	int err;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	snprintf(ino, sizeof(ino), "%lu", (unsigned long)st.st_ino);
	if (mkdir(RULE_DIR, 0755))
		return -errno;
	err = rule_set("netns", ino);
	err = err ?: rule_set("range", range);
	err = err ?: rule_set("strategy", STRATEGY);
	return err ?: rule_set("enabled", "1");
}

/* Whether /dev/kmsg, read from @fd on, has a record holding @what. */
static bool kmsg_has(int fd, const char *what)
{
	char rec[1024];
	ssize_t n;

	/* One record per read(); EAGAIN at the end. */
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		rec[n > 0 ? n : 0] = '\0';
		if (strstr(rec, what))
			return true;
	}
	return false;
}

FIXTURE(api) {
	int listener[2];
	pid_t loader;
};

FIXTURE_SETUP(api)
{
	self->loader = 0;
	if (access(sample_ko(), R_OK))
		SKIP(return, "no %s (EPHPORT_SAMPLE_KO): vm.sh builds it", sample_ko());
	ASSERT_EQ(0, ep_load(""));
	ASSERT_EQ(0, ep_new_netns());
	self->listener[0] = ep_listener(AF_INET, DPORT);
	self->listener[1] = ep_listener(AF_INET6, DPORT);
	ASSERT_LE(0, self->listener[0]);
	ASSERT_LE(0, self->listener[1]);
}

FIXTURE_TEARDOWN(api)
{
	if (self->loader > 0) {
		kill(self->loader, SIGKILL);
		waitpid(self->loader, NULL, 0);
	}
	ep_write(EP_SYSFS "/strategy", "kernel");
	rmdir(RULE_DIR);
	if (sample_loaded() && unload(SAMPLE))
		fprintf(stderr, "# rmmod " SAMPLE ": %s\n", strerror(errno));
	ep_unload();
}

/* Selected globally: every path and family follows it, then it unloads. */
TEST_F(api, global)
{
	static const int families[] = { AF_INET, AF_INET6 };
	long long before, after;
	int f, kind, taken = 0;
	bool last = false;

	EXPECT_FALSE(available());
	ASSERT_EQ(0, sample_load(""));
	EXPECT_TRUE(available_last(&last));
	EXPECT_TRUE(last);
	ASSERT_EQ(0, ep_write(EP_SYSFS "/range", "40000 40009"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", STRATEGY));
	EXPECT_TRUE(reads(EP_SYSFS "/strategy", STRATEGY));

	before = ep_read_u64(COMMITTED);
	ASSERT_LE(0, before);
	for (f = 0; f < 2; f++) {
		for (kind = 0; kind < EP_KINDS; kind++) {
			int n = first_fit(families[f], kind, 40000);

			EXPECT_EQ(3, n);
			taken += n > 0 ? n : 0;
		}
	}
	/* commit() ran once for each port taken. */
	after = ep_read_u64(COMMITTED);
	EXPECT_EQ(taken, after - before);

	/* Selected: the sample stays, and so does ephport, which it uses. */
	EXPECT_EQ(-EWOULDBLOCK, unload(SAMPLE));
	EXPECT_TRUE(sample_loaded());
	EXPECT_EQ(-EWOULDBLOCK, unload("ephport"));
	EXPECT_TRUE(ep_loaded());

	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", "random-pick"));
	EXPECT_EQ(0, unload(SAMPLE));
	EXPECT_FALSE(sample_loaded());
	EXPECT_FALSE(available());
	EXPECT_EQ(-EINVAL, ep_write(EP_SYSFS "/strategy", STRATEGY));
	EXPECT_TRUE(reads(EP_SYSFS "/strategy", "random-pick"));
}

/* Selected by a rule: its sockets follow it; the rule holds the module. */
TEST_F(api, rule)
{
	ASSERT_EQ(0, ep_write(EP_SYSFS "/range", "40000 49999"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", "random-pick"));
	ASSERT_EQ(0, sample_load(""));
	ASSERT_EQ(0, rule_add("50200 50209"));
	EXPECT_TRUE(reads(RULE_DIR "/strategy", STRATEGY));
	EXPECT_EQ(3, first_fit(AF_INET, EP_TCP_CONNECT, 50200));
	EXPECT_EQ(3, first_fit(AF_INET6, EP_UDP_BIND, 50200));

	EXPECT_EQ(-EWOULDBLOCK, unload(SAMPLE));
	EXPECT_TRUE(sample_loaded());

	/* An empty value: the global strategy. */
	ASSERT_EQ(0, rule_set("strategy", "\n"));
	EXPECT_TRUE(reads(RULE_DIR "/strategy", ""));
	EXPECT_EQ(0, unload(SAMPLE));
	EXPECT_FALSE(sample_loaded());
	EXPECT_EQ(-EINVAL, rule_set("strategy", STRATEGY));
	EXPECT_TRUE(reads(RULE_DIR "/strategy", ""));
}

static void on_usr1(int sig)
{
}

/*
 * A module whose init fails after registering, while the global strategy
 * and a rule use its strategy: unregistering leaves neither pointing at
 * it (section 3 of Documentation/ephport.rst).
 */
TEST_F(api, init_fails)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	int i, kmsg, status, fd[2], port[2];

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, kmsg);
	lseek(kmsg, 0, SEEK_END);
	ASSERT_EQ(0, ep_write(EP_SYSFS "/range", "40000 49999"));

	self->loader = fork();
	ASSERT_LE(0, self->loader);
	if (!self->loader) {
		/* No SA_RESTART: the signal ends the sample's wait. */
		sigaction(SIGUSR1, &sa, NULL);
		status = sample_load("fail_init_ms=600000");
		if (status != -ECANCELED)
			fprintf(stderr, "# the failing load returned %d\n", status);
		_exit(status == -ECANCELED ? 0 : 1);
	}
	/* Registered: the init waits now. */
	for (i = 0; i < 3000 && !available(); i++)
		usleep(10000);
	ASSERT_TRUE(available());
	ASSERT_EQ(0, rule_add("50300 50309"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", STRATEGY));
	EXPECT_EQ(3, first_fit(AF_INET, EP_TCP_CONNECT, 50300));

	ASSERT_EQ(0, kill(self->loader, SIGUSR1));
	ASSERT_EQ(self->loader, waitpid(self->loader, &status, 0));
	self->loader = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	EXPECT_FALSE(sample_loaded());
	EXPECT_FALSE(available());
	EXPECT_TRUE(reads(EP_SYSFS "/strategy", "kernel"));
	EXPECT_TRUE(reads(RULE_DIR "/strategy", ""));
	EXPECT_TRUE(reads(RULE_DIR "/range", "50300 50309"));
	EXPECT_TRUE(reads(RULE_DIR "/enabled", "1"));
	EXPECT_TRUE(kmsg_has(kmsg, "strategy " STRATEGY
			     " unregistered: 1 rule(s) now use the global strategy"));
	close(kmsg);

	/* The rule follows the global strategy: sequential moves on. */
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", "sequential"));
	for (i = 0; i < 2; i++) {
		fd[i] = ep_alloc(AF_INET, EP_TCP_CONNECT, DPORT, &port[i]);
		ASSERT_LE(0, fd[i]);
		ep_close_rst(fd[i]);
	}
	EXPECT_LE(50300, port[0]);
	EXPECT_GE(50308, port[0]);
	EXPECT_EQ(port[0] + 1, port[1]);
	EXPECT_EQ(-EINVAL, rule_set("strategy", STRATEGY));
}

TEST_HARNESS_MAIN
