from lptui.core.livepatch.blockers import analyse, blocking_functions, parse_frame
from lptui.core.livepatch.tasks import RawTask
from lptui.core.model import (
    Direction,
    FunctionInfo,
    ModuleInfo,
    ObjectInfo,
    PatchInfo,
    Reason,
    TransitionInfo,
)

PATCHING = TransitionInfo("lp", Direction.PATCHING, 1)
UNPATCHING = TransitionInfo("lp", Direction.UNPATCHING, 0)


def make_patch(objects=None, patched=True):
    objects = objects or {"vmlinux": ["cmdline_proc_show"], "xfs": ["xfsaild"]}
    return PatchInfo(
        name="lp",
        enabled=True,
        transition=True,
        replace=False,
        stack_order=None,
        module=ModuleInfo("lp", True, 1, "OEK"),
        objects=tuple(
            ObjectInfo(o, True, patched, tuple(FunctionInfo(f, 1) for f in fs)) for o, fs in objects.items()
        ),
    )


def raw(stack, *, state="S", kthread=False, patch_state=0, stack_error=None):
    return RawTask(
        1, 1, patch_state, "t", state, kthread, tuple(stack) if stack is not None else None, stack_error
    )


def test_parse_frame_forms():
    assert parse_frame("[<0>] xfsaild+0x1a5/0x8d0 [xfs]") == parse_frame("xfsaild+0x1a5/0x8d0 [xfs]")
    f = parse_frame("[<ffffffff81234567>] cmdline_proc_show+0x1d/0x40")
    assert (f.func, f.module) == ("cmdline_proc_show", None)
    f = parse_frame("[<0>] busymod_work_func+0x2a/0x60 [test_klp_callbacks_busy]")
    assert (f.func, f.module) == ("busymod_work_func", "test_klp_callbacks_busy")
    assert parse_frame("") is None


def test_patching_matches_function_in_its_object_only():
    patch = make_patch()
    stack = (
        "[<0>] xfsaild+0x1/0x2 [xfs]",
        "[<0>] cmdline_proc_show+0x1/0x2 [other]",
        "[<0>] kthread+0x1/0x2",
    )
    assert blocking_functions(stack, PATCHING, patch, frozenset()) == ("xfsaild",)


def test_patching_matches_older_patch_replacement_in_livepatch_module():
    stack = ("[<0>] cmdline_proc_show+0x1/0x2 [lp_older]",)
    assert blocking_functions(stack, PATCHING, make_patch(), frozenset({"lp_older"})) == (
        "cmdline_proc_show [lp_older]",
    )


def test_unpatched_object_is_not_checked():
    patch = make_patch(patched=False)
    assert blocking_functions(("[<0>] xfsaild+0x1/0x2 [xfs]",), PATCHING, patch, frozenset()) == ()


def test_unpatching_names_frames_in_patch_module():
    stack = ("[<0>] livepatch_cmdline_proc_show+0x1/0x2 [lp]", "[<0>] seq_read+0x1/0x2")
    assert blocking_functions(stack, UNPATCHING, make_patch(), frozenset()) == (
        "livepatch_cmdline_proc_show [lp]",
    )


def test_reasons():
    patch, lp = make_patch(), frozenset()
    in_fn = ["[<0>] xfsaild+0x1/0x2 [xfs]"]
    cases = [
        (raw(in_fn, kthread=True), Reason.KTHREAD_IN_PATCHED, "kernel thread sleeping"),
        (raw(in_fn, kthread=True, state="D"), Reason.KTHREAD_IN_PATCHED, "kernel thread in uninterruptible"),
        (raw(in_fn, state="D"), Reason.UNINTERRUPTIBLE, "signals cannot help"),
        (raw(in_fn), Reason.SLEEPING_IN_PATCHED, "xfsaild"),
        (raw([], state="R"), Reason.RUNNING, "running"),
        (raw([], state="D"), Reason.UNINTERRUPTIBLE, "uninterruptible"),
        (raw([], kthread=True), Reason.KTHREAD, "kernel thread"),
        (raw([]), Reason.WAITING, "next retry"),
        (raw(None, stack_error="permission denied"), Reason.STACK_UNREADABLE, "run lptui as root"),
    ]
    for task, code, words in cases:
        info = analyse(task, PATCHING, patch, lp)
        assert info.pending
        assert info.reason_code is code, task
        assert words in info.reason


def test_not_pending_when_switched_or_idle():
    patch = make_patch()
    assert not analyse(raw([], patch_state=1), PATCHING, patch, frozenset()).pending
    assert not analyse(raw([], patch_state=-1), PATCHING, patch, frozenset()).pending
    assert not analyse(raw([], patch_state=0), None, None, frozenset()).pending
    assert analyse(raw([], patch_state=1), UNPATCHING, patch, frozenset()).pending


def test_unknown_patch_state_is_flagged_not_pending():
    info = analyse(raw([], patch_state=None), PATCHING, make_patch(), frozenset())
    assert not info.pending and info.reason_code is Reason.UNKNOWN_STATE


# The stack of the issue-29 stall: a kthread asleep in msleep under `bpftrace kretfunc:msleep`.
BPF_STACK = (
    "[<0>] msleep+0x29/0x40",
    "[<0>] bpf_trampoline_6442540718+0x2e/0x1000",
    "[<0>] hk_sleep_loop+0x1b/0x40 [hk]",
    "[<0>] kthread+0xd7/0x100",
)


def test_a_bpf_trampoline_frame_is_an_unreliable_stack_before_every_other_reason():
    for kw, end in (
        ({"state": "D", "kthread": True}, "kernel thread"),
        ({"state": "D"}, "uninterruptible"),
        ({"state": "S"}, "fake signal"),
    ):
        info = analyse(raw(BPF_STACK, **kw), PATCHING, make_patch(), frozenset())
        assert info.reason_code is Reason.UNRELIABLE_STACK
        assert "bpf_trampoline_6442540718" in info.reason and end in info.reason
    # before the patched function on the same stack, too: the kernel fails the walk first
    stack = ("[<0>] cmdline_proc_show+0x1d/0x40", "[<0>] bpf_prog_0123456789abcdef_fexit+0x40/0x80")
    info = analyse(raw(stack), PATCHING, make_patch(), frozenset())
    assert info.reason_code is Reason.UNRELIABLE_STACK and "bpf_prog_0123456789abcdef_fexit" in info.reason


def test_names_that_only_look_like_bpf_are_not():
    stack = ("[<0>] bpf_trampoline_link_prog+0x1/0x2", "[<0>] bpf_prog_run+0x1/0x2")
    assert analyse(raw(stack), PATCHING, make_patch(), frozenset()).reason_code is Reason.WAITING


def test_the_trampoline_key_names_the_traced_functions_btf_id():
    from lptui.core.livepatch.blockers import trampoline_target

    assert trampoline_target("bpf_trampoline_6442469985") == (1, 0x4A61)  # 1 << 32 | 0x80004A61
    assert trampoline_target("bpf_trampoline_12") is None  # a BPF-program target: bit 31 clear
    assert trampoline_target("bpf_trampoline_link_prog") is None
    info = analyse(raw(BPF_STACK), PATCHING, make_patch(), frozenset())
    assert f"BTF id {6442540718 & 0x7FFFFFFF} in vmlinux" in info.reason
