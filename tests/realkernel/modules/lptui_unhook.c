// SPDX-License-Identifier: GPL-2.0
/*
 * Takes a livepatch's ftrace handler off its function while sysfs still says "enabled 1": the case
 * lptui's in-effect check must catch. Writing 1 to `unhook` finds the one livepatch ftrace_ops
 * (klp_patch_func() in kernel/livepatch/patch.c registers it with IPMODIFY and PERMANENT, a pair no
 * other ftrace user sets) and unregisters it; writing 0 registers it again. The ops are found by
 * walking ftrace's ops list from an ops of this module's own (new ops go to the list's head,
 * add_ftrace_ops() in kernel/trace/ftrace.c; the list ends at ftrace_list_end, flagged STUB).
 * A test module only: with one livepatched function loaded, on a one-vCPU guest.
 */
#include <linux/ftrace.h>
#include <linux/kernel.h>
#include <linux/module.h>

#define KLP_FLAGS (FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_PERMANENT)

static struct ftrace_ops *taken;

static noinline void lptui_unhook_anchor(void)
{
	asm volatile("");
}

static void anchor_handler(unsigned long ip, unsigned long parent_ip, struct ftrace_ops *op,
			   struct ftrace_regs *fregs)
{
}

static struct ftrace_ops anchor = { .func = anchor_handler };

static struct ftrace_ops *find_klp_ops(void)
{
	struct ftrace_ops *op, *found = NULL;
	int n = 0;

	if (ftrace_set_filter_ip(&anchor, (unsigned long)lptui_unhook_anchor, 0, 0))
		return ERR_PTR(-EINVAL);
	if (register_ftrace_function(&anchor))
		return ERR_PTR(-EINVAL);
	for (op = anchor.next; op && !(op->flags & FTRACE_OPS_FL_STUB); op = op->next) {
		if ((op->flags & KLP_FLAGS) == KLP_FLAGS) {
			found = op;
			n++;
		}
	}
	unregister_ftrace_function(&anchor);
	ftrace_free_filter(&anchor);
	if (n != 1)
		return ERR_PTR(n ? -EBUSY : -ENOENT);
	return found;
}

static int set_unhook(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret)
		return ret;
	if (on && !taken) {
		struct ftrace_ops *op = find_klp_ops();

		if (IS_ERR(op))
			return PTR_ERR(op);
		ret = unregister_ftrace_function(op);
		if (!ret)
			taken = op;
		pr_info("lptui_unhook: livepatch handler taken off (%d)\n", ret);
	} else if (!on && taken) {
		ret = register_ftrace_function(taken);
		if (!ret)
			taken = NULL;
		pr_info("lptui_unhook: livepatch handler put back (%d)\n", ret);
	}
	return ret;
}

static int get_unhook(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", taken ? 1 : 0);
}

static const struct kernel_param_ops unhook_ops = { .set = set_unhook, .get = get_unhook };
module_param_cb(unhook, &unhook_ops, NULL, 0644);
MODULE_PARM_DESC(unhook, "1: take the livepatch's ftrace handler off; 0: put it back");

static int __init lptui_unhook_init(void)
{
	lptui_unhook_anchor();
	return 0;
}

static void __exit lptui_unhook_exit(void)
{
	if (taken)
		WARN_ON(register_ftrace_function(taken));
}

module_init(lptui_unhook_init);
module_exit(lptui_unhook_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lptui test: take a livepatch's ftrace handler off its function");
