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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#ifdef CONFIG_X86_KERNEL_IBT
#include <asm/ibt.h>
#endif

#include "compat.h"
#include "ephport.h"
#include "hook.h"

typedef unsigned long (*ephport_lookup_t)(const char *name);

/* The entry of the function holding @addr (kprobes may sit past an ENDBR). */
static unsigned long ephport_function_entry(unsigned long addr)
{
	char sym[KSYM_SYMBOL_LEN];
	char *plus, *slash;
	unsigned long off;

	sprint_symbol(sym, addr);
	plus = strrchr(sym, '+');
	slash = plus ? strchr(plus, '/') : NULL;
	if (!slash)
		return 0;
	*slash = '\0';
	if (kstrtoul(plus + 1, 0, &off) || off > addr)
		return 0;
	return addr - off;
}

/*
 * kallsyms_lookup_name() is not exported (and inet_hash_connect() no longer
 * is on 6.15 and later): find the former with a kprobe, once.
 */
static unsigned long ephport_lookup_name(const char *name)
{
	static ephport_lookup_t lookup;

	if (!lookup) {
		struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
		unsigned long entry;

		if (register_kprobe(&kp) < 0)
			return 0;
		entry = ephport_function_entry((unsigned long)kp.addr);
		unregister_kprobe(&kp);
		if (!entry)
			return 0;
		lookup = (ephport_lookup_t)entry;
	}
	return lookup(name);
}

/*
 * Where ftrace calls in: the function's first instruction, or the one
 * after its ENDBR on kernels built with IBT (x86-64).
 */
static unsigned long ephport_ftrace_entry(unsigned long addr)
{
#ifdef CONFIG_X86_KERNEL_IBT
	if (is_endbr(*(u32 *)addr))
		return addr + ENDBR_INSN_SIZE;
#endif
	return addr;
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
		return "already redirected by another module (livepatch?)";
	case -ENODEV:
		return "ftrace is disabled";
	case -EINVAL:
		return "not traceable";
	default:
		return "ftrace refused";
	}
}

/*
 * Redirect all functions of @set or none: on failure, one line says what
 * could not be hooked and why, and nothing stays registered.  One
 * ftrace_ops for the set keeps loading and unloading to a single round
 * of code patching and grace periods.
 */
int ephport_hooks_install(struct ephport_hook_set *set)
{
	unsigned long addr;
	unsigned int i;
	int err;

	set->ops.func = ephport_ftrace_handler;
	set->ops.flags = FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_RECURSION |
			 FTRACE_OPS_FL_PERMANENT;
	if (!IS_ENABLED(CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS))
		set->ops.flags |= FTRACE_OPS_FL_SAVE_REGS;

	for (i = 0; i < set->n; i++) {
		struct ephport_hook *h = &set->hooks[i];

		addr = ephport_lookup_name(h->name);
		if (!addr) {
			pr_err("cannot hook %s: symbol not found\n", h->name);
			err = -ENOENT;
			goto err_free;
		}
		*h->orig = (void *)addr;
		h->entry = ephport_ftrace_entry(addr);
		err = ftrace_set_filter_ip(&set->ops, addr, 0, 0);
		if (err) {
			pr_err("cannot hook %s: %s (%d)\n", h->name,
			       ephport_hook_error(err), err);
			goto err_free;
		}
	}

	err = register_ftrace_function(&set->ops);
	if (err) {
		pr_err("cannot hook %s%s: %s (%d)\n", set->hooks[0].name,
		       set->n > 1 ? " and the rest of its set" : "",
		       ephport_hook_error(err), err);
		goto err_free;
	}
	set->registered = true;
	return 0;

err_free:
	ftrace_free_filter(&set->ops);
	return err;
}

/*
 * Unregistering stops new redirections, but tasks may still be inside a
 * replacement, or about to enter one: wait until none is in one.  The few
 * instructions a replacement runs after its read section are waited for
 * by the next tasks-RCU grace period: the next removal's, or
 * ephport_hooks_done()'s.
 */
void ephport_hooks_remove(struct ephport_hook_set *set)
{
	if (!set->registered)
		return;
	unregister_ftrace_function(&set->ops);
	ftrace_free_filter(&set->ops);
	set->registered = false;

	/*
	 * A task sent to a replacement enters its SRCU read section before it
	 * can schedule voluntarily, which ends a tasks-RCU grace period.
	 */
	synchronize_rcu_tasks();
	/* Every replacement has left its read section. */
	synchronize_srcu(&ephport_srcu);
}

/* After the last removal: every replacement has returned. */
void ephport_hooks_done(void)
{
	synchronize_rcu_tasks();
}
