// SPDX-License-Identifier: GPL-2.0
/*
 * ftrace plumbing: resolve each target by name, redirect calls to it from
 * anywhere but this module to its replacement, and on removal wait until no
 * task can still be running a replacement.
 *
 * The replacements call the original functions themselves; those calls
 * come from this module, so the ftrace handler lets them through.  That
 * only works while a replacement never tail-calls the original (the call
 * would then come from the replacement's caller): Kbuild builds the module
 * with -fno-optimize-sibling-calls.
 *
 * Kernels built with IBT (CONFIG_X86_KERNEL_IBT: Debian's 6.12 and later)
 * seal, on an IBT CPU, every function whose address the kernel never
 * takes: its ENDBR is overwritten at boot, and an indirect call to it
 * faults.  Only exported functions and functions stored in ops tables are
 * sure to keep their ENDBR, and the hooked functions are not all exported
 * everywhere (7.2 exports neither inet_hash_connect() nor
 * udp_lib_get_port(), and seals both; kallsyms_lookup_name() is sealed on
 * 6.12).  So this module calls no kernel function through a pointer:
 *
 *  - a target is found with a kprobe, registered disabled (never armed)
 *    on its name: the kprobe's address is where ftrace calls in (past the
 *    ENDBR, or what replaced it, as the kernel's kprobes code decides) and
 *    the function starts where the symbol holding that address starts;
 *  - a replacement calls its original through a static call (hook.h),
 *    updated here to the function's start: a call site in this module
 *    patched to a direct call, or, where the kernel does not patch call
 *    sites, a call to this module's trampoline, patched to a direct jump.
 *    Neither needs an ENDBR, and both leave the return address in this
 *    module, where the ftrace handler looks for it.
 *
 * The exported targets go the same way rather than by their symbols: one
 * mechanism on every kernel, no load failure when a function stops being
 * exported, and the function called is the very one ftrace redirects.
 * selftests/ibt-check.sh checks the built module for indirect calls.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "compat.h"
#include "ephport.h"
#include "hook.h"

/*
 * The start of the function holding @addr, if that function is @name
 * (sprint_symbol() gives "inet_csk_get_port+0x4/0x3f0"), or 0.
 */
static unsigned long ephport_function_entry(unsigned long addr,
					    const char *name)
{
	char sym[KSYM_SYMBOL_LEN];
	char *plus, *slash;
	unsigned long off;

	sprint_symbol(sym, addr);
	plus = strrchr(sym, '+');
	slash = plus ? strchr(plus, '/') : NULL;
	if (!slash)
		return 0;
	*plus = '\0';
	*slash = '\0';
	if (strcmp(sym, name) || kstrtoul(plus + 1, 0, &off) || off > addr)
		return 0;
	return addr - off;
}

static void notrace ephport_ftrace_handler(unsigned long ip, unsigned long parent_ip,
					   struct ftrace_ops *ops,
					   struct ftrace_regs *fregs)
{
	struct ephport_hook_set *set = container_of(ops, struct ephport_hook_set, ops);
	unsigned int i;

	/* Calls from the replacements themselves reach the originals. */
	if (within_module(parent_ip, THIS_MODULE))
		return;
	for (i = 0; i < set->n; i++) {
		if (set->hooks[i].entry == ip) {
			ephport_ftrace_set_ip(fregs, (unsigned long)set->hooks[i].replacement);
			return;
		}
	}
}

static const char *ephport_hook_error(int err)
{
	switch (err) {
	case -EBUSY:
		return "redirected by another module (livepatch?) or ftrace off";
	case -ENODEV:
		return "ftrace is disabled";
	case -EINVAL:
		return "not traceable";
	default:
		return "ftrace refused";
	}
}

/*
 * Find every function of @set, point its static call at it and put it in
 * the set's ftrace filter, or none: on failure, one line says what could
 * not be hooked and why, and nothing is kept.  Nothing is redirected yet
 * (ephport_hooks_enable()).  One ftrace_ops for the set keeps turning it
 * on and off to a single round of code patching and grace periods; the
 * kprobes that find the functions go in one batch too.
 */
