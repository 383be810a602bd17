"""kGraft, the kpatch core module and Ksplice read from fixture trees, one per source revision found
(tests/legacy_trees.py names each source)."""

from __future__ import annotations

import shutil

import pytest

from lptui.core.legacy.kgraft import parse_state_table
from lptui.core.legacy.ksplice import kid_of_module, parse_conflicts
from lptui.core.model import Direction, Mechanism, Reason
from lptui.core.snapshot import read_snapshot
from lptui.core.tree import Tree
from tests import legacy_trees as lt

# ------------------------------------------------------------------------------------------ kGraft

KGR_ROWS = [("cmdline_proc_show", 2, 1), ("meminfo_proc_show", 1, 1)]


@pytest.mark.parametrize(
    "text, revision, objects",
    [
        (
            lt.kgraft_state_fatal([("cmdline_proc_show", 2, 1), ("meminfo_proc_show", 1, 1)]),
            "state-fatal",
            {"(object not shown)"},
        ),
        (
            lt.kgraft_weak_state([("cmdline_proc_show", 0, 2), ("meminfo_proc_show", 0, 1)]),
            "weak-state",
            {"(object not shown)"},
        ),
        (
            lt.kgraft_object_state([("cmdline_proc_show", "vmlinux", 0, 2), ("xfs_iomap", "xfs", 1, 1)]),
            "object-sympos-state",
            {"vmlinux", "xfs"},
        ),
    ],
)
def test_every_kgraft_state_table_revision_parses(text, revision, objects):
    got, functions, problems = parse_state_table(text)
    assert (got, problems) == (revision, [])
    assert [f.state for f in functions] == [2, 1]
    assert {f.obj for f in functions} == objects


def test_a_kgraft_table_of_garbage_is_a_problem_not_a_crash():
    assert parse_state_table("Nonsense header\n")[2] == ["state: unknown table header 'Nonsense header'"]
    revision, functions, problems = parse_state_table(lt.kgraft_weak_state([]) + "foo  x  y\n")
    assert revision == "weak-state" and functions == [] and problems[0].startswith("state: garbage row")


def _kgraft_host(fake, table: str, **kw):
    fake.kernel(livepatch=False)
    lt.kgraft(fake, in_progress=1, patches={"kgraft_patch_fix": table}, **kw)
    lt.kgr_process(fake, 1, 0, comm="systemd")
    lt.kgr_process(
        fake,
        700,
        1,
        comm="sshd",
        state="S",
        stack=["[<0>] meminfo_proc_show+0x1d/0x40", "[<0>] seq_read+0x10/0x40"],
    )
    lt.kgr_process(fake, 810, 1, comm="postgres", state="D", stack=["[<0>] jbd2_log_wait_commit+0x1/0x2"])
    lt.kgr_process(fake, 42, 1, comm="xfsaild/dm-0", kthread=True, ppid=2)


@pytest.mark.parametrize(
    "table, kw",
    [
        (lt.kgraft_state_fatal(KGR_ROWS), {"refs": False}),
        (lt.kgraft_weak_state([(n, 0, s) for n, s, _ in KGR_ROWS]), {}),
        (lt.kgraft_object_state([(n, "vmlinux", 0, s) for n, s, _ in KGR_ROWS]), {"force_load_module": True}),
    ],
)
def test_a_kgraft_transition_held_up_by_processes(fake, table, kw):
    _kgraft_host(fake, table, **kw)
    snap = read_snapshot(Tree(fake.root))
    assert [(s.mechanism, s.detail) for s in snap.systems] == [(Mechanism.KGRAFT, "in progress")]
    patch = snap.patch("kgraft_patch_fix")
    assert patch is not None and patch.mechanism is Mechanism.KGRAFT
    assert (patch.stage, patch.enabled, patch.transition) == ("patching", True, True)
    assert patch.module.loaded and patch.module.name == "kgraft_patch_fix"
    assert [(f.name, f.state) for o in patch.objects for f in o.functions] == [
        ("cmdline_proc_show", "applied"),
        ("meminfo_proc_show", "patching"),
    ]
    t = snap.transition
    assert t is not None and (t.mechanism, t.patch, t.direction) == (
        Mechanism.KGRAFT,
        "kgraft_patch_fix",
        Direction.PATCHING,
    )
    assert (t.tasks_total, t.tasks_pending) == (4, 3)
    by_pid = {task.pid: task for task in snap.pending_tasks}
    assert set(by_pid) == {42, 700, 810}
    assert by_pid[700].reason_code is Reason.KGRAFT_IN_KERNEL
    assert by_pid[700].blocking_functions == ("meminfo_proc_show",)
    assert "enters or leaves a system call" in by_pid[700].reason
    assert "(D)" in by_pid[810].reason and by_pid[810].blocking_functions == ()
    assert by_pid[42].reason_code is Reason.KGRAFT_KTHREAD and "kgr_task_safe()" in by_pid[42].reason
    # a kGraft host is not "without live patching"
    assert not any("has no live patching" in n for n in snap.notes)
    assert any("No upstream livepatch core" in n for n in snap.notes)
    # its patch module is the patch, not an "inactive" livepatch module
    assert snap.inactive_modules == ()


