"""screenshots/make.py (README: it regenerates the pictures) still renders the demo screens."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def test_make_renders_a_screen(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_screenshots", ROOT / "screenshots/make.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    monkeypatch.setattr(make, "OUT", tmp_path)
    svg = await make.shoot("dashboard-stuck", "stuck")
    text = svg.read_text()
    assert svg.parent == tmp_path and "kpatch_cve_2026_4242" in text and "xfsaild" in text
