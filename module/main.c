// SPDX-License-Identifier: GPL-2.0
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/module.h>
#include <linux/kobject.h>
static struct kobject *kobj;
static int __init ephport_init(void)
{
	kobj = kobject_create_and_add("ephport", kernel_kobj);
	return kobj ? 0 : -ENOMEM;
}
static void __exit ephport_exit(void)
{
	kobject_put(kobj);
}
module_init(ephport_init);
module_exit(ephport_exit);
MODULE_LICENSE("GPL");
