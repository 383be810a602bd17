"""Bundles and saved trees built as an adversary would (tests/hostile_bundles.py): each is refused from
its headers in one line, in bounded memory and work, and no temporary tree outlives a refusal. The numbers
before each fix are in the docstrings; after, the bounds are README's Security section's."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lptui.core.oncall import bundle
from lptui.core.oncall.bundle import extract_bundle, remove
from lptui.core.oncall.capture import CaptureError
from tests import hostile_bundles as b
from tests.core.oncall.test_bundle import refused, replays

ROOT = Path(__file__).resolve().parents[3]
PEAK_MIB = 120


def run(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    code = "import sys; from lptui.cli.main import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def peak_mib(path: Path) -> tuple[float, str]:
    """`lptui --root BUNDLE status` in a child: its peak memory (VmHWM) in MiB, and its stderr."""
    code = (
        "import contextlib, io\nfrom lptui.cli.main import main\nerr = io.StringIO()\n"
        "with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['--root', {str(path)!r}, 'status'])\n"
        "print(err.getvalue().strip())\n"
        "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    *said, hwm = out.stdout.strip().splitlines()
    return int(hwm) / 1024, "\n".join(said)


def test_a_sparse_map_is_refused_from_its_header(tmp_path):
    """Before: a 39 KB bundle with a GNU sparse 1.0 map of 10 million entries cost 23.8 s and 1,026 MiB
    (tarfile builds the map) before it was refused."""
    path = b.write(tmp_path / "sparse.tar.gz", b.sparse_map())
    assert path.stat().st_size < 50_000
    refused(path, "a sparse member")
    peak, said = peak_mib(path)
    assert "a sparse member" in said and peak < PEAK_MIB, (peak, said)


@pytest.mark.parametrize("kind", [b"x", b"L"])
def test_a_chain_of_extended_headers_is_refused(tmp_path, kind):
    """Before: 400 chained pax or GNU long-name headers ended in `internal error: RecursionError`."""
    refused(b.write(tmp_path / "chain.tar.gz", b.extension_chain(400, kind)), "a chain of extended headers")


def test_a_deep_tree_is_refused_and_none_is_left_behind(tmp_path):
    """Before: 1,200 nested directories ended in an internal error at clean-up, and the unpacked tree
    stayed in /dev/shm on every replay."""
    refused(b.write(tmp_path / "deep.tar.gz", b.nested(1_200)), "deeper or longer than a capture's")
    deep = str(tmp_path / "deep")
    os.mkdir(deep)
    path = deep
    for _ in range(1_200):  # what the clean-up must remove without recursing: made here by hand
        path += "/d"
        os.mkdir(path)
    Path(path, "f").write_bytes(b"x")
    remove(Path(deep))
    assert not os.path.exists(deep)


def test_directories_count_toward_the_bounds(tmp_path, monkeypatch):
    """Before: 400,000 directories counted toward no bound: 36.9 s, 325 MB and 400,000 tmpfs inodes.
    Listed directories are bounded (a capture lists a few), and every directory, listed or implied by a
    file's path, is an inode of the entry bound and of the footprint."""
    refused(b.write(tmp_path / "dirs.tar.gz", b.directories(20_001)), "over 20,000 directory entries")
    monkeypatch.setattr(bundle, "MAX_ENTRIES", 1_000)
    shaped = b.gz(
        b.manifest(), *(b.member(f"proc/{i}/task/{i}/patch_state", b"0\n") for i in range(300)), b.end()
    )
    refused(b.write(tmp_path / "implied.tar.gz", shaped), "over 1,000 entries (files and directories)")


def test_real_bytes_are_bounded_near_what_a_capture_holds(tmp_path):
    """Before: 15 files of 64 MiB of zeros, inside every bound, took 24.8 s and wrote 960 MiB."""
    path = b.write(tmp_path / "zeros.tar.gz", b.zero_files(2, 50 << 20))
    refused(path, f"over {bundle.MAX_CONTENT:,} bytes of file contents")


