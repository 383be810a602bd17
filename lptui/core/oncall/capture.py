"""An evidence bundle of exactly what lptui reads, replayable with `lptui --root BUNDLE`.

The kernel's documentation asks, before forcing a transition, to "collect all necessary data
(namely stack traces of such blocking tasks) and request a clearance from a patch distributor"
(Documentation/livepatch/livepatch.rst). A capture runs lptui's own readers through a recording
tree, so the bundle holds the files they read, as they read them: /sys/kernel/livepatch, the
livepatch modules under /sys/module, the kernel files under /proc/sys/kernel, /proc/loadavg and
/proc/uptime, every thread's patch_state, and stat, comm, status, cmdline and stack of the pending
threads; plus the livepatch lines of the kernel log (as dev/kmsg records), `status --json`,
`tasks --json`, the lptui version and the capture time (lptui-capture.json, the bundle's first entry).
Replaying one is bundle.py's: a bundle is hostile until proven a capture.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from lptui.core.exits import LptuiError
from lptui.core.oncall.kmsg import KmsgReader
from lptui.core.tree import Read, Tree

META = "lptui-capture.json"
KMSG = "dev/kmsg"


class CaptureError(LptuiError):
    """A bundle that cannot be written or replayed: one line for the user."""


# lptui-capture.json's fields: (type, lowest, highest) for numbers, (type, longest) for strings. A replay
# reads the capture time as "now", so a NaN, an infinity or 1e308 there broke every command.
_NUMBERS = {
    "captured_at_unix": (0, 4_102_444_800),  # 1970 to 2100
    "members": (0, 10_000_000),
    "threads": (0, 100_000_000),
    "pending": (0, 100_000_000),
    "monotonic": (0, 10_000_000_000),  # the kernel's clocks at capture, seconds since boot
    "boottime": (0, 10_000_000_000),
}
_STRINGS = {"lptui_version": 64, "captured_at": 64, "source": 4_096, "host": 255, "log_problem": 1_024}
MAX_UNREADABLE = 500_000  # paths a capture could not read: at most one per file it tried
MAX_REASON = 512


def check_manifest(meta: object) -> dict[str, Any]:
    """lptui-capture.json, each field of the type and in the range a capture writes; CaptureError says
    which is not. Fields lptui does not know are kept, unread."""
    if not isinstance(meta, dict) or not isinstance(meta.get("lptui_version"), str):
        raise CaptureError(f"{META} is not lptui's manifest: not an lptui capture")
    members = meta.get("members")
    if isinstance(members, int) and members > 500_000:  # bundle.MAX_ENTRIES
        raise CaptureError(f"its manifest says {members:,} entries (over 500,000)")
    for key, (low, high) in _NUMBERS.items():
        value = meta.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            shown = repr(str(value)[:40])
            raise CaptureError(f"its manifest's {key} is {shown}, not a number from {low} to {high:,}")
    for key, longest in _STRINGS.items():
        value = meta.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > longest):
            raise CaptureError(f"its manifest's {key} is not a string of at most {longest:,} characters")
    if meta.get("command_lines") is not None and not isinstance(meta["command_lines"], bool):
        raise CaptureError("its manifest's command_lines is not true or false")
    unreadable = meta.get("unreadable", {})
    if not isinstance(unreadable, dict) or len(unreadable) > MAX_UNREADABLE:
        raise CaptureError(f"its manifest's unreadable is not a table of at most {MAX_UNREADABLE:,} paths")
    for path, why in unreadable.items():
        if not isinstance(why, str) or len(path) > 1_024 or len(why) > MAX_REASON:
            raise CaptureError("its manifest's unreadable holds a path or a reason longer than a capture's")
    return meta


class RecordingTree(Tree):
    """A Tree that keeps every file it reads (as read) and every directory it looks at."""

    def __init__(
        self, root: str | os.PathLike[str], *, skip: Callable[[str], bool] = lambda rel: False
    ) -> None:
        super().__init__(root)
        self.files: dict[str, bytes] = {}
        self.dirs: set[str] = set()
        self.unreadable: dict[str, str] = {}  # path -> why (kept, so a replay says the same)
        self.skip = skip  # paths to leave out of the bundle (e.g. command lines)

    def read(self, rel: str) -> Read:
        result = super().read(rel)
        if result.ok and result.text is not None and not self.skip(rel):
            self.files[rel] = result.text.encode("utf-8", "surrogateescape")
        elif not result.ok and result.error != "vanished":
            self.unreadable[rel] = result.error or "unreadable"
        return result

    def read_upto(self, rel: str, limit: int) -> Read:
        result = super().read_upto(rel, limit)  # e.g. tracefs enabled_functions, for a BPF frame
        if result.ok and result.text is not None and not result.truncated and not self.skip(rel):
            self.files[rel] = result.text.encode("utf-8", "surrogateescape")
        return result

    def read_whole(self, rel: str) -> Read:
        result = super().read_whole(rel)  # /proc/kallsyms, read only when a BPF frame needs it
        if result.ok and result.text is not None and not self.skip(rel):
            self.files[rel] = result.text.encode("utf-8", "surrogateescape")
        return result

    def read_bytes(self, rel: str, limit: int) -> tuple[bytes | None, str | None]:
        data, why = super().read_bytes(rel, limit)  # the kernel's BTF, read only to name a BPF frame's target
        if data is not None and not self.skip(rel):
            self.files[rel] = data
        return data, why

    def exists(self, rel: str) -> bool:
        found = super().exists(rel)
        if found and rel not in self.files:
            if super().is_dir(rel):
                self.dirs.add(rel)
            else:
                self.read(rel)  # an attribute whose presence matters: keep it
        return found

    def is_dir(self, rel: str) -> bool:
        found = super().is_dir(rel)
        if found:
            self.dirs.add(rel)
        return found

    def listdir(self, rel: str) -> list[str]:
        names = super().listdir(rel)
        if names or super().is_dir(rel):
            self.dirs.add(rel)
        return names

    def subdirs(self, rel: str) -> list[str]:
        names = super().subdirs(rel)
        if names or super().is_dir(rel):  # a missing directory stays missing (e.g. no livepatch core)
            self.dirs.add(rel)
        for name in names:
            self.dirs.add(f"{rel}/{name}")
        return names


@dataclass(frozen=True)
class Bundle:
    path: Path
    members: int
    bytes_written: int


def _member(tar: tarfile.TarFile, name: str, data: bytes | None, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.mtime = int(mtime)
    if data is None:
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        tar.addfile(info)
        return
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def write_bundle(
    out: Path,
    tree: RecordingTree,
    kmsg_path: str | None,
    extra: dict[str, bytes],
    meta: dict[str, Any],
) -> Bundle:
    """Write the recorded reads, the kernel log's livepatch lines and `extra` files atomically."""
    now = time.time()
    log_lines: list[str] = []
    if kmsg_path:
        reader = KmsgReader(kmsg_path)
        try:
            for line in reader.read_new(limit=1_000_000):
                log_lines.append(f"{line.level},{line.seq},{line.usec},-;{line.text}\n")
            if reader.error:
                meta["log_problem"] = reader.error
        finally:
            reader.close()
    files = dict(tree.files)
    files[KMSG] = "".join(log_lines).encode()
    files.update(extra)
    meta["members"] = len(files)
    meta["unreadable"] = dict(sorted(tree.unreadable.items()))
    files[META] = (json.dumps(meta, indent=2) + "\n").encode()
    # Directories come back from their files' paths; only those with no file below need an entry
    # of their own (a function's directory under sys/kernel/livepatch is empty). At 100,000 threads
    # this keeps the bundle at one entry per patch_state, not four.
    parents: set[str] = set()
    for rel in files:
        parent = PurePosixPath(rel).parent
        while str(parent) not in (".", "") and str(parent) not in parents:
            parents.add(str(parent))
            parent = parent.parent
    dirs = {d for d in tree.dirs if d not in parents and d}
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".lptui-capture-", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
            _member(tar, META, files[META], now)  # first: a replay checks it before anything else
            for rel in sorted(dirs):
                _member(tar, rel, None, now)
            for rel in sorted(files.keys() - {META}):
                _member(tar, rel, files[rel], now)
        os.replace(tmp, out)  # a bundle is there whole, or not at all
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Bundle(out, len(files) + len(dirs), out.stat().st_size)


class ReplayTree(Tree):
    """A capture's tree: files the capture could not read stay unreadable, for the same reason."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        """Raises CaptureError when the manifest is not lptui's (a directory someone unpacked)."""
        super().__init__(root)
        read = self.read_upto(META, 1 << 20)  # bundle.MAX_META
        if read.truncated:
            raise CaptureError(f"{META} is over 1 MiB: not an lptui capture")
        try:
            meta = json.loads(read.text or "")
        except (ValueError, RecursionError):
            meta = None
        self.meta = check_manifest(meta)
        self.unreadable: dict[str, str] = dict(self.meta.get("unreadable", {}))

    def read(self, rel: str) -> Read:
        why = self.unreadable.get(rel)
        if why is not None:
            return Read(None, why)
        return super().read(rel)

    def exists(self, rel: str) -> bool:
        return rel in self.unreadable or super().exists(rel)
