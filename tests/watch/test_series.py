"""The series names are declared once (lptui/core/oncall/series.py): the exporter serves each of them, and
the fleet asks for nothing else. A name changed on one side only fails here, not in a fleet that quietly
reads nothing."""

from __future__ import annotations

import contextlib
import io

from prometheus_client.parser import text_string_to_metric_families

from lptui.core.oncall import series
from lptui.fleet.queries import FAMILIES, last_known, queries


def served(scenario: str) -> set[str]:
    from lptui.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--demo", scenario, "metrics"]) == 0
    names = set()
    for family in text_string_to_metric_families(out.getvalue()):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


def test_the_exporter_serves_every_declared_series():
    exported = served("stuck") | served("unpatch") | served("ksplice")
    declared = {value for key, value in vars(series).items() if key.isupper() and isinstance(value, str)}
    assert declared <= exported, sorted(declared - exported)
    assert {name for name in exported if name.startswith("lptui_")} - {
        n for d in declared for n in (d, f"{d}_total", f"{d}_bucket", f"{d}_sum", f"{d}_count")
    } == set()  # and nothing undeclared


def test_the_fleet_asks_for_declared_series_only():
    assert set(FAMILIES) - {"up"} <= set(series.BY_FAMILY)
    asked = " ".join([*queries("lptui").values(), *last_known("lptui", "instance", ["h:1"]).values()])
    for family in set(FAMILIES) - {"up"}:
        assert series.BY_FAMILY[family] in asked
