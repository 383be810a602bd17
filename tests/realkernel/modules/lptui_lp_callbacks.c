// SPDX-License-Identifier: GPL-2.0
/*
 * A livepatch like the kernel selftests' test_klp_callbacks_demo: three objects, two of them with
 * callbacks and no functions (vmlinux, lptui_plain) and one with a function (lptui_target). sysfs
 * lists all three objects once it is loaded; a static reader must list them too.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>

static int lptui_cb_pre_patch(struct klp_object *obj)
{
	pr_info("%s: pre_patch %s\n", THIS_MODULE->name, obj->name ? obj->name : "vmlinux");
	return 0;
}

static void lptui_cb_post_unpatch(struct klp_object *obj)
{
	pr_info("%s: post_unpatch %s\n", THIS_MODULE->name, obj->name ? obj->name : "vmlinux");
}

static void lptui_cb_target_sleep(void)
{
}

static struct klp_func no_funcs[] = {
	{}
};

static struct klp_func target_funcs[] = {
	{ .old_name = "lptui_target_sleep", .new_func = lptui_cb_target_sleep },
	{}
};

static struct klp_object objs[] = {
	{
		.name = NULL, /* vmlinux */
		.funcs = no_funcs,
		.callbacks = { .pre_patch = lptui_cb_pre_patch, .post_unpatch = lptui_cb_post_unpatch },
	}, {
		.name = "lptui_plain",
		.funcs = no_funcs,
		.callbacks = { .pre_patch = lptui_cb_pre_patch, .post_unpatch = lptui_cb_post_unpatch },
	}, {
		.name = "lptui_target",
		.funcs = target_funcs,
	}, {}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int lptui_lp_callbacks_init(void)
{
	return klp_enable_patch(&patch);
}

static void lptui_lp_callbacks_exit(void)
{
}

module_init(lptui_lp_callbacks_init);
module_exit(lptui_lp_callbacks_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lptui test: objects with callbacks and no functions");
MODULE_INFO(livepatch, "Y");
