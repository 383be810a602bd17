"""Write a `SimKernel` out as the files a real kernel shows under /sys and /proc.

Files are replaced atomically (write + rename), so a reader in another thread never sees a
half-written value. Task files are rewritten only when the task changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from lptui.sim.bpf import vmlinux_btf
from lptui.sim.ftrace import enabled_functions, kprobes_list
from lptui.sim.kernel import SimKernel
from lptui.sim.kofile import module_image
from lptui.sim.legacy import KgraftSim, KpatchCoreSim, KspliceSim
from lptui.sim.rules import vermagic
from lptui.sim.state import SimTask

PF_KTHREAD = 0x00200000


def _write(path: Path, text: str | bytes, mode: int = 0o644) -> None:
    # plain descriptors, not pathlib and file objects: a demo's first render writes ~1,300 files
    # before the console can paint
    tmp = f"{path.parent}/.{path.name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, text.encode() if isinstance(text, str) else text)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _sync_dir(path: Path, wanted: set[str]) -> None:
    """Remove entries of `path` not in `wanted` (a freed patch, an unloaded module, an exited task)."""
    if not path.is_dir():
        return
    for entry in os.listdir(path):
        if entry not in wanted and not entry.startswith("."):
            target = path / entry
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)


# The older systems' files: kGraft's newest `state` table, the kpatch core's per-object layout,
# Ksplice built into the kernel. Their directories are made here (the core's are made by Renderer).
def write(path: Path, text: str, mode: int = 0o444) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, text, mode)


def sync(path: Path, wanted: set[str]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    _sync_dir(path, wanted)


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


def _offsets(func: str) -> str:
    digest = hashlib.blake2b(func.encode(), digest_size=4).digest()
    size = 0x40 + (digest[0] << 4)
    return f"+0x{(digest[1] << 2) % size:x}/0x{size:x}"


def stack_text(task: SimTask) -> str:
    lines = []
    for func, mod in task.stack:
        lines.append(f"[<0>] {func}{_offsets(func)}{f' [{mod}]' if mod else ''}\n")
    return "".join(lines)


def stat_text(task: SimTask) -> str:
    flags = 0x00400140 | (PF_KTHREAD if task.kthread else 0)
    fields = [
        str(task.tid),
        f"({task.comm})",
        task.state,
        str(task.ppid),
        str(task.pid),
        str(task.pid),
        "0",
        "-1",
    ]
    fields += [str(flags)] + ["0"] * 43
    return " ".join(fields) + "\n"


class Renderer:
    def __init__(self, sim: SimKernel, root: Path) -> None:
        self.sim = sim
        self.root = Path(root)
        self._rendered_version = -1
        self._tasks_written: set[int] = set()
        self._disk: tuple | None = None
        self._symbols_key: tuple | None = None
        self._dyndbg: tuple[str, str, str] | None = None

    def render(self) -> None:
        if self.sim.version_counter == self._rendered_version:
            return
        self._kernel_files()
        self._livepatch_files()
        render_kgraft(self.root, self.sim.kgraft)
        render_kpatch_core(self.root, self.sim.kpatch_core)
        render_ksplice(self.root, self.sim.ksplice)
        self._module_files()
        self._task_files()
        self._kmsg()
        self._disk_files()
        self._symbol_files()
        self._dyndbg_files()
        self._rendered_version = self.sim.version_counter

    def _dyndbg_files(self) -> None:
        """klp_try_switch_task's call sites (/proc/dynamic_debug/control) and the console log level the
        verdict window's gates read (proc/sys/kernel/printk: Debian's "4 4 1 7"); BPF trampolines in
        ftrace's enabled_functions and the kernel's BTF."""
        sim = self.sim
        key = (sim.dyndbg.control_text(), enabled_functions(sim.patches, sim.kprobes, sim.trampolines))
        if (*key, kprobes_list(sim.kprobes)) != self._dyndbg:
            self._dyndbg = control, table, probes = (*key, kprobes_list(sim.kprobes))
            tracing = self.root / "sys/kernel/tracing"
            tracing.mkdir(parents=True, exist_ok=True)
            _write(tracing / "enabled_functions", table, 0o444)
            debugfs = {"kprobes/list": probes, "fail_function/inject": "", "error_injection/list": ""}
            for rel, text in debugfs.items():
                (self.root / "sys/kernel/debug" / rel).parent.mkdir(parents=True, exist_ok=True)
                _write(self.root / "sys/kernel/debug" / rel, text, 0o400)
            if self.sim.trampolines:
                (self.root / "sys/kernel/btf").mkdir(parents=True, exist_ok=True)
                _write(self.root / "sys/kernel/btf/vmlinux", vmlinux_btf(self.sim.trampolines), 0o444)
            (self.root / "proc/dynamic_debug").mkdir(parents=True, exist_ok=True)
            _write(self.root / "proc/dynamic_debug/control", control, 0o644)
            (self.root / "proc/sys/kernel").mkdir(parents=True, exist_ok=True)
            _write(self.root / "proc/sys/kernel/printk", "4\t4\t1\t7\n", 0o644)

    def _symbol_files(self) -> None:
        """/proc/kallsyms, ftrace's available_filter_functions, and the signature policy: what the
        pre-flight checks read (every simulated function is traceable)."""
        sim = self.sim
        symbols = sorted(sim.symbols().items())
        key = (tuple(symbols), sim.sig_enforce, sim.lockdown)
        if key == self._symbols_key:  # most changes (a task switching) leave the tables alone
            return
        self._symbols_key = key
        kallsyms, traceable = [], []
        for n, ((obj, name), count) in enumerate(symbols):
            mod = "" if obj == "vmlinux" else f"\t[{obj}]"
            kallsyms.extend(
                f"{0xFFFFFFFF81000000 + 0x100 * (n * 4 + i):016x} t {name}{mod}\n" for i in range(count)
            )
            traceable.extend(f"{name}{' [' + obj + ']' if obj != 'vmlinux' else ''}\n" for _ in range(count))
        _write(self.root / "proc/kallsyms", "".join(kallsyms), 0o444)
        tracing = self.root / "sys/kernel/tracing"
        tracing.mkdir(parents=True, exist_ok=True)
        _write(tracing / "available_filter_functions", "".join(traceable), 0o444)
        params = self.root / "sys/module/module/parameters"
        params.mkdir(parents=True, exist_ok=True)
        _write(params / "sig_enforce", "Y\n" if sim.sig_enforce else "N\n", 0o444)
        security = self.root / "sys/kernel/security"
        security.mkdir(parents=True, exist_ok=True)
        modes = " ".join(
            f"[{m}]" if m == sim.lockdown else m for m in ("none", "integrity", "confidentiality")
        )
        _write(security / "lockdown", modes + "\n", 0o444)

    def _disk_files(self) -> None:
        """Installed module files and kpatch's boot service, written when they change; and one in-tree
        module of the release, whose vermagic is the kernel's (the pre-flight compares with it)."""
        sim = self.sim
        key = (tuple(sim.installed), sim.boot_service)
        if key == self._disk:
            return
        self._disk = key
        intree = self.root / f"lib/modules/{sim.release}/kernel/lib"
        intree.mkdir(parents=True, exist_ok=True)
        info = {"name": "crc32", "intree": "Y", "license": "GPL", "vermagic": vermagic(sim.release)}
        _write(intree / "crc32.ko", module_image(info, sim.machine))
        for item in sim.installed:
            release = item.release or sim.release
            spec = item.spec
            info = {"name": spec.name, "livepatch": "Y", "license": "GPL", "srcversion": spec.srcversion,
                    "vermagic": vermagic(release)}  # fmt: skip
            info |= {k: v for k, v in (("version", spec.version), ("description", spec.description)) if v}
            directory = self.root / item.directory.format(r=release)
            directory.mkdir(parents=True, exist_ok=True)
            funcs = tuple((o.name, f.name, f.wanted_sympos) for o in spec.objects for f in o.functions)
            _write(directory / f"{spec.name}.ko", module_image(info, sim.machine, funcs=funcs))
        if sim.boot_service is not None:
            units = self.root / "usr/lib/systemd/system"
            units.mkdir(parents=True, exist_ok=True)
            _write(units / "kpatch.service", '[Unit]\nDescription="Apply kpatch kernel patches"\n')
            wants = self.root / "etc/systemd/system/multi-user.target.wants"
            wants.mkdir(parents=True, exist_ok=True)
            link = wants / "kpatch.service"
            if sim.boot_service == "enabled" and not link.is_symlink():
                link.symlink_to("/usr/lib/systemd/system/kpatch.service")
            elif sim.boot_service != "enabled":
                link.unlink(missing_ok=True)

    def _kernel_files(self) -> None:
        sim = self.sim
        kdir = self.root / "proc/sys/kernel"
        kdir.mkdir(parents=True, exist_ok=True)
        _write(kdir / "osrelease", sim.release + "\n")
        _write(kdir / "version", sim.version + "\n")
        _write(kdir / "arch", sim.machine + "\n")
        _write(kdir / "tainted", f"{sim.taint}\n")
        _write(kdir / "ftrace_enabled", f"{int(sim.ftrace_enabled)}\n")
        cpu = self.root / "sys/devices/system/cpu"
        cpu.mkdir(parents=True, exist_ok=True)
        _write(cpu / "possible", f"0-{sim.ncpus - 1}\n" if sim.ncpus > 1 else "0\n")

    def _livepatch_files(self) -> None:
        sim = self.sim
        base = self.root / "sys/kernel/livepatch"
        if not sim.core:  # a kernel without CONFIG_LIVEPATCH
            if base.is_dir():
                shutil.rmtree(base)
            return
        base.mkdir(parents=True, exist_ok=True)
        _sync_dir(base, {p.name for p in sim.patches})
        tr = sim.transition
        for patch in sim.patches:
            pdir = base / patch.name
            pdir.mkdir(exist_ok=True)
            _write(pdir / "enabled", f"{int(patch.enabled)}\n")
            _write(pdir / "transition", f"{int(tr is not None and tr.patch == patch.name)}\n", 0o444)
            wanted = {"enabled", "transition"} | {o.name for o in patch.objects}
            if "force" in sim.features:
                _write(pdir / "force", "", 0o200)
                wanted.add("force")
            if "signal" in sim.features:
                _write(pdir / "signal", "", 0o200)
                wanted.add("signal")
            if "replace" in sim.features:
                _write(pdir / "replace", f"{int(patch.replace)}\n", 0o444)
                wanted.add("replace")
            if "stack_order" in sim.features:
                _write(pdir / "stack_order", f"{sim.stack_order(patch)}\n", 0o444)
                wanted.add("stack_order")
            _sync_dir(pdir, wanted)
            for obj in patch.objects:
                odir = pdir / obj.name
                odir.mkdir(exist_ok=True)
                funcs = {f"{f.name},{f.sympos}" for f in obj.funcs}
                owanted = set(funcs)
                if "object_patched" in sim.features:
                    _write(odir / "patched", f"{int(obj.patched)}\n", 0o444)
                    owanted.add("patched")
                _sync_dir(odir, owanted)
                for fname in funcs:
                    (odir / fname).mkdir(exist_ok=True)

    def _module_files(self) -> None:
        base = self.root / "sys/module"
        base.mkdir(parents=True, exist_ok=True)
        _sync_dir(base, set(self.sim.modules))
        for module in self.sim.modules.values():
            mdir = base / module.name
            mdir.mkdir(exist_ok=True)
            _write(mdir / "refcnt", f"{module.refcnt}\n", 0o444)
            _write(mdir / "taint", f"{module.taint}\n", 0o444)
            _write(mdir / "initstate", "live\n", 0o444)
            if module.srcversion:
                _write(mdir / "srcversion", module.srcversion + "\n", 0o444)
            if module.version:
                _write(mdir / "version", module.version + "\n", 0o444)
            if module.params:
                pdir = mdir / "parameters"
                pdir.mkdir(exist_ok=True)
                for key, value in module.params.items():
                    _write(pdir / key, value + "\n")

    def _task_files(self) -> None:
        proc = self.root / "proc"
        by_pid: dict[int, list[SimTask]] = {}
        for task in self.sim.tasks.values():
            by_pid.setdefault(task.pid, []).append(task)
        keep = {str(pid) for pid in by_pid} | {"sys", "loadavg", "uptime"}
        running = sum(1 for t in self.sim.tasks.values() if t.state == "R") or 1
        last = max(self.sim.tasks, default=1)
        _write(proc / "loadavg", f"0.42 0.35 0.30 {running}/{len(self.sim.tasks)} {last}\n", 0o444)
        # the clock the kernel log's timestamps count from: the transition's age is uptime - start
        _write(proc / "uptime", f"{self.sim.now:.2f} {self.sim.now * 1.5:.2f}\n", 0o444)
        _sync_dir(proc, keep)
        for pid, tasks in by_pid.items():
            tdir = proc / str(pid) / "task"
            tdir.mkdir(parents=True, exist_ok=True)
            _sync_dir(tdir, {str(t.tid) for t in tasks})
            for task in tasks:
                d = tdir / str(task.tid)
                if not task.dirty and task.tid in self._tasks_written and d.is_dir():
                    continue
                d.mkdir(exist_ok=True)
                _write(d / "comm", task.comm + "\n")
                _write(d / "stat", stat_text(task), 0o444)
                if self.sim.core:  # no patch_state without CONFIG_LIVEPATCH
                    _write(d / "patch_state", f"{task.patch_state}\n", 0o400)
                stack = d / "stack"
                if task.stack_readable:
                    if stack.is_dir():
                        stack.rmdir()
                    _write(stack, stack_text(task), 0o400)
                else:
                    # Root can read any file, so an unreadable stack is modelled as a directory
                    # with no permissions: EACCES for users, EISDIR for root.
                    if stack.exists() and not stack.is_dir():
                        stack.unlink()
                    stack.mkdir(exist_ok=True)
                    os.chmod(stack, 0)
                task.dirty = False
                self._tasks_written.add(task.tid)
            leader = next((t for t in tasks if t.tid == pid), None)
            if leader is not None:
                _write(proc / str(pid) / "comm", leader.comm + "\n")
                if self.sim.core:
                    _write(proc / str(pid) / "patch_state", f"{leader.patch_state}\n", 0o400)
            if self.sim.kgraft is not None:  # /proc/<pid>/kgr_in_progress, "%d\n"
                flag = int(pid in self.sim.kgraft.pending)
                _write(proc / str(pid) / "kgr_in_progress", f"{flag}\n", 0o400)

    def _kmsg(self) -> None:
        """The log as /dev/kmsg records: ``prio,seq,usec,-;text``."""
        dev = self.root / "dev"
        dev.mkdir(exist_ok=True)
        lines = [f"{r.level},{r.seq},{int(r.time * 1_000_000)},-;{r.text}\n" for r in self.sim.log]
        _write(dev / "kmsg", "".join(lines), 0o644)
