// SPDX-License-Identifier: GPL-2.0
/* A plain module, not a livepatch. */
#include <linux/module.h>

static int lptui_plain_init(void)
{
	return 0;
}

static void lptui_plain_exit(void)
{
}

module_init(lptui_plain_init);
module_exit(lptui_plain_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lptui test: a plain module");
