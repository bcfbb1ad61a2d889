/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Redirecting kernel functions to replacements with ftrace, the way
 * livepatch does.  Only hook.c calls ftrace: the other files declare
 * their hooks (EPHPORT_HOOK(), EPHPORT_CALLEE()) and hand sets of them to
 * ephport_hooks_install() (the ftrace_ops inside a set is hook.c's).
 *
 * A replacement reaches the function it replaces, its original, through a
 * static call: a direct call patched to the function's address when the
 * hook is installed, never a call through a pointer.  See hook.c for why.
 */
#ifndef _EPHPORT_HOOK_H
#define _EPHPORT_HOOK_H

#include <linux/build_bug.h>
#include <linux/ftrace.h>
#include <linux/static_call.h>

/*
 * Every call to @name, from outside this module, goes to @replacement
 * (NULL: none, the function is only called; see EPHPORT_CALLEE()).
 */
struct ephport_hook {
	const char *name;
	void *replacement;
	struct static_call_key *orig_key;	/* its original ... */
	void *orig_tramp;			/* ... as a static call */
	unsigned long entry;			/* where ftrace calls in */
};

/*
 * The original of the kernel function @fn: a static call of @fn's type,
 * called as static_call(ephport_orig_<fn>)(...) once its hook is
 * installed, and never before.
 */
#define EPHPORT_DEFINE_ORIG(fn) DEFINE_STATIC_CALL_NULL(ephport_orig_##fn, fn)

/*
 * The hook of @fn, sending its calls to @repl, which must have @fn's type;
 * EPHPORT_DEFINE_ORIG(@fn) gets @fn's address at install time.
 */
#define EPHPORT_HOOK(fn, repl) {					\
	.name = #fn,							\
	.replacement = (void *)(repl) +					\
		       BUILD_BUG_ON_ZERO(!__builtin_types_compatible_p(	\
				typeof(fn), typeof(repl))),		\
	.orig_key = &STATIC_CALL_KEY(ephport_orig_##fn),		\
	.orig_tramp = STATIC_CALL_TRAMP_ADDR(ephport_orig_##fn),	\
}

/*
 * A kernel function this module only calls, with no redirect (not
 * exported everywhere: inet_rcv_saddr_equal() on 7.x): its address goes
 * to the static call EPHPORT_DEFINE_ORIG(@fn) when its set is installed.
 */
#define EPHPORT_CALLEE(fn) {						\
	.name = #fn,							\
	.orig_key = &STATIC_CALL_KEY(ephport_orig_##fn),		\
	.orig_tramp = STATIC_CALL_TRAMP_ADDR(ephport_orig_##fn),	\
}

/*
 * Hooks installed and removed together, with one ftrace_ops, and
 * redirecting while enabled (registered).
 */
struct ephport_hook_set {
	struct ephport_hook *hooks;
	unsigned int n;
	struct ftrace_ops ops;
	bool registered;
};

int ephport_hooks_install(struct ephport_hook_set *set);
int ephport_hooks_enable(struct ephport_hook_set *set);
void ephport_hooks_disable(struct ephport_hook_set *set);
void ephport_hooks_remove(struct ephport_hook_set *set);
void ephport_hooks_done(void);

#endif /* _EPHPORT_HOOK_H */
