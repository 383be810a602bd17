"""The simulated kernel behind `--demo` and the fast tests: livepatch's rules kept as the kernel keeps
them, written out as the same /sys and /proc files a real kernel shows. Arrows run one way:
`state` and `rules` (records, errno, symbol resolution) at the bottom; `legacy` (the older systems)
and `transition` above them; `kernel` (SimKernel) above those; `files` (atomic writes), `render` and
`render_legacy` (the files), `control` (the core's
Control protocol), `scenarios` and `session` on top. May import the core (its records and readers),
never the watcher, the CLI or the console.
"""
