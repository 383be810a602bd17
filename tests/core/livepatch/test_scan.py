"""What the scanner reads: nothing per task while idle; only what can change during a transition."""

from lptui.core.model import Direction, Reason
from lptui.core.snapshot import SnapshotReader, read_snapshot
from tests.faketree import CountingTree


def populate(fake, n=50, pending=(), target_state="1", start_state="0"):
    for pid in range(100, 100 + n):
        fake.task(pid, comm=f"t{pid}", patch_state=start_state if pid in pending else target_state)


def test_idle_reads_no_task_files(fake):
    fake.patch("lp")
    populate(fake, target_state="-1")
    tree = CountingTree(fake.root)
    snap = read_snapshot(tree)
    assert snap.transition is None and snap.threads_total == 50
    assert tree.task_reads() == []


def test_transition_first_scan_full_then_only_pending_and_new(fake):
    fake.patch("lp", transition="1")
    populate(fake, pending={100, 101})
    tree = CountingTree(fake.root)
    reader = SnapshotReader(tree)

    snap = reader.read()
    assert snap.transition.tasks_pending == 2 and snap.transition.tasks_total == 50
    first = {r for r in tree.task_reads() if r.endswith("patch_state")}
    assert len(first) == 50

    tree.reads.clear()
    fake.task(100, patch_state="1")  # switched since
    fake.task(500, comm="newborn", patch_state="0")  # forked, inherited the old state
    snap = reader.read()
    reread = sorted({r.split("/")[1] for r in tree.task_reads()})
    assert reread == ["100", "101", "500"]
    assert [t.pid for t in snap.pending_tasks] == [101, 500]
    assert snap.transition.tasks_total == 51


def test_reversal_starts_over(fake):
    fake.patch("lp", transition="1")
    populate(fake, pending={100})
    tree = CountingTree(fake.root)
    reader = SnapshotReader(tree)
    reader.read()
    # reversal: enabled flips to 0; everyone at 1 must now go back to 0
    fake.write("sys/kernel/livepatch/lp/enabled", "0\n")
    tree.reads.clear()
    snap = reader.read()
    assert snap.transition.direction is Direction.UNPATCHING
    assert len({r for r in tree.task_reads() if r.endswith("patch_state")}) == 50
    assert snap.transition.tasks_pending == 49


def test_exited_threads_leave_the_pending_set(fake):
    import shutil

    fake.patch("lp", transition="1")
    populate(fake, n=5, pending={100, 101})
    reader = SnapshotReader(CountingTree(fake.root))
    assert reader.read().transition.tasks_pending == 2
    shutil.rmtree(fake.root / "proc/101")
    snap = reader.read()
    assert [t.pid for t in snap.pending_tasks] == [100] and snap.threads_total == 4


def test_unreadable_patch_state_counted_as_unknown(fake):
    fake.patch("lp", transition="1")
    populate(fake, n=3)
    fake.task(200, patch_state="garbage")
    snap = read_snapshot(CountingTree(fake.root))
    assert snap.transition.tasks_unknown == 1 and snap.transition.tasks_pending == 0
    assert any("unreadable patch_state" in n for n in snap.notes)


def test_idle_note_when_nothing_visible_is_pending(fake):
    fake.patch("lp", transition="1")
    populate(fake, n=3)
    snap = read_snapshot(CountingTree(fake.root))
    assert snap.transition.tasks_pending == 0
    assert any("swapper/0..1" in n for n in snap.notes)


def test_pending_kthread_explained(fake):
    fake.module("test_target")
    fake.patch("lp", transition="1", objects={"test_target": ["sleeper_fn,1"]}, patched={"test_target": "1"})
    fake.task(
        42,
        comm="lptui-sleeper",
        kthread=True,
        ppid=2,
        patch_state="0",
        stack=["[<0>] sleeper_fn+0x2a/0x60 [test_target]", "[<0>] kthread+0xd7/0x100"],
    )
    (task,) = read_snapshot(CountingTree(fake.root)).pending_tasks
    assert task.blocking_functions == ("sleeper_fn",)
    assert task.reason_code is Reason.KTHREAD_IN_PATCHED


def test_idle_thread_count_from_loadavg_without_listing_tasks(fake):
    fake.patch("lp")
    populate(fake, n=5, target_state="-1")
    fake.write("proc/loadavg", "0.10 0.20 0.30 3/1234 999\n")

    class NoListing(CountingTree):
        def listdir(self, rel):
            assert rel == "sys/kernel/livepatch" or not rel.startswith("proc/"), rel
            return super().listdir(rel)

    snap = read_snapshot(NoListing(fake.root))
    assert snap.threads_total == 1234


def test_garbage_loadavg_falls_back_to_counting(fake):
    populate(fake, n=4, target_state="-1")
    fake.write("proc/loadavg", "nonsense\n")
    assert read_snapshot(CountingTree(fake.root)).threads_total == 4


def test_new_threads_inherit_their_creators_state(fake):
    """klp_copy_process: threads created in a fully switched process are switched; not re-read."""
    fake.patch("lp", transition="1")
    fake.task(100, comm="switched", patch_state="1")
    fake.task(200, comm="stuck", patch_state="0")
    tree = CountingTree(fake.root)
    reader = SnapshotReader(tree)
    reader.read()
    fake.task(100, 101, comm="switched", patch_state="1")
    fake.task(200, 201, comm="stuck", patch_state="0")
    tree.reads.clear()
    snap = reader.read()
    touched = {tuple(r.split("/")[1:4:2]) for r in tree.task_reads()}
    assert touched == {("200", "200"), ("200", "201")}
    assert [(t.pid, t.tid) for t in snap.pending_tasks] == [(200, 200), (200, 201)]


