// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_sample: a strategy module for ephport, as small as one can be
 * (include/ephport/strategy.h documents the API).
 *
 * Its strategy, "first-fit", gives every allocation the lowest free port
 * of the range: begin() starts each walk at the range's first port and
 * steps by one.  commit(), which a strategy may leave out, counts the
 * ports it gave: /sys/module/ephport_sample/parameters/committed.  The
 * order is predictable: for tests and demonstrations, not for hosts an
 * attacker could guess ports of (RFC 6056).
 *
 *   # insmod ephport.ko
 *   # insmod ephport_sample.ko
 *   # cat /sys/kernel/ephport/available_strategies
 *   kernel sequential random-start random-pick hash double-hash random-inc first-fit
 *   # echo first-fit > /sys/kernel/ephport/strategy
 *
 * While the strategy is selected, globally or by a rule, ephport holds a
 * reference on this module, so rmmod refuses to unload it.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>

#include <ephport/strategy.h>

static atomic_long_t ephport_sample_committed;

/* Every walk: from offset 0, the range's first port, one port at a time. */
static void ephport_sample_begin(struct ephport_walk *w,
				 const struct ephport_req *req)
{
	ephport_walk_init(w, req->n, 0, 1);
}

/* The kernel took port req->low + @offset, the @probes-th candidate. */
static void ephport_sample_commit(const struct ephport_req *req, u32 offset,
				  u32 probes)
{
	atomic_long_inc(&ephport_sample_committed);
}

static struct ephport_strategy ephport_sample = {
	.begin = ephport_sample_begin,
	.commit = ephport_sample_commit,
	.name = "first-fit",
	.owner = THIS_MODULE,
};

static int ephport_sample_committed_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&ephport_sample_committed));
}

static const struct kernel_param_ops ephport_sample_committed_ops = {
	.get = ephport_sample_committed_get,
};

module_param_cb(committed, &ephport_sample_committed_ops, NULL, 0444);
MODULE_PARM_DESC(committed, "Ports first-fit gave (read-only)");

/*
 * For selftests/strategy_test.c: with fail_init_ms=N, init registers the
 * strategy, waits N ms (a signal ends the wait early), then unregisters
 * it and fails, as a module does whose init fails after registering.
 */
static unsigned int fail_init_ms;
module_param(fail_init_ms, uint, 0444);
MODULE_PARM_DESC(fail_init_ms, "Tests only: fail the load this many ms after registering (default: 0, never)");

static int __init ephport_sample_init(void)
{
	int err;

	err = ephport_register_strategy(&ephport_sample);
	if (err || !fail_init_ms)
		return err;

	msleep_interruptible(fail_init_ms);
	ephport_unregister_strategy(&ephport_sample);
	return -ECANCELED;
}

static void __exit ephport_sample_exit(void)
{
	ephport_unregister_strategy(&ephport_sample);
}

module_init(ephport_sample_init);
module_exit(ephport_sample_exit);
MODULE_DESCRIPTION("ephport sample strategy: the lowest free port first");
MODULE_AUTHOR("The ephport authors");
MODULE_LICENSE("GPL");
