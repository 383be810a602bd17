"""Bundles from strangers: every hostile bundle the tests can build is refused in one line, in bounded
memory, without writing outside its own directory and leaving no temporary space behind. The bomb of
issue 20 (a `.tar.gz` of 1 GB of zeros as proc/uptime, no manifest) is built here as it was reported,
and measured in a child process (its own peak RSS, VmHWM)."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from lptui.core.oncall import bundle
from lptui.core.oncall.bundle import extract_bundle
from lptui.core.oncall.capture import META, CaptureError
from lptui.core.oncall.tarscan import MAX_HEADER

MANIFEST = json.dumps({"lptui_version": "0.1.0", "members": 2}).encode()


def replays() -> set[str]:
    """The replay directories that exist now (tmpfs and the disk's temporary directory)."""
    found = set()
    for where in ("/dev/shm", os.environ.get("TMPDIR", "/tmp")):
        if os.path.isdir(where):
            found |= {f"{where}/{n}" for n in os.listdir(where) if n.startswith("lptui-replay-")}
    return found


def make(path: Path, entries: list[tuple[str, bytes | None, bytes]], *, fmt=tarfile.PAX_FORMAT) -> Path:
    """A .tar.gz of (name, data, type) entries; data None for a directory or a link."""
    with tarfile.open(path, "w:gz", format=fmt) as tar:
        for name, data, kind in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = "/etc/shadow"
                tar.addfile(info)
            elif kind == tarfile.DIRTYPE:
                tar.addfile(info)
            else:
                info.size = len(data or b"")
                tar.addfile(info, io.BytesIO(data or b""))
    return path


def refused(path: Path, words: str) -> str:
    before = replays()
    with pytest.raises(CaptureError) as caught:
        extract_bundle(path)
    message = str(caught.value)
    assert words in message and "\n" not in message, message
    assert replays() == before  # nothing left behind
    return message


def test_a_real_capture_still_replays(tmp_path):
    path = make(
        tmp_path / "ok.tar.gz",
        [
            (META, MANIFEST, tarfile.REGTYPE),
            ("proc", None, tarfile.DIRTYPE),
            ("proc/uptime", b"12.5 3.1\n", tarfile.REGTYPE),
        ],
    )
    target = extract_bundle(path)
    try:
        assert (target / "proc/uptime").read_bytes() == b"12.5 3.1\n"
    finally:
        bundle.remove(target)


@pytest.mark.parametrize(
    ("entries", "words"),
    [
        ([("../../outside", b"x", tarfile.REGTYPE)], "points outside"),
        ([("/etc/cron.d/x", b"x", tarfile.REGTYPE)], "points outside"),
        ([("proc/../../../x", b"x", tarfile.REGTYPE)], "points outside"),
        ([("proc/link", None, tarfile.SYMTYPE)], "not a plain file"),
        ([("proc/hard", None, tarfile.LNKTYPE)], "not a plain file"),
        ([("dev/sda", None, tarfile.BLKTYPE)], "not a plain file"),
        ([("dev/tty", None, tarfile.CHRTYPE)], "not a plain file"),
        ([("run/fifo", None, tarfile.FIFOTYPE)], "not a plain file"),
        ([("proc/uptime", b"1 1\n", tarfile.REGTYPE)], f"no {META}"),
        ([(META, b"not json", tarfile.REGTYPE)], "not lptui's manifest"),
        ([(META, b'{"lptui_version": "1", "members": 99999999}', tarfile.REGTYPE)], "manifest says"),
    ],
)
def test_hostile_entries_are_refused_in_one_line(tmp_path, entries, words):
    about_the_manifest = words in (f"no {META}", "not lptui's manifest", "manifest says")
    lead = [] if about_the_manifest else [(META, MANIFEST, tarfile.REGTYPE)]
    refused(make(tmp_path / "evil.tar.gz", lead + entries), words)
    assert not (tmp_path.parent / "outside").exists() and not Path("/x").exists()


def test_a_link_placed_before_a_file_cannot_redirect_it(tmp_path):
    """The classic: a symlink `proc` to /, then `proc/etc/x`: refused at the link, nothing written."""
    path = make(
        tmp_path / "evil.tar.gz",
        [
            (META, MANIFEST, tarfile.REGTYPE),
            ("proc", None, tarfile.SYMTYPE),
            ("proc/etc/lptui-evil", b"x", tarfile.REGTYPE),
        ],
    )
    refused(path, "not a plain file")
    assert not Path("/etc/lptui-evil").exists()


def test_bounds_entries_bytes_and_headers(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle, "MAX_ENTRIES", 10)
    many = [(META, MANIFEST, tarfile.REGTYPE)] + [(f"proc/{i}", b"1", tarfile.REGTYPE) for i in range(20)]
    refused(make(tmp_path / "many.tar.gz", many), "over 10 entries")
    monkeypatch.setattr(bundle, "MAX_ENTRIES", 500_000)
    monkeypatch.setattr(bundle, "MAX_FOOTPRINT", 64 * 4096)
    wide = [(META, MANIFEST, tarfile.REGTYPE)] + [(f"proc/{i}", b"1", tarfile.REGTYPE) for i in range(100)]
    refused(make(tmp_path / "wide.tar.gz", wide), "bytes unpacked")  # each file costs a page
    monkeypatch.setattr(bundle, "MAX_FOOTPRINT", 1 << 30)
    long_name = "proc/" + "a" * (MAX_HEADER + 10)  # tarfile writes it as a pax header of that size
    entries = [(META, MANIFEST, tarfile.REGTYPE), (long_name, b"1", tarfile.REGTYPE)]
    refused(make(tmp_path / "pax.tar.gz", entries), "extended header")
    refused(make(tmp_path / "gnu.tar.gz", entries, fmt=tarfile.GNU_FORMAT), "extended header")


def test_truncated_and_garbage_archives(tmp_path):
    good = make(
        tmp_path / "good.tar.gz",
        [(META, MANIFEST, tarfile.REGTYPE), ("proc/uptime", b"1 1\n" * 10_000, tarfile.REGTYPE)],
    )
    data = good.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    refused(cut, "not a readable capture bundle")
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b not really gzip")
    refused(junk, "not a readable capture bundle")
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    (tmp_path / "flipped.tar.gz").write_bytes(bytes(flipped))
    refused(tmp_path / "flipped.tar.gz", "flipped.tar.gz: ")  # the stream or the manifest gives it away


def bomb(path: Path, size: int, name: str = "proc/uptime", manifest: bool = False) -> Path:
    """A tar.gz whose member is `size` zero bytes, written in pieces (the test holds no GB either)."""
    with gzip.open(path, "wb", compresslevel=9) as gz, tarfile.open(fileobj=gz, mode="w|") as tar:
        if manifest:
            info = tarfile.TarInfo(META)
            info.size = len(MANIFEST)
            tar.addfile(info, io.BytesIO(MANIFEST))
        info = tarfile.TarInfo(name)
        info.size = size

        class Zeros(io.RawIOBase):
            left = size

            def readinto(self, b) -> int:
                n = min(len(b), self.left)
                b[:n] = bytes(n)
                self.left -= n
                return n

        tar.addfile(info, Zeros())
    return path


def peak(path: Path) -> tuple[str, float, int]:
    """`lptui --root BUNDLE status` in a child: its stderr, seconds, and peak RSS in KiB (VmHWM)."""
    code = (
        "import contextlib, io, sys\nfrom lptui.cli.main import main\n"
        "err = io.StringIO()\nwith contextlib.redirect_stderr(err):\n"
        f"    main(['--root', {str(path)!r}, 'status'])\n"
        "print(err.getvalue().strip())\n"
        "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    seconds = time.perf_counter() - start
    *message, hwm = out.stdout.strip().splitlines()
    return "\n".join(message), seconds, int(hwm)


def test_the_reported_bomb_is_refused_fast_and_small(tmp_path):
    """Issue 20's bomb: 1,000,000,000 zero bytes as proc/uptime, no manifest (~1 MB of gzip). Before the
    fix: 7 s and 1 GB of RSS. Now refused on its header. The seconds include the child's start."""
    path = bomb(tmp_path / "bomb.tar.gz", 1_000_000_000)
    assert path.stat().st_size < 2 << 20
    before = replays()
    message, seconds, hwm = peak(path)
    assert "holds 1,000,000,000 bytes" in message and message.count("\n") == 0, message
    assert hwm < 100 * 1024, hwm  # KiB
    assert seconds < 10  # a child's start is most of it; the refusal itself reads one header
    assert replays() == before


def test_a_bomb_under_the_file_bound_is_stopped_by_the_total(tmp_path, monkeypatch):
    """Many members each under MAX_FILE, together over MAX_CONTENT: refused by the survey's sum, before
    one byte is unpacked."""
    path = tmp_path / "sum.tar.gz"
    with gzip.open(path, "wb", compresslevel=1) as gz, tarfile.open(fileobj=gz, mode="w|") as tar:
        info = tarfile.TarInfo(META)
        info.size = len(MANIFEST)
        tar.addfile(info, io.BytesIO(MANIFEST))
        for i in range(4):
            info = tarfile.TarInfo(f"proc/{i}")
            info.size = 32 << 20
            tar.addfile(info, io.BytesIO(bytes(32 << 20)))
    refused(path, "bytes of file contents")


def test_ctrl_c_mid_unpack_leaves_nothing(tmp_path, monkeypatch):
    path = make(
        tmp_path / "ok.tar.gz",
        [(META, MANIFEST, tarfile.REGTYPE), ("proc/uptime", b"1 1\n", tarfile.REGTYPE)],
    )
    real_write = os.write

    def interrupted(fd, data):
        real_write(fd, data)
        raise KeyboardInterrupt

    monkeypatch.setattr(bundle.os, "write", interrupted)
    before = replays()
    with pytest.raises(KeyboardInterrupt):
        extract_bundle(path)
    assert replays() == before


def test_every_temporary_lptui_makes_is_named_lptui():
    """The churn test looks for leftovers by these names: a temporary without one would escape it."""
    import re

    root = Path(__file__).resolve().parents[3] / "lptui"
    for path in root.rglob("*.py"):
        for call in re.findall(r"tempfile\.mk[sd]temp\([^)]*\)", path.read_text()):
            assert re.search(r'prefix="\.?lptui-', call), (path, call)
