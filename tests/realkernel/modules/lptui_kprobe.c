// SPDX-License-Identifier: GPL-2.0
/*
 * Another tool's kprobe on uptime_proc_show (what lptui_lp_uptime patches). With `post=1` it has a
 * post_handler, which makes it an IPMODIFY ftrace user (arm_kprobe_ftrace: ipmodify = post_handler
 * != NULL): a livepatch of the same function then fails with EBUSY. With `post=0` it is a plain ftrace
 * user that coexists with the livepatch. `hits` counts its pre_handler's calls.
 */
#include <linux/kprobes.h>
#include <linux/module.h>

static bool post = true;
module_param(post, bool, 0444);
MODULE_PARM_DESC(post, "register a post_handler (IPMODIFY)");

static unsigned long hits;
module_param(hits, ulong, 0444);
MODULE_PARM_DESC(hits, "pre_handler calls so far");

static int lptui_pre(struct kprobe *p, struct pt_regs *regs)
{
	hits++;
	return 0;
}

static void lptui_post(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
}

static struct kprobe kp = {
	.symbol_name = "uptime_proc_show",
	.pre_handler = lptui_pre,
};

static int lptui_kprobe_init(void)
{
	if (post)
		kp.post_handler = lptui_post;
	return register_kprobe(&kp);
}

static void lptui_kprobe_exit(void)
{
	unregister_kprobe(&kp);
}

module_init(lptui_kprobe_init);
module_exit(lptui_kprobe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lptui test: a kprobe on uptime_proc_show, with or without a post_handler");
