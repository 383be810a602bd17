"""Render the console's main screens from the demo scenarios as SVG and PNG.

    .venv/bin/python screenshots/make.py   (from the repository root, with the [screenshots] extra)

Runs the app headless on the simulated kernel with time frozen, so the pictures are repeatable.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lptui.source import open_source  # noqa: E402
from lptui.tui.app import LptuiApp  # noqa: E402

OUT = Path(__file__).resolve().parent
SIZE = (120, 38)


async def settle(pilot) -> None:
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.pause(0.2)


async def shoot(name: str, scenario: str, steps=()) -> Path:
    source = open_source(demo=scenario)
    app = LptuiApp(source, auto_poll=False, watch_modules=False,
                   clock=lambda: 100.0, wall=lambda: 1_800_000_000.0)  # fmt: skip
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for step in steps:
            await step(pilot)
            await settle(pilot)
        svg = OUT / f"{name}.svg"
        svg.write_text(app.export_screenshot(title=f"lptui --demo {scenario}"))
    source.close()
    return svg


def press(*keys):
    async def run(pilot):
        await pilot.press(*keys)

    return run


def focus(selector):
    async def run(pilot):
        pilot.app.screen.query_one(selector).focus()

    return run


SHOTS = [
    ("dashboard-stuck", "stuck", ()),
    ("dashboard-idle", "idle", ()),
    ("dashboard-replace", "replace", ()),
    ("dashboard-bpf", "bpf", ()),
    ("task-detail-bpf", "bpf", (focus("#pending"), press("enter"))),
    ("task-detail", "stuck", (focus("#pending"), press("enter"))),
    ("patch-detail", "stuck", (focus("#patches"), press("enter"))),
    ("force-dialog", "stuck", (press("f"),)),
    ("all-tasks", "stuck", (press("a"),)),
]


def main() -> None:
    try:
        import cairosvg
    except ImportError:
        cairosvg = None
        print(
            "cairosvg is not installed (pip install -e '.[screenshots]'): writing SVG only", file=sys.stderr
        )
    for name, scenario, steps in SHOTS:
        svg = asyncio.run(shoot(name, scenario, steps))
        if cairosvg is not None:
            cairosvg.svg2png(url=str(svg), write_to=str(svg.with_suffix(".png")), output_width=1400)
        print(f"wrote {svg.relative_to(ROOT)}" + (" and .png" if cairosvg else ""))


if __name__ == "__main__":
    main()
