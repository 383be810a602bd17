"""Build kernel trees by hand, laid out as a real kernel shows them (see tests/realkernel for the check)."""

from __future__ import annotations

from pathlib import Path

from lptui.core.tree import Read, Tree

PF_KTHREAD = 0x00200000


class FakeKernel:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "proc").mkdir(parents=True, exist_ok=True)
        (root / "sys/module").mkdir(parents=True, exist_ok=True)

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def kernel(
        self,
        release: str = "6.1.0-28-amd64",
        version: str = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)",
        tainted: str = "45056",
        ftrace: str = "1",
        livepatch: bool = True,
        cpus: str = "0-1",
    ) -> FakeKernel:
        self.write("proc/sys/kernel/osrelease", release + "\n")
        self.write("proc/sys/kernel/version", version + "\n")
        self.write("proc/sys/kernel/tainted", tainted + "\n")
        self.write("proc/sys/kernel/ftrace_enabled", ftrace + "\n")
        self.write("sys/devices/system/cpu/possible", cpus + "\n")
        if livepatch:
            (self.root / "sys/kernel/livepatch").mkdir(parents=True, exist_ok=True)
        elif (self.root / "sys/kernel/livepatch").is_dir():
            (self.root / "sys/kernel/livepatch").rmdir()
        return self

    def patch(
        self,
        name: str,
        *,
        enabled: str = "1",
        transition: str | None = "0",
        replace: str | None = None,
        stack_order: str | None = None,
        objects: dict[str, list[str]] | None = None,
        patched: dict[str, str] | None = None,
        module: bool = True,
        refcnt: str = "1",
    ) -> FakeKernel:
        base = f"sys/kernel/livepatch/{name}"
        self.write(f"{base}/enabled", enabled + "\n")
        self.write(f"{base}/force", "")
        if transition is not None:
            self.write(f"{base}/transition", transition + "\n")
        if replace is not None:
            self.write(f"{base}/replace", replace + "\n")
        if stack_order is not None:
            self.write(f"{base}/stack_order", stack_order + "\n")
        for obj, funcs in (objects or {"vmlinux": ["cmdline_proc_show,1"]}).items():
            (self.root / base / obj).mkdir(parents=True, exist_ok=True)
            if patched is not None and obj in patched:
                self.write(f"{base}/{obj}/patched", patched[obj] + "\n")
            for fn in funcs:
                (self.root / base / obj / fn).mkdir(parents=True, exist_ok=True)
        if module:
            self.module(name, refcnt=refcnt, taint="OEK", srcversion="7D2CF4E6C1F9D3B1F1B2A3C")
        return self

    def module(
        self, name: str, *, refcnt: str = "0", taint: str = "", srcversion: str | None = None
    ) -> FakeKernel:
        base = f"sys/module/{name}"
        self.write(f"{base}/refcnt", refcnt + "\n")
        self.write(f"{base}/taint", taint + "\n")
        self.write(f"{base}/initstate", "live\n")
        if srcversion:
            self.write(f"{base}/srcversion", srcversion + "\n")
        return self

    def task(
        self,
        pid: int,
        tid: int | None = None,
        *,
        comm: str = "bash",
        state: str = "S",
        kthread: bool = False,
        patch_state: str = "-1",
        stack: list[str] | None = None,
        ppid: int = 1,
    ) -> FakeKernel:
        tid = pid if tid is None else tid
        base = f"proc/{pid}/task/{tid}"
        flags = 0x00400100 | (PF_KTHREAD if kthread else 0)
        stat = f"{tid} ({comm}) {state} {ppid} {pid} {pid} 0 -1 {flags} " + " ".join(["0"] * 43)
        self.write(f"{base}/comm", comm + "\n")
        self.write(f"{base}/stat", stat + "\n")
        self.write(f"{base}/patch_state", patch_state + "\n")
        self.write(f"{base}/stack", "".join(f"{line}\n" for line in (stack or [])))
        return self


class CountingTree(Tree):
    """A Tree that records every file it reads, to check what a scan touches."""

    def __init__(self, root) -> None:
        super().__init__(root)
        self.reads: list[str] = []

    def read(self, rel: str) -> Read:
        self.reads.append(rel)
        return super().read(rel)

    def task_reads(self) -> list[str]:
        return [r for r in self.reads if r.startswith("proc/") and "/task/" in r]
