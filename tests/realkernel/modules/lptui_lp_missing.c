// SPDX-License-Identifier: GPL-2.0
/* A livepatch of a function vmlinux does not have: the kernel refuses it ("not found in symbol table"). */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>

static int lptui_missing_replacement(void)
{
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "lptui_no_such_function", .new_func = lptui_missing_replacement },
	{}
};

static struct klp_object objs[] = {
	{ .funcs = funcs }, /* name NULL: vmlinux */
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int lptui_lp_missing_init(void)
{
	return klp_enable_patch(&patch);
}

static void lptui_lp_missing_exit(void)
{
}

module_init(lptui_lp_missing_init);
module_exit(lptui_lp_missing_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lptui test: patches a function that does not exist");
MODULE_INFO(livepatch, "Y");
