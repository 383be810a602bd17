"""Fixture trees for the pre-core live-patching systems, one builder per revision found, each laid out
as its source prints it (the printf formats are copied from the named source, nothing else)."""

from __future__ import annotations

from tests.faketree import FakeKernel

# ---------------------------------------------------------------- kGraft (kernel/kgraft_files.c)


def kgraft_state_fatal(rows: list[tuple[str, int, int]]) -> str:
    """gatieme/linux @0642533 state_show: "%-20s  State  Fatal\\n", rows "%-20s  %5d  %5d\\n"
    (name, state, abort_if_missing)."""
    return f"{'Function':<20s}  State  Fatal\n" + "".join(f"{n:<20s}  {s:5d}  {a:5d}\n" for n, s, a in rows)


def kgraft_weak_state(rows: list[tuple[str, int, int]]) -> str:
    """weiny2/linux-kernel @077dc64 state_show: "%-20s   Weak  State\\n", rows "%-20s  %5d  %5d\\n"
    (name, !abort_if_missing, state). `rows` are (name, weak, state)."""
    return f"{'Function':<20s}   Weak  State\n" + "".join(f"{n:<20s}  {w:5d}  {s:5d}\n" for n, w, s in rows)


def kgraft_object_state(rows: list[tuple[str, str, int, int]]) -> str:
    """walbon/openSUSE-kernel @d017a71 state_show: "%-20s  %-20s  Sympos  State\\n", rows
    "%-20s  %-20s  %6lu  %5d\\n" (name, object or "vmlinux", sympos, state)."""
    head = f"{'Function':<20s}  {'Object':<20s}  Sympos  State\n"
    return head + "".join(f"{n:<20s}  {o:<20s}  {p:6d}  {s:5d}\n" for n, o, p, s in rows)


def kgraft(
    fake: FakeKernel,
    *,
    in_progress: int,
    patches: dict[str, str],
    refs: bool = True,
    owner: bool = True,
    force_load_module: bool = False,
) -> None:
    """/sys/kernel/kgraft/{in_progress, <patch>/{state, revert, refs, replace_all, owner}}.
    `refs`/`replace_all` exist from weiny2/linux-kernel @077dc64 on; `force_load_module` in
    walbon/openSUSE-kernel @d017a71."""
    fake.write("sys/kernel/kgraft/in_progress", f"{in_progress}\n")
    if force_load_module:
        fake.write("sys/kernel/kgraft/force_load_module", "0\n")
    for name, state in patches.items():
        base = f"sys/kernel/kgraft/{name}"
        fake.write(f"{base}/state", state)
        fake.write(f"{base}/revert", "")
        if refs:
            fake.write(f"{base}/refs", "0\n")
            fake.write(f"{base}/replace_all", "0\n")
        fake.module(name, refcnt="1", taint="OEK")
        if owner:
            (fake.root / base / "owner").symlink_to(f"../../../module/{name}")


def kgr_process(fake: FakeKernel, pid: int, flag: int, **task) -> None:
    """/proc/<pid>/kgr_in_progress: "%d\\n" ("livepatch: add kgr infrastructure", SUSE kernel-source)."""
    fake.task(pid, **task)
    fake.write(f"proc/{pid}/kgr_in_progress", f"{flag}\n")


# ---------------------------------------------- kpatch core (dynup/kpatch kmod/patch/kpatch-patch-hook.c)


def kpatch_core_patches_layout(fake: FakeKernel, name: str, *, enabled: int, functions: list[str]) -> None:
    """@0c9a546 / @97c2bea: /sys/kernel/kpatch/patches/<module>/{enabled, checksum,
    functions/<name>/{old_addr, new_addr}} ("%d\\n", "%s\\n", "0x%lx\\n")."""
    base = f"sys/kernel/kpatch/patches/{name}"
    fake.write(f"{base}/enabled", f"{enabled}\n")
    fake.write(f"{base}/checksum", "2d2b1ec7e1d9a0f1b3c4d5e6f7a8b9c0\n")
    for fn in functions:
        fake.write(f"{base}/functions/{fn}/old_addr", "0xffffffff81234560\n")
        fake.write(f"{base}/functions/{fn}/new_addr", "0xffffffffa0001000\n")
    fake.module(name, refcnt=str(enabled), taint="OE")


