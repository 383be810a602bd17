// SPDX-License-Identifier: GPL-2.0
/* lptui_dup: a module with two static functions of one name (here and in lptui_dup_b.c), so its
 * symbol table has lptui_dup_fn twice: a livepatch naming it with sympos 0 is ambiguous. */
#include <linux/kernel.h>
#include <linux/module.h>

/* noipa: no clone such as lptui_dup_fn.constprop.0 may take the name's place */
static noinline __attribute__((noipa)) int lptui_dup_fn(int x)
{
	return x + 1;
}

int lptui_dup_call_b(int x);

static int lptui_dup_init(void)
{
	pr_info("lptui_dup: %d %d\n", lptui_dup_fn(1), lptui_dup_call_b(1));
	return 0;
}

static void lptui_dup_exit(void)
{
}

module_init(lptui_dup_init);
module_exit(lptui_dup_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lptui test: two static functions named lptui_dup_fn");
