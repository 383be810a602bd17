"""Every reader against generated input (Hypothesis): any bytes in any file lptui reads (garbage,
truncations, NULs, non-UTF-8, huge and negative numbers, empty, very long lines), a file turned into a
directory or a symlink loop, tasks vanishing and changing between listing and read. Never a traceback,
never a read past its cap, never a pending task counted as switched, and each problem kept per task.

The default profile keeps this file within a minute; `pytest --hypothesis-profile=thorough` runs 20x the
examples (tests/conftest.py registers it)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lptui.core.model import Reason
from lptui.core.snapshot import SnapshotReader, read_snapshot
from lptui.core.tree import _MAX_READ, TOO_LONG, Read, Tree, parse_int, parse_line
from tests.faketree import FakeKernel
from tests.legacy_trees import (
    kgr_process,
    kgraft,
    kgraft_state_fatal,
    kpatch_core_module,
    kpatch_core_patches_layout,
    ksplice_bundle,
    ksplice_conflicts,
)

SPECIAL = [
    b"",
    b"\x00",
    b"\x00" * 64,
    b"-1\n",
    b"-99999999999999999999\n",
    b"9" * 5000 + b"\n",
    b"1\n2\n",
    b"\xff\xfe\xfd",
    b"1\x00",
    b" 1",
    b"0x1\n",
    b"+1\n",
    b"1e9\n",
    b"\n" * 1000,
    b"x" * 70_000,
    "é\u202e\x1b[2J".encode(),
    b"[<0>] cmdline_proc_show+0x1d/0x40\n" * 3000,
]
hostile_bytes = st.one_of(st.sampled_from(SPECIAL), st.binary(max_size=200))
# what stands where a file was: bytes, a directory, a symlink loop, or nothing
replacement = st.one_of(hostile_bytes, st.sampled_from(["<dir>", "<loop>", "<gone>"]))
# the default profile's count; `--hypothesis-profile=thorough` sets its own (settings' default wins)
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def put(root: Path, rel: str, what: bytes | str) -> None:
    path = root / rel
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    if what == "<dir>":
        path.mkdir()
        (path / "x").write_bytes(b"1\n")
    elif what == "<loop>":
        path.symlink_to(path.name)  # a link to itself: ELOOP on open
    elif what != "<gone>":
        path.write_bytes(what)


def upstream(root: Path) -> FakeKernel:
    """A patch in transition; task 10 pending asleep in the patched function, 11 switched, 12 a pending
    kernel thread, 13 a pending thread of process 12."""
    fake = FakeKernel(root).kernel()
    fake.patch("lp", transition="1", objects={"vmlinux": ["cmdline_proc_show,1"]})
    fake.write("proc/uptime", "12345.67 2345.12\n")
    fake.write("proc/loadavg", "0.00 0.01 0.05 2/123 4567\n")
    stack = ["[<0>] cmdline_proc_show+0x1d/0x40", "[<0>] seq_read_iter+0x11f/0x4b0"]
    fake.task(10, comm="cat", patch_state="0", stack=stack)
    fake.task(11, comm="bash", patch_state="1")
    fake.task(12, comm="kworker/0:1", kthread=True, patch_state="0", ppid=2)
    fake.task(12, 13, comm="kworker/0:1", kthread=True, patch_state="0", ppid=2)
    for pid in (10, 11, 12):
        fake.write(f"proc/{pid}/status", "Name:\tx\nUid:\t0\t0\t0\t0\nPPid:\t1\n")
        fake.write(f"proc/{pid}/cmdline", "cat\x00/proc/cmdline\x00")
    return fake


TASK_FILES = ["patch_state", "stack", "stat", "comm"]
CORE_FILES = (
    [f"proc/12/task/13/{f}" for f in TASK_FILES]
    + [f"proc/11/task/11/{f}" for f in TASK_FILES]
    + [
        "proc/12/status",
        "proc/12/cmdline",
        "proc/uptime",
        "proc/loadavg",
        "proc/sys/kernel/tainted",
        "proc/sys/kernel/osrelease",
        "proc/sys/kernel/version",
        "proc/sys/kernel/ftrace_enabled",
        "sys/devices/system/cpu/possible",
        "sys/kernel/livepatch/lp/force",
        "sys/kernel/livepatch/lp/signal",
        "sys/kernel/livepatch/lp/replace",
        "sys/kernel/livepatch/lp/stack_order",
        "sys/module/lp/refcnt",
        "sys/module/lp/taint",
        "sys/module/lp/srcversion",
        "sys/kernel/livepatch/lp/vmlinux",
        "proc/11/task/11",
        "proc/11",
    ]
)


def _as_int(blob: bytes) -> int | None:
    try:
        return int(blob.decode().strip(), 10)
    except ValueError:
        return None


def read_everything(tree: Tree):
    from lptui.core.livepatch.scan import kernel_thread_count
    from lptui.core.oncall.history import read_uptime
    from lptui.core.snapshot import read_all_tasks_of

    snap = SnapshotReader(tree).read()
    read_uptime(tree)
    kernel_thread_count(tree)
    read_all_tasks_of(tree, snap)
    return snap


@FAST
@given(target=st.sampled_from(CORE_FILES), what=replacement)
def test_any_bytes_in_any_core_file(target, what):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        upstream(root)
        put(root, target, what)
        snap = read_everything(Tree(root))
        assert snap.transition is not None  # nothing touched the patch's enabled/transition
        pending = {t.tid: t for t in snap.pending_tasks}
        assert 10 in pending  # untouched: pending whatever else holds garbage
        if not target.endswith("/vmlinux"):  # the object's functions are what names its blocker
            assert pending[10].reason_code is Reason.SLEEPING_IN_PATCHED
        assert 12 in pending  # untouched: the kthread stays pending whatever its thread 13 holds
        if target.startswith("proc/12/task/13/"):
            t13 = pending.get(13)
            unreadable = snap.transition.tasks_unknown
            # not pending: only when it holds a number the kernel prints for "done" (the target, 1, or
            # -1, not part of the transition), else it is counted unreadable
            if t13 is None and target.endswith("patch_state") and isinstance(what, bytes):
                assert _as_int(what) in (1, -1) or unreadable == 1, (what, unreadable)
            elif t13 is None:
                assert unreadable == 1, (target, what)
        for t in snap.pending_tasks:  # a problem says what it is, in one line
            assert all(p and "\n" not in p for p in t.problems)


@FAST
@given(
    target=st.sampled_from(["sys/kernel/livepatch/lp/enabled", "sys/kernel/livepatch/lp/transition"]),
    what=replacement,
)
def test_a_patch_whose_state_is_garbage_is_never_shown_done(target, what):
    """If the transition's own files are garbage, lptui cannot know the transition: it says so (no
    transition, the patch's problems say why), and never reports the pending threads as switched."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        upstream(root)
        put(root, target, what)
        snap = read_everything(Tree(root))
        (patch,) = snap.patches
        if snap.transition is None and patch.transition:  # enabled unreadable: `check` must not say OK
            from types import SimpleNamespace

            from lptui.cli.check_verdict import UNKNOWN, judge

            assert patch.enabled is None and patch.problems
            view = SimpleNamespace(snapshot=snap, age=None, forced=(), rows=())
            assert judge(view, warn=60, crit=300, live_not_root=False).code == UNKNOWN
        elif snap.transition is None:  # the transition file unreadable, 0, or absent (before 4.12: none)
            assert patch.transition is not True
            said = patch.problems or what == "<gone>" or (patch.transition is False and what.strip() == b"0")
            assert said, (what, patch)
        else:  # garbage that reads as a value is that value: the target decides who is pending
            expected = {10, 12} if snap.transition.target == 1 else {11}
            assert expected <= {t.tid for t in snap.pending_tasks}


