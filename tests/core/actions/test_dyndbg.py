"""The verdicts' call sites read from the control file and the exact queries that restore them."""

from lptui.core.actions.dyndbg import call_sites

CONTROL = """# filename:lineno [module]function flags format
kernel/livepatch/transition.c:260 [livepatch]klp_check_stack =_ "%s: %s:%d has an unreliable stack\\012"
kernel/livepatch/transition.c:290 [livepatch]klp_try_switch_task =_ "%s: %s:%d is running\\012"
kernel/livepatch/transition.c:294 [livepatch]klp_try_switch_task =pmf "%s: %s:%d has an unreliable stack\\012"
kernel/livepatch/transition.c:297 [livepatch]klp_try_switch_task =p "%s: %s:%d sleeping on %s\\012"
init/main.c:1 [main]klp_try_switch_task_x =_ "x"
"""


def test_only_klp_try_switch_task_sites_and_their_flags():
    sites = call_sites(CONTROL)
    assert [(s.line, s.flags) for s in sites] == [(290, "_"), (294, "pmf"), (297, "p")]
    assert sites[0].restore_query() == "file kernel/livepatch/transition.c line 290 =_"
    assert sites[1].enable_query() == "file kernel/livepatch/transition.c line 294 +p"
    assert [s.printing for s in sites] == [False, True, True]


def test_garbage_gives_no_sites():
    assert call_sites("\x00\xff garbage\n:::: [x]klp_try_switch_task =P \n") == ()
