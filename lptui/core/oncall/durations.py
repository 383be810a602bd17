"""How long transitions took, from the kernel log's own lines (history.py feeds it): a "starting …
transition" and its "… complete" (klp_start_transition / klp_complete_transition in
kernel/livepatch/transition.c), so one shorter than a scrape interval still counts. Outcomes: completed,
reversed (a "starting" of the other direction while it ran: klp_reverse_transition), forced (the
"forcing remaining tasks" line while it ran: klp_force_transition). Kept as a histogram's buckets, sum
and count: bounded whatever the log holds."""

from __future__ import annotations

from dataclasses import dataclass, field

# seconds: a clean transition ends within a few retries; a stall that the fake signal (15 s) does not end
# runs minutes to hours
BUCKETS = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0, float("inf"))
OUTCOMES = ("completed", "reversed", "forced")


@dataclass
class Histogram:
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))  # cumulative, as Prometheus's
    total: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1
        self.total += seconds
        self.count += 1


@dataclass
class Durations:
    """(mechanism, outcome) -> its histogram; only livepatch's lines carry both ends today."""

    by: dict[tuple[str, str], Histogram] = field(default_factory=dict)

    def observe(self, outcome: str, seconds: float, mechanism: str = "livepatch") -> None:
        self.by.setdefault((mechanism, outcome), Histogram()).observe(max(seconds, 0.0))
