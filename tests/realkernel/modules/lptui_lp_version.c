// SPDX-License-Identifier: GPL-2.0
/* A livepatch of vmlinux's version_proc_show: its effect shows in /proc/version. With
 * lptui_lp_cmdline loaded too, a cumulative patch that only carries cmdline_proc_show sends
 * version_proc_show back to the original code: /proc/version shows which. */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int lptui_version_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", "lptui_lp_version: this has been live patched");
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "version_proc_show", .new_func = lptui_version_proc_show },
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

static int lptui_lp_version_init(void)
{
	return klp_enable_patch(&patch);
}

static void lptui_lp_version_exit(void)
{
}

module_init(lptui_lp_version_init);
module_exit(lptui_lp_version_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lptui test: livepatch of version_proc_show (fixes CVE-2099-0001)");
MODULE_VERSION("1"); /* gives the module a srcversion in sysfs, for provenance */
MODULE_INFO(livepatch, "Y");