@pytest.mark.parametrize("with_end", [True, False])
def test_every_gzip_member_is_surveyed(tmp_path, with_end):
    """Before: a second gzip member (a link to /etc/shadow) was never surveyed; `tar xzf` extracts it."""
    path = b.write(tmp_path / "two.tar.gz", b.two_members(with_end))
    if not with_end:  # the link is there for whoever unpacks the whole stream (behind the end: tar -i)
        with tarfile.open(path) as tar:
            assert "proc/shadow" in tar.getnames()
    refused(path, "data after the end of the archive" if with_end else "is not a plain file or directory")
    trailing = b.write(tmp_path / "junk.tar.gz", b.gz(b.manifest(), b.end()) + b"not gzip")
    refused(trailing, "data after the gzip stream")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e308", '"soon"', "-5", "true"])
def test_a_manifest_of_impossible_values_is_refused(tmp_path, value):
    """Before: captured_at_unix of NaN, Infinity or 1e308 made every replay command fail with an internal
    error and the console die with a traceback. A real capture (the demo's) with its time replaced:"""
    capture = tmp_path / "real.tar.gz"
    assert run("--demo", "stuck", "capture", "-o", str(capture)).returncode == 0
    poisoned = tmp_path / "poisoned.tar.gz"
    with tarfile.open(capture) as src, tarfile.open(poisoned, "w:gz") as dst:
        for info in src:
            data = src.extractfile(info).read() if info.isfile() else None
            if info.name == b.META:
                meta = json.loads(data)
                data = json.dumps(meta).replace(str(meta["captured_at_unix"]), value).encode()
                info.size = len(data)
            dst.addfile(info, io.BytesIO(data) if data is not None else None)
    for argv in (("status",), ("tasks",), ("check",)):
        done = run("--root", str(poisoned), *argv)
        said = done.stdout + done.stderr
        assert "captured_at_unix" in said and "internal error" not in said and "Traceback" not in said, said
        assert done.returncode in (1, 3), said


def test_a_saved_trees_fifo_never_blocks(tmp_path):
    """Before: a FIFO at a patch's enabled, a patch_state or a stack hung every command forever."""
    from tests.faketree import FakeKernel

    fake = FakeKernel(tmp_path / "root").kernel()
    fake.patch("lp", transition="1", objects={"vmlinux": ["cmdline_proc_show,1"]})
    fake.task(10, patch_state="0", stack=["[<0>] cmdline_proc_show+0x1/0x2"])
    fake.task(11, patch_state="0")
    for rel in ("proc/10/task/10/stack", "proc/11/task/11/patch_state", "dev/kmsg"):
        path = tmp_path / "root" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        os.mkfifo(path)
    for argv in (("status",), ("tasks", "-v"), ("check",), ("capture", "-o", str(tmp_path / "c.tar.gz"))):
        done = run("--root", str(tmp_path / "root"), *argv, timeout=60)
        assert "Traceback" not in done.stderr, done.stderr
    tasks = run("--root", str(tmp_path / "root"), "tasks", "--json", timeout=60)
    answer = json.loads(tasks.stdout)
    found = {t["tid"]: t for t in answer["tasks"]}
    assert found[10]["reason_code"] == "stack_unreadable"  # its stack is a FIFO
    assert answer["transition"]["tasks_unknown"] == 1 and 11 not in found  # its patch_state is one
    enabled = tmp_path / "root/sys/kernel/livepatch/lp/enabled"
    enabled.unlink()
    os.mkfifo(enabled)
    assert run("--root", str(tmp_path / "root"), "status", timeout=60).returncode == 0


