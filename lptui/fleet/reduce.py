"""One answer's samples, per host, in the shape its family's kind says: decided as each answer arrives
(in the worker that fetched it), so the round never holds more than one decoded answer at a time.

A sample not shaped as Prometheus shapes them makes the whole answer refused in one line: that is the
server misbehaving, not a host. What a host controls (its label values, its numbers) is kept as it came,
label values cut to MAX_LABEL characters, and judged per host in lptui.fleet.hosts."""

from __future__ import annotations

import math
from typing import Any

from lptui.fleet.prometheus import Answer, not_prometheus
from lptui.fleet.queries import FAMILIES, MAX_LABEL

CHECK_KINDS = {"series": "value", "scraped": "value", "jobs": "value", "long_labels": "value"}


def cut(value: object) -> str:
    """A label value as the fleet keeps it: at most MAX_LABEL characters (a longer one is flagged)."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def count(value: float | None) -> int | None:
    """A count from a sample value: NaN and the infinities (any exporter may send them) are no count."""
    return int(value) if value is not None and math.isfinite(value) else None


def reduce_family(family: str, answer: Answer, host_label: str, base: str = "Prometheus") -> dict[str, Any]:
    """One family's samples, per host (the first sample wins a duplicate)."""
    kind = FAMILIES[family][0] if family in FAMILIES else CHECK_KINDS.get(family, "exported")
    try:
        return _reduce(kind, answer.items, host_label)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        raise not_prometheus(base) from None


def _reduce(kind: str, items: tuple[dict[str, Any], ...], host_label: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        labels = item["metric"]
        host = labels.get(host_label)
        if not host:
            continue
        value = float(item["value"][1])  # JSON carries sample values as strings ("NaN", "+Inf" too)
        if kind == "value":
            out.setdefault(host, value)
        elif kind == "labels":  # one series a host; a second is counted, to be flagged
            seen = out.setdefault(host, [{k: cut(v) for k, v in labels.items()}, 0])
            seen[1] += 1
        elif kind == "patches":
            out.setdefault(host, {}).setdefault(cut(labels.get("patch", "")), labels)
        elif kind == "per_patch":  # a flag: decided here, in the worker, not in the build after the round
            out.setdefault(host, {}).setdefault(cut(labels.get("patch", "")), value == 1)
        elif kind == "cves":
            cves = out.setdefault(host, {}).setdefault(cut(labels.get("patch", "")), set())
            cves.add(cut(labels.get("cve", "")).upper())
        elif kind == "severities":  # the kinds of kernel complaint tied to each patch (only those > 0)
            out.setdefault(host, {}).setdefault(cut(labels.get("patch", "")), set()).add(
                cut(labels.get("kind", ""))
            )
        elif kind == "service":  # present at all: the host exports its life cycle
            if value == 1 or host not in out:
                out[host] = cut(labels.get("state")) if value == 1 else None
        elif kind == "reasons" and labels.get("reason"):
            out.setdefault(host, {})[cut(labels["reason"])] = count(value) or 0
        elif kind == "exported":  # the other instances its series name
            out.setdefault(host, set()).add(cut(labels.get(f"exported_{host_label}", "")))
    return out
