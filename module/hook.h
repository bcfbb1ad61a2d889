/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Redirecting kernel functions to replacements with ftrace, the way
 * livepatch does.  Nothing outside hook.c knows about ftrace.
 */
#ifndef _EPHPORT_HOOK_H
#define _EPHPORT_HOOK_H

#include <linux/ftrace.h>

/* Every call to @name, from outside this module, goes to @replacement. */
struct ephport_hook {
	const char *name;
	void *replacement;
	void **orig;			/* receives the function's address */
	unsigned long entry;		/* where ftrace calls in */
};

/* Hooks installed and removed together, with one ftrace_ops. */
struct ephport_hook_set {
	struct ephport_hook *hooks;
	unsigned int n;
	struct ftrace_ops ops;
	bool registered;
};

int ephport_hooks_install(struct ephport_hook_set *set);
void ephport_hooks_remove(struct ephport_hook_set *set);
void ephport_hooks_done(void);

#endif /* _EPHPORT_HOOK_H */
