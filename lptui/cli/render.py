"""Human-readable output of snapshots as Rich tables: the kernel, the transition, the patches, their
functions and life cycle (`lptui status`); the tasks' tables are in tasks_render.py."""

from __future__ import annotations

from rich import box

from lptui.core.model import (
    MECHANISM_TITLES,
    Direction,
    Mechanism,
    ModuleInfo,
    PatchInfo,
    Snapshot,
    TransitionInfo,
)
from lptui.core.oncall.history import FORCED_ADVICE, AgeSource, age_phrase
from lptui.richtext import Group, Table, Text

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.core.lifecycle.provenance import LifeCycle
    from lptui.core.oncall.facts import OnCall

UNKNOWN = Text("?", style="bold yellow")


def new_table(title: str | None = None) -> Table:
    """A table whose cells never lose characters: columns made with `add` wrap or fold, never "…"."""
    return Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True
    )


def add(table: Table, header: str, *, number: bool = False, **kwargs) -> None:
    """Numbers never wrap (they are narrow); everything else folds when the width runs out, so a
    name is split across lines rather than cut."""
    if number:
        table.add_column(header, justify="right", no_wrap=True, **kwargs)
    else:
        table.add_column(header, overflow="fold", **kwargs)


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
    others = [x for x in snap.systems if x.mechanism is not Mechanism.LIVEPATCH]
    if k.livepatch_supported:
        core = Text("supported", style="green")
    elif others:
        core = Text("no upstream core (no /sys/kernel/livepatch)", style="dim")
    else:
        core = Text(
            "not supported (no /sys/kernel/livepatch, nor kGraft, kpatch core or Ksplice)", style="red"
        )
    grid.add_row("Livepatch", core)
    if others:
        systems = Text()
        for i, x in enumerate(others):
            systems.append(("; " if i else "") + MECHANISM_TITLES[x.mechanism], style="bold green")
            where = ", ".join("/" + w for w in x.where.split(", "))
            systems.append(f" ({where}{', ' + x.detail if x.detail else ''})")
        grid.add_row("Also", systems)
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


def transition_line(snap: Snapshot, oncall: OnCall | None = None) -> Text:
    t = snap.transition
    unresolved = [p.name for p in snap.patches if p.transition and p.enabled is None]
    if t is None and unresolved:  # transition 1, enabled unreadable: in progress, direction unknown
        return Text(
            f"Transition: {', '.join(unresolved)} in progress, direction unknown (its enabled is "
            "unreadable): pending threads not read",
            style="bold yellow",
        )
    if t is None:
        return Text("No transition in progress.", style="green")
    if t.mechanism is Mechanism.KSPLICE:
        return ksplice_line(t)
    title = "" if t.mechanism is Mechanism.LIVEPATCH else f" ({MECHANISM_TITLES[t.mechanism]})"
    line = Text(f"Transition{title}: ", style="bold")
    line.append(t.patch, style="bold cyan")
    line.append(f" {t.direction} (target {t.target}) ")
    unit = "processes" if t.mechanism is Mechanism.KGRAFT else "threads"
    line.append(
        f"{t.tasks_pending} of {t.tasks_total} {unit} pending",
        style="bold yellow" if t.tasks_pending else "green",
    )
    if t.tasks_unknown:
        line.append(f", {t.tasks_unknown} unreadable", style="yellow")
    if oncall is not None and oncall.age is not None:
        line.append("\n")
        line.append("Age: ", style="bold")
        logs_start = t.mechanism is Mechanism.LIVEPATCH
        line.append(
            age_phrase(oncall.age, logs_start), style="dim" if oncall.age.source is AgeSource.OBSERVED else ""
        )
    return line


def ksplice_line(t: TransitionInfo) -> Text:
    from lptui.core.legacy.ksplice import ABORT_CAUSES

    what = "undo of" if t.direction is Direction.UNPATCHING else "update"
    line = Text("Ksplice: ", style="bold")
    line.append(f"{what} ")
    line.append(t.patch, style="bold cyan")
    if t.aborted is None:
        line.append(" is being prepared (stage preparing)")
        return line
    line.append(f" aborted ({t.aborted})", style="bold yellow")
    meaning = ABORT_CAUSES.get(t.aborted)
    if meaning:
        line.append(f": {meaning}")
    if t.tasks_pending:
        line.append(f"; {t.tasks_pending} process(es) were using what it changes", style="bold yellow")
    return line


