// SPDX-License-Identifier: GPL-2.0
/*
 * A livepatch of vmlinux's uptime_proc_show, a function no test thread sleeps in: its transition
 * stalls only on stacks the kernel cannot check. /proc/uptime then says 1 s, whatever the truth:
 * lptui must take a transition's age from the kernel's clock, never from this file.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int lptui_uptime_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "1.00 1.00\n");
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "uptime_proc_show", .new_func = lptui_uptime_proc_show },
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

static int lptui_lp_uptime_init(void)
{
	return klp_enable_patch(&patch);
}

static void lptui_lp_uptime_exit(void)
{
}

module_init(lptui_lp_uptime_init);
module_exit(lptui_lp_uptime_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lptui test: livepatch of uptime_proc_show");
MODULE_INFO(livepatch, "Y");
