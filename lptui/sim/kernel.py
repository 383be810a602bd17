"""A simulated kernel that follows livepatch's rules: kernel/livepatch/core.c's side here (enabling a
patch, its sysfs writes, module loading), transition.c's in `transition.py`.

It keeps the state the kernel keeps, answers writes and syscalls with the kernel's errno, and
advances transitions in ~1 s retries as `klp_try_complete_transition` does. `render.py` writes
it out as the same /sys and /proc files a real kernel shows, so the same readers serve both.
"""

from __future__ import annotations

import errno
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from lptui.core.livepatch.taint import TAINT_LIVEPATCH_BIT
from lptui.sim.bpf import SimTrampoline
from lptui.sim.dyndbg import DynDebug
from lptui.sim.legacy import KgraftSim, KpatchCoreSim, KspliceSim
from lptui.sim.rules import (
    ALL_FEATURES,
    kernel_error,
    kstrtobool,
    states_compatible,
    symbol_table,
    unresolved_target,
    vermagic_refusal,
)
from lptui.sim.state import (
    InstalledFile,
    PatchSpec,
    SimFunc,
    SimModule,
    SimObject,
    SimPatch,
    SimTask,
    Transition,
)
from lptui.sim.transition import Transitions

TAINT_O, TAINT_E = 12, 13


@dataclass(frozen=True)
class LogRecord:
    seq: int
    time: float
    level: int  # 3 err, 4 warn, 5 notice, 6 info
    text: str


