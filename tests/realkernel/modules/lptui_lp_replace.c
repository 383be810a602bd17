// SPDX-License-Identifier: GPL-2.0
/* A cumulative (atomic replace) livepatch of cmdline_proc_show: replaces every older patch. */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int lptui_replace_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", "lptui_lp_replace: cumulative patch");
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = lptui_replace_cmdline_proc_show },
	{}
};

static struct klp_object objs[] = {
	{ .funcs = funcs },
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	.replace = true,
};

static int lptui_lp_replace_init(void)
{
	return klp_enable_patch(&patch);
}

static void lptui_lp_replace_exit(void)
{
}

module_init(lptui_lp_replace_init);
module_exit(lptui_lp_replace_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lptui test: cumulative livepatch");
MODULE_VERSION("1"); /* gives the module a srcversion in sysfs, for provenance */
MODULE_INFO(livepatch, "Y");