class Churning(Tree):
    """Between the listing and each read of a task file, the task may exit, a file may turn into a
    directory, or into garbage, as Hypothesis draws."""

    def __init__(self, root: Path, draw) -> None:
        super().__init__(root)
        self.draw = draw
        self.root_path = root
        self.vanished: set[int] = set()

    def read(self, rel: str) -> Read:
        parts = rel.split("/")
        if len(parts) >= 4 and parts[0] == "proc" and parts[2] == "task" and parts[1] in ("11", "12"):
            move = self.draw(st.sampled_from(["keep", "keep", "vanish", "dir", "garbage"]))
            if move == "vanish":
                shutil.rmtree(self.root_path / "proc" / parts[1], ignore_errors=True)
                self.vanished.add(int(parts[1]))
            elif move in ("dir", "garbage") and (self.root_path / rel).exists():
                put(self.root_path, rel, "<dir>" if move == "dir" else self.draw(hostile_bytes))
        return super().read(rel)


@FAST
@given(data=st.data())
def test_tasks_vanish_and_change_between_listing_and_read(data):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        upstream(root)
        tree = Churning(root, data.draw)
        reader = SnapshotReader(tree)
        for _ in range(3):  # the first scan, then rescans that rely on what the first one saw
            snap = reader.read()
            pending = {t.tid: t for t in snap.pending_tasks}
            assert 10 in pending  # never touched: always pending, always in the patched function
            assert snap.transition is not None and snap.transition.tasks_pending is not None
            assert snap.transition.tasks_pending + snap.transition.tasks_unknown >= 1


