// SPDX-License-Identifier: GPL-2.0
#define LPTUI_SYMPOS 3
#include "lptui_lp_dup.h"
MODULE_DESCRIPTION("lptui test: lptui_dup_fn with sympos 3 (out of range)");
