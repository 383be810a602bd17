"""The fleet console's picture: a real Prometheus over the demo exporters (as tests/fleet runs it), the
console on it, saved as screenshots/fleet.svg, and Enter on the worst host (the stuck demo) as
screenshots/fleet-host.svg (and .png with cairosvg). Needs Debian's prometheus."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lptui.fleet.prometheus import Prometheus  # noqa: E402
from lptui.tui.fleet.app import FleetApp  # noqa: E402
from tests.fleet.test_fleet_prometheus import RealFleet  # noqa: E402


async def shoot(url: str, out: Path, host: Path) -> list[Path]:
    from textual.widgets import DataTable

    app = FleetApp(Prometheus(url), job="lptui", host_label="instance", stale=300, interval=5)
    async with app.run_test(size=(172, 16)) as pilot:
        for _ in range(100):
            await pilot.pause(0.1)
            if app.fleet is not None:
                break
        await pilot.pause(0.3)
        app.save_screenshot(filename=out.name, path=str(out.parent))
    app = FleetApp(Prometheus(url), job="lptui", host_label="instance", stale=300, interval=60)
    async with app.run_test(size=(120, 24)) as pilot:
        table = app.query_one("#hosts", DataTable)
        for _ in range(100):
            await pilot.pause(0.1)
            if table.row_count:
                break
        table.focus()
        await pilot.press("enter")
        await pilot.pause(0.5)
        app.save_screenshot(filename=host.name, path=str(host.parent))
    return [out, host]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fleet = RealFleet(Path(tmp))
        try:
            svgs = asyncio.run(
                shoot(fleet.url, ROOT / "screenshots/fleet.svg", ROOT / "screenshots/fleet-host.svg")
            )
        finally:
            fleet.stop()
    for svg in svgs:
        try:
            import cairosvg

            cairosvg.svg2png(url=str(svg), write_to=str(svg.with_suffix(".png")), output_width=1400)
        except ImportError:
            pass
        print(f"wrote {svg.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