# ------------------------------------------------------------------------- the parsers on their own


@FAST
@given(st.text(max_size=300))
def test_kernel_log_records(text):
    from lptui.core.oncall.kmsg import interesting, parse_record

    line = parse_record(text)
    if line is not None:
        interesting(line)
        assert isinstance(line.seq, int) and isinstance(line.text, str)


@FAST
@given(hostile_bytes)
def test_modinfo_blobs(blob):
    from lptui.core.kofile.modfile import parse_modinfo

    info = parse_modinfo(blob)
    assert all(isinstance(k, str) and isinstance(v, list) for k, v in info.items())


@FAST
@given(st.text(max_size=400))
def test_kgraft_state_tables_and_ksplice_conflicts(text):
    from lptui.core.legacy.kgraft import parse_state_table
    from lptui.core.legacy.ksplice import parse_conflicts

    _header, functions, _problems = parse_state_table(text)
    conflicts, _conflict_problems = parse_conflicts(text)
    assert isinstance(functions, list) and isinstance(conflicts, list)


@FAST
@given(hostile_bytes)
def test_numbers_and_lines(blob):
    text = blob.decode("utf-8", "replace")
    value = parse_int(Read(text))
    assert value.value is None or (isinstance(value.value, int) and value.problem is None)
    line = parse_line(Read(text))
    assert line.value is None or ("\x1b" not in line.value and "\n" not in line.value)


def test_every_read_is_capped_and_says_so(tmp_path):
    (tmp_path / "big").write_bytes(b"1" * (_MAX_READ * 4))
    read = Tree(tmp_path).read("big")
    assert read.truncated and len(read.text) == _MAX_READ
    assert parse_int(read).problem == TOO_LONG and parse_line(read).problem == TOO_LONG
    with open(tmp_path / "kallsyms", "wb") as fh:  # sparse: 65 MiB on paper, nothing on disk
        fh.truncate(65 << 20)
    whole = Tree(tmp_path).read_whole("kallsyms")
    assert not whole.ok and "over 64 MiB" in whole.error


# ------------------------------------------------------------------- kallsyms, ELF, older systems


@FAST
@given(hostile_bytes)
def test_kallsyms_of_any_shape(blob):
    from lptui.core.actions.kernel_checks import symbol_checks
    from lptui.core.kofile.klpelf import plan_patch
    from lptui.core.kofile.modfile import open_module

    plan = plan_patch(open_module(str(KO / "lptui_lp_cmdline.ko")))
    with tempfile.TemporaryDirectory() as tmp:
        put(Path(tmp), "proc/kallsyms", blob)
        checks = symbol_checks(plan, Tree(tmp))
        assert checks and all(c.level in ("ok", "error", "unknown", "warning") for c in checks)


KO = Path(__file__).resolve().parents[1] / "data/ko"


