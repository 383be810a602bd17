"""The fleet's history helpers without a server: the window's words, the matrix reader's refusals, the
curve as blocks, when hosts went live. (On real stores: tests/fleet/test_fleet_prometheus.py.)"""

from __future__ import annotations

import orjson
import pytest

from lptui.fleet.history import PatchHistory, parse_since, sparkline, went_live_text
from lptui.fleet.prometheus import FleetError, _parse_matrix


def test_the_window_is_written_as_prometheus_writes_durations():
    assert [parse_since(w) for w in ("90m", "6h", "2d", "45")] == [5400, 21600, 172800, 45]
    for bad in ("forever", "0h", "-1h", "31d", "nan", ""):
        with pytest.raises(ValueError, match="--since"):
            parse_since(bad)


def test_a_matrix_is_read_and_anything_else_refused():
    body = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {"metric": {"patch": "p"}, "values": [[1.0, "2"], [2.0, "3"]]},
            ],
        },
    }
    assert _parse_matrix(orjson.dumps(body), "http://x") == (({"patch": "p"}, ((1.0, 2.0), (2.0, 3.0))),)
    vector = {"status": "success", "data": {"resultType": "vector", "result": []}}
    with pytest.raises(FleetError, match="answered a vector, not a matrix"):
        _parse_matrix(orjson.dumps(vector), "http://x")
    for junk in (b"[]", b'{"status": "success", "data": {"resultType": "matrix", "result": 7}}', b"\xff"):
        with pytest.raises(FleetError, match="is it Prometheus"):
            _parse_matrix(junk, "http://x")


def test_the_curve_and_the_go_live_times():
    assert sparkline(((0, 0), (1, 5), (2, 10)), 10) == "▁▅█"
    assert sparkline((), 10) == ""
    h = PatchHistory(((0, 1),), {"a": 100.0, "b": 7_000.0}, None, None, 0, start=100.0, step=2.0)
    assert went_live_text(h, 3600).startswith("before → ")  # a: live at the window's start
    assert went_live_text(PatchHistory((), {}, None, None, 0), 3600) == "-"
