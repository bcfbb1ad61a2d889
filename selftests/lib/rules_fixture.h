/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture of the rules_*_test programs, included after
 * kselftest_harness.h.  The module is loaded once a program; each test
 * runs in a network namespace of its own, with the global range
 * 40000-49999 and strategy random-pick, and removes its rules and cgroups
 * when it ends.
 */
#ifndef _EPHPORT_RULES_FIXTURE_H
#define _EPHPORT_RULES_FIXTURE_H

#include "rules.h"

FIXTURE(rules) {
	int listener;
};

FIXTURE_SETUP(rules)
{
	ASSERT_EQ(0, ep_new_netns());
	ASSERT_EQ(0, ep_write(EP_SYSFS "/enabled", "1"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/strategy", "random-pick"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/range", "40000 49999"));
	self->listener = ep_listener(AF_INET, DPORT);
	ASSERT_LE(0, self->listener);
}

FIXTURE_TEARDOWN(rules)
{
	remove_all_rules();
	cg_enter("");
	rmdir(CGROOT "/ep_a/sub");
	rmdir(CGROOT "/ep_a");
	rmdir(CGROOT "/ep_b");
	rmdir(CGROOT "/ep_p/sub");
	rmdir(CGROOT "/ep_p");
	rmdir(CGROOT "/ep_q");
	close(self->listener);
}

int main(int argc, char **argv)
{
	int ret;

	if (access(CGROOT "/cgroup.procs", F_OK)) {
		fprintf(stderr, "# no cgroup v2 hierarchy at " CGROOT "\n");
		return KSFT_SKIP;
	}
	if (ep_load("")) {
		fprintf(stderr, "# cannot load the module\n");
		return KSFT_FAIL;
	}
	if (access(RULES, F_OK)) {
		fprintf(stderr, "# no " RULES " (configfs not mounted?)\n");
		ep_unload();
		return KSFT_FAIL;
	}
	if (mkdir(RULES "/probe", 0755) == 0) {
		have_sock_cgroup = rule_set("probe", "cgroup", "/") != -EOPNOTSUPP;
		rule_del("probe");
	}
	ret = test_harness_run(argc, argv);
	ep_unload();
	return ret;
}

#endif /* _EPHPORT_RULES_FIXTURE_H */
