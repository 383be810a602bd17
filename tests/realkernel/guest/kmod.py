"""Helpers for guest tests: load and unload modules, wait, and read sysfs/procfs independently."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import time
from pathlib import Path

from lptui.cli.main import main

MODULES = Path(os.environ.get("LPTUI_GUEST_MODULES", "/nonexistent"))
LP = Path("/sys/kernel/livepatch")
TEST_MODULES = (
    "lptui_lp_version",
    "lptui_lp_dup0",
    "lptui_lp_dup3",
    "lptui_lp_missing",
    "lptui_lp_callbacks",
    "lptui_lp_state1",
    "lptui_lp_state2",
    "lptui_lp_replace",
    "lptui_lp_cmdline",
    "lptui_lp_target",
    "lptui_lp_force1",
    "lptui_lp_force2",
    "lptui_lp_uptime",
    "lptui_klpbuild",
    "lptui_lp_warn",
    "lptui_unhook",
    "lptui_target",
    "lptui_hk",
    "lptui_kprobe",
    "lptui_dup",
    "lptui_plain",
)
FORCED: set[str] = set()  # modules a test forced while being removed: they stay until reboot


def wait_for(predicate, timeout: float = 90.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def read(path: str | Path) -> str:
    return Path(path).read_text().strip()


def insmod(name: str, **params: str) -> None:
    args = [f"{k}={v}" for k, v in params.items()]
    subprocess.run(["insmod", str(MODULES / f"{name}.ko"), *args], check=True, capture_output=True, text=True)
    wait_for(lambda: Path(f"/sys/module/{name}").exists(), what=f"/sys/module/{name}")


def load_patch(name: str, *, wait: bool = True, **params: str) -> None:
    insmod(name, **params)
    wait_for(lambda: (LP / name).exists(), what=f"{LP / name}")
    if wait:
        wait_for(lambda: read(LP / name / "transition") == "0", what=f"{name} transition to finish")
        assert_in_effect(name)


def check_json() -> tuple[int, dict]:
    """`lptui check --json`, whatever its exit code (WARNING and CRITICAL are answers too)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["check", "--json"])
    return code, json.loads(out.getvalue())


def assert_in_effect(name: str) -> None:
    """Issue 30, 8b: after every load, lptui finds the livepatch's handler on each function it patches
    in ftrace's own table (its objects not loaded are patched when they load: not checked)."""
    _, data = check_json()
    effect = data["in_effect"]
    assert effect is not None and effect["cannot_tell"] is None, effect
    assert name in effect["checked"], effect
    wrong = [f for f in effect["findings"] if f["patch"] == name and f["kind"] == "not_in_effect"]
    assert wrong == [], wrong


def disable_patch(name: str, *, wait: bool = True) -> None:
    (LP / name / "enabled").write_text("0")
    if wait:
        wait_for(lambda: not (LP / name).exists(), what=f"{name} to unpatch")


def rmmod(name: str) -> None:
    if not Path(f"/sys/module/{name}").exists():
        return
    wait_for(lambda: read(f"/sys/module/{name}/refcnt") == "0", what=f"{name} refcnt 0")
    subprocess.run(["rmmod", name], check=True, capture_output=True, text=True)
    wait_for(lambda: not Path(f"/sys/module/{name}").exists(), what=f"{name} unloaded")


def set_param(module: str, param: str, value: str) -> None:
    Path(f"/sys/module/{module}/parameters/{param}").write_text(value)


def cleanup() -> None:
    """Leave the kernel as a fresh boot (except forced modules, which can never go)."""
    holds = [(m, "hold") for m in ("lptui_lp_target", "lptui_lp_force1", "lptui_lp_force2")]
    for module, param in (("lptui_target", "block"), *holds):
        if Path(f"/sys/module/{module}/parameters/{param}").exists():
            set_param(module, param, "N")
    if Path("/sys/module/lptui_unhook/parameters/unhook").exists():
        set_param("lptui_unhook", "unhook", "0")  # the handler back before any patch is disabled
    if Path("/sys/module/lptui_hk/parameters/long_ms").exists():
        set_param("lptui_hk", "long_ms", "0")
    for patch in sorted(LP.iterdir()) if LP.exists() else []:
        transition = LP / patch.name / "transition"
        wait_for(lambda t=transition: not t.exists() or read(t) == "0", what="transitions to settle")
        if (LP / patch.name).exists() and read(LP / patch.name / "enabled") == "1":
            disable_patch(patch.name)
    for name in TEST_MODULES:
        if name not in FORCED:
            rmmod(name)


def lptui(*args: str) -> dict:
    """Run the CLI in-process (imports are slow under emulation) and parse its JSON."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*args, "--json"])
    assert code == 0, f"lptui {' '.join(args)} exited {code}"
    return json.loads(out.getvalue())


def inactive(data: dict) -> list[str]:
    """Inactive modules, minus those an earlier test forced on purpose (they stay until reboot)."""
    return sorted(set(data["inactive_modules"]) - FORCED)


def pid_of(comm: str) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if read(entry / "comm") == comm:
                    return int(entry.name)
            except OSError:
                continue
    raise AssertionError(f"no process named {comm}")


def pending_tids_by_kernel(target: int) -> set[int]:
    """An independent scan of /proc: threads whose patch_state is neither -1 nor the target."""
    out = set()
    for state in Path("/proc").glob("[0-9]*/task/[0-9]*/patch_state"):
        try:
            value = int(state.read_text())
        except (OSError, ValueError):
            continue
        if value not in (-1, target):
            out.add(int(state.parent.name))
    return out


AGREEMENT = Path(os.environ.get("LPTUI_GUEST_OUT", "/tmp")) / "agreement.jsonl"
CONTROL = Path("/proc/dynamic_debug/control")


def switch_task_sites() -> list[str]:
    """klp_try_switch_task's call sites with their flags, as the kernel lists them."""
    return [line for line in CONTROL.read_text().splitlines() if "klp_try_switch_task" in line]


def kernel_agrees(stall: str, seconds: str = "3.5") -> list[dict]:
    """`lptui verdicts` on the stall in progress: the kernel's own lines are read, lptui's reason agrees
    with every one, and the debug flags are exactly what they were. The rows go to the agreement table
    the host side reads (LPTUI_GUEST_OUT/agreement.jsonl)."""
    before = switch_task_sites()
    data = lptui("verdicts", "--seconds", seconds)
    assert switch_task_sites() == before, "lptui verdicts left klp_try_switch_task's flags changed"
    rows = data["verdicts"]
    assert data["lines"] > 0 and rows, f"no verdict line in {seconds} s during {stall}"
    with AGREEMENT.open("a") as fh:
        for row in rows:
            record = {"kernel": os.environ.get("LPTUI_GUEST_KERNEL"), "stall": stall, **row}
            fh.write(json.dumps(record) + "\n")
    assert [r for r in rows if r["agrees"] is False] == [], rows
    return rows
