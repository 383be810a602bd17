"""The fleet, read from Prometheus: every host that Prometheus scrapes `lptui metrics` on, answered as
three questions (stuck hosts, a patch's rollout, a CVE's exposure) and a plugin verdict. Prometheus is the
store and the query layer; nothing here talks to a host. `prometheus` (the HTTP API) at the bottom,
`state` (the series into records) above it, `answers` on top. May import the core's foundation, never a
UI library, the watcher, the CLI or the console.
"""
