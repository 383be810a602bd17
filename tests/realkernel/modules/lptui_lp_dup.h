/* SPDX-License-Identifier: GPL-2.0 */
/* A livepatch of lptui_dup's lptui_dup_fn at symbol position LPTUI_SYMPOS (0: "the only one", which
 * is ambiguous there; 3: past the two it has). The kernel refuses both with EINVAL. */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>

static int lptui_lp_dup_fn(int x)
{
	return x + 100;
}

static struct klp_func funcs[] = {
	{ .old_name = "lptui_dup_fn", .new_func = lptui_lp_dup_fn, .old_sympos = LPTUI_SYMPOS },
	{}
};

static struct klp_object objs[] = {
	{ .name = "lptui_dup", .funcs = funcs },
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int lptui_lp_dup_init(void)
{
	return klp_enable_patch(&patch);
}

static void lptui_lp_dup_exit(void)
{
}

module_init(lptui_lp_dup_init);
module_exit(lptui_lp_dup_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