@FAST
@given(data=st.data())
def test_elf_files_cut_or_bitten(data):
    """A real livepatch module (built for the tests, tests/data/ko) cut anywhere or with bytes changed:
    ModuleFileError in one line, or a module whose plan never raises."""
    from lptui.core.kofile.klpelf import plan_patch
    from lptui.core.kofile.modfile import ModuleFileError, open_module

    raw = bytearray((KO / "lptui_lp_cmdline.ko").read_bytes())
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    else:
        for _ in range(data.draw(st.integers(1, 20))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.ko"
        path.write_bytes(bytes(raw))
        try:
            mod = open_module(str(path))
        except ModuleFileError as exc:
            assert "\n" not in str(exc)
            return
        plan_patch(mod)


LEGACY_FILES = [
    "sys/kernel/kgraft/in_progress",
    "sys/kernel/kgraft/kgr_fix/state",
    "sys/kernel/kgraft/kgr_fix/refs",
    "sys/kernel/kgraft/kgr_fix/owner",
    "proc/30/kgr_in_progress",
    "proc/30/task/30/stack",
    "sys/kernel/kpatch/patches/kpatch_fix/enabled",
    "sys/kernel/kpatch/patches/kpatch_fix/checksum",
    "sys/kernel/kpatch/patches/kpatch_fix/functions",
    "sys/module/kpatch/version",
    "sys/module/kpatch/refcnt",
    "sys/module/ksplice_ab12/ksplice/stage",
    "sys/module/ksplice_ab12/ksplice/abort_cause",
    "sys/module/ksplice_ab12/ksplice/conflicts",
    "sys/module/ksplice_ab12/ksplice/debug",
]


@FAST
@given(target=st.sampled_from(LEGACY_FILES), what=replacement)
def test_older_systems_files(target, what):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fake = FakeKernel(root).kernel(livepatch=False)
        kgraft(fake, in_progress=1, patches={"kgr_fix": kgraft_state_fatal([("sys_getpid", 1, 0)])})
        kgr_process(fake, 30, 1, comm="sleeper", stack=["[<0>] pipe_read+0x1/0x2"])
        kpatch_core_module(fake, refcnt=1)
        kpatch_core_patches_layout(fake, "kpatch_fix", enabled=1, functions=["meminfo_proc_show"])
        ksplice_bundle(
            fake,
            "ksplice_ab12",
            stage="applied",
            abort_cause="code_busy",
            conflicts=ksplice_conflicts([("sleeper", 30, ["sys_getpid"])]),
        )
        put(root, target, what)
        snap = read_snapshot(Tree(root))
        assert snap.systems  # the others are still found
        for t in snap.pending_tasks:
            assert all(p and "\n" not in p for p in t.problems)


@FAST
@given(hostile_bytes)
def test_capture_manifests(blob):
    """A manifest is lptui's, each field of its type and range, or the replay is refused in one line."""
    from lptui.core.oncall.capture import META, CaptureError, ReplayTree

    with tempfile.TemporaryDirectory() as tmp:
        put(Path(tmp), META, blob)
        try:
            tree = ReplayTree(tmp)
        except CaptureError as exc:
            assert "\n" not in str(exc)
            return
        assert isinstance(tree.meta, dict) and isinstance(tree.unreadable, dict)
        read_snapshot(tree)


@pytest.mark.parametrize(
    "nested",
    [
        b"[" * 100_000,
        b'{"lptui_version": "1", "unreadable": [1, 2]}',
        b'{"lptui_version": "1", "unreadable": {"a": 1}}',
        b'{"lptui_version": "1", "captured_at_unix": NaN}',
        b'{"lptui_version": "1", "captured_at_unix": Infinity}',
        b'{"lptui_version": "1", "captured_at_unix": 1e308}',
        b'{"lptui_version": "1", "captured_at_unix": "yesterday"}',
        b'{"lptui_version": "1", "threads": -1}',
        b'{"lptui_version": "1", "host": "' + b"h" * 300 + b'"}',
    ],
)
def test_capture_manifests_of_odd_shapes(tmp_path, nested):
    from lptui.core.oncall.capture import META, CaptureError, ReplayTree

    (tmp_path / META).write_bytes(nested)
    with pytest.raises(CaptureError, match="manifest"):
        ReplayTree(tmp_path)
