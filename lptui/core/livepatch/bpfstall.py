"""What lptui can say of a BPF frame on a pending task's stack, read only when one is there.

- Whether this kernel's unwinder walks BPF frames: 6.19's "x86/unwind/orc: Support reliable unwinding
  through BPF stack frames" came with "bpf: Add bpf_has_frame_pointer()"; the symbol in /proc/kallsyms
  is the probe (never the version number: distributions backport).
- The function each trampoline is attached to: its key holds the BTF object and type id
  (blockers.trampoline_target), resolved in the kernel's own BTF, /sys/kernel/btf/vmlinux (object 1).
- Whether a program is still attached there: ftrace lists a direct caller's trampoline in tracefs
  `enabled_functions` (t_show in kernel/trace/ftrace.c: a `direct-->bpf_trampoline_<key>+...` text on
  the function's record). A trampoline frame with no such line is stale: the program went, the sleep
  that passed through it has not ended.
- Where bpftool is installed (never a dependency), the programs on that function and the processes
  holding them: `bpftool link show --json` gives each tracing link's target_obj_id/target_btf_id and
  prog_id, `bpftool prog show --json` each program's name and pids.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from typing import Any

from lptui.core.livepatch.blockers import BpfFacts, bpf_frames, explain, trampoline_target, unreliable_text
from lptui.core.livepatch.btf import KIND_FUNC, MAX_BYTES, type_names
from lptui.core.livepatch.ftrace import read_enabled
from lptui.core.model import Reason, TaskInfo, TransitionInfo
from lptui.core.tree import Tree

FIX_SYMBOL = "bpf_has_frame_pointer"
BTF_VMLINUX = "sys/kernel/btf/vmlinux"
_FIX = re.compile(rf"^[0-9a-fA-F]+ [A-Za-z] {FIX_SYMBOL}(?:\s|$)", re.MULTILINE)
BPFTOOL_TIMEOUT = 5.0
BPFTOOL_MAX_OUTPUT = 4 << 20


def probe_reliable(tree: Tree) -> bool | None:
    read = tree.read_whole("proc/kallsyms")
    return None if not read.ok or not read.text else _FIX.search(read.text) is not None


def attached_trampolines(tree: Tree) -> dict[str, str] | None:
    """Trampoline -> the function it is attached to, from enabled_functions' direct callers (t_show's
    "direct-->%pS"); None when unreadable."""
    enabled = read_enabled(tree)
    if enabled is None:
        return None
    return {
        rec.direct.split("+", 1)[0]: rec.function
        for rec in enabled.values()
        if rec.direct and rec.direct.startswith("bpf_trampoline_")
    }


class BpfReader:
    """Reads the facts for a snapshot's trampoline frames, keeping what cannot change while the kernel
    runs (the probe, a type id's name) and asking bpftool again only when ftrace's attachments change."""

    def __init__(self) -> None:
        self._reliable: bool | None = None
        self._probed = False
        self._names: dict[str, str] = {}
        self._programs_key: object = None
        self._programs: dict[str, str] = {}

    def facts(self, tree: Tree, frames: dict[str, tuple[int, int] | None]) -> BpfFacts:
        """The facts for these trampoline frames: name -> (BTF object, type id), or None."""
        if not self._probed:
            self._reliable, self._probed = probe_reliable(tree), True
        wanted = {
            key[1]: name for name, key in frames.items() if key and key[0] == 1 and name not in self._names
        }
        if wanted:
            data, _ = tree.read_bytes(BTF_VMLINUX, MAX_BYTES)
            names = type_names(data, set(wanted)) if data is not None else None
            for type_id, (kind, function) in (names or {}).items():
                if kind == KIND_FUNC:
                    self._names[wanted[type_id]] = function
        now = attached_trampolines(tree)
        targets = {name: self._names[name] for name in frames if name in self._names}
        for name, function in (now or {}).items():
            if name in frames and name not in targets and function != "?":
                targets[name] = function  # ftrace names the function a live trampoline is attached to
        attached = None if now is None else {name: name in now for name in frames}
        if str(tree.root) == "/":
            key = (tuple(sorted(frames)), tuple(sorted(now or {})))
            if key != self._programs_key:
                self._programs_key, self._programs = key, bpftool_programs(frames)
        return BpfFacts(self._reliable, targets, attached, dict(self._programs))


def _bpftool(tool: str, *args: str) -> list[Any] | None:
    try:
        done = subprocess.run(
            [tool, *args, "--json"], capture_output=True, timeout=BPFTOOL_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or len(done.stdout) > BPFTOOL_MAX_OUTPUT:
        return None
    try:
        value = json.loads(done.stdout)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def bpftool_programs(frames: dict[str, tuple[int, int] | None]) -> dict[str, str]:
    """Trampoline -> the programs linked at its function and their holders ("still attached: ..."),
    when bpftool answers. A bpftool that does not print a tracing link's target (Debian 12's 7.1 does
    not) gives every tracing link's program instead, said so."""
    tool = shutil.which("bpftool")
    keys = {key: name for name, key in frames.items() if key is not None}
    if tool is None or not keys:
        return {}
    links, progs = _bpftool(tool, "link", "show"), _bpftool(tool, "prog", "show")
    if links is None or progs is None:
        return {}
    by_id = {p.get("id"): p for p in progs if isinstance(p, dict)}
    linked = {link.get("prog_id") for link in links if isinstance(link, dict)}
    bare = {i for i in linked if isinstance(i, int) and not (by_id.get(i) or {}).get("pids")}
    holders = prog_holders(bare) if bare else {}
    exact: dict[str, list[str]] = {}
    tracing: list[str] = []
    for link in links:
        prog = by_id.get(link.get("prog_id")) if isinstance(link, dict) else None
        if not isinstance(link, dict) or not isinstance(prog, dict):
            continue
        key = (link.get("target_obj_id"), link.get("target_btf_id"))
        if key in keys:
            exact.setdefault(keys[key], []).append(_program(prog, holders))
        elif link.get("type") == "tracing" and "target_btf_id" not in link:
            tracing.append(_program(prog, holders))
    out = {name: "still attached: " + ", ".join(texts) for name, texts in exact.items()}
    if tracing:
        loaded = "; tracing programs loaded now (bpftool does not say which is on it): " + ", ".join(
            tracing[:8]
        )
        for name in frames:
            out.setdefault(name, "a program is still attached there (enabled_functions)" + loaded)
    return out


