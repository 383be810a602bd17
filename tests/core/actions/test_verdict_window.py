"""The verdict window's gates refuse what could hang a host, and a killed window is restored later."""

import pytest

from lptui.core.actions.verdict_window import check_gates, restore_leftover, save_record
from lptui.core.errors import ActionError
from lptui.core.tree import Tree

SITES = (
    'kernel/livepatch/transition.c:290 [livepatch]klp_try_switch_task =_ "%s: %s:%d is running\\012"\n'
    'kernel/livepatch/transition.c:294 [livepatch]klp_try_switch_task =pf "%s: %s:%d has an unrel\\012"\n'
)


def _tree(tmp_path, printk="4\t4\t1\t7\n", ignore="N\n"):
    (tmp_path / "proc/dynamic_debug").mkdir(parents=True)
    (tmp_path / "proc/dynamic_debug/control").write_text(SITES)
    (tmp_path / "proc/sys/kernel").mkdir(parents=True)
    (tmp_path / "proc/sys/kernel/printk").write_text(printk)
    (tmp_path / "sys/module/printk/parameters").mkdir(parents=True)
    (tmp_path / "sys/module/printk/parameters/ignore_loglevel").write_text(ignore)
    return Tree(tmp_path)


def test_gates_pass_and_save_the_sites(tmp_path):
    gate = check_gates(_tree(tmp_path), pending=3, transition=True)
    assert [s.flags for s in gate.sites] == ["_", "pf"] and gate.console_loglevel == 4


@pytest.mark.parametrize(
    ("kw", "pending", "words"),
    [
        ({"printk": "8 4 1 7\n"}, 3, "console_loglevel is 8"),
        ({"ignore": "Y\n"}, 3, "ignore_loglevel"),
        ({}, 201, "201 tasks are pending (limit 200)"),
        ({}, None, "unknown number"),
    ],
)
def test_each_gate_refuses_with_one_line(tmp_path, kw, pending, words):
    with pytest.raises(ActionError) as err:
        check_gates(_tree(tmp_path, **kw), pending=pending, transition=True)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_no_transition_and_no_control_file(tmp_path):
    with pytest.raises(ActionError, match="no transition"):
        check_gates(_tree(tmp_path), pending=1, transition=False)
    with pytest.raises(ActionError, match="CONFIG_DYNAMIC_DEBUG"):
        check_gates(Tree(tmp_path / "empty"), pending=1, transition=True)


def test_a_killed_window_is_restored_by_the_next_start(tmp_path):
    from lptui.core.actions.dyndbg import call_sites

    record = str(tmp_path / "run/restore.json")
    save_record(call_sites(SITES), record)
    written: list[str] = []
    assert restore_leftover(written.append, record) == 2
    assert written == [
        "file kernel/livepatch/transition.c line 290 =_",
        "file kernel/livepatch/transition.c line 294 =pf",
    ]
    assert restore_leftover(written.append, record) == 0  # done once


def _window(tmp_path, sleep):
    from lptui.core.actions.verdict_window import run_window

    gate = check_gates(_tree(tmp_path / "t"), pending=2, transition=True)
    kmsg = tmp_path / "kmsg"
    kmsg.write_text("7,1,100,-;livepatch: klp_try_switch_task: old:5 is running\n")
    written: list[str] = []
    ticks = iter(range(100))
    record = str(tmp_path / "run/restore.json")

    def tick(_seconds):
        sleep(kmsg, written, record)

    result = run_window(
        gate, 3, str(kmsg), written.append, record=record, sleep=tick, clock=lambda: next(ticks), timer=False
    )
    return result, written, record


def test_the_window_enables_collects_and_restores(tmp_path):
    def sleep(kmsg, written, record):
        assert written[-1].endswith("+p")
        import os

        assert os.path.exists(record)  # saved before anything was enabled
        with kmsg.open("a") as fh:
            fh.write("7,2,200,-;livepatch: klp_try_switch_task: hk:177 has an unreliable stack\n")

    result, written, record = _window(tmp_path, sleep)
    assert 5 not in result.verdicts  # logged before the window
    assert result.verdicts[177].kind == "unreliable_stack" and result.lines == 1
    assert written[-2:] == [
        "file kernel/livepatch/transition.c line 290 =_",
        "file kernel/livepatch/transition.c line 294 =pf",
    ]
    assert result.restored == 2
    import os

    assert not os.path.exists(record)


def test_ctrl_c_mid_window_still_restores(tmp_path):
    from lptui.core.actions.verdict_window import run_window

    written_out: list[str] = []
    gate = check_gates(_tree(tmp_path / "t2"), pending=2, transition=True)
    (tmp_path / "k2").write_text("")
    with pytest.raises(KeyboardInterrupt):
        run_window(
            gate,
            3,
            str(tmp_path / "k2"),
            written_out.append,
            record=str(tmp_path / "r2.json"),
            sleep=lambda s: (_ for _ in ()).throw(KeyboardInterrupt()),
            timer=False,
        )
    assert written_out[-2:] == [s.restore_query() for s in gate.sites]


def test_the_cli_knows_where_the_record_is():
    from lptui.cli.main import LEFTOVER
    from lptui.core.actions.verdict_window import RESTORE_RECORD

    assert LEFTOVER == RESTORE_RECORD
