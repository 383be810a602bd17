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
from lptui.sim.files import prune_dir, write_file
from lptui.sim.ftrace import enabled_functions, kprobes_list
from lptui.sim.kernel import SimKernel
from lptui.sim.kofile import module_image
from lptui.sim.render_legacy import render_kgraft, render_kpatch_core, render_ksplice
from lptui.sim.rules import vermagic
from lptui.sim.state import SimTask

PF_KTHREAD = 0x00200000


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
            write_file(tracing / "enabled_functions", table, 0o444)
            debugfs = {"kprobes/list": probes, "fail_function/inject": "", "error_injection/list": ""}
            for rel, text in debugfs.items():
                (self.root / "sys/kernel/debug" / rel).parent.mkdir(parents=True, exist_ok=True)
                write_file(self.root / "sys/kernel/debug" / rel, text, 0o400)
            if self.sim.trampolines:
                (self.root / "sys/kernel/btf").mkdir(parents=True, exist_ok=True)
                write_file(self.root / "sys/kernel/btf/vmlinux", vmlinux_btf(self.sim.trampolines), 0o444)
            (self.root / "proc/dynamic_debug").mkdir(parents=True, exist_ok=True)
            write_file(self.root / "proc/dynamic_debug/control", control, 0o644)
            (self.root / "proc/sys/kernel").mkdir(parents=True, exist_ok=True)
            write_file(self.root / "proc/sys/kernel/printk", "4\t4\t1\t7\n", 0o644)

    def _symbol_files(self) -> None:
        """/proc/kallsyms, ftrace's available_filter_functions, and the signature policy: what the
        pre-flight checks read (every simulated function is traceable)."""
        sim = self.sim
        symbols = sorted(sim.symbols().items())
        key = (tuple(symbols), sim.sig_enforce, sim.lockdown)
        if key == self._symbols_key:  # most changes (a task switching) leave the tables alone
            return
        self._symbols_key = key
        kallsyms: list[str] = []
        traceable: list[str] = []
        for n, ((obj, name), count) in enumerate(symbols):
            mod = "" if obj == "vmlinux" else f"\t[{obj}]"
            kallsyms.extend(
                f"{0xFFFFFFFF81000000 + 0x100 * (n * 4 + i):016x} t {name}{mod}\n" for i in range(count)
            )
            traceable.extend(f"{name}{' [' + obj + ']' if obj != 'vmlinux' else ''}\n" for _ in range(count))
        write_file(self.root / "proc/kallsyms", "".join(kallsyms), 0o444)
        tracing = self.root / "sys/kernel/tracing"
        tracing.mkdir(parents=True, exist_ok=True)
        write_file(tracing / "available_filter_functions", "".join(traceable), 0o444)
        params = self.root / "sys/module/module/parameters"
        params.mkdir(parents=True, exist_ok=True)
        write_file(params / "sig_enforce", "Y\n" if sim.sig_enforce else "N\n", 0o444)
        security = self.root / "sys/kernel/security"
        security.mkdir(parents=True, exist_ok=True)
        modes = " ".join(
            f"[{m}]" if m == sim.lockdown else m for m in ("none", "integrity", "confidentiality")
        )
        write_file(security / "lockdown", modes + "\n", 0o444)

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
        write_file(intree / "crc32.ko", module_image(info, sim.machine))
        for item in sim.installed:
            release = item.release or sim.release
            spec = item.spec
            info = {
                "name": spec.name,
                "livepatch": "Y",
                "license": "GPL",
                "srcversion": spec.srcversion,
                "vermagic": vermagic(release),
            }
            info |= {k: v for k, v in (("version", spec.version), ("description", spec.description)) if v}
            directory = self.root / item.directory.format(r=release)
            directory.mkdir(parents=True, exist_ok=True)
            funcs = tuple((o.name, f.name, f.wanted_sympos) for o in spec.objects for f in o.functions)
            write_file(directory / f"{spec.name}.ko", module_image(info, sim.machine, funcs=funcs))
        if sim.boot_service is not None:
            units = self.root / "usr/lib/systemd/system"
            units.mkdir(parents=True, exist_ok=True)
            write_file(units / "kpatch.service", '[Unit]\nDescription="Apply kpatch kernel patches"\n')
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
        write_file(kdir / "osrelease", sim.release + "\n")
        write_file(kdir / "version", sim.version + "\n")
        write_file(kdir / "arch", sim.machine + "\n")
        write_file(kdir / "tainted", f"{sim.taint}\n")
        write_file(kdir / "ftrace_enabled", f"{int(sim.ftrace_enabled)}\n")
        cpu = self.root / "sys/devices/system/cpu"
        cpu.mkdir(parents=True, exist_ok=True)
        write_file(cpu / "possible", f"0-{sim.ncpus - 1}\n" if sim.ncpus > 1 else "0\n")

    def _livepatch_files(self) -> None:
        sim = self.sim
        base = self.root / "sys/kernel/livepatch"
        if not sim.core:  # a kernel without CONFIG_LIVEPATCH
            if base.is_dir():
                shutil.rmtree(base)
            return
        base.mkdir(parents=True, exist_ok=True)
        prune_dir(base, {p.name for p in sim.patches})
        tr = sim.transition
        for patch in sim.patches:
            pdir = base / patch.name
            pdir.mkdir(exist_ok=True)
            write_file(pdir / "enabled", f"{int(patch.enabled)}\n")
            write_file(pdir / "transition", f"{int(tr is not None and tr.patch == patch.name)}\n", 0o444)
            wanted = {"enabled", "transition"} | {o.name for o in patch.objects}
            if "force" in sim.features:
                write_file(pdir / "force", "", 0o200)
                wanted.add("force")
            if "signal" in sim.features:
                write_file(pdir / "signal", "", 0o200)
                wanted.add("signal")
            if "replace" in sim.features:
                write_file(pdir / "replace", f"{int(patch.replace)}\n", 0o444)
                wanted.add("replace")
            if "stack_order" in sim.features:
                write_file(pdir / "stack_order", f"{sim.stack_order(patch)}\n", 0o444)
                wanted.add("stack_order")
            prune_dir(pdir, wanted)
            for obj in patch.objects:
                odir = pdir / obj.name
                odir.mkdir(exist_ok=True)
                funcs = {f"{f.name},{f.sympos}" for f in obj.funcs}
                owanted = set(funcs)
                if "object_patched" in sim.features:
                    write_file(odir / "patched", f"{int(obj.patched)}\n", 0o444)
                    owanted.add("patched")
                prune_dir(odir, owanted)
                for fname in funcs:
                    (odir / fname).mkdir(exist_ok=True)

    def _module_files(self) -> None:
        base = self.root / "sys/module"
        base.mkdir(parents=True, exist_ok=True)
        prune_dir(base, set(self.sim.modules))
        for module in self.sim.modules.values():
            mdir = base / module.name
            mdir.mkdir(exist_ok=True)
            write_file(mdir / "refcnt", f"{module.refcnt}\n", 0o444)
            write_file(mdir / "taint", f"{module.taint}\n", 0o444)
            write_file(mdir / "initstate", "live\n", 0o444)
            if module.srcversion:
                write_file(mdir / "srcversion", module.srcversion + "\n", 0o444)
            if module.version:
                write_file(mdir / "version", module.version + "\n", 0o444)
            if module.params:
                pdir = mdir / "parameters"
                pdir.mkdir(exist_ok=True)
                for key, value in module.params.items():
                    write_file(pdir / key, value + "\n")

    def _task_files(self) -> None:
        proc = self.root / "proc"
        by_pid: dict[int, list[SimTask]] = {}
        for task in self.sim.tasks.values():
            by_pid.setdefault(task.pid, []).append(task)
        keep = {str(pid) for pid in by_pid} | {"sys", "loadavg", "uptime"}
        running = sum(1 for t in self.sim.tasks.values() if t.state == "R") or 1
        last = max(self.sim.tasks, default=1)
        write_file(proc / "loadavg", f"0.42 0.35 0.30 {running}/{len(self.sim.tasks)} {last}\n", 0o444)
        # the clock the kernel log's timestamps count from: the transition's age is uptime - start
        write_file(proc / "uptime", f"{self.sim.now:.2f} {self.sim.now * 1.5:.2f}\n", 0o444)
        prune_dir(proc, keep)
        for pid, tasks in by_pid.items():
            tdir = proc / str(pid) / "task"
            tdir.mkdir(parents=True, exist_ok=True)
            prune_dir(tdir, {str(t.tid) for t in tasks})
            for task in tasks:
                d = tdir / str(task.tid)
                if not task.dirty and task.tid in self._tasks_written and d.is_dir():
                    continue
                d.mkdir(exist_ok=True)
                write_file(d / "comm", task.comm + "\n")
                write_file(d / "stat", stat_text(task), 0o444)
                if self.sim.core:  # no patch_state without CONFIG_LIVEPATCH
                    write_file(d / "patch_state", f"{task.patch_state}\n", 0o400)
                stack = d / "stack"
                if task.stack_readable:
                    if stack.is_dir():
                        stack.rmdir()
                    write_file(stack, stack_text(task), 0o400)
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
                write_file(proc / str(pid) / "comm", leader.comm + "\n")
                if self.sim.core:
                    write_file(proc / str(pid) / "patch_state", f"{leader.patch_state}\n", 0o400)
            if self.sim.kgraft is not None:  # /proc/<pid>/kgr_in_progress, "%d\n"
                flag = int(pid in self.sim.kgraft.pending)
                write_file(proc / str(pid) / "kgr_in_progress", f"{flag}\n", 0o400)

    def _kmsg(self) -> None:
        """The log as /dev/kmsg records: ``prio,seq,usec,-;text``."""
        dev = self.root / "dev"
        dev.mkdir(exist_ok=True)
        lines = [f"{r.level},{r.seq},{int(r.time * 1_000_000)},-;{r.text}\n" for r in self.sim.log]
        write_file(dev / "kmsg", "".join(lines), 0o644)
