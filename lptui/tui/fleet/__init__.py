"""The fleet console: the app and its tabs (`app`), a host's drill-down (`host`) and the table kept in
step by key, in slices (`table`). Renders what lptui.fleet.poller shapes off the UI thread; may import
lptui.fleet and the console's text widgets (lptui.tui.shown), never the host console's screens or the CLI.
"""
