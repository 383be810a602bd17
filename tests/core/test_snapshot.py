from lptui.core.model import Direction
from lptui.core.snapshot import SnapshotReader, find_transition, read_snapshot
from lptui.core.tree import Read, Tree


def test_direction_from_enabled(fake):
    fake.patch("lp_on", transition="1", enabled="1")
    t = read_snapshot(Tree(fake.root)).transition
    assert (t.patch, t.direction, t.target) == ("lp_on", Direction.PATCHING, 1)


def test_unpatching_direction(fake):
    fake.patch("lp_off", transition="1", enabled="0")
    t = read_snapshot(Tree(fake.root)).transition
    assert (t.direction, t.target) == (Direction.UNPATCHING, 0)


def test_no_transition_when_enabled_unknown(fake):
    fake.patch("lp", transition="1", enabled="what")
    snap = read_snapshot(Tree(fake.root))
    assert snap.transition is None
    assert find_transition(snap.patches) is None


def test_scan_straddling_completion_is_retried(fake):
    fake.patch("lp", transition="1")
    fake.task(10, patch_state="0")

    class CompletingTree(Tree):
        """The transition completes right after the first task read."""

        done = False

        def read(self, rel: str) -> Read:
            out = super().read(rel)
            if rel.endswith("patch_state") and not self.done:
                self.done = True
                fake.write("sys/kernel/livepatch/lp/transition", "0\n")
                fake.write("proc/10/task/10/patch_state", "-1\n")
            return out

    snap = SnapshotReader(CompletingTree(fake.root)).read()
    assert snap.transition is None and snap.pending_tasks == ()


def test_garbage_everywhere_reads_without_raising(fake):
    fake.patch("lp", enabled="\x00", transition="?", replace="", stack_order="-3")
    fake.task(1, patch_state="xx")
    fake.write("proc/1/task/1/stat", ")))")
    fake.write("proc/sys/kernel/tainted", "")
    snap = read_snapshot(Tree(fake.root))
    (p,) = snap.patches
    assert p.enabled is None and p.stack_order is None
    assert snap.kernel.tainted is None
