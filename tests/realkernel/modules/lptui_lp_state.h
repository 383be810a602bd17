/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A cumulative livepatch with no function and one system state (id 1, version LPTUI_STATE_VERSION),
 * like the selftests' test_klp_state/test_klp_state2. The kernel's klp_is_patch_compatible() refuses
 * a patch that does not carry every installed state at the same or a higher version: loading
 * version 1 while version 2 is installed fails with EINVAL and "... is not compatible with the
 * already installed livepatches." in the kernel log.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>

#define LPTUI_STATE_ID 1


static struct klp_func no_funcs[] = {
	{}
};

static struct klp_object objs[] = {
	{
		.name = NULL, /* vmlinux */
		.funcs = no_funcs,
	}, {}
};

static struct klp_state states[] = {
	{ .id = LPTUI_STATE_ID, .version = LPTUI_STATE_VERSION },
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	.states = states,
	.replace = true,
};

static int __init lptui_lp_state_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit lptui_lp_state_exit(void)
{
}

module_init(lptui_lp_state_init);
module_exit(lptui_lp_state_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
