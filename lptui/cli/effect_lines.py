"""Whether the patches are in effect and healthy, as `status` and the console say it: ftrace's handler on
each patched function (lptui/core/livepatch/effect.py) and the kernel's complaints since a patch
completed (lptui/core/oncall/health.py)."""

from __future__ import annotations

from lptui.richtext import Text

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.core.oncall.facts import OnCall


def effect_lines(oncall: OnCall | None) -> list[Text]:
    from lptui.core.livepatch.effect import NOT_IN_EFFECT

    if oncall is None or oncall.effect is None:
        return []
    effect = oncall.effect
    if effect.why:
        return [Text(f"? {effect.why}", style="yellow")]
    out = []
    for f in effect.findings:
        grave = f.kind == NOT_IN_EFFECT
        out.append(Text(f"{'✗' if grave else '!'} {f.text}", style="bold red" if grave else "yellow"))
    if effect.checked and not out:
        n = len(effect.checked)
        patches = f"{n} settled patch{'es' if n != 1 else ''}"
        text = f"In effect: ftrace runs the livepatch handler on every function of the {patches}."
        out.append(Text(text, style="dim"))
    return out


def health_lines(oncall: OnCall | None) -> list[Text]:
    if oncall is None or not oncall.health:
        return []
    out = [Text("Post-load health: the kernel complained after a patch went in.", style="bold red")]
    for f in oncall.health:
        style = "red" if f.grave else "yellow"
        out.append(Text(f"  {f.patch} ({f.why}): {f.text}", style=style))
    return out
