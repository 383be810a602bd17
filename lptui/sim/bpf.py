"""BPF trampolines in the simulated kernel: each one's traced function and BTF id, whether a program is
still attached (ftrace's enabled_functions shows it: sim/ftrace.py), and the kernel's BTF
(/sys/kernel/btf/vmlinux)."""

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


def vmlinux_btf(trampolines: list[SimTrampoline]) -> bytes:
    return build_btf({t.btf_id: t.function for t in trampolines})
