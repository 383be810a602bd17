"""What an evidence bundle holds besides the snapshot's own reads: every file the console and the commands
would read on this host, read once through a recording tree (lptui.core.oncall.capture.RecordingTree) so
that a replay answers from the same bytes. `lptui capture` calls these; it reads nothing itself."""

from __future__ import annotations

import os
from pathlib import Path

from lptui.core.livepatch.procfacts import read_process_facts
from lptui.core.livepatch.tasks import iter_thread_ids
from lptui.core.model import Snapshot
from lptui.core.oncall.capture import RecordingTree

# Module files a capture carries in all: a bundle holds at most 96 MiB of contents (bundle.MAX_CONTENT),
# and a capture of 100,000 threads needs 0.2 MiB of the rest. Past this a file is noted, not carried.
CAPTURE_MODULE_BYTES = 64 << 20


def record_reads(tree: RecordingTree, snap: Snapshot) -> None:
    """What the snapshot did not read: every thread's patch_state even when idle (`tasks --all`), the
    pending tasks' process facts (the console's task detail), /proc/uptime (older lptui, and people)."""
    if snap.transition is None and snap.kernel.livepatch_supported:
        for pid, tid in iter_thread_ids(tree):
            tree.read(f"proc/{pid}/task/{tid}/patch_state")
    for task in snap.pending_tasks:
        read_process_facts(tree, task.pid, live=False)
    tree.read("proc/uptime")


def record_machine(tree: RecordingTree) -> None:
    """The live host's machine, where nothing read proc/sys/kernel/arch: what lptui used (os.uname)."""
    if "proc/sys/kernel/arch" not in tree.files:
        tree.files["proc/sys/kernel/arch"] = (os.uname().machine + "\n").encode()


def record_module_files(tree: RecordingTree, root: Path) -> None:
    """The patch module files and kpatch's unit, as the disk holds them (provenance on replay): each read
    as provenance reads it (a regular file, without blocking, at most 64 MiB), CAPTURE_MODULE_BYTES in all."""
    from lptui.core.kofile.unpack import Budget, UnpackError, read_file
    from lptui.core.lifecycle.provenance import files_read

    budget = Budget(CAPTURE_MODULE_BYTES)
    for path in files_read(root):
        rel = str(path.relative_to(root))
        try:
            if path.is_symlink():  # kpatch.service's links in its .wants directories
                tree.files[rel] = os.readlink(path).encode()
            else:
                tree.files[rel] = read_file(str(path), budget)
        except OSError as exc:
            tree.unreadable[rel] = exc.strerror or str(exc)
        except UnpackError as exc:
            tree.unreadable[rel] = str(exc)
