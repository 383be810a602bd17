"""Everything that changes kernel state, and what is checked first: the `Control` that writes sysfs
and (un)loads modules, the actions themselves (load, revert, force, unload, signal) with their lock
and audit record, and the pre-flight (`preflight`, `kernel_checks`). The top of the core. May import
any other part of it except `output`; nothing in the core imports it.
"""