def test_a_finished_kgraft_patch_and_an_unreadable_flag(fake):
    fake.kernel(livepatch=False)
    lt.kgraft(fake, in_progress=0, patches={"kgraft_done": lt.kgraft_weak_state([("f", 0, 2)])})
    lt.kgr_process(fake, 5, 0)
    snap = read_snapshot(Tree(fake.root))
    assert snap.transition is None and snap.patch("kgraft_done").stage == "applied"
    fake.write("sys/kernel/kgraft/in_progress", "7\n")
    snap = read_snapshot(Tree(fake.root))
    assert snap.systems[0].problems == ("in_progress: unexpected value 7",)


# ------------------------------------------------------------------------------------- kpatch core


def test_kpatch_core_both_layouts_and_the_core_module(fake):
    fake.kernel(livepatch=False)
    lt.kpatch_core_module(fake, refcnt=2)
    lt.kpatch_core_patches_layout(fake, "kpatch_old_fix", enabled=1, functions=["cmdline_proc_show"])
    lt.kpatch_core_objects_layout(
        fake, "kpatch_new_fix", enabled=0, objects={"vmlinux": ["meminfo_proc_show,1"], "xfs": ["xfs_a,2"]}
    )
    snap = read_snapshot(Tree(fake.root))
    assert [(s.mechanism, s.detail) for s in snap.systems] == [
        (Mechanism.KPATCH_CORE, "kpatch.ko 0.4.0 loaded, refcnt 2")
    ]
    old, new = snap.patch("kpatch_old_fix"), snap.patch("kpatch_new_fix")
    assert (old.mechanism, old.enabled, old.stage) == (Mechanism.KPATCH_CORE, True, "enabled")
    assert [(o.name, [f.name for f in o.functions]) for o in old.objects] == [
        ("(object not shown)", ["cmdline_proc_show"])
    ]
    assert dict(old.details)["layout"] == "patches" and "checksum" in dict(old.details)
    assert (new.enabled, new.stage) == (False, "disabled")
    assert [(o.name, o.loaded, [(f.name, f.sympos) for f in o.functions]) for o in new.objects] == [
        ("vmlinux", True, [("meminfo_proc_show", 1)]),
        ("xfs", False, [("xfs_a", 2)]),
    ]
    assert snap.transition is None and snap.inactive_modules == ()


# ----------------------------------------------------------------------------------------- Ksplice


def test_ksplice_kid_and_conflict_lines():
    assert kid_of_module("ksplice_8c4o6ucj_vmlinux") == "8c4o6ucj"
    assert kid_of_module("ksplice_abc-new") == "abc"
    conflicts, problems = parse_conflicts("sshd 712 sys_newuname\nkworker/0:1 15\nnope\n")
    assert [(c.comm, c.pid, c.symbols) for c in conflicts] == [
        ("sshd", 712, ("sys_newuname",)),
        ("kworker/0:1", 15, ()),
    ]
    assert problems == ["conflicts: garbage line 'nope'"]


