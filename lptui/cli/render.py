"""Human-readable output of snapshots as Rich tables."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from lptui.core.blockers import SHORT_REASON
from lptui.core.model import PatchInfo, Reason, Snapshot, TaskInfo

UNKNOWN = Text("?", style="bold yellow")


def yes_no(value: bool | None, yes: str = "yes", no: str = "no") -> Text:
    if value is None:
        return UNKNOWN
    return Text(yes, style="green") if value else Text(no, style="dim")


def num(value: int | None) -> Text:
    return UNKNOWN if value is None else Text(str(value))


def kernel_block(snap: Snapshot) -> Table:
    k = snap.kernel
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Kernel", Text(k.release or "?") + Text(f"  {k.machine or ''}", style="dim"))
    grid.add_row("Version", k.version or "?")
    grid.add_row(
        "Livepatch",
        Text("supported", style="green")
        if k.livepatch_supported
        else Text("not supported (no /sys/kernel/livepatch)", style="red"),
    )
    if k.tainted is None:
        taint = Text("unknown", style="yellow")
    elif not k.taint_flags:
        taint = Text("0 (not tainted)", style="green")
    else:
        taint = Text(f"{k.tainted}  ")
        taint.append(", ".join(f"{f.letter} {f.meaning}" for f in k.taint_flags), style="yellow")
    grid.add_row("Taint", taint)
    grid.add_row("ftrace", yes_no(k.ftrace_enabled, "enabled", "disabled"))
    f = snap.features
    if f.probed_from is None:
        feats = Text("unknown until a patch is loaded", style="dim")
    else:
        names = ("transition", "force", "signal", "replace", "stack_order", "object_patched")
        feats = Text(" ".join(n for n in names if getattr(f, n)) or "none")
    grid.add_row("Attributes", feats)
    return grid


def transition_line(snap: Snapshot) -> Text:
    t = snap.transition
    if t is None:
        return Text("No transition in progress.", style="green")
    line = Text("Transition: ", style="bold")
    line.append(t.patch, style="bold cyan")
    line.append(f" {t.direction} (target {t.target}) ")
    line.append(
        f"{t.tasks_pending} of {t.tasks_total} threads pending",
        style="bold yellow" if t.tasks_pending else "green",
    )
    if t.tasks_unknown:
        line.append(f", {t.tasks_unknown} unreadable", style="yellow")
    line.append("  — `lptui tasks` shows why", style="dim")
    return line


def patches_table(patches: tuple[PatchInfo, ...]) -> Table:
    table = Table(title="Patches", title_justify="left")
    table.add_column("Name", style="bold", no_wrap=True)
    for col in ("Enabled", "Transition", "Replace"):
        table.add_column(col)
    for col in ("Stack", "Objects", "Funcs", "Refcnt"):
        table.add_column(col, justify="right")
    for p in patches:
        table.add_row(
            p.name,
            yes_no(p.enabled),
            yes_no(p.transition, "YES", "no") if p.transition is not None else Text("n/a", style="dim"),
            yes_no(p.replace) if p.replace is not None else Text("n/a", style="dim"),
            num(p.stack_order) if p.stack_order is not None else Text("n/a", style="dim"),
            str(len(p.objects)),
            str(p.function_count),
            num(p.module.refcnt) if p.module.loaded else Text("no module", style="red"),
        )
    return table


def functions_table(patches: tuple[PatchInfo, ...]) -> Table:
    table = Table(title="Patched functions", title_justify="left")
    table.add_column("Patch", style="bold")
    table.add_column("Object")
    table.add_column("Function")
    table.add_column("Sympos", justify="right")
    for p in patches:
        for o in p.objects:
            state = "" if o.loaded else " (not loaded)"
            if o.patched is False and o.loaded:
                state = " (not patched)"
            for i, fn in enumerate(o.functions):
                table.add_row(
                    p.name if i == 0 and o is p.objects[0] else "",
                    Text(o.name + state, style="" if o.loaded else "dim") if i == 0 else "",
                    fn.name,
                    str(fn.sympos),
                )
    return table


def problems_list(snap: Snapshot) -> list[str]:
    out = [f"kernel {p}" for p in snap.kernel.problems]
    for p in snap.patches:
        out += [f"{p.name}: {x}" for x in p.problems]
        out += [f"{p.name} module: {x}" for x in p.module.problems]
    for m in snap.inactive_modules:
        out += [f"{m.name} module: {x}" for x in m.problems]
    return out


def status_renderable(snap: Snapshot, source_label: str) -> Group:
    parts: list = [kernel_block(snap), Text(""), transition_line(snap)]
    if snap.patches:
        parts.append(patches_table(snap.patches))
        parts.append(functions_table(snap.patches))
    else:
        parts.append(Text("No livepatch is loaded.", style="dim"))
    if snap.inactive_modules:
        names = ", ".join(
            f"{m.name} (refcnt {m.refcnt if m.refcnt is not None else '?'})" for m in snap.inactive_modules
        )
        parts.append(Text(f"Inactive livepatch modules (patch gone, module loaded): {names}", style="yellow"))
    problems = problems_list(snap)
    if problems:
        parts.append(Text("Unknown values:", style="bold yellow"))
        parts.extend(Text(f"  {p}", style="yellow") for p in problems)
    for note in snap.notes:
        parts.append(Text(note, style="yellow"))
    parts.append(Text(f"source: {source_label}, {snap.threads_total} threads", style="dim"))
    return Group(*parts)


def tasks_table(tasks: tuple[TaskInfo, ...], *, all_tasks: bool) -> Table:
    table = Table(title="All threads" if all_tasks else "Pending threads", title_justify="left")
    table.add_column("PID", justify="right")
    table.add_column("TID", justify="right")
    table.add_column("Command", max_width=20, overflow="ellipsis", no_wrap=True)
    table.add_column("St")
    table.add_column("Kthr")
    table.add_column("PS", justify="right")
    table.add_column("Blocking function", style="bold red")
    table.add_column("Reason", no_wrap=True)
    for t in tasks:
        table.add_row(
            str(t.pid),
            str(t.tid),
            t.comm or "?",
            t.state or "?",
            yes_no(t.kthread, "yes", "-"),
            num(t.patch_state),
            ", ".join(t.blocking_functions),
            Text(SHORT_REASON[t.reason_code], style="yellow" if t.pending else "dim"),
        )
    return table


def reasons_list(tasks: tuple[TaskInfo, ...]) -> list[Text]:
    out = []
    for t in tasks:
        if t.pending or t.reason_code is Reason.UNKNOWN_STATE:
            line = Text(f"{t.comm or '?'} ({t.pid}/{t.tid}): ", style="bold")
            line.append(t.reason)
            out.append(line)
    return out


def make_console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=False)