def test_module_taints_reread_only_when_modules_change(fake):
    fake.patch("lp")
    for name in ("xfs", "ext4", "nfsd"):
        fake.module(name)
    fake.module("lp_old", refcnt="0", taint="OEK")
    tree = CountingTree(fake.root)
    reader = SnapshotReader(tree)
    assert [m.name for m in reader.read().inactive_modules] == ["lp_old"]
    tree.reads.clear()
    reader.read()
    assert not [r for r in tree.reads if r.endswith("/taint") and "/xfs/" in r]  # unchanged: not re-read
    fake.module("lp_new", refcnt="0", taint="OEK")  # a module came: listing changed, re-derive
    assert [m.name for m in reader.read().inactive_modules] == ["lp_new", "lp_old"]


def test_relisting_less_often_still_follows_the_pending(fake):
    """relist_every: between listings only the pending threads are re-read; new ones show at the next."""
    from lptui.core.livepatch.patches import read_patches
    from lptui.core.livepatch.scan import TaskScanner
    from lptui.core.snapshot import find_transition
    from tests.faketree import CountingTree

    fake.patch("lp_x", transition="1", objects={"vmlinux": ["cmdline_proc_show,1"]})
    fake.task(10, comm="stuck", patch_state="0", stack=["[<0>] cmdline_proc_show+0x1/0x2"])
    fake.task(11, comm="gone-soon", patch_state="0")
    for pid in range(20, 60):
        fake.task(pid, patch_state="1")
    now = [0.0]
    scanner = TaskScanner(relist_every=5.0, clock=lambda: now[0])
    tree = CountingTree(fake.root)
    patches = read_patches(tree)
    transition, patch = find_transition(patches), patches[0]
    first = scanner.scan(tree, transition, patch, frozenset({"lp_x"}))
    assert [t.pid for t in first.pending] == [10, 11] and first.threads_total == 42
    fake.write("proc/11/task/11/patch_state", "1\n")  # switched
    fake.task(70, comm="newcomer", patch_state="0")  # new, pending
    tree.reads.clear()
    now[0] = 1.0
    second = scanner.scan(tree, transition, patch, frozenset({"lp_x"}))
    assert [t.pid for t in second.pending] == [10]  # the switched one is gone, the new one not yet seen
    assert {r.split("/")[1] for r in tree.task_reads()} == {"10", "11"}  # only the pending were read
    now[0] = 6.0
    third = scanner.scan(tree, transition, patch, frozenset({"lp_x"}))
    assert [t.pid for t in third.pending] == [10, 70] and third.threads_total == 43


def test_a_slow_listing_waits_longer(fake):
    """relist_share: the wait after a listing grows with what the listing cost (1% of the time: a
    listing that took 0.1 s is repeated after 10 s, not after relist_every)."""
    from lptui.core.livepatch.patches import read_patches
    from lptui.core.livepatch.scan import TaskScanner
    from lptui.core.snapshot import find_transition

    fake.patch("lp_x", transition="1", objects={"vmlinux": ["cmdline_proc_show,1"]})
    fake.task(10, comm="stuck", patch_state="0")
    clock = iter([0.0, 0.1, 5.0, 9.0, 10.2, 10.3]).__next__  # listing 0.0-0.1; rescans at 5, 9; list at 10.2
    scanner = TaskScanner(relist_every=2.0, clock=clock, relist_share=0.01)
    from lptui.core.tree import Tree

    tree = Tree(fake.root)
    patches = read_patches(tree)
    transition, patch = find_transition(patches), patches[0]
    assert [t.pid for t in scanner.scan(tree, transition, patch, frozenset()).pending] == [10]
    fake.task(70, comm="newcomer", patch_state="0")
    assert [t.pid for t in scanner.scan(tree, transition, patch, frozenset()).pending] == [10]  # 5 s
    assert [t.pid for t in scanner.scan(tree, transition, patch, frozenset()).pending] == [10]  # 9 s
    assert [t.pid for t in scanner.scan(tree, transition, patch, frozenset()).pending] == [10, 70]  # 10.2 s


def test_fast_path_and_careful_path_agree(fake):
    """A plain Tree takes the fast path (openat relative to each task directory, bytes compared); a
    counting tree takes the careful one. Garbage, a missing file and a vanished task directory must
    come out the same both ways: the fast path hands anything unusual to the careful reader."""
    from lptui.core.snapshot import SnapshotReader
    from lptui.core.tree import Tree
    from tests.faketree import CountingTree

    fake.patch("lp_x", transition="1", objects={"vmlinux": ["cmdline_proc_show,1"]})
    fake.task(10, comm="stuck", patch_state="0", stack=["[<0>] cmdline_proc_show+0x1/0x2"])
    fake.task(10, 11, comm="stuck-thread", patch_state="1")
    fake.task(12, comm="garbage", patch_state="zebra")
    fake.task(13, comm="no-state")
    (fake.root / "proc/13/task/13/patch_state").unlink()
    fake.task(14, comm="switched", patch_state="1")
    fake.task(15, comm="never", patch_state="-1")
    (fake.root / "proc/16/task").mkdir(parents=True)  # a process whose threads are all gone
    careful = SnapshotReader(CountingTree(fake.root)).read()
    fast = SnapshotReader(Tree(fake.root)).read()
    assert fast.pending_tasks == careful.pending_tasks
    assert fast.transition == careful.transition and fast.threads_total == careful.threads_total
    assert [t.pid for t in fast.pending_tasks] == [10]
    assert fast.transition.tasks_unknown == 2  # the garbage and the missing patch_state