def test_ksplice_2008_module_pack_revision(fake):
    fake.kernel(livepatch=False)
    lt.ksplice_2008_module_pack(fake, "ksplice_h3x1_vmlinux", stage="applied", abort_cause="none")
    snap = read_snapshot(Tree(fake.root))
    (patch,) = snap.patches
    assert (patch.name, patch.mechanism, patch.stage, patch.enabled) == (
        "h3x1",
        Mechanism.KSPLICE,
        "applied",
        True,
    )
    assert patch.module.name == "ksplice_h3x1_vmlinux" and snap.transition is None


def test_a_ksplice_update_aborted_on_a_conflict_is_shown_with_its_blockers(fake):
    fake.kernel(livepatch=False)
    fake.task(712, comm="sshd")
    lt.ksplice_bundle(
        fake,
        "ksplice_q9z2_vmlinux",
        stage="preparing",
        abort_cause="code_busy",
        conflicts=lt.ksplice_conflicts([("sshd", 712, ["sys_newuname"]), ("gone", 999, ["sys_newuname"])]),
    )
    snap = read_snapshot(Tree(fake.root))
    t = snap.transition
    assert (t.mechanism, t.patch, t.aborted, t.direction, t.tasks_pending) == (
        Mechanism.KSPLICE,
        "q9z2",
        "code_busy",
        Direction.PATCHING,
        2,
    )
    sshd, gone = snap.pending_tasks
    assert sshd.reason_code is Reason.KSPLICE_CONFLICT and sshd.blocking_functions == ("sys_newuname",)
    assert "update q9z2 aborted (code_busy)" in sshd.reason and sshd.problems == ()
    assert gone.problems == ("exited since Ksplice's check (or the pid was reused)",)


def test_ksplice_built_in_with_an_aborted_undo(fake):
    fake.kernel(livepatch=False)
    lt.ksplice_in_kernel(
        fake,
        "u7",
        stage="applied",
        abort_cause="code_busy",
        conflicts=lt.ksplice_conflicts([("nginx", 88, ["tcp_sendmsg"])]),
        modules=("ksplice_u7_vmlinux",),
    )
    lt.ksplice_in_kernel(fake, "u8", stage="reversed", abort_cause="ok")
    snap = read_snapshot(Tree(fake.root))
    assert snap.systems[0].where == "sys/kernel/ksplice"
    u7, u8 = snap.patch("u7"), snap.patch("u8")
    assert u7.module.name == "ksplice_u7_vmlinux" and u7.module.loaded
    assert (u8.enabled, u8.module.loaded) == (False, False)
    assert dict(u7.details)["partial"] == "0"
    assert (snap.transition.direction, snap.transition.aborted) == (Direction.UNPATCHING, "code_busy")
    assert "undo u7 aborted" in snap.pending_tasks[0].reason


# ------------------------------------------------------------------------------ more than one system


def test_a_host_with_the_core_and_a_legacy_system(fake):
    fake.kernel(livepatch=True)
    fake.patch("livepatch_core_fix", transition="1")
    fake.task(1, patch_state="0", comm="systemd")
    lt.ksplice_in_kernel(
        fake,
        "k1",
        stage="preparing",
        abort_cause="code_busy",
        conflicts=lt.ksplice_conflicts([("sshd", 5, ["f"])]),
    )
    snap = read_snapshot(Tree(fake.root))
    assert [s.mechanism for s in snap.systems] == [Mechanism.LIVEPATCH, Mechanism.KSPLICE]
    assert [(p.name, p.mechanism) for p in snap.patches] == [
        ("livepatch_core_fix", Mechanism.LIVEPATCH),
        ("k1", Mechanism.KSPLICE),
    ]
    # the core's transition is the one shown; Ksplice's is named in a note
    assert snap.transition.mechanism is Mechanism.LIVEPATCH
    assert [t.pid for t in snap.pending_tasks] == [1]
    assert any("ksplice also shows 'k1'" in n for n in snap.notes)
    # with the core idle, Ksplice's stopped update comes forward
    fake.write("sys/kernel/livepatch/livepatch_core_fix/transition", "0\n")
    snap = read_snapshot(Tree(fake.root))
    assert snap.transition.mechanism is Mechanism.KSPLICE and snap.pending_tasks[0].comm == "sshd"


