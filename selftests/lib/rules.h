/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the rules_*_test programs (scoped policies in configfs):
 * rules made, changed and removed, cgroups, and a child process that
 * allocates as a rule should let it.  rules_fixture.h has their fixture.
 */
#ifndef _EPHPORT_RULES_H
#define _EPHPORT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "ephport.h"

#define RULES		"/sys/kernel/config/ephport/rules"
#define CGROOT		"/sys/fs/cgroup"
#define DPORT		5000
#define GLOW		40000	/* the global range of every test */
#define GHIGH		49999

/* ep_write()/ep_read() of a rule's attribute. */
int rule_set(const char *name, const char *attr, const char *value);
int rule_get(const char *name, const char *attr, char *buf, size_t size);
/* A rule with the given attribute/value pairs, then enabled; 0 or -errno. */
int rule_add(const char *name, const char *const *kv);

#define RULE(...)	((const char *const[]){ __VA_ARGS__, NULL })

int rule_del(const char *name);
/* A count from the rule's stats file, or -1. */
long long rule_stat(const char *name, const char *key);
void remove_all_rules(void);

/* cgroup @name under CGROOT made (it may exist); the caller moved into it. */
int cg_make(const char *name);
int cg_enter(const char *name);	/* "" for the root */

/* Whether sockets remember their cgroup (CONFIG_SOCK_CGROUP_DATA). */
extern bool have_sock_cgroup;

#define NO_SOCK_CGROUP	"cgroup rules need CONFIG_SOCK_CGROUP_DATA"

static inline bool in(int port, int low, int high)
{
	return port >= low && port <= high;
}

/* connect() to DPORT; the local port, or -errno. */
int connect_port(int family, int *fd);

/*
 * In a child: after @setup, @n connect()s to one destination all get a port
 * in [low, high], and one more fails with EADDRNOTAVAIL.  Returns the
 * child's exit status (0: as expected).
 */
int child_exhausts(int (*setup)(const void *), const void *arg,
		   int n, int low, int high);
/* Setups for child_exhausts(): cgroup @name, uid *@uid. */
int enter_cgroup(const void *name);
int become_uid(const void *uid);

#endif /* _EPHPORT_RULES_H */
