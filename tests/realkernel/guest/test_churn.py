"""A churning real kernel: for CHURN_SECONDS (3 minutes under emulation) load, revert and unload a patch
in a loop, start and end hundreds of threads, and now and then hold a stall (a kthread asleep in the
patched function) while `lptui watch` follows it; all the while the console runs in tmux and `metrics
--listen` is scraped every second. Then: no traceback anywhere, every `watch` consistent with the kernel
log's order, the last scrape and the console's last screen agreeing with sysfs, the exporter's RSS and
descriptors within their bounds, nothing left in /dev/shm or /tmp. The numbers go to churn.json."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.realkernel.guest.kmod import (
    LP,
    MODULES,
    disable_patch,
    insmod,
    load_patch,
    pending_tids_by_kernel,
    pid_of,
    read,
    rmmod,
    set_param,
    wait_for,
)

CHURN_SECONDS = float(os.environ.get("LPTUI_CHURN_SECONDS", "180"))
RSS_GROWTH_KIB = 24 * 1024  # the exporter's resident set may grow this much over the churn, no more
FD_GROWTH = 4
STALL_EVERY = 70.0  # seconds between held stalls


def lptui_command() -> list[str]:
    script = Path(sys.executable).parent / "lptui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "lptui"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_and_fds(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def leftovers() -> set[str]:
    """What lptui could leave: every temporary it makes is named lptui-* or .lptui-* (a replay, a capture,
    a simulated kernel). The guest's /tmp is an overlay of the host's, so others' tmp* can show through."""
    out = set()
    for where in ("/dev/shm", "/tmp"):
        out |= {f"{where}/{n}" for n in os.listdir(where) if n.startswith(("lptui", ".lptui"))}
    return out


class Scraper(threading.Thread):
    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.count, self.errors, self.last = url, threading.Event(), 0, [], ""

    def run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                with urllib.request.urlopen(self.url, timeout=10) as r:
                    self.last = r.read().decode()
                self.count += 1
            except OSError as exc:
                self.errors.append(str(exc))


def metric(text: str, name: str) -> float | None:
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def kernel_log_order(patch: str) -> tuple[int, int]:
    """Where the kernel log's last "starting patching transition" and "patching complete" lines of
    `patch` stand (kernel/livepatch/transition.c prints both, in that order)."""
    lines = subprocess.run(["dmesg"], capture_output=True, text=True).stdout.splitlines()
    started = max(i for i, line in enumerate(lines) if f"'{patch}': starting patching transition" in line)
    done = max(i for i, line in enumerate(lines) if f"'{patch}': patching complete" in line)
    return started, done