def kpatch_core_objects_layout(
    fake: FakeKernel, name: str, *, enabled: int, objects: dict[str, list[str]]
) -> None:
    """The per-object revision: /sys/kernel/kpatch/<module>/{enabled, checksum,
    <object>/<function>,<sympos>/{old_addr, new_addr}}."""
    base = f"sys/kernel/kpatch/{name}"
    fake.write(f"{base}/enabled", f"{enabled}\n")
    fake.write(f"{base}/checksum", "9f0e8d7c6b5a49382716059483726150\n")
    for obj, funcs in objects.items():
        for fn in funcs:
            fake.write(f"{base}/{obj}/{fn}/old_addr", "0xffffffff81234560\n")
            fake.write(f"{base}/{obj}/{fn}/new_addr", "0xffffffffa0001000\n")
    fake.module(name, refcnt=str(enabled), taint="OE")


def kpatch_core_module(fake: FakeKernel, refcnt: int, version: str = "0.4.0") -> None:
    """kpatch.ko itself (kmod/core/core.c): /sys/kernel/kpatch and /sys/module/kpatch."""
    (fake.root / "sys/kernel/kpatch").mkdir(parents=True, exist_ok=True)
    fake.module("kpatch", refcnt=str(refcnt), taint="OE")
    fake.write("sys/module/kpatch/version", version + "\n")


# ------------------------------------- Ksplice (linux-kernel-live-patching/ksplice kmodsrc/ksplice.c)


def ksplice_conflicts(rows: list[tuple[str, int, list[str]]]) -> str:
    """conflict_show: "%s %d" then " %s" per conflicting frame, then "\\n"."""
    return "".join(f"{comm} {pid}" + "".join(f" {s}" for s in syms) + "\n" for comm, pid, syms in rows)


def ksplice_2008_module_pack(fake: FakeKernel, module: str, *, stage: str, abort_cause: str) -> None:
    """The module_pack revision: /sys/module/<primary>/ksplice/{stage, abort_cause ("none" when fine),
    source_diff}; no conflicts file."""
    base = f"sys/module/{module}/ksplice"
    fake.module(module, refcnt="1", taint="")
    fake.write(f"{base}/stage", stage + "\n")
    fake.write(f"{base}/abort_cause", abort_cause + "\n")
    fake.write(f"{base}/source_diff", "--- a/kernel/sys.c\n+++ b/kernel/sys.c\n")


def ksplice_bundle(
    fake: FakeKernel, module: str, *, stage: str, abort_cause: str, conflicts: str = ""
) -> None:
    """The update_bundle revision (standalone): /sys/module/ksplice_<mid>/ksplice/{stage, abort_cause
    ("ok" when fine), conflicts, debug}."""
    base = f"sys/module/{module}/ksplice"
    fake.module(module, refcnt="0", taint="")
    fake.write(f"{base}/stage", stage + "\n")
    fake.write(f"{base}/abort_cause", abort_cause + "\n")
    fake.write(f"{base}/conflicts", conflicts)
    fake.write(f"{base}/debug", "0\n")


def ksplice_in_kernel(
    fake: FakeKernel, kid: str, *, stage: str, abort_cause: str, conflicts: str = "", modules: tuple = ()
) -> None:
    """The update revision built into the kernel: /sys/kernel/ksplice/<kid>/{stage, abort_cause, debug,
    partial, conflicts}; the update's modules are ksplice_<kid>_<target>."""
    base = f"sys/kernel/ksplice/{kid}"
    fake.write(f"{base}/stage", stage + "\n")
    fake.write(f"{base}/abort_cause", abort_cause + "\n")
    fake.write(f"{base}/debug", "0\n")
    fake.write(f"{base}/partial", "0\n")
    fake.write(f"{base}/conflicts", conflicts)
    for module in modules:
        fake.module(module, refcnt="0", taint="")
