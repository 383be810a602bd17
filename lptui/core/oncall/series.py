"""The names of the series `lptui metrics` exports, declared once: the exporter (lptui.watch.metrics)
writes them and the fleet (lptui.fleet.queries, lptui.fleet.history) asks Prometheus for them, so a
renamed series cannot leave the fleet reading nothing (tests/watch/test_series.py runs the exporter and
checks every name here is what it serves). Prometheus conventions: an `lptui_` prefix, base units,
`_total` added by the client library to counters."""

from __future__ import annotations

BLOCKED_TASKS = "lptui_blocked_tasks"
BUILD_INFO = "lptui_build_info"
FORCED_THIS_BOOT = "lptui_forced_this_boot"
INACTIVE_MODULES = "lptui_inactive_modules"
KERNEL_INFO = "lptui_kernel_info"
KERNEL_LIVEPATCHED = "lptui_kernel_livepatched"
KPATCH_SERVICE = "lptui_kpatch_service"
LAST_POLL_TIMESTAMP_SECONDS = "lptui_last_poll_timestamp_seconds"
LIVEPATCH_SUPPORTED = "lptui_livepatch_supported"
PATCH_ENABLED = "lptui_patch_enabled"
PATCH_FIXES = "lptui_patch_fixes"
PATCH_FUNCTIONS = "lptui_patch_functions"
PATCH_IN_EFFECT = "lptui_patch_in_effect"
PATCH_IN_TRANSITION = "lptui_patch_in_transition"
PATCH_INFO = "lptui_patch_info"
PATCH_INSTALLED_FIXES = "lptui_patch_installed_fixes"
PATCH_INSTALLED_NOT_LOADED = "lptui_patch_installed_not_loaded"
PATCH_LOST_AT_REBOOT = "lptui_patch_lost_at_reboot"
PATCH_OVERRIDABLE_FUNCTIONS = "lptui_patch_overridable_functions"
PATCH_POST_LOAD_PROBLEMS = "lptui_patch_post_load_problems"
PATCH_PROVENANCE_KNOWN = "lptui_patch_provenance_known"
PATCH_REPLACE = "lptui_patch_replace"
PATCH_STACK_ORDER = "lptui_patch_stack_order"
PATCHES_LOADED = "lptui_patches_loaded"
SCRAPE_DURATION_SECONDS = "lptui_scrape_duration_seconds"
SCRAPE_ERRORS = "lptui_scrape_errors"
SYSTEM_PRESENT = "lptui_system_present"
TRANSITION_ABORTED = "lptui_transition_aborted"
TRANSITION_AGE_SECONDS = "lptui_transition_age_seconds"
TRANSITION_DURATION_SECONDS = "lptui_transition_duration_seconds"
TRANSITION_IN_PROGRESS = "lptui_transition_in_progress"
TRANSITION_INFO = "lptui_transition_info"
TRANSITION_START_TIME_SECONDS = "lptui_transition_start_time_seconds"
TRANSITION_TASKS = "lptui_transition_tasks"
TRANSITION_TASKS_PENDING = "lptui_transition_tasks_pending"
TRANSITION_TASKS_UNREADABLE = "lptui_transition_tasks_unreadable"

# the fleet's families by their name without the prefix (lptui.fleet.queries.FAMILIES' keys)
BY_FAMILY = {
    name.removeprefix("lptui_"): name
    for name in (
        BLOCKED_TASKS,
        BUILD_INFO,
        FORCED_THIS_BOOT,
        INACTIVE_MODULES,
        KERNEL_INFO,
        KERNEL_LIVEPATCHED,
        KPATCH_SERVICE,
        LAST_POLL_TIMESTAMP_SECONDS,
        LIVEPATCH_SUPPORTED,
        PATCH_ENABLED,
        PATCH_FIXES,
        PATCH_FUNCTIONS,
        PATCH_IN_EFFECT,
        PATCH_IN_TRANSITION,
        PATCH_INFO,
        PATCH_INSTALLED_FIXES,
        PATCH_INSTALLED_NOT_LOADED,
        PATCH_LOST_AT_REBOOT,
        PATCH_OVERRIDABLE_FUNCTIONS,
        PATCH_POST_LOAD_PROBLEMS,
        PATCH_PROVENANCE_KNOWN,
        PATCH_REPLACE,
        PATCH_STACK_ORDER,
        PATCHES_LOADED,
        SCRAPE_DURATION_SECONDS,
        SCRAPE_ERRORS,
        SYSTEM_PRESENT,
        TRANSITION_ABORTED,
        TRANSITION_AGE_SECONDS,
        TRANSITION_DURATION_SECONDS,
        TRANSITION_IN_PROGRESS,
        TRANSITION_INFO,
        TRANSITION_START_TIME_SECONDS,
        TRANSITION_TASKS,
        TRANSITION_TASKS_PENDING,
        TRANSITION_TASKS_UNREADABLE,
    )
}
