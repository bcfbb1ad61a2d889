// SPDX-License-Identifier: GPL-2.0
/*
 * The strategy registry, modelled on the TCP congestion control registry
 * (net/ipv4/tcp_cong.c): strategies register by name, the list is read
 * under RCU, and the active strategy holds a reference on its module.
 * Allocations use the active strategy inside their ephport_srcu read
 * section, so switching waits for them before dropping the reference.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/list.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "ephport.h"
#include "params.h"
#include "rules.h"

struct ephport_secrets ephport_secrets;

static DEFINE_SPINLOCK(ephport_strategy_list_lock);	/* list writers */
static LIST_HEAD(ephport_strategy_list);
static const struct ephport_strategy __rcu *ephport_strategy_active;

/* A built-in strategy: its name and its operations (core.c). */
#define EPHPORT_BUILTIN(_name, _begin, _commit)				\
	{ .name = _name, .begin = _begin, .commit = _commit }

static struct ephport_strategy ephport_builtin[] = {
	{
		.name = "kernel",
		.flags = EPHPORT_STRATEGY_KERNEL,
		.begin = ephport_kernel_bind_begin,
	},
	EPHPORT_BUILTIN("sequential", ephport_sequential_begin, ephport_sequential_commit),
	EPHPORT_BUILTIN("random-start", ephport_random_start_begin, NULL),
	EPHPORT_BUILTIN("random-pick", ephport_random_pick_begin, NULL),
	EPHPORT_BUILTIN("hash", ephport_hash_begin, ephport_hash_commit),
	EPHPORT_BUILTIN("double-hash", ephport_double_hash_begin, ephport_double_hash_commit),
	EPHPORT_BUILTIN("random-inc", ephport_random_inc_begin, ephport_random_inc_commit),
};

bool ephport_strategy_name_builtin(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ephport_builtin); i++)
		if (!strcmp(ephport_builtin[i].name, name))
			return true;
	return false;
}

/* Caller holds ephport_strategy_list_lock or rcu_read_lock(). */
static struct ephport_strategy *ephport_strategy_find(const char *name)
{
	struct ephport_strategy *s;

