"""A bounded, restored window of the kernel's per-task verdicts (`lptui verdicts`).

The gates come from the 6.1 hard-lockup report on the live-patching list: klp_try_switch_task()
prints while klp_try_complete_transition() holds tasklist_lock, so many pending tasks printing to a
slow console stall fork() with interrupts off. A KERN_DEBUG line reaches a console only when
console_loglevel >= 8 or ignore_loglevel is set (suppress_message_printing, kernel/printk/printk.c).
Before anything is enabled the saved flags are written to RESTORE_RECORD, so a killed lptui leaves
what the next start (`restore_leftover`) or the transient timer puts back.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from lptui.core.actions.dyndbg import CONTROL, CallSite, call_sites
from lptui.core.errors import ActionError
from lptui.core.tree import Tree

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.core.livepatch.verdicts import Verdict

MAX_PENDING = 200  # more pending tasks than this: refuse (one line each per retry)
DEFAULT_SECONDS = 3.5  # three of the kernel's 1 s retries (round_jiffies_relative(HZ)) and a margin
MAX_SECONDS = 30.0
RESTORE_RECORD = "/run/lptui/dyndbg-restore.json"


@dataclass(frozen=True, slots=True)
class Gate:
    sites: tuple[CallSite, ...]
    console_loglevel: int | None


def check_gates(tree: Tree, pending: int | None, transition: bool, *, max_pending: int = MAX_PENDING) -> Gate:
    """The saved call sites, or an ActionError with one line saying why not now."""
    if not transition:
        raise ActionError("no transition in progress: the kernel prints no verdicts then")
    control = tree.read_upto(CONTROL, 4 * 1024 * 1024)
    if not control.ok:
        raise ActionError(f"cannot read /{CONTROL} ({control.error}): a kernel without CONFIG_DYNAMIC_DEBUG?")
    sites = call_sites(control.text or "")
    if not sites:
        raise ActionError(f"/{CONTROL} lists no klp_try_switch_task call site")
    if pending is None or pending > max_pending:
        count = "an unknown number of" if pending is None else str(pending)
        raise ActionError(
            f"{count} tasks are pending (limit {max_pending}): each would print a line a second "
            "under tasklist_lock"
        )
    printk = (tree.read("proc/sys/kernel/printk").text or "").split()
    level = int(printk[0]) if printk and printk[0].isdecimal() else None
    if level is None or level >= 8:
        raise ActionError(
            f"console_loglevel is {level if level is not None else 'unreadable'}: debug lines would reach "
            "the console under tasklist_lock (lower it below 8 first)"
        )
    ignore = (tree.read("sys/module/printk/parameters/ignore_loglevel").text or "").strip()
    if ignore == "Y":
        raise ActionError("printk.ignore_loglevel is set: debug lines would reach the console")
    return Gate(sites, level)


def save_record(sites: tuple[CallSite, ...], path: str = RESTORE_RECORD) -> None:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w") as fh:
        json.dump({"restore": [s.restore_query() for s in sites]}, fh)
    os.replace(tmp, path)


def restore_leftover(write: Callable[[str], None], path: str = RESTORE_RECORD) -> int:
    """Put back what a killed lptui left enabled; the number of call sites restored."""
    try:
        with open(path) as fh:
            queries = json.load(fh).get("restore", [])
    except (OSError, ValueError, AttributeError):
        return 0
    done = 0
    for query in queries:
        if isinstance(query, str) and query.startswith("file ") and "\n" not in query:
            write(query)
            done += 1
    os.unlink(path)
    return done


def control_writer(root: str = "/") -> Callable[[str], None]:
    """Each query in its own write(): the kernel answers a bad one with an error (ddebug_exec_queries)."""
    path = os.path.join(root, CONTROL)

    def write(query: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, query.encode() + b"\n")
        finally:
            os.close(fd)

    return write


def arm_timer(sites: tuple[CallSite, ...], after: float, record: str = RESTORE_RECORD) -> str | None:
    """A transient systemd timer that restores the flags even if lptui is killed (PID 1 systemd only);
    the unit's name, or None where there is no systemd (the record then waits for the next start)."""
    import shutil
    import subprocess

    try:
        with open("/proc/1/comm") as fh:
            init = fh.read().strip()
    except OSError:
        return None
    tool = shutil.which("systemd-run")
    if init != "systemd" or tool is None:
        return None
    unit = f"lptui-verdicts-restore-{os.getpid()}"
    queries = " ".join(f"'{s.restore_query()}'" for s in sites)  # dyndbg's file pattern admits no quote
    script = f"printf '%s\\n' {queries} > /{CONTROL}; rm -f {record}"
    cmd = [tool, "--quiet", f"--unit={unit}", f"--on-active={int(after) + 1}s", "/bin/sh", "-c", script]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return unit if done.returncode == 0 else None


def disarm_timer(unit: str | None) -> None:
    if unit is None:
        return
    import subprocess

    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(["systemctl", "stop", f"{unit}.timer"], capture_output=True, timeout=10, check=False)


@dataclass(frozen=True, slots=True)
class WindowResult:
    verdicts: dict[int, Verdict]  # the latest per pid
    lines: int  # verdict lines read
    seconds: float
    restored: int  # call sites put back
    timer: str | None  # the transient unit that would have restored them, or None (the record did)


def run_window(
    gate: Gate,
    seconds: float,
    kmsg_path: str,
    write: Callable[[str], None],
    *,
    record: str = RESTORE_RECORD,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timer: bool = True,
) -> WindowResult:
    """Enable the sites for `seconds`, collect the verdicts, and put every flag back on any exit
    (Ctrl-C and SIGTERM raise through here; SIGKILL leaves the record and the timer)."""
    from lptui.core.livepatch.verdicts import VerdictLog
    from lptui.core.oncall.kmsg import KmsgReader

    seconds = min(max(seconds, 0.0), MAX_SECONDS)
    reader = KmsgReader(kmsg_path)
    if reader.error:
        raise ActionError(reader.error)
    reader.skip_to_end()
    save_record(gate.sites, record)
    unit = arm_timer(gate.sites, seconds + 30, record) if timer else None
    log, lines, restored = VerdictLog(), 0, 0
    start = clock()
    try:
        for site in gate.sites:
            write(site.enable_query())
        while True:
            for line in reader.read_new(keep=lambda line: "klp_try_switch_task: " in line.text):
                lines += log.feed(line.text, line.usec) is not None
            if clock() - start >= seconds:
                break
            sleep(0.25)
    finally:
        for site in gate.sites:
            write(site.restore_query())
            restored += 1
        with contextlib.suppress(OSError):
            os.unlink(record)
        disarm_timer(unit)
        reader.close()
    return WindowResult(dict(log.latest), lines, clock() - start, restored, unit)
