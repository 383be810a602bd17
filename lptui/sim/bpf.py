"""BPF trampolines in the simulated kernel: each one's traced function and BTF id, whether a program is
still attached, and the files that show it: ftrace's enabled_functions (a direct caller's record, as
t_show in kernel/trace/ftrace.c prints it) and the kernel's BTF (/sys/kernel/btf/vmlinux)."""

from __future__ import annotations

from dataclasses import dataclass

from lptui.sim.btf import build_btf


@dataclass
class SimTrampoline:
    function: str
    btf_id: int  # the function's type id in vmlinux's BTF (object 1)
    attached: bool = True  # False: the program is gone; frames from before may still be on stacks

    @property
    def name(self) -> str:
        """kallsyms' name: bpf_trampoline_<key>, key = obj_id << 32 | 0x80000000 | btf_id
        (bpf_trampoline_compute_key in kernel/bpf/trampoline.c)."""
        return f"bpf_trampoline_{1 << 32 | 0x80000000 | self.btf_id}"


def enabled_functions(trampolines: list[SimTrampoline]) -> str:
    """A direct caller's record: count, the R I D O M flag columns, the ops' trampoline, then the
    direct call's target on a continuation line."""
    lines = []
    for n, t in enumerate(x for x in trampolines if x.attached):
        lines.append(
            f"{t.function} (1)      D   M \ttramp: 0xffffffffc0{n:06x} (call_direct_funcs+0x0/0x20) "
            f"->call_direct_funcs+0x0/0x20\n\tdirect-->{t.name}+0x0/0x1000\n"
        )
    return "".join(lines)


def vmlinux_btf(trampolines: list[SimTrampoline]) -> bytes:
    return build_btf({t.btf_id: t.function for t in trampolines})
