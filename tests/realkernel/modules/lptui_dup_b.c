// SPDX-License-Identifier: GPL-2.0
/* The second lptui_dup_fn of the lptui_dup module (see lptui_dup_a.c). */
#include <linux/kernel.h>

/* noipa: no clone such as lptui_dup_fn.constprop.0 may take the name's place */
static noinline __attribute__((noipa)) int lptui_dup_fn(int x)
{
	return x + 2;
}

int lptui_dup_call_b(int x)
{
	return lptui_dup_fn(x);
}
