"""`lptui capture`: the evidence bundle a vendor asks for before clearing a force."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from lptui import __version__
from lptui.cli import out
from lptui.core.exits import LptuiError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.cli.main import Commands
    from lptui.core.model import Snapshot


def cmd_capture(args: argparse.Namespace) -> int:

    from lptui.core.evidence import record_machine, record_module_files, record_reads
    from lptui.core.lifecycle.provenance import read_life_cycle
    from lptui.core.livepatch.effect import read_effect
    from lptui.core.oncall.capture import RecordingTree, write_bundle
    from lptui.core.oncall.facts import on_call, read_history
    from lptui.core.output.jsonify import status_json, tasks_json
    from lptui.core.snapshot import SnapshotReader
    from lptui.source import opened

    started = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    target = Path(args.output or f"lptui-capture-{os.uname().nodename}-{stamp}.tar.gz")
    if target.exists() and not args.force:
        raise LptuiError(f"{target} exists (use --force to replace it)")
    with opened(args.root, args.demo) as source:
        skip = (lambda rel: rel.endswith("/cmdline")) if args.no_cmdline else (lambda rel: False)
        with source.reading():
            tree = RecordingTree(source.tree.root, skip=skip)
            snap = SnapshotReader(tree).read()
            record_reads(tree, snap)
            history, problem = read_history(source.kmsg_path)
            clock = source.kernel_clock()  # the log's clock at capture: a replay's "now" on it
            # ftrace's tables are read through the recording tree: the bundle keeps them, a replay
            # answers "in effect" from the same bytes
            effect = read_effect(snap, tree)
            oncall = on_call(snap, history, clock, started, log_problem=problem, effect=effect)
            if str(source.tree.root) == "/":
                record_machine(tree)
        root = Path(source.tree.root)
        life = read_life_cycle(source.tree, snap)
        record_module_files(tree, root)
        extra = {
            "status.json": out.json_text(status_json(snap, oncall, life)).encode(),
            "tasks.json": out.json_text(tasks_json(snap, oncall.snapshot.pending_tasks, oncall)).encode(),
        }
        meta = _manifest(started, source.label, not args.no_cmdline, snap)
        meta.update(monotonic=clock.monotonic, boottime=clock.boottime)
        try:
            bundle = write_bundle(target, tree, source.kmsg_path, extra, meta)
        except OSError as exc:
            raise LptuiError(f"cannot write {target}: {exc.strerror}") from None
    out.line(
        f"wrote {bundle.path} ({_size(bundle.bytes_written)}, {bundle.members} entries); replay it with: "
        f"lptui --root {bundle.path}"
    )
    return 0


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.1f} MiB"


def _manifest(started: float, label: str, command_lines: bool, snap: Snapshot) -> dict:
    """The bundle's lptui-capture.json: who captured what, when, and from where."""
    return {
        "lptui_version": __version__,
        "captured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "captured_at_unix": started,
        "source": label,
        "host": os.uname().nodename,
        "command_lines": command_lines,
        "threads": snap.threads_total,
        "pending": len(snap.pending_tasks),
    }


def add_parsers(cli: Commands) -> None:
    with cli.command(
        "capture",
        cmd_capture,
        help="an evidence bundle (.tar.gz) of what lptui reads, for the patch vendor; replay with --root",
        description="Writes exactly what lptui reads (livepatch sysfs, the livepatch modules, kernel files, "
        "every thread's patch_state, the pending threads' stat/comm/status/cmdline/stack), the livepatch "
        "lines of the kernel log, status --json and tasks --json. `lptui --root BUNDLE` replays it.",
    ) as p:
        p.add_argument(
            "-o", "--output", metavar="FILE", help="where to write (default lptui-capture-HOST-TIME.tar.gz)"
        )
        p.add_argument(
            "--no-cmdline", action="store_true", help="leave out command lines (they can hold secrets)"
        )
        p.add_argument("--force", action="store_true", help="replace FILE if it exists")
