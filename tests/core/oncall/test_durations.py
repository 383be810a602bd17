"""Transition durations from the kernel log's own lines: completed, reversed and forced, each one counted
however short, and exported as a Prometheus histogram."""

from __future__ import annotations

from lptui.core.oncall.history import BUCKETS, LogHistory
from lptui.core.oncall.kmsg import LogLine


def fed(*lines: tuple[float, str]) -> LogHistory:
    h = LogHistory()
    h.feed(LogLine(i, int(t * 1e6), 5, f"livepatch: {text}") for i, (t, text) in enumerate(lines))
    return h


def test_completed_reversed_and_forced_transitions_are_timed_by_the_kernels_lines():
    h = fed(
        (10.0, "'a': starting patching transition"),
        (10.3, "'a': patching complete"),  # shorter than any scrape interval
        (20.0, "'b': starting patching transition"),
        (50.0, "'b': starting unpatching transition"),  # reversed after 30 s
        (51.0, "'b': unpatching complete"),
        (60.0, "'c': starting patching transition"),
        (100.0, "forcing remaining tasks to the patched state"),
        (101.0, "'c': patching complete"),  # forced after 41 s
    )
    assert {(outcome, patch) for (_, outcome, patch) in h.durations.by} == {
        ("completed", "a"),
        ("completed", "b"),  # its unpatching, after the reversal
        ("reversed", "b"),
        ("forced", "c"),
    }  # each patch its own histogram: the fleet gives each patch's quantiles
    by = {}
    for (mechanism, outcome, _), hist in h.durations.by.items():
        assert mechanism == "livepatch"
        merged = by.setdefault(outcome, type(hist)())
        merged.buckets = [a + b for a, b in zip(merged.buckets, hist.buckets, strict=True)]
        merged.total, merged.count = merged.total + hist.total, merged.count + hist.count
    assert {k: v.count for k, v in by.items()} == {"completed": 2, "reversed": 1, "forced": 1}
    assert (
        round(by["completed"].total, 3) == 1.3 and by["reversed"].total == 30.0 and by["forced"].total == 41.0
    )
    assert by["completed"].buckets[BUCKETS.index(1.0)] == 2  # 0.3 s and 1.0 s: both within the first bucket
    assert by["forced"].buckets[BUCKETS.index(30.0)] == 0 and by["forced"].buckets[BUCKETS.index(60.0)] == 1


def test_the_exporter_serves_them_as_a_histogram():
    import contextlib
    import io

    from prometheus_client.parser import text_string_to_metric_families

    from lptui.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--demo", "unpatch", "metrics"]) == 0
    (family,) = [
        f
        for f in text_string_to_metric_families(out.getvalue())
        if f.name == "lptui_transition_duration_seconds"
    ]
    counts = {s.labels["outcome"]: s.value for s in family.samples if s.name.endswith("_count")}
    assert family.type == "histogram" and counts == {"completed": 1.0, "reversed": 1.0}
    assert all(s.labels["patch"] for s in family.samples)  # each transition's patch
