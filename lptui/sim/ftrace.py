"""ftrace's tables in the simulated kernel: enabled_functions (t_show in kernel/trace/ftrace.c, with
the 6.5+ flag columns) for each livepatched function (klp_ftrace_handler, IPMODIFY), each kprobe (R, and
I when it has a post_handler: arm_kprobe_ftrace) and each BPF trampoline (D, direct-->); and debugfs
kprobes/list (report_probe in kernel/kprobes.c)."""

from __future__ import annotations

from lptui.sim.bpf import SimTrampoline

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lptui.sim.state import SimPatch

KLP = "(klp_ftrace_handler+0x0/0x258)->klp_ftrace_handler+0x0/0x258"
KPROBE = "(kprobe_ftrace_handler+0x0/0x1b0)->kprobe_ftrace_handler+0x0/0x1b0"


def _name(obj: str, func: str) -> str:
    return func if obj == "vmlinux" else f"{func} [{obj}]"


def enabled_functions(
    patches: list[SimPatch], kprobes: dict[str, bool], trampolines: list[SimTrampoline]
) -> str:
    lines = []
    done = set()
    for patch in patches:
        for obj in patch.objects:
            for f in obj.funcs:
                if obj.patched and (obj.name, f.name) not in done:
                    done.add((obj.name, f.name))
                    tramp = f"0xffffffffc0{len(lines):06x}"
                    lines.append(f"{_name(obj.name, f.name)} (1)   I     M \ttramp: {tramp} {KLP}\n")
    for func, post in kprobes.items():
        flags = " R I     M " if post else " R         "
        lines.append(f"{func} (1){flags}\ttramp: 0xffffffffc1{len(lines):06x} {KPROBE}\n")
    for n, t in enumerate(x for x in trampolines if x.attached):
        lines.append(
            f"{t.function} (1)      D   M \ttramp: 0xffffffffc2{n:06x} (call_direct_funcs+0x0/0x20) "
            f"->call_direct_funcs+0x0/0x20\n\tdirect-->{t.name}+0x0/0x1000\n"
        )
    return "".join(lines)


def kprobes_list(kprobes: dict[str, bool]) -> str:
    return "".join(f"ffffffff8123{n:04x}  k  {func}+0x0    [FTRACE]\n" for n, func in enumerate(kprobes))
