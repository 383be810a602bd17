// SPDX-License-Identifier: GPL-2.0
/*
 * A target module whose kernel thread "lptui_sleeper" sleeps inside lptui_target_sleep()
 * while the parameter `block` is set. Patching that function stalls the transition until
 * `echo N > /sys/module/lptui_target/parameters/block` releases the thread.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>

static bool block = true;
module_param(block, bool, 0644);
MODULE_PARM_DESC(block, "keep the kthread sleeping inside lptui_target_sleep()");

static struct task_struct *sleeper;

noinline void lptui_target_sleep(void)
{
	while (READ_ONCE(block) && !kthread_should_stop())
		msleep(20);
}

static int lptui_sleeper_fn(void *data)
{
	while (!kthread_should_stop()) {
		lptui_target_sleep();
		msleep(50);
	}
	return 0;
}

static int lptui_target_init(void)
{
	sleeper = kthread_run(lptui_sleeper_fn, NULL, "lptui_sleeper");
	return PTR_ERR_OR_ZERO(sleeper);
}

static void lptui_target_exit(void)
{
	WRITE_ONCE(block, false);
	kthread_stop(sleeper);
}

module_init(lptui_target_init);
module_exit(lptui_target_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lptui test: a kthread that sleeps inside a function on demand");