def _program(prog: dict[str, Any], holders: dict[int, list[str]]) -> str:
    name = str(prog.get("name") or f"id {prog.get('id')}")
    pids = [p for p in prog.get("pids") or [] if isinstance(p, dict)]
    key = prog.get("id")
    held = [f"{p.get('comm')} pid {p.get('pid')}" for p in pids[:4]] or (
        holders.get(key, [])[:4] if isinstance(key, int) else []
    )
    return f"program {name} ({', '.join(held)})" if held else f"program {name}"


MAX_FDS = 200_000  # file descriptors looked at for BPF program holders


def prog_holders(wanted: set[int]) -> dict[int, list[str]]:
    """BPF program id -> "comm pid N" of the processes holding it open, from /proc/<pid>/fdinfo's
    prog_id (bpf_prog_show_fdinfo): for a bpftool built without its pids support."""
    out: dict[int, list[str]] = {}
    seen = 0
    for pid in (p for p in os.listdir("/proc") if p.isdecimal()):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            seen += 1
            if seen > MAX_FDS:
                return out
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:bpf-prog":
                    continue
                with open(f"/proc/{pid}/fdinfo/{fd}") as fh:
                    info = fh.read(4096)
                with open(f"/proc/{pid}/comm") as fh:
                    comm = fh.read(64).strip()
            except OSError:
                continue
            match = re.search(r"^prog_id:\s*(\d+)$", info, re.MULTILINE)
            if match and int(match[1]) in wanted:
                holder = f"{comm} pid {pid}"
                if holder not in out.setdefault(int(match[1]), []):
                    out[int(match[1])].append(holder)
    return out


def name_bpf_stalls(
    tree: Tree,
    tasks: tuple[TaskInfo, ...],
    transition: TransitionInfo,
    reader: BpfReader,
    machine: str | None = "x86_64",
) -> tuple[TaskInfo, ...]:
    """The tasks with each BPF-caused unreliable stack named (traced function, attached or stale,
    holders); on a kernel that walks BPF frames, explained as if the frames were any others. On another
    architecture lptui knows nothing of how its unwinder treats BPF frames (the rule is x86's ORC): the
    frames are ordinary ones there, and only the kernel's own verdict can say the stack is unreliable."""
    stalled = [t for t in tasks if t.reason_code is Reason.UNRELIABLE_STACK and bpf_frames(t.stack)]
    if not stalled:
        return tasks
    if machine != "x86_64":
        out = []
        for task in tasks:
            if task in stalled:
                code, reason = explain(task, task.blocking_functions, transition, bpf_unreliable=False)
                task = replace(task, reason_code=code, reason=reason)
            out.append(task)
        return tuple(out)
    frames = {
        f: trampoline_target(f)
        for t in stalled
        for f in bpf_frames(t.stack)
        if f.startswith("bpf_trampoline_")
    }
    facts = reader.facts(tree, frames)
    out = []
    for task in tasks:
        if task not in stalled:
            out.append(task)
        elif facts.reliable:
            code, reason = explain(task, task.blocking_functions, transition, bpf_unreliable=False)
            out.append(replace(task, reason_code=code, reason=reason))
        else:
            reason = unreliable_text(bpf_frames(task.stack), task.kthread, task.state, facts)
            out.append(replace(task, reason=reason))
    return tuple(out)
