"""The fleet console's picture: a real Prometheus over the demo exporters (as tests/fleet runs it), the
console on it, saved as screenshots/fleet.svg (and .png with cairosvg). Needs Debian's prometheus."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lptui.fleet.prometheus import Prometheus  # noqa: E402
from lptui.tui.fleet_app import FleetApp  # noqa: E402
from tests.fleet.test_fleet_prometheus import RealFleet  # noqa: E402


async def shoot(url: str, out: Path) -> Path:
    app = FleetApp(Prometheus(url), job="lptui", host_label="instance", stale=300, interval=5)
    async with app.run_test(size=(172, 16)) as pilot:
        for _ in range(100):
            await pilot.pause(0.1)
            if app.fleet is not None:
                break
        await pilot.pause(0.3)
        app.save_screenshot(filename=out.name, path=str(out.parent))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fleet = RealFleet(Path(tmp))
        try:
            svg = asyncio.run(shoot(fleet.url, ROOT / "screenshots/fleet.svg"))
        finally:
            fleet.stop()
    try:
        import cairosvg

        cairosvg.svg2png(url=str(svg), write_to=str(svg.with_suffix(".png")), output_width=1400)
    except ImportError:
        pass
    print(f"wrote {svg.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
