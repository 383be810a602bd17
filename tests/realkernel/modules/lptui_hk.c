// SPDX-License-Identifier: GPL-2.0
/*
 * Two kernel threads that sleep in msleep(), for the BPF-trampoline stalls: with a BPF fexit program
 * on msleep (bpftrace's kretfunc:msleep), each msleep() runs through a trampoline whose frame the ORC
 * unwinder cannot walk, and the kernel's stack check calls the stack unreliable.
 *   hk_sleeper    naps 50 ms at a time in hk_nap(): wakes 20 times a second, in D state while asleep
 *   hk_longsleep  naps 20 ms at a time, or `long_ms` at a time once that is set: a sleep that outlasts
 *                 the program, so its trampoline frame stays on the stack after the program is gone
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>

static unsigned int long_ms;
module_param(long_ms, uint, 0644);
MODULE_PARM_DESC(long_ms, "hk_longsleep's nap, in ms (0: 20 ms)");

static struct task_struct *sleeper, *longsleeper;

noinline void hk_nap(void)
{
	msleep(50);
}

static int hk_sleeper_fn(void *data)
{
	while (!kthread_should_stop())
		hk_nap();
	return 0;
}

static int hk_longsleep_fn(void *data)
{
	while (!kthread_should_stop()) {
		unsigned int ms = READ_ONCE(long_ms);

		msleep(ms ? ms : 20);
	}
	return 0;
}

static int lptui_hk_init(void)
{
	sleeper = kthread_run(hk_sleeper_fn, NULL, "hk_sleeper");
	if (IS_ERR(sleeper))
		return PTR_ERR(sleeper);
	longsleeper = kthread_run(hk_longsleep_fn, NULL, "hk_longsleep");
	if (IS_ERR(longsleeper)) {
		kthread_stop(sleeper);
		return PTR_ERR(longsleeper);
	}
	return 0;
}

static void lptui_hk_exit(void)
{
	WRITE_ONCE(long_ms, 0);
	kthread_stop(sleeper);
	kthread_stop(longsleeper);
}

module_init(lptui_hk_init);
module_exit(lptui_hk_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lptui test: kernel threads asleep in msleep, for BPF trampoline stalls");