def forced_lines(oncall: OnCall | None) -> list[Text]:
    if oncall is None or not oncall.forced:
        return []
    out = [Text(f"Forced this boot: {FORCED_ADVICE}.", style="bold red")]
    for e in oncall.forced:
        who = f"{e.patch}: " if e.patch else ""
        out.append(Text(f"  {who}{e.text}", style="red"))
    return out


def patches_table(patches: tuple[PatchInfo, ...]) -> Table:
    table = new_table("Patches")
    add(table, "Name", style="bold")
    several = any(p.mechanism is not Mechanism.LIVEPATCH for p in patches)
    if several:
        add(table, "System")
        add(table, "Stage")
    for col in ("Enabled", "Transition", "Replace"):
        add(table, col)
    for col in ("Stack", "Objects", "Funcs"):
        add(table, col, number=True)
    for p in patches:
        system = (str(p.mechanism), p.stage or "-") if several else ()
        table.add_row(
            p.name,
            *system,
            yes_no(p.enabled),
            yes_no(p.transition, "YES", "no") if p.transition is not None else Text("n/a", style="dim"),
            yes_no(p.replace) if p.replace is not None else Text("n/a", style="dim"),
            num(p.stack_order) if p.stack_order is not None else Text("n/a", style="dim"),
            str(len(p.objects)),
            str(p.function_count),
        )
    return table


def modules_table(patches: tuple[PatchInfo, ...], inactive: tuple[ModuleInfo, ...]) -> Table:
    """The module behind each patch, and livepatch modules whose patch is gone."""
    table = new_table("Modules")
    add(table, "Module", style="bold")
    add(table, "Refcnt", number=True)
    add(table, "Taint")
    add(table, "Srcversion")
    add(table, "Patch")
    rows = [(p.module, Text("present", style="green")) for p in patches]
    rows += [(m, Text("gone (inactive module)", style="yellow")) for m in inactive]
    for m, patch_state in rows:
        if not m.loaded:
            table.add_row(m.name, Text("-", style="dim"), Text("not loaded", style="red"), "", patch_state)
            continue
        table.add_row(
            m.name, num(m.refcnt), text_or_unknown(m.taint), text_or_unknown(m.srcversion), patch_state
        )
    return table


def text_or_unknown(value: str | None) -> Text:
    return UNKNOWN if value is None else Text(value)


def functions_table(patches: tuple[PatchInfo, ...]) -> Table:
    table = new_table("Patched functions")
    add(table, "Patch", style="bold")
    add(table, "Object")
    add(table, "Function")
    add(table, "Sympos", number=True)
    states = any(f.state for p in patches for o in p.objects for f in o.functions)
    if states:
        add(table, "State")
    for p in patches:
        first_of_patch = True
        for o in p.objects:
            state = "" if o.loaded else " (not loaded)"
            if o.patched is False and o.loaded:
                state = " (not patched)"
            obj = Text(o.name + state, style="" if o.loaded else "dim")
            patch_cell = p.name if first_of_patch else ""
            first_of_patch = False
            if not o.functions:
                # An object may carry only callbacks (the selftests' callbacks_demo does): sysfs
                # lists it with no function directory.
                table.add_row(
                    patch_cell, obj, Text("callbacks only", style="dim"), "", *([""] if states else [])
                )
                continue
            for i, fn in enumerate(o.functions):
                shown_state = [fn.state or ""] if states else []
                table.add_row(
                    patch_cell if i == 0 else "", obj if i == 0 else "", fn.name, str(fn.sympos), *shown_state
                )
    return table


def details_lines(patches: tuple[PatchInfo, ...]) -> list[Text]:
    """What the older systems show beyond the common fields (checksum, refs, abort cause, ...)."""
    out = []
    for p in patches:
        if p.details:
            line = Text(f"{p.name} ", style="bold")
            line.append(f"({p.mechanism}): " + ", ".join(f"{k} {v}" for k, v in p.details), style="dim")
            out.append(line)
    return out