	list_for_each_entry_rcu(s, &ephport_strategy_list, list,
				lockdep_is_held(&ephport_strategy_list_lock))
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

int ephport_register_strategy(struct ephport_strategy *s)
{
	int err = 0;

	if (!s->begin || !s->name[0] ||
	    strnlen(s->name, EPHPORT_STRATEGY_NAME_MAX) == EPHPORT_STRATEGY_NAME_MAX) {
		pr_notice("strategy %.*s does not implement the required ops\n",
			  EPHPORT_STRATEGY_NAME_MAX, s->name);
		return -EINVAL;
	}

	spin_lock(&ephport_strategy_list_lock);
	if (ephport_strategy_find(s->name)) {
		pr_notice("strategy %s already registered\n", s->name);
		err = -EEXIST;
	} else {
		list_add_tail_rcu(&s->list, &ephport_strategy_list);
	}
	spin_unlock(&ephport_strategy_list_lock);
	return err;
}
EXPORT_SYMBOL_GPL(ephport_register_strategy);

/*
 * The active strategy and every rule that names a strategy hold a
 * reference on its module, so a module's strategy is in use by neither
 * when the module's exit unregisters it.  It may be when the module's init
 * fails after registering it (try_module_get() succeeds on a module being
 * initialised, and the module is freed whatever its count): then "kernel"
 * becomes the active strategy, the rules fall back to the global one, and
 * their references go before @s does.  Lookups that take a reference do
 * so under ephport_config_lock (the active strategy) or the rules' lock,
 * both taken here once @s is off the list: none can take @s afterwards.
 */
void ephport_unregister_strategy(struct ephport_strategy *s)
{
	spin_lock(&ephport_strategy_list_lock);
	list_del_rcu(&s->list);
	spin_unlock(&ephport_strategy_list_lock);

	mutex_lock(&ephport_config_lock);
	if (rcu_access_pointer(ephport_strategy_active) == s) {
		rcu_assign_pointer(ephport_strategy_active, &ephport_builtin[0]);
		mutex_unlock(&ephport_config_lock);
		synchronize_srcu(&ephport_srcu);
		module_put(s->owner);
	} else {
		mutex_unlock(&ephport_config_lock);
	}
	ephport_rules_strategy_gone(s);
	/* available_strategies and lookups may still walk past it. */
	synchronize_rcu();
}
EXPORT_SYMBOL_GPL(ephport_unregister_strategy);

/* Caller is in an ephport_srcu read section. */
const struct ephport_strategy *ephport_strategy_get_active(void)
{
	return srcu_dereference(ephport_strategy_active, &ephport_srcu);
}

/*
 * The active strategy's name and a newline in @buf, or @none's before the
 * strategies are set up and after they are gone.  Under
 * ephport_config_lock, which every change of the active strategy holds,
 * not SRCU: the module parameter's file exists before init_srcu_struct()
 * and after cleanup_srcu_struct().
 */
ssize_t ephport_strategy_show_active(char *buf, const char *none)
{
	const struct ephport_strategy *s;
	ssize_t len;

	mutex_lock(&ephport_config_lock);
	s = rcu_dereference_protected(ephport_strategy_active,
				      lockdep_is_held(&ephport_config_lock));
	len = sysfs_emit(buf, "%s\n", s ? s->name : none);
	mutex_unlock(&ephport_config_lock);
	return len;
}

/* A registered strategy by name, with a reference on its module. */
const struct ephport_strategy *ephport_strategy_get(const char *name)
{
	struct ephport_strategy *s;

	rcu_read_lock();
	s = ephport_strategy_find(name);
	if (s && !try_module_get(s->owner))
		s = NULL;
	rcu_read_unlock();
	return s;
}

/* Once no allocation may still use @s. */
void ephport_strategy_put(const struct ephport_strategy *s)
{
	module_put(s->owner);
}

/*
 * Make @name the active strategy.  Allocations under way finish with the
 * previous one; its module reference goes once none of them runs.
 */
int ephport_strategy_set_active(const char *name)
{
	const struct ephport_strategy *s, *prev;

	/* Under the lock: see ephport_unregister_strategy(). */
	mutex_lock(&ephport_config_lock);
	s = ephport_strategy_get(name);
	if (!s) {
		mutex_unlock(&ephport_config_lock);
		return -EINVAL;
	}
	prev = rcu_replace_pointer(ephport_strategy_active, s,
				   lockdep_is_held(&ephport_config_lock));
	mutex_unlock(&ephport_config_lock);

	/* Built-in strategies have no owner: they go with this module. */
	if (prev && prev->owner) {
		synchronize_srcu(&ephport_srcu);
		module_put(prev->owner);
	}
	return 0;
}

ssize_t ephport_strategy_show_available(char *buf, size_t size)
{
	struct ephport_strategy *s;
	size_t len = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(s, &ephport_strategy_list, list)
		len += scnprintf(buf + len, size - len, "%s%s",
				 len ? " " : "", s->name);
	rcu_read_unlock();
	len += scnprintf(buf + len, size - len, "\n");
	return len;
}

int ephport_strategies_init(const char *initial)
{
	unsigned int i;
	int err;

	get_random_bytes(&ephport_secrets, sizeof(ephport_secrets));
	for (i = 0; i < ARRAY_SIZE(ephport_builtin); i++) {
		err = ephport_register_strategy(&ephport_builtin[i]);
		if (err)
			goto err_unregister;
	}
	err = ephport_strategy_set_active(initial);
	if (err) {
		pr_err("unknown strategy %s\n", initial);
		goto err_unregister;
	}
	return 0;

err_unregister:
	while (i-- > 0)
		ephport_unregister_strategy(&ephport_builtin[i]);
	return err;
}

void ephport_strategies_uninit(void)
{
	const struct ephport_strategy *prev;
	unsigned int i;

	/* No allocation runs any more: the hooks are gone. */
	mutex_lock(&ephport_config_lock);
	prev = rcu_dereference_protected(ephport_strategy_active,
					 lockdep_is_held(&ephport_config_lock));
	RCU_INIT_POINTER(ephport_strategy_active, NULL);
	mutex_unlock(&ephport_config_lock);
	module_put(prev ? prev->owner : NULL);
	for (i = ARRAY_SIZE(ephport_builtin); i-- > 0;)
		ephport_unregister_strategy(&ephport_builtin[i]);
}
