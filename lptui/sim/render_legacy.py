"""The older systems' files: kGraft's newest `state` table, the kpatch core's per-object layout,
Ksplice built into the kernel. Their directories are made here (the core's are made by `Renderer`)."""

from __future__ import annotations

from pathlib import Path

from lptui.sim.files import sync, write
from lptui.sim.legacy import KgraftSim, KpatchCoreSim, KspliceSim


def render_kgraft(root: Path, kgr: KgraftSim | None) -> None:
    base = root / "sys/kernel/kgraft"
    if kgr is None:
        if base.is_dir():
            sync(base, set())
            base.rmdir()
        return
    sync(base, {"in_progress", "force_load_module"} | {p.name for p in kgr.patches})
    write(base / "in_progress", f"{int(kgr.in_progress)}\n", 0o644)
    write(base / "force_load_module", "0\n", 0o644)
    for p in kgr.patches:
        pdir = base / p.name
        sync(pdir, {"state", "refs", "replace_all", "revert", "owner"})
        # state_show, walbon/openSUSE-kernel @d017a71
        table = f"{'Function':<20s}  {'Object':<20s}  Sympos  State\n"
        table += "".join(f"{f.name:<20s}  {f.obj:<20s}  {f.sympos:6d}  {f.state:5d}\n" for f in p.funcs)
        write(pdir / "state", table)
        write(pdir / "refs", f"{p.refs}\n")
        write(pdir / "replace_all", f"{int(p.replace_all)}\n")
        write(pdir / "revert", "", 0o200)
        link = pdir / "owner"
        if not link.is_symlink():
            link.symlink_to(f"../../../module/{p.name}")


def render_kpatch_core(root: Path, kp: KpatchCoreSim | None) -> None:
    base = root / "sys/kernel/kpatch"
    if kp is None:
        if base.is_dir():
            sync(base, set())
            base.rmdir()
        return
    sync(base, {p.name for p in kp.patches})
    for p in kp.patches:
        pdir = base / p.name
        objects = {obj for obj, _, _ in p.funcs}
        sync(pdir, {"enabled", "checksum"} | objects)
        write(pdir / "enabled", f"{int(p.enabled)}\n", 0o644)
        write(pdir / "checksum", p.checksum + "\n")
        for obj in objects:
            funcs = {f"{fn},{pos or 1}" for o, fn, pos in p.funcs if o == obj}
            sync(pdir / obj, funcs)
            for fn in funcs:
                write(pdir / obj / fn / "old_addr", "0xffffffff81234560\n", 0o400)
                write(pdir / obj / fn / "new_addr", "0xffffffffc0a01000\n", 0o400)


def render_ksplice(root: Path, ks: KspliceSim | None) -> None:
    base = root / "sys/kernel/ksplice"
    if ks is None:
        if base.is_dir():
            sync(base, set())
            base.rmdir()
        return
    sync(base, {u.kid for u in ks.updates})
    for u in ks.updates:
        udir = base / u.kid
        sync(udir, {"stage", "abort_cause", "debug", "partial", "conflicts"})
        write(udir / "stage", u.stage + "\n", 0o600)
        write(udir / "abort_cause", u.abort_cause + "\n", 0o400)
        write(udir / "debug", "0\n", 0o600)
        write(udir / "partial", "0\n", 0o600)
        # conflict_show: "%s %d" and " %s" per conflicting frame
        lines = "".join(f"{c} {pid}" + "".join(f" {s}" for s in syms) + "\n" for c, pid, syms in u.conflicts)
        write(udir / "conflicts", lines, 0o400)