class SimKernel(Transitions):
    def __init__(
        self,
        *,
        release: str = "6.16.0-lptui-demo",
        version: str = "#1 SMP PREEMPT_DYNAMIC Debian 6.16.0-1 (2026-10-01)",
        machine: str = "x86_64",
        ncpus: int = 4,
        features: Iterable[str] = ALL_FEATURES,
    ) -> None:
        self.release, self.version, self.machine, self.ncpus = release, version, machine, ncpus
        self.features = frozenset(features)
        self.now = 0.0
        self.taint = 0
        self.ftrace_enabled = True
        self.patches: list[SimPatch] = []  # klp_patches: enabled or in transition, oldest first
        self.modules: dict[str, SimModule] = {}
        self.tasks: dict[int, SimTask] = {}  # by tid
        self.transition: Transition | None = None
        self.log: list[LogRecord] = []
        self._tainted_livepatch_once = False
        self.version_counter = 0  # bumped on every change; the renderer keys off it
        # the disk around the kernel: installed module files and kpatch's boot service
        self.installed: list[InstalledFile] = []
        self.boot_service: str | None = None  # "enabled", "disabled", or None: not installed
        # symbols beyond the built-in table: e.g. several static functions of one name (ambiguous)
        self.extra_symbols: Counter[tuple[str, str]] = Counter()
        self.sig_enforce = False  # module.sig_enforce
        self.lockdown = "none"  # the lockdown LSM's mode
        # the systems besides the upstream core (lptui/sim/legacy.py); `core` False: no CONFIG_LIVEPATCH
        self.core = True
        self.kgraft: KgraftSim | None = None
        self.kpatch_core: KpatchCoreSim | None = None
        self.ksplice: KspliceSim | None = None
        # klp_try_switch_task's debug lines, and whether the unwinder can walk BPF frames (6.19's
        # "x86/unwind/orc: Support reliable unwinding through BPF stack frames"; none before)
        self.dyndbg = DynDebug()
        self.bpf_reliable = False
        self.trampolines: list[SimTrampoline] = []  # BPF trampolines, attached or left on stacks
        self.kprobes: dict[str, bool] = {}  # vmlinux function -> a kprobe on it has a post_handler

    # ----- logging and bookkeeping -----
    def _log(self, level: int, text: str) -> None:
        self.log.append(LogRecord(len(self.log) + 1, self.now, level, text))

    def user_log(self, text: str, ok: bool = True) -> None:
        """A line written to /dev/kmsg from user space (lptui's audit records)."""
        self._log(5 if ok else 4, text)
        self._changed()

    def _changed(self) -> None:
        self.version_counter += 1

    def patch(self, name: str) -> SimPatch | None:
        return next((p for p in self.patches if p.name == name), None)

    def _require_patch(self, name: str) -> SimPatch:
        patch = self.patch(name)
        if patch is None:  # the sysfs file does not exist
            raise kernel_error(errno.ENOENT, f"/sys/kernel/livepatch/{name}")
        return patch

    # ----- tasks -----
    def add_task(self, task: SimTask) -> SimTask:
        if self.transition is not None and task.patch_state == -1:
            # klp_copy_process: a new task inherits its parent's state; default to the start state
            parent = self.tasks.get(task.ppid)
            task.patch_state = parent.patch_state if parent else 1 - self.transition.target
        self.tasks[task.tid] = task
        self._changed()
        return task

    def remove_task(self, tid: int) -> None:
        if self.tasks.pop(tid, None) is not None:
            self._changed()

    # ----- module loading (finit_module / delete_module) -----
    def load_module(
        self,
        name: str,
        *,
        patch: PatchSpec | None = None,
        livepatch: bool | None = None,
        taint: str = "OE",
        params: dict[str, str] | None = None,
        vermagic: str | None = None,
        crcs: bool = False,
    ) -> SimModule:
        """Load a module; a livepatch module's init runs klp_enable_patch(). `vermagic`, `crcs`: a real
        file's, checked first as load_module() -> check_modinfo() does (None: a scenario's own)."""
        if name in self.modules:
            raise kernel_error(errno.EEXIST, f"module {name} is already loaded")
        refused = vermagic_refusal(name, vermagic, crcs, self.release) if vermagic is not None else None
        if refused:
            self._log(3, refused)
            self._changed()
            raise kernel_error(errno.ENOEXEC, refused)
        is_lp = livepatch if livepatch is not None else patch is not None
        # add_taint_module() happens at load, before init, so a failing init still taints.
        for letter, bit in (("O", TAINT_O), ("E", TAINT_E)):
            if letter in taint:
                self.taint |= 1 << bit
        if is_lp:
            if not self._tainted_livepatch_once:
                self._log(5, f"{name}: tainting kernel with TAINT_LIVEPATCH")
                self._tainted_livepatch_once = True
            self.taint |= 1 << TAINT_LIVEPATCH_BIT
        module = SimModule(
            name=name,
            taint=(
                "".join(sorted(set(taint + ("K" if is_lp else "")), key="POEKX".find))
                if taint or is_lp
                else ""
            ),
            srcversion=patch.srcversion if patch else None,
            version=patch.version if patch else None,
            livepatch=is_lp,
            params=dict(params or {}),
        )
        if patch is not None:
            self._refuse_load(name, patch, is_lp)
            self.modules[name] = module
            module.refcnt += 1  # try_module_get() in klp_enable_patch
            self._enable(patch)
        else:
            self.modules[name] = module
            for p in self.patches:
                for obj in p.objects:
                    if obj.name == name:
                        obj.patched = True
                        self._log(5, f"livepatch: applying patch '{p.name}' to loading module '{name}'")
        self._changed()
        return module

    def _refuse_load(self, name: str, patch: PatchSpec, is_lp: bool) -> None:
        """klp_enable_patch()'s refusals, in its order, each with the kernel's log lines and errno."""
        if not is_lp:
            self._log(3, f"livepatch: module {name} is not marked as a livepatch module")
            self._changed()
            raise kernel_error(errno.EINVAL, "not marked as a livepatch module")
        if not states_compatible(patch, self.patches):
            self._log(
                3,
                f"livepatch: Livepatch patch ({name}) is not compatible with the already "
                "installed livepatches.",
            )
            self._changed()
            raise kernel_error(errno.EINVAL, "not compatible with the installed livepatches")
        if self.transition is not None:
            self._changed()
            raise kernel_error(errno.EBUSY, f"patch '{self.transition.patch}' is in transition")
        unresolved = unresolved_target(patch, self.symbols(), self.modules)
        if unresolved:
            self._log(3, f"livepatch: {unresolved}")
            self._log(4, f"livepatch: failed to enable patch '{name}'")  # klp_init_patch failed
            self._changed()
            raise kernel_error(errno.EINVAL, unresolved)
        owned = [
            f.name
            for o in patch.objects
            for f in o.functions
            if o.name == "vmlinux" and self.kprobes.get(f.name)
        ]
        if not self.ftrace_enabled or owned:  # __ftrace_hash_update_ipmodify: one IPMODIFY user a function
            first = (
                patch.objects[0].functions[0].name if patch.objects and patch.objects[0].functions else "?"
            )
            func = owned[0] if owned else first
            self._log(3, f"livepatch: failed to register ftrace handler for function '{func}' (-16)")
            self._log(4, f"livepatch: failed to patch object '{patch.objects[0].name}'")
            self._log(4, f"livepatch: failed to enable patch '{name}'")
            self._changed()
            raise kernel_error(errno.EBUSY, "ftrace registration failed")

    def unload_module(self, name: str) -> None:
        module = self.modules.get(name)
        if module is None:
            raise kernel_error(errno.ENOENT, f"module {name} is not loaded")
        if module.refcnt > 0:
            raise kernel_error(errno.EWOULDBLOCK, f"module {name} is in use")
        for p in self.patches:
            for obj in p.objects:
                if obj.name == name and obj.patched:
                    obj.patched = False
                    self._log(5, f"livepatch: reverting patch '{p.name}' on unloading module '{name}'")
        del self.modules[name]
        self._changed()

    def symbols(self) -> Counter[tuple[str, str]]:
        """The symbol table (/proc/kallsyms): (object, name) -> how many symbols have that name."""
        table = symbol_table(self.extra_symbols, self.modules, self.tasks.values())
        if self.bpf_reliable:  # 6.19's fix brings its symbol (lptui's probe)
            table[("vmlinux", "bpf_has_frame_pointer")] = 1
        return table

    def _enable(self, spec: PatchSpec) -> None:
        objects = [
            SimObject(
                o.name,
                [SimFunc(f.name, f.sympos, f.new_func or f"livepatch_{f.name}") for f in o.functions],
                patched=False,
            )
            for o in spec.objects
        ]
        patch = SimPatch(spec.name, objects, spec.replace, states={st.id: st.version for st in spec.states})
        if spec.replace:
            self._add_nops(patch)
        self._log(5, f"livepatch: enabling patch '{spec.name}'")
        self.patches.append(patch)
        for obj in patch.objects:  # klp_patch_object: ftrace handlers in place at the start
            obj.patched = obj.name == "vmlinux" or obj.name in self.modules
        self._start(patch, target=1)

    def _add_nops(self, patch: SimPatch) -> None:
        """klp_add_nops: the new patch gets a nop for each function only older patches change."""
        have = {(o.name, f.name, f.sympos) for o in patch.objects for f in o.funcs}
        for old in self.patches:
            for obj_name, func in old.functions():
                if func.nop or (obj_name, func.name, func.sympos) in have:
                    continue
                obj = next((o for o in patch.objects if o.name == obj_name), None)
                if obj is None:
                    obj = SimObject(obj_name, [], dynamic=True)
                    patch.objects.append(obj)
                obj.funcs.append(SimFunc(func.name, func.sympos, func.name, nop=True))
                have.add((obj_name, func.name, func.sympos))

    # ----- sysfs writes -----
    def write_enabled(self, name: str, text: str) -> None:
        value = kstrtobool(text)
        patch = self._require_patch(name)
        if value == patch.enabled:
            raise kernel_error(
                errno.EINVAL, f"patch '{name}' is already {'enabled' if value else 'disabled'}"
            )
        tr = self.transition
        if tr is not None and tr.patch == name:
            self._reverse()
        elif not value:
            if tr is not None:
                raise kernel_error(errno.EBUSY, f"patch '{tr.patch}' is in transition")
            self._start(patch, target=0)
        else:
            raise kernel_error(errno.EINVAL, "a disabled patch cannot be re-enabled")
        self._changed()

    def write_force(self, name: str, text: str) -> None:
        value = kstrtobool(text)
        patch = self._require_patch(name)
        if "force" not in self.features:
            raise kernel_error(errno.ENOENT, f"/sys/kernel/livepatch/{name}/force")
        if not value:
            return
        tr = self.transition
        if tr is None or tr.patch != name:
            raise kernel_error(errno.EINVAL, f"patch '{name}' is not in transition")
        self._log(4, "livepatch: forcing remaining tasks to the patched state")
        for task in self._pending():
            self._switch(task)
        # Only patches being removed are marked forced: their module reference is never dropped.
        if tr.target == 0:
            patch.forced = True
        elif patch.replace:
            for other in self.patches:
                if other is not patch:
                    other.forced = True
        self._changed()

    def write_signal(self, name: str, text: str) -> None:
        value = kstrtobool(text)
        self._require_patch(name)
        if "signal" not in self.features:
            raise kernel_error(errno.ENOENT, f"/sys/kernel/livepatch/{name}/signal")
        tr = self.transition
        if value and (tr is None or tr.patch != name):
            raise kernel_error(errno.EINVAL, f"patch '{name}' is not in transition")
        if value:
            self._send_signals()
        self._changed()

    def write_dyndbg(self, query: str) -> None:
        """A write to /proc/dynamic_debug/control (klp_try_switch_task's sites only)."""
        self.dyndbg.write(query)
        self._changed()

    def set_ftrace_enabled(self, value: bool) -> None:
        if not value and self.patches:
            raise kernel_error(errno.EBUSY, "ftrace is in use by livepatch")
        self.ftrace_enabled = value
        self._changed()

    # ----- time -----
    def advance(self, seconds: float) -> None:
        """Move simulated time forward, running each ~1 s retry the kernel would."""
        end = self.now + seconds
        while self.transition is not None and self.transition.next_try <= end:
            self.now = max(self.now, self.transition.next_try)
            self._self_switches()
            self._try_complete()
            self._changed()
        self.now = end
        self._self_switches()
        self._kgraft_checks()

    def _kgraft_checks(self) -> None:
        if self.kgraft is not None and self.kgraft.check(
            self.now, {t.pid for t in self.tasks.values()}, self._log
        ):
            self._changed()

    def kpatch_write_enabled(self, name: str, value: str) -> None:
        assert self.kpatch_core is not None
        try:
            enabled = self.kpatch_core.write_enabled(name, value, self.tasks.values(), self._log)
        finally:
            self._changed()
        module = self.modules.get(name)
        if module is not None:
            module.refcnt += 1 if enabled else -1  # try_module_get / module_put in kpatch_(un)register

    # ----- views used by the renderer -----
    def stack_order(self, patch: SimPatch) -> int:
        return self.patches.index(patch) + 1
