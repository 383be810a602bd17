"""The round's PromQL: one query per family of series the hosts export, each asking for only the labels
the fleet reads and at most LIMITS[kind] series a host, and a few questions about the hosts themselves
(`checks`): how many lptui series each has, how many its own scrape returned, how many jobs claim it,
whether its series name another instance, whether a label runs past MAX_LABEL characters."""

from __future__ import annotations

import re

from lptui.core.oncall.series import BY_FAMILY
from lptui.fleet.prometheus import FleetError

# each family: how its series reduce per host (see reduce_family), and the labels the fleet reads of it
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "up": ("value", ()),
    "last_poll_timestamp_seconds": ("value", ()),
    "kernel_info": ("labels", ("release", "machine")),
    "patch_info": ("patches", ("patch", "mechanism", "version", "srcversion")),
    "patch_enabled": ("per_patch", ("patch",)),
    "patch_in_transition": ("per_patch", ("patch",)),
    "patch_replace": ("per_patch", ("patch",)),
    "transition_info": ("labels", ("patch", "direction", "mechanism", "age_source")),
    "transition_age_seconds": ("value", ()),
    "transition_tasks_pending": ("value", ()),
    "transition_tasks": ("value", ()),
    "transition_tasks_unreadable": ("value", ()),
    "forced_this_boot": ("value", ()),
    "patch_fixes": ("cves", ("patch", "cve")),
    "patch_provenance_known": ("per_patch", ("patch",)),
    "patch_lost_at_reboot": ("per_patch", ("patch",)),
    "patch_installed_not_loaded": ("per_patch", ("patch",)),
    "patch_installed_fixes": ("cves", ("patch", "cve")),
    "kpatch_service": ("service", ("state",)),
    "inactive_modules": ("value", ()),
    "blocked_tasks": ("reasons", ("reason",)),
    "patch_in_effect": ("per_patch", ("patch",)),
    "patch_post_load_problems": ("severities", ("patch", "kind")),
    "transition_aborted": ("labels", ("cause",)),
}
# only the series that count: the blockers that are not 0, the service's one state that is 1 (the exporter
# sets exactly one: its presence says the host exports its life cycle)
FILTERS = {"blocked_tasks": " > 0", "kpatch_service": " == 1", "patch_post_load_problems": " > 0"}
# series read per host and family: "labels" families have one series a host (two are read, to see a
# second); a host has a few patches, each a few CVEs; the reasons and the service's states are closed sets
LIMITS = {
    "value": 1,
    "labels": 2,
    "patches": 200,
    "per_patch": 200,
    "cves": 1_000,
    "reasons": 32,
    "service": 4,
    "severities": 400,
}
MAX_SERIES = 2_000  # lptui series of one host: ~30, 12 a patch and one a CVE (README's On call)
MAX_LABEL = 256  # characters of a label value read (a patch name is tens)
LABELS_READ = tuple(sorted({label for _, labels in FAMILIES.values() for label in labels}))
DEFAULT_STALE = 300.0  # seconds: the textfile timer writes every 30 s; the listener polls every 3 s idle
WORKERS = 4  # queries in flight at once: Prometheus answers them in parallel while one is decoded here


def _job_matcher(job: str) -> str:
    quoted = job.replace("\\", "\\\\").replace('"', '\\"')
    return f'job=~"{quoted}"'


def _label_name(label: str) -> str:
    if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", label):
        raise FleetError(f"--host-label {label!r}: not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)")
    return label


def queries(job: str, host_label: str = "instance") -> dict[str, str]:
    """The round: one instant query per family, asking for exactly the labels the fleet reads of it
    (`max by`: a third of what the bare selectors answer), at most LIMITS[kind] series per host (`topk by`:
    one host's thousands of series cost what its first ones do)."""
    job_is = _job_matcher(job)
    host = _label_name(host_label)
    out = {}
    for family in FAMILIES:
        name = family if family == "up" else BY_FAMILY[family]
        out[family] = _query(family, f"{name}{{{job_is}}}", host)
    return out


def _query(family: str, selector: str, host: str) -> str:
    kind, labels = FAMILIES[family]
    query = f"max by ({', '.join((host, *labels))}) ({selector}{FILTERS.get(family, '')})"
    return query if kind == "value" else f"topk by ({host}) ({LIMITS[kind]}, {query})"


# what is read again of a host whose exporter is down: Prometheus marks its series stale at the failed
# scrape, so an instant query no longer sees them; `last_over_time` over LOOKBACK does (a range selector
# skips the stale markers), each series at its last scraped value
LAST_KNOWN = (
    "last_poll_timestamp_seconds",
    "kernel_info",
    "patch_info",
    "patch_enabled",
    "patch_in_transition",
    "transition_info",
    "transition_age_seconds",
    "transition_tasks_pending",
    "transition_tasks",
    "blocked_tasks",
    "forced_this_boot",
    "patch_fixes",
)
LOOKBACK = 3600  # seconds: a host down longer has no last known state (its series are out of reach)
MAX_DOWN = 200  # down hosts whose last known state one round reads (the first by name)
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.:\[\]-]{1,253}")  # a host:port, an IPv6 [::1]:port


def last_known(job: str, host_label: str, down: list[str]) -> dict[str, str]:
    """The LAST_KNOWN families of the `down` hosts (at most MAX_DOWN, each a plain host:port: a name
    Prometheus's regex would read otherwise is not asked for), as `queries` asks for them now."""
    names = sorted(name for name in down if _PLAIN_NAME.fullmatch(name))[:MAX_DOWN]
    if not names:
        return {}
    # RE2 in a PromQL string: a dot or bracket escaped for the regex, the backslash for the string
    alternatives = "|".join("".join("\\\\" + c if c in ".[]" else c for c in name) for name in names)
    host = _label_name(host_label)
    selector = f'{{{_job_matcher(job)}, {host}=~"{alternatives}"}}'
    return {
        family: _query(family, f"last_over_time({BY_FAMILY[family]}{selector}[{LOOKBACK}s])", host)
        for family in LAST_KNOWN
    }


def checks(job: str, host_label: str = "instance") -> dict[str, str]:
    """The round's questions about the hosts themselves: one number (or label) a host."""
    job_is = _job_matcher(job)
    host = _label_name(host_label)
    lptui = f'__name__=~"lptui_.+", {job_is}'
    too_long = f"(?s:.{{{MAX_LABEL + 1},}})"
    long = " or ".join(f'{{{lptui}, {label}=~"{too_long}"}}' for label in LABELS_READ)
    return {
        "series": f"count by ({host}) ({{{lptui}}})",
        "scraped": f"sum by ({host}) (scrape_samples_scraped{{{job_is}}})",
        "jobs": f"count by ({host}) (count by ({host}, job) ({{{lptui}}}))",
        "exported": f'count by ({host}, exported_{host}) ({{{lptui}, exported_{host}!=""}})',
        "long_labels": f"count by ({host}) ({long})",
    }