def problems_list(snap: Snapshot) -> list[str]:
    out = [f"kernel {p}" for p in snap.kernel.problems]
    for p in snap.patches:
        out += [f"{p.name}: {x}" for x in p.problems]
        out += [f"{p.name} module: {x}" for x in p.module.problems]
    for m in snap.inactive_modules:
        out += [f"{m.name} module: {x}" for x in m.problems]
    return out


def provenance_table(snap: Snapshot, life: LifeCycle) -> Table:
    table = new_table("Where the patches came from")
    add(table, "Patch", style="bold")
    add(table, "File")
    add(table, "Description")
    add(table, "CVEs")
    add(table, "Package")
    for p in snap.patches:
        prov = life.provenance.get(p.name)
        if prov is not None and prov.file is None and p.name not in life.lost_at_reboot:
            table.add_row(p.name, Text(prov.why or "", style="dim"), "", "", "")
            continue
        if prov is None or prov.file is None:
            table.add_row(p.name, Text("none found (see below)", style="yellow"), "", "", "")
            continue
        f = prov.file
        table.add_row(
            p.name,
            f.path,
            f.description or Text("-", style="dim"),
            ", ".join(prov.cves) or "-",
            prov.package or Text("-", style="dim"),
        )
    return table


def life_cycle_lines(life: LifeCycle) -> list[Text]:
    out: list[Text] = []
    for name in life.lost_at_reboot:
        why = life.provenance[name].why
        out.append(Text(f"{name}: gone after a reboot ({why})", style="bold yellow"))
    for i in life.installed:
        if not i.loaded:
            cves = f" ({', '.join(i.facts.cves)})" if i.facts.cves else ""
            out.append(Text(f"Installed, not loaded: {i.facts.name} {i.facts.path}{cves}", style="yellow"))
    for i in life.other_releases:
        out.append(
            Text(f"Installed for another release ({i.release}): {i.facts.name} {i.facts.path}", style="dim")
        )
    if life.boot_service == "enabled":
        out.append(
            Text("kpatch.service is enabled: the patches kpatch installed are loaded at boot", style="dim")
        )
    elif life.boot_service == "disabled":
        out.append(
            Text(
                "kpatch.service is installed but disabled: installed patches are not loaded at boot",
                style="yellow",
            )
        )
    out.extend(Text(f"Unreadable module file: {p}", style="yellow") for p in life.problems)
    return out


def status_renderable(
    snap: Snapshot, source_label: str, oncall: OnCall | None = None, life: LifeCycle | None = None
) -> Group:
    from lptui.cli.effect_lines import effect_lines, health_lines

    parts: list = [kernel_block(snap), *forced_lines(oncall), *health_lines(oncall), Text("")]
    parts.append(transition_line(snap, oncall))
    if snap.transition is not None:
        who = "threads" if snap.transition.mechanism is Mechanism.LIVEPATCH else "processes"
        parts.append(Text(f"`lptui tasks` shows which {who} hold it up, and why.", style="dim"))
    if snap.patches:
        parts.append(patches_table(snap.patches))
        with_objects = tuple(p for p in snap.patches if p.objects or p.mechanism is Mechanism.LIVEPATCH)
        if with_objects:
            parts.append(functions_table(with_objects))
        parts.extend(effect_lines(oncall))
    elif snap.kernel.livepatch_supported:
        parts.append(Text("No livepatch is loaded.", style="dim"))
    if snap.patches or snap.inactive_modules:
        parts.append(modules_table(snap.patches, snap.inactive_modules))
    parts.extend(details_lines(snap.patches))
    if life is not None and snap.patches:
        parts.append(provenance_table(snap, life))
    if life is not None:
        parts.extend(life_cycle_lines(life))
    if snap.inactive_modules:
        names = ", ".join(m.name for m in snap.inactive_modules)
        parts.append(Text(f"Inactive livepatch modules (patch gone, module loaded): {names}", style="yellow"))
    problems = problems_list(snap)
    if problems:
        parts.append(Text("Unknown values:", style="bold yellow"))
        parts.extend(Text(f"  {p}", style="yellow") for p in problems)
    for note in snap.notes:
        parts.append(Text(note, style="yellow"))
    parts.append(Text(f"source: {source_label}, {snap.threads_total} threads", style="dim"))
    return Group(*parts)
