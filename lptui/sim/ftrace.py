"""ftrace's tables in the simulated kernel: enabled_functions (t_show in kernel/trace/ftrace.c, with
the 6.5+ flag columns) for each livepatched function (klp_ftrace_handler, IPMODIFY), each kprobe (R, and
I when it has a post_handler: arm_kprobe_ftrace) and each BPF trampoline (D, direct-->); and debugfs
kprobes/list (report_probe in kernel/kprobes.c)."""

from __future__ import annotations

from lptui.sim.bpf import SimTrampoline

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.sim.state import SimPatch

# as Debian's 6.1 and 6.12 print them (the guests' enabled-functions-*.txt): "(%pS) ->%pS"
KLP = "(klp_ftrace_handler+0x0/0x100) ->klp_ftrace_handler+0x0/0x100"
KPROBE = "(kprobe_ftrace_handler+0x0/0x1b0) ->kprobe_ftrace_handler+0x0/0x1b0"
DIRECT = "(call_direct_funcs+0x0/0x20) ->call_direct_funcs+0x0/0x20"
SHARED = " ->arch_ftrace_ops_list_func+0x0/0x1d0"  # several users: ftrace's list function calls them


def _name(obj: str, func: str) -> str:
    return func if obj == "vmlinux" else f"{func} [{obj}]"


def enabled_functions(
    patches: list[SimPatch], kprobes: dict[str, bool], trampolines: list[SimTrampoline]
) -> str:
    """One record per function, as t_show prints it: its users' count and flags, the single user's
    trampoline and handler ("\ttramp: …"), ftrace's list function when several share it (no
    FTRACE_FL_TRAMP_EN), and a direct caller's target on its own line."""
    users: dict[str, list[tuple[str, str]]] = {}  # record name -> (flags, handler) per user
    for patch in patches:
        for obj in patch.objects:
            for f in obj.funcs:
                record = users.setdefault(_name(obj.name, f.name), [])
                if obj.patched and ("I", KLP) not in record:
                    record.append(("I", KLP))  # one klp_ops per function, whatever the patches on it
    for func, post in kprobes.items():
        users.setdefault(func, []).append(("RI" if post else "R", KPROBE))
    direct = {t.function: t.name for t in trampolines if t.attached}
    for func in direct:
        users.setdefault(func, []).append(("D", DIRECT))
    lines = []
    for n, (name, found) in enumerate((k, v) for k, v in users.items() if v):
        flags = "".join(found_flags for found_flags, _ in found)
        columns = "".join(f" {c}" if c in flags else "  " for c in "RID") + "   M "
        tramp = f"\ttramp: 0xffffffffc0{n:06x} {found[0][1]}" if len(found) == 1 else SHARED
        lines.append(f"{name} ({len(found)}){columns}{tramp}\n")
        if name in direct:
            lines.append(f"\tdirect-->{direct[name]}+0x0/0x1000\n")
    return "".join(lines)


def kprobes_list(kprobes: dict[str, bool]) -> str:
    return "".join(f"ffffffff8123{n:04x}  k  {func}+0x0    [FTRACE]\n" for n, func in enumerate(kprobes))