int ephport_hooks_install(struct ephport_hook_set *set)
{
	struct kprobe *kps, **kpp;
	unsigned int i, n = 0, redirects = 0;
	int err = -ENOMEM;

	set->ops.func = ephport_ftrace_handler;
	set->ops.flags = FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_RECURSION |
			 FTRACE_OPS_FL_PERMANENT;
	if (!IS_ENABLED(CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS))
		set->ops.flags |= FTRACE_OPS_FL_SAVE_REGS;

	kps = kcalloc(set->n, sizeof(*kps), GFP_KERNEL);
	kpp = kcalloc(set->n, sizeof(*kpp), GFP_KERNEL);
	if (!kps || !kpp)
		goto out;
	for (i = 0; i < set->n; i++) {
		struct ephport_hook *h = &set->hooks[i];
		unsigned long addr;

		kps[i].symbol_name = h->name;
		kps[i].flags = KPROBE_FLAG_DISABLED;
		err = register_kprobe(&kps[i]);
		if (err) {
			pr_err("cannot hook %s: %s (%d)\n", h->name,
			       err == -ENOENT ? "symbol not found" :
			       "kprobes refused it", err);
			goto out;
		}
		kpp[n++] = &kps[i];
		h->entry = (unsigned long)kps[i].addr;
		addr = ephport_function_entry(h->entry, h->name);
		if (!addr) {
			pr_err("cannot hook %s: found %pS\n", h->name,
			       (void *)h->entry);
			err = -ENOENT;
			goto out;
		}
		__static_call_update(h->orig_key, h->orig_tramp, (void *)addr);
		if (!h->replacement)
			continue;
		redirects++;
		err = ftrace_set_filter_ip(&set->ops, addr, 0, 0);
		if (err) {
			pr_err("cannot hook %s: %s (%d)\n", h->name,
			       ephport_hook_error(err), err);
			goto out;
		}
	}
	unregister_kprobes(kpp, n);
	n = 0;
	/* An ftrace_ops without a filter would trace every function. */
	if (!redirects) {
		pr_err("cannot hook %s: its set redirects nothing\n",
		       set->hooks[0].name);
		err = -EINVAL;
	}
out:
	if (n)
		unregister_kprobes(kpp, n);
	if (err)
		ftrace_free_filter(&set->ops);
	kfree(kpp);
	kfree(kps);
	return err;
}

/*
 * Redirect the functions of an installed @set: at load, and when the
 * module is enabled again.  Fails when another ftrace user that modifies
 * the instruction pointer (livepatch) holds one of them.
 */
int ephport_hooks_enable(struct ephport_hook_set *set)
{
	int err;

	if (set->registered)
		return 0;
	err = register_ftrace_function(&set->ops);
	if (err) {
		pr_err("cannot hook %s%s: %s (%d)\n", set->hooks[0].name,
		       set->n > 1 ? " and the rest of its set" : "",
		       ephport_hook_error(err), err);
		return err;
	}
	set->registered = true;
	return 0;
}

/*
 * Stop redirecting the functions of @set: the kernel's own code runs again,
 * through a nop.  Unregistering stops new redirections, but tasks may
 * still be inside a replacement, or about to enter one: wait until none is
 * in one.  The few instructions a replacement runs after its read section
 * are waited for by the next tasks-RCU grace period: the next one here, or
 * ephport_hooks_done()'s.
 */
void ephport_hooks_disable(struct ephport_hook_set *set)
{
	if (!set->registered)
		return;
	unregister_ftrace_function(&set->ops);
	set->registered = false;

	/*
	 * A task sent to a replacement enters its SRCU read section before it
	 * can schedule voluntarily, which ends a tasks-RCU grace period.
	 */
	synchronize_rcu_tasks();
	/* Every replacement has left its read section. */
	synchronize_srcu(&ephport_srcu);
}

/* Undo ephport_hooks_install(), redirections first. */
void ephport_hooks_remove(struct ephport_hook_set *set)
{
	ephport_hooks_disable(set);
	ftrace_free_filter(&set->ops);
}

/* After the last removal: every replacement has returned. */
void ephport_hooks_done(void)
{
	synchronize_rcu_tasks();
}
