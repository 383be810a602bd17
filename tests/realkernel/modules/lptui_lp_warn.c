// SPDX-License-Identifier: GPL-2.0
/*
 * A livepatch of loadavg_proc_show whose new code warns: the first read of /proc/loadavg after the
 * patch went in prints a kernel WARNING from this module's own function, the "applied with a bug"
 * case lptui's post-load health must tie to this patch.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int lptui_loadavg_proc_show(struct seq_file *m, void *v)
{
	WARN_ONCE(1, "lptui_lp_warn: the patched loadavg_proc_show warns");
	seq_puts(m, "0.00 0.00 0.00 1/1 1\n");
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "loadavg_proc_show", .new_func = lptui_loadavg_proc_show },
	{}
};

static struct klp_object objs[] = {
	{ .funcs = funcs },
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int lptui_lp_warn_init(void)
{
	return klp_enable_patch(&patch);
}

static void lptui_lp_warn_exit(void)
{
}

module_init(lptui_lp_warn_init);
module_exit(lptui_lp_warn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lptui test: a livepatch whose new code warns");
MODULE_INFO(livepatch, "Y");
