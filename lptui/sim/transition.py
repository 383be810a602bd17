"""The simulated kernel's transition (kernel/livepatch/transition.c): which tasks' stacks still hold
a function being switched, the ~1 s retries of `klp_try_complete_transition`, the fake signals,
a reversal, and completion with the freeing of replaced or removed patches. A mixin of `SimKernel`,
which holds the state; `kernel.py` is core.c's side (enabling, sysfs writes, module loading).
"""

from __future__ import annotations

from lptui.sim.dyndbg import DynDebug, has_bpf_frame, line, verdict
from lptui.sim.rules import RETRY_INTERVAL, SIGNALS_TIMEOUT
from lptui.sim.state import SimModule, SimPatch, SimTask, Transition


class Transitions:
    """What SimKernel keeps and this side reads and changes."""

    now: float
    patches: list[SimPatch]
    modules: dict[str, SimModule]
    tasks: dict[int, SimTask]
    transition: Transition | None
    dyndbg: DynDebug
    bpf_reliable: bool

    def _log(self, level: int, text: str) -> None: ...
    def _changed(self) -> None: ...
    def patch(self, name: str) -> SimPatch | None: ...
    def _require_patch(self, name: str) -> SimPatch:
        raise NotImplementedError  # SimKernel's

    def _relevant(self, task: SimTask) -> list[str]:
        """Frames that fail the stack check for the current transition (klp_check_stack)."""
        tr = self.transition
        if tr is None:
            return []
        if tr.target == 0:
            return [f"{fn} [{mod}]" for fn, mod in task.stack if mod == tr.patch]
        patch = self.patch(tr.patch)
        if patch is None:
            return []
        names = {(o.name, f.name) for o in patch.objects if o.patched for f in o.funcs}
        return [fn for fn, mod in task.stack if ((mod or "vmlinux"), fn) in names]

    def _pending(self) -> list[SimTask]:
        tr = self.transition
        if tr is None:
            return []
        return [t for t in self.tasks.values() if t.patch_state != tr.target]

    def _switch(self, task: SimTask) -> None:
        assert self.transition is not None
        task.patch_state = self.transition.target
        task.dirty = True

    def _start(self, patch: SimPatch, target: int) -> None:
        for task in self.tasks.values():  # klp_init_transition: everyone starts in !target
            task.patch_state = 1 - target
            task.dirty = True
        patch.enabled = bool(target)
        self.transition = Transition(patch.name, target, started_at=self.now, next_try=self.now)
        self._log(
            5, f"livepatch: '{patch.name}': starting {'patching' if target else 'unpatching'} transition"
        )
        self._try_complete()

    def _reverse(self) -> None:
        tr = self.transition
        assert tr is not None
        patch = self._require_patch(tr.patch)
        tr.target = 1 - tr.target
        patch.enabled = bool(tr.target)
        tr.signals_cnt = 0
        for task in self.tasks.values():
            task.dirty = True
        self._log(
            5, f"livepatch: '{patch.name}': starting {'patching' if tr.target else 'unpatching'} transition"
        )

    def _self_switches(self) -> None:
        """Tasks that switch on their own: at kernel exit, in idle, or in cond_resched()."""
        tr = self.transition
        if tr is None:
            return
        for task in self._pending():
            if task.switch_after is not None and self.now - tr.started_at >= task.switch_after:
                self._switch(task)
                self._changed()

    def _checked_function(self, task: SimTask) -> str | None:
        """The function klp_check_stack() names: the first of the patch's functions (in its order) on
        the stack; unpatching checks the new code and prints the old name (func->old_name)."""
        tr = self.transition
        patch = self.patch(tr.patch) if tr is not None else None
        if tr is None or patch is None:
            return None
        on_stack = {(mod, fn) for fn, mod in task.stack}
        for obj in patch.objects:
            mod = None if obj.name == "vmlinux" else obj.name
            for f in obj.funcs:
                if tr.target == 1 and obj.patched and (mod, f.name) in on_stack:
                    return f.name
                if tr.target == 0 and (patch.name, f.new_name) in on_stack:
                    return f.name
        return None

    def _try_complete(self) -> None:
        tr = self.transition
        assert tr is not None
        complete = True
        for task in self._pending():
            blocked = self._relevant(task) or (has_bpf_frame(task) and not self.bpf_reliable)
            if task.switch_after is None and not blocked:
                self._switch(task)  # stack check passed
                continue
            complete = False
            kind, func = verdict(task, self._relevant(task), self.bpf_reliable)
            if self.dyndbg.prints(kind):  # pr_debug at KERN_DEBUG, with pr_fmt's "livepatch: "
                func = self._checked_function(task) or func
                self._log(7, f"livepatch: klp_try_switch_task: {line(task, kind, func)}")
        if complete:
            self._complete()
            return
        if tr.signals_cnt and tr.signals_cnt % SIGNALS_TIMEOUT == 0:
            self._send_signals()
        tr.signals_cnt += 1
        tr.next_try = self.now + RETRY_INTERVAL

    def _send_signals(self) -> None:
        tr = self.transition
        assert tr is not None
        if tr.signals_cnt == SIGNALS_TIMEOUT:
            self._log(5, "livepatch: signaling remaining tasks")
        for task in self._pending():
            if task.kthread or task.state == "D":
                continue  # kthreads are only woken (they sleep again); D state is not woken
            if task.wakes_on_signal:
                task.stack = [(fn, mod) for fn, mod in task.stack if mod is None and fn.startswith("entry_")]
                task.switch_after = 0.0  # returns to user space and switches there
                task.dirty = True

    def _complete(self) -> None:
        tr = self.transition
        assert tr is not None
        patch = self._require_patch(tr.patch)
        for task in self.tasks.values():
            task.patch_state = -1
            task.dirty = True
        freed: list[SimPatch] = []
        if tr.target == 1:
            if patch.replace:
                freed = [p for p in self.patches if p is not patch]
                for obj in patch.objects:
                    obj.funcs = [f for f in obj.funcs if not f.nop]
                patch.objects = [o for o in patch.objects if not (o.dynamic and not o.funcs)]
        else:
            for obj in patch.objects:
                obj.patched = False
            freed = [patch]
        self.transition = None
        self._log(5, f"livepatch: '{patch.name}': {'patching' if tr.target else 'unpatching'} complete")
        for old in freed:  # klp_free_patch_async: sysfs goes, module_put unless forced
            old.enabled = False
            self.patches.remove(old)
            module = self.modules.get(old.name)
            if module is not None and not old.forced:
                module.refcnt = max(0, module.refcnt - 1)
        self._changed()