def held_stall(watches: list[dict]) -> None:
    """A kthread asleep in the patched function; `watch` follows it from start to completion."""
    insmod("lptui_target")
    sleeper = pid_of("lptui_sleeper")
    wait_for(lambda: "lptui_target_sleep" in read(f"/proc/{sleeper}/stack"), what="kthread in the function")
    load_patch("lptui_lp_target", wait=False)
    wait_for(lambda: sleeper in pending_tids_by_kernel(1), timeout=60, what="the sleeper pending")
    watch = subprocess.Popen(
        [*lptui_command(), "watch", "--timeout", "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = watch.stdout.readline()  # the transition as it stands: started, the blocker
    set_param("lptui_target", "block", "N")  # released: the transition completes
    rest, err = watch.communicate(timeout=300)
    wait_for(lambda: read(LP / "lptui_lp_target" / "transition") == "0", what="the stall's transition")
    started, done = kernel_log_order("lptui_lp_target")
    watches.append(
        {
            "lines": [first, *rest.splitlines()],
            "stderr": err,
            "code": watch.returncode,
            "kernel_log_in_order": started < done,
        }
    )
    disable_patch("lptui_lp_target")
    rmmod("lptui_lp_target")
    rmmod("lptui_target")


def test_churning_kernel_never_makes_lptui_lie_crash_or_leak():
    assert shutil.which("tmux"), "tmux is needed in the guest"
    before = leftovers()
    port = free_port()
    exporter = subprocess.Popen(
        [*lptui_command(), "metrics", "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    env = dict(os.environ, TMUX_TMPDIR="/tmp")
    tmux = ["tmux", "-L", "lptui-churn"]
    console = " ".join(lptui_command())
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "c", "-x", "120", "-y", "40", console], check=True, env=env
    )
    scraper = Scraper(f"http://127.0.0.1:{port}/metrics")
    watches: list[dict] = []
    cycles = threads_started = 0
    try:
        wait_for(
            lambda: _get(f"http://127.0.0.1:{port}/metrics"), timeout=300, interval=1, what="the exporter"
        )
        scraper.start()
        time.sleep(5)  # past the exporter's first polls: its resident set is warm
        rss0, fds0 = rss_and_fds(exporter.pid)
        start = time.monotonic()
        next_stall = start + 20
        while time.monotonic() - start < CHURN_SECONDS:
            load_patch("lptui_lp_cmdline")
            many = subprocess.Popen(
                [str(MODULES / "lptui_threads"), "300"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert many.stdout.readline().split()[0] == "ready"
            threads_started += 300
            disable_patch("lptui_lp_cmdline")  # revert while the threads exist
            many.stdin.close()
            many.wait(60)
            rmmod("lptui_lp_cmdline")
            cycles += 1
            if time.monotonic() >= next_stall:
                held_stall(watches)
                next_stall = time.monotonic() + STALL_EVERY
        if not watches:
            held_stall(watches)
        churn_seconds = time.monotonic() - start
        names = {p.name for p in LP.iterdir()}  # what sysfs holds now (forced modules of earlier tests)

        def settled() -> bool:
            return (
                metric(scraper.last, "lptui_patches_loaded") == len(names)
                and metric(scraper.last, "lptui_transition_in_progress") == 0
            )

        wait_for(settled, timeout=120, interval=1, what="the last scrape to agree with sysfs")
        rss1, fds1 = rss_and_fds(exporter.pid)

        def screen() -> str:
            return subprocess.run(
                [*tmux, "capture-pane", "-p", "-t", "c"], capture_output=True, text=True, env=env
            ).stdout

        def console_agrees() -> bool:
            """The patches panel lists what sysfs holds, the churned patches gone; no transition panel
            (the event log below still names the churned patches: it is the kernel log's history)."""
            shown = screen()
            rows = patches_panel(shown)
            return (
                rows is not None
                and names <= rows
                and not rows & {"lptui_lp_cmdline", "lptui_lp_target"}
                and "╭─ Transition" not in shown
                and "Traceback" not in shown
            )

        wait_for(console_agrees, timeout=120, interval=1, what="the console's screen to agree with sysfs")
        last_screen = screen()
    finally:
        scraper.stop.set()
        subprocess.run([*tmux, "kill-server"], capture_output=True, env=env)
        exporter.terminate()
        _, exporter_err = exporter.communicate(timeout=60)
    assert "Traceback" not in exporter_err and "Traceback" not in last_screen, exporter_err
    assert scraper.count >= churn_seconds * 0.5 and len(scraper.errors) <= 2, scraper.errors[:5]
    for w in watches:  # the kernel's order: started (the stall seen), then complete, exit 0
        assert w["code"] == 0 and "Traceback" not in w["stderr"], w
        text = [line for line in w["lines"] if line.strip()]
        assert "lptui_lp_target" in text[0] and ("started" in text[0] or "pending" in text[0]), text
        # complete, then only what `watch` says after it: whether the patch is in effect
        ends = [i for i, line in enumerate(text) if "complete: lptui_lp_target patching finished" in line]
        assert len(ends) == 1 and not any("complete" in line for line in text[: ends[0]]), text
        assert [line.split(" ", 1)[1] for line in text[ends[0] + 1 :]] == [
            "in effect: ftrace runs lptui_lp_target's handler on every function it patches"
        ], text
        assert w["kernel_log_in_order"], "the kernel log's start and completion lines out of order"
    assert rss1 - rss0 <= RSS_GROWTH_KIB, (rss0, rss1)
    assert fds1 - fds0 <= FD_GROWTH, (fds0, fds1)
    time.sleep(1)
    assert leftovers() <= before, sorted(leftovers() - before)
    result = {
        "kernel": os.uname().release,
        "churn_seconds": round(churn_seconds),
        "load_revert_unload_cycles": cycles,
        "held_stalls": len(watches),
        "transitions": 2 * cycles + 2 * len(watches),  # each cycle and stall: patching, then unpatching
        "threads_started": threads_started,
        "scrapes": scraper.count,
        "scrape_errors": len(scraper.errors),
        "exporter_rss_kib": [rss0, rss1],
        "exporter_fds": [fds0, fds1],
    }
    print(json.dumps(result))
    if os.environ.get("LPTUI_GUEST_OUT"):
        (Path(os.environ["LPTUI_GUEST_OUT"]) / "churn.json").write_text(json.dumps(result))


def patches_panel(screen: str) -> set[str] | None:
    """The first cell of each row of the console's Patches panel (None when the panel is not shown)."""
    lines = screen.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("╭─ Patches")), None)
    if start is None:
        return None
    rows = set()
    for line in lines[start + 2 :]:  # past the title and the column headers
        if line.lstrip().startswith("╰"):
            break
        cells = line.strip("│ ").split()
        if cells:
            rows.add(cells[0])
    return rows


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.read().decode()
    except OSError:
        return ""