def test_no_system_at_all_keeps_the_old_note(fake):
    fake.kernel(livepatch=False)
    snap = read_snapshot(Tree(fake.root))
    assert snap.systems == () and any("has no live patching" in n for n in snap.notes)


# ------------------------------------------------------------------- each file read, and bad input


def test_kgraft_attributes_by_revision_and_the_owner_link(fake):
    fake.kernel(livepatch=False)
    lt.kgraft(fake, in_progress=0, patches={"p_old": lt.kgraft_state_fatal([("f", 2, 1)])}, refs=False)
    lt.kgraft(fake, in_progress=0, patches={"p_new": lt.kgraft_weak_state([("f", 0, 2)])})
    # the owner link names the module (kgr_patch_dir_add): it need not be the patch's name
    owner = fake.root / "sys/kernel/kgraft/p_new/owner"
    owner.unlink()
    fake.module("kgraft_patch_other_name", refcnt="1", taint="OEK")
    owner.symlink_to("../../../module/kgraft_patch_other_name")
    shutil.rmtree(fake.root / "sys/module/p_new")
    snap = read_snapshot(Tree(fake.root))
    old, new = snap.patch("p_old"), snap.patch("p_new")
    assert dict(old.details) == {"state table": "state-fatal"} and old.replace is None
    assert dict(new.details) == {"state table": "weak-state", "refs": "0", "replace_all": "0"}
    assert new.replace is False and new.module.name == "kgraft_patch_other_name" and new.module.loaded
    assert snap.inactive_modules == ()


def test_garbage_in_the_older_systems_files_is_a_problem_never_a_crash(fake):
    fake.kernel(livepatch=False)
    lt.kgraft(fake, in_progress=1, patches={"kg": lt.kgraft_weak_state([("f", 0, 1)])})
    fake.write("sys/kernel/kgraft/kg/refs", "lots\n")
    lt.kgr_process(fake, 10, 1, comm="a")
    fake.write("proc/11/kgr_in_progress", "2\n")  # garbage flag, process half gone
    (fake.root / "proc/12").mkdir()  # listed, then vanished before its flag could be read: skipped
    lt.kpatch_core_module(fake, refcnt=1)
    lt.kpatch_core_objects_layout(fake, "kp", enabled=1, objects={"vmlinux": ["f,1"]})
    fake.write("sys/kernel/kpatch/kp/enabled", "yes\n")
    lt.ksplice_in_kernel(fake, "ks", stage="flying", abort_cause="ok", conflicts="\x00\x01 nope\n")
    snap = read_snapshot(Tree(fake.root))
    kg, kp, ks = snap.patch("kg"), snap.patch("kp"), snap.patch("ks")
    assert kg.problems == ("refs: garbage 'lots'",)
    assert snap.transition.tasks_pending == 1 and snap.transition.tasks_unknown == 1
    assert kp.enabled is None and kp.problems == ("enabled: garbage 'yes'",)
    assert ks.stage is None and ks.enabled is None
    assert ks.problems[0] == "stage: unexpected value 'flying'" and ks.problems[1].startswith(
        "conflicts: garbage"
    )


def test_during_a_kgraft_transition_a_migrated_process_is_not_read_again(fake):
    from lptui.core.snapshot import SnapshotReader
    from tests.faketree import CountingTree

    fake.kernel(livepatch=False)
    lt.kgraft(fake, in_progress=1, patches={"kg": lt.kgraft_weak_state([("f", 0, 1)])})
    for pid in (1, 2, 3):
        lt.kgr_process(fake, pid, 0)
    lt.kgr_process(fake, 9, 1, comm="held")
    tree = CountingTree(fake.root)
    reader = SnapshotReader(tree)
    assert [t.pid for t in reader.read().pending_tasks] == [9]
    tree.reads.clear()
    snap = reader.read()
    flags = sorted(r for r in tree.reads if r.endswith("kgr_in_progress"))
    assert flags == ["proc/9/kgr_in_progress"]  # only the one still pending
    assert (snap.transition.tasks_total, snap.transition.tasks_pending) == (4, 1)
