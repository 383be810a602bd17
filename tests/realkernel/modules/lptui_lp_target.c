// SPDX-License-Identifier: GPL-2.0
/*
 * A livepatch of lptui_target_sleep() in module lptui_target. While the target's kthread
 * sleeps in the old function, patching stalls. The replacement sleeps while this module's
 * parameter `hold` is set, which stalls an unpatching transition the same way.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/livepatch.h>
#include <linux/module.h>

static bool hold;
module_param(hold, bool, 0644);
MODULE_PARM_DESC(hold, "keep callers sleeping inside the replacement function");

static void lptui_lp_target_sleep(void)
{
	while (READ_ONCE(hold) && !kthread_should_stop())
		msleep(20);
}

static struct klp_func funcs[] = {
	{ .old_name = "lptui_target_sleep", .new_func = lptui_lp_target_sleep },
	{}
};

static struct klp_object objs[] = {
	{ .name = "lptui_target", .funcs = funcs },
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int lptui_lp_target_init(void)
{
	return klp_enable_patch(&patch);
}

static void lptui_lp_target_exit(void)
{
}

module_init(lptui_lp_target_init);
module_exit(lptui_lp_target_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lptui test: livepatch of lptui_target_sleep");
MODULE_INFO(livepatch, "Y");