def test_a_saved_trees_link_is_not_followed(tmp_path):
    """A saved tree's file that is a link (to /etc/shadow, say) is not read through: its field is
    unknown, with the reason."""
    from tests.faketree import FakeKernel

    secret = tmp_path / "secret"
    secret.write_text("root:$6$very-secret-hash:19000:0:99999:7:::\n")
    fake = FakeKernel(tmp_path / "root").kernel()
    fake.patch("lp", transition="0")
    release = tmp_path / "root/proc/sys/kernel/osrelease"
    release.unlink()
    release.symlink_to(secret)
    done = run("--root", str(tmp_path / "root"), "status", "--json")
    assert "very-secret" not in done.stdout + done.stderr
    assert "a link" in json.loads(done.stdout)["kernel"]["problems"][0]


def test_the_temporary_tree_is_removed_when_the_unpack_refuses(tmp_path, monkeypatch):
    """A refusal in the second pass (the file changed since the survey) removes what was written."""
    good = b.write(tmp_path / "good.tar.gz", b.gz(b.manifest(), b.member("proc/uptime", b"1 1\n"), b.end()))
    evil = b.two_members(with_end=False)
    real_survey = bundle._survey

    def survey_then_swap(path):
        count = real_survey(path)
        path.write_bytes(evil)
        return count

    monkeypatch.setattr(bundle, "_survey", survey_then_swap)
    refused(good, "is not a plain file or directory")


def test_the_largest_bundle_allowed_replays_within_the_memory_bound(tmp_path):
    path = b.write(tmp_path / "most.tar.gz", b.most_inodes(20_000))
    peak, said = peak_mib(path)
    assert said == "" and peak < PEAK_MIB, (peak, said)


BLOCKS = st.one_of(
    st.builds(
        b.header,
        st.text(alphabet="ab/.\0x-", min_size=0, max_size=12),
        st.integers(0, 3000),
        st.sampled_from([b"0", b"5", b"x", b"L", b"g", b"S", b"1", b"2", b"3", b"7", b"\0", b"K"]),
    ),
    st.builds(lambda n: bytes(n), st.integers(0, 1100)),
    st.binary(min_size=0, max_size=600),
    st.builds(
        b.pax, st.dictionaries(st.sampled_from(["path", "size", "GNU.sparse.map", "x"]), st.text(max_size=8))
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(BLOCKS, max_size=8), st.booleans())
def test_any_archive_is_a_capture_or_one_line(tmp_path_factory, blocks, ended):
    path = tmp_path_factory.mktemp("bundle") / "x.tar.gz"
    path.write_bytes(b.gz(b.manifest(), *blocks, b.end() if ended else b""))
    before = replays()
    try:
        target = extract_bundle(path)
    except CaptureError as exc:
        assert "\n" not in str(exc)
    else:
        assert (target / b.META).is_file()
        remove(target)
    assert replays() == before


def test_a_capture_carries_a_bounded_share_of_module_files_and_still_replays(tmp_path):
    """Module files a capture carries are bounded so that its own bundle stays inside the replay's
    bounds: what is over is noted in the manifest, and the bundle replays."""
    from tests.faketree import FakeKernel
    from tests.hostile_files import trailing_zeros

    fake = FakeKernel(tmp_path / "root").kernel(release="6.1.0-28-amd64")
    fake.patch("lp", transition="0")
    kpatch = tmp_path / "root/var/lib/kpatch/6.1.0-28-amd64"
    kpatch.mkdir(parents=True)
    for i in range(3):
        (kpatch / f"big{i}.ko").write_bytes(trailing_zeros(30))
    out = tmp_path / "c.tar.gz"
    done = run("--root", str(tmp_path / "root"), "capture", "-o", str(out))
    assert done.returncode == 0, done.stderr
    with tarfile.open(out) as tar:
        meta = json.loads(tar.extractfile(b.META).read())
        carried = [n for n in tar.getnames() if n.endswith(".ko")]
    assert len(carried) == 2 and any(
        "lptui reads of module files" in why for why in meta["unreadable"].values()
    )
    replay = run("--root", str(out), "status")
    assert replay.returncode == 0, replay.stderr
