// SPDX-License-Identifier: GPL-2.0
/* System state 1 at version 1: see lptui_lp_state.h. */
#define LPTUI_STATE_VERSION 1
#include "lptui_lp_state.h"
MODULE_DESCRIPTION("lptui test: cumulative patch carrying system state 1 version 1");
