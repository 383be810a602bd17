"""The bottom layer: everything lptui knows about the kernel, with no UI library and no other lptui layer. The
top-level modules are the foundation every sub-package may import: `model` (the frozen records), `declared`
(what a patch module declares), `tree` (bounded reads of a /sys and /proc tree), `errors` (errno turned into
words), `exits` (the exit codes and `LptuiError`, which carries one) and `shown` (the one function every
outside string passes before anything prints it); `snapshot` assembles one `Snapshot` from `livepatch` and
`legacy`. The sub-packages, bottom up: `livepatch`, `kofile`, `oncall`; `legacy`, `lifecycle`; `output`,
`actions`, and `evidence` (what a capture reads besides the snapshot). tests/test_import_hygiene.py enforces
which may import which.
"""
