"""Read the running kernel's identity, taint and livepatch capabilities."""

from __future__ import annotations

import os

from lptui.core.livepatch.taint import decode_taint
from lptui.core.model import Features, KernelInfo, PatchInfo
from lptui.core.tree import Tree, parse_bool01, parse_int, parse_line

LIVEPATCH_DIR = "sys/kernel/livepatch"


def _possible_cpus(text: str) -> int | None:
    """Count CPUs in a list like ``0-3,5``; None when the text is not such a list."""
    total = 0
    try:
        for part in text.strip().split(","):
            if "-" in part:
                lo, hi = part.split("-", 1)
                if int(hi) < int(lo):
                    return None
                total += int(hi) - int(lo) + 1
            else:
                int(part)
                total += 1
    except ValueError:
        return None
    return total or None


def read_kernel(tree: Tree) -> KernelInfo:
    problems: list[str] = []

    def note(name: str, problem: str | None) -> None:
        if problem:
            problems.append(f"{name}: {problem}")

    release = parse_line(tree.read("proc/sys/kernel/osrelease"))
    note("release", release.problem)
    version = parse_line(tree.read("proc/sys/kernel/version"))
    note("version", version.problem)

    # /proc/sys/kernel/arch exists on recent kernels; on the host itself uname is authoritative.
    machine = parse_line(tree.read("proc/sys/kernel/arch"))
    machine_value = machine.value
    if machine_value is None and os.path.realpath(tree.root) == "/":
        machine_value = os.uname().machine

    tainted = parse_int(tree.read("proc/sys/kernel/tainted"))
    note("tainted", tainted.problem)
    taint_value = tainted.value if isinstance(tainted.value, int) and tainted.value >= 0 else None
    if tainted.value is not None and taint_value is None:
        note("tainted", f"negative value {tainted.value}")

    ftrace = parse_bool01(tree.read("proc/sys/kernel/ftrace_enabled"))
    note("ftrace_enabled", ftrace.problem if tree.exists("proc/sys/kernel/ftrace_enabled") else None)

    cpus_read = tree.read("sys/devices/system/cpu/possible")
    cpus = _possible_cpus(cpus_read.text) if cpus_read.ok and cpus_read.text else None

    return KernelInfo(
        release=release.value,
        version=version.value,
        machine=machine_value,
        livepatch_supported=tree.is_dir(LIVEPATCH_DIR),
        tainted=taint_value,
        taint_flags=decode_taint(taint_value) if taint_value is not None else (),
        ftrace_enabled=ftrace.value,
        possible_cpus=cpus,
        problems=tuple(problems),
    )


def probe_features(tree: Tree, patches: tuple[PatchInfo, ...]) -> Features:
    """Which attributes exist, by looking at the files of the first loaded patch."""
    for patch in patches:
        base = f"{LIVEPATCH_DIR}/{patch.name}"
        if not tree.is_dir(base):
            continue
        object_patched = any(tree.exists(f"{base}/{obj.name}/patched") for obj in patch.objects)
        return Features(
            transition=tree.exists(f"{base}/transition"),
            force=tree.exists(f"{base}/force"),
            signal=tree.exists(f"{base}/signal"),
            replace=tree.exists(f"{base}/replace"),
            stack_order=tree.exists(f"{base}/stack_order"),
            object_patched=object_patched if patch.objects else None,
            probed_from=patch.name,
        )
    return Features()
