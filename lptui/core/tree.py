"""Race-safe reads of kernel files under a root directory.

Every kernel file can vanish, be unreadable or hold garbage between listing and reading
(a task exits, a patch is freed). Readers never raise: they return a `Read` that holds
either the text or a short reason, so the caller can mark the field unknown and keep why.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from lptui.core.shown import shown

# sysfs and procfs attribute files are at most a page (sysfs_kf_seq_show's buffer); a stack is a few
# KiB; a command line may run to megabytes (ARG_MAX) and is shown cut. What is past the cap is never read.
_MAX_READ = 64 * 1024
# /proc/kallsyms is ~10 MiB on a distribution kernel with its modules; a file over this is no kallsyms
_MAX_WHOLE = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Read:
    """The outcome of reading one file: `text` on success, otherwise `error` (and `errno`)."""

    text: str | None
    error: str | None = None
    errno: int | None = None
    truncated: bool = False  # the file went on past the cap: `text` is its first _MAX_READ bytes

    @property
    def ok(self) -> bool:
        return self.text is not None


def _read_all(fd: int, limit: int) -> bytes:
    """Up to `limit` bytes (sysfs answers a read with at most a page: a file is read until it ends)."""
    pieces = []
    size = 0
    while size < limit and (piece := os.read(fd, min(limit - size, 1 << 20))):
        pieces.append(piece)
        size += len(piece)
    return b"".join(pieces)


def describe_oserror(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOENT:
        return "vanished"
    if exc.errno == errno.EISDIR:
        return "not a regular file"
    if exc.errno == errno.ELOOP:
        return "a link: a saved tree's files are read as they are, never through a link"
    return exc.strerror or type(exc).__name__


def file_in_root(path: str, root: str | os.PathLike[str]) -> str:
    """A module file's path as the kernel behind `root` sees it: a simulated kernel's own disk holds its
    installed files (the demo's /lib/modules/…), so a path missing here but present under its root is
    taken from there; on the live root ("/") the path is unchanged."""
    inside = Path(root) / str(path).lstrip("/")
    if str(root) != "/" and not os.path.exists(path) and inside.is_file():
        return str(inside)
    return path


class Tree:
    """Reads files under `root` (`/` on a host; a temporary tree in tests and demos).

    Paths are relative to the root, e.g. ``"sys/kernel/livepatch"``. Subclasses may count
    or trace reads (tests and benchmarks do), so all file access goes through here.
    """

    def __init__(self, root: str | os.PathLike[str] = "/") -> None:
        self.root = Path(root)
        self._flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
        if self.root != Path("/"):  # a saved tree's file may not lead elsewhere (/etc/shadow) by a link
            self._flags |= os.O_NOFOLLOW

    def path(self, rel: str) -> Path:
        return self.root / rel

    def _open(self, rel: str) -> int:
        """A file of the tree, opened without blocking (a FIFO where an attribute should be answers at
        once, not never); OSError when it is not a regular file. The kernel's own attribute files in
        sysfs and procfs are regular files too; a saved tree's last component may not be a link."""
        fd = os.open(self.root / rel, self._flags)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise IsADirectoryError(errno.EISDIR, "not a regular file")
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _upto(self, rel: str, limit: int) -> bytes:
        """At most `limit` + 1 bytes (one more says there was more); OSError as os.open raises it."""
        fd = self._open(rel)
        try:
            return _read_all(fd, limit + 1)
        finally:
            os.close(fd)

    def read_upto(self, rel: str, limit: int) -> Read:
        """At most `limit` bytes; `truncated` says there was more."""
        try:
            data = self._upto(rel, limit)
        except OSError as exc:
            return Read(None, describe_oserror(exc), exc.errno)
        if len(data) > limit:
            return Read(data[:limit].decode("utf-8", errors="replace"), truncated=True)
        return Read(data.decode("utf-8", errors="replace"))

    def read(self, rel: str) -> Read:
        """At most 64 KiB (every sysfs attribute and per-task file fits); `truncated` says there was more."""
        return self.read_upto(rel, _MAX_READ)

    def read_whole(self, rel: str) -> Read:
        """A file of up to 64 MiB (/proc/kallsyms runs to megabytes); over that, a problem, not read."""
        try:
            fd = self._open(rel)
            try:
                if os.fstat(fd).st_size > _MAX_WHOLE:  # procfs says 0: the read's cap holds then
                    return Read(None, f"over {_MAX_WHOLE >> 20} MiB: not read")
                data = _read_all(fd, _MAX_WHOLE + 1)
            finally:
                os.close(fd)
        except OSError as exc:
            return Read(None, describe_oserror(exc), exc.errno)
        if len(data) > _MAX_WHOLE:
            return Read(None, f"over {_MAX_WHOLE >> 20} MiB: not read")
        return Read(data.decode("utf-8", errors="replace"))

    def read_bytes(self, rel: str, limit: int) -> tuple[bytes | None, str | None]:
        """A binary file of at most `limit` bytes (/sys/kernel/btf/*): (data, None), or (None, why not)."""
        try:
            data = self._upto(rel, limit)
        except OSError as exc:
            return None, describe_oserror(exc)
        return (data, None) if len(data) <= limit else (None, f"over {limit:,} bytes: not read")

    def exists(self, rel: str) -> bool:
        return os.path.lexists(self.root / rel)

    def is_dir(self, rel: str) -> bool:
        return os.path.isdir(self.root / rel)

    def listdir(self, rel: str) -> list[str]:
        """Entry names, sorted; empty when the directory is gone or unreadable."""
        try:
            return sorted(os.listdir(self.root / rel))
        except OSError:
            return []

    def link_name(self, rel: str) -> str | None:
        """The last component of a symlink's target (sysfs links a kobject to its module this way)."""
        try:
            return os.path.basename(os.readlink(self.root / rel).rstrip("/")) or None
        except OSError:
            return None

    def subdirs(self, rel: str) -> list[str]:
        out = []
        base = self.root / rel
        try:
            with os.scandir(base) as it:
                for entry in it:
                    try:
                        if entry.is_dir():
                            out.append(entry.name)
                    except OSError:
                        continue
        except OSError:
            return []
        return sorted(out)


TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from typing import Generic, TypeVar

    T = TypeVar("T")

    class _Parsed(Generic[T]):
        __slots__ = ()
else:  # the same at run time without typing: `Value[int]` is a GenericAlias, as `list[int]` is
    from types import GenericAlias

    T = None

    class _Parsed:
        __slots__ = ()
        __class_getitem__ = classmethod(GenericAlias)


@dataclass(frozen=True, slots=True)
class Value(_Parsed[T]):
    """A parsed field: `value` when it could be read and parsed, otherwise None and `problem` says why."""

    value: T | None
    problem: str | None = None


class Problems(list[str]):
    """A record's problems in the order its reader meets them, each "field: why" (what `problems` fields
    and `lptui status` show)."""

    def field(self, name: str, parsed: Value[T]) -> T | None:
        """The parsed value; its problem, if any, recorded under `name`."""
        if parsed.problem:
            self.append(f"{name}: {parsed.problem}")
        return parsed.value


TOO_LONG = "over 64 KiB: no kernel attribute is"


def parse_int(read: Read, *, allowed: frozenset[int] | None = None) -> Value[int]:
    if not read.ok:
        return Value(None, read.error)
    if read.truncated:
        return Value(None, TOO_LONG)
    text = read.text.strip() if read.text is not None else ""
    if not text:
        return Value(None, "empty")
    try:
        number = int(text, 10)
    except ValueError:
        shown = text[:20] + ("…" if len(text) > 20 else "")
        return Value(None, f"garbage {shown!r}")
    if allowed is not None and number not in allowed:
        return Value(None, f"unexpected value {number}")
    return Value(number)


def parse_bool01(read: Read) -> Value[bool]:
    """Kernel boolean attributes print ``%d\\n`` of 0 or 1."""
    parsed = parse_int(read, allowed=frozenset({0, 1}))
    if parsed.value is None:
        return Value(None, parsed.problem)
    return Value(bool(parsed.value))


def parse_line(read: Read) -> Value[str]:
    if not read.ok:
        return Value(None, read.error)
    if read.truncated:
        return Value(None, TOO_LONG)
    text = (read.text or "").strip()
    if not text:
        return Value(None, "empty")
    if "\x00" in text or "\ufffd" in text:
        return Value(None, "garbage (binary data)")
    return Value(shown(text.splitlines()[0]))
