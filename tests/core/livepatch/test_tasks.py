import shutil

from hypothesis import given
from hypothesis import strategies as st

from lptui.core.livepatch.tasks import iter_thread_ids, parse_stat, read_patch_state, read_task_details
from lptui.core.tree import Read, Tree


def test_parse_stat_with_tricky_comm():
    s = parse_stat(Read("77 (my (evil) prog) S 1 77 77 0 -1 4194560 0 0\n"))
    assert (s.state, s.ppid, s.flags) == ("S", 1, 4194560)


def test_parse_stat_gives_start_time_and_last_cpu():
    # fields 3.. after the comm: state, ppid, …, flags (9), …, starttime (22), …, processor (39)
    rest = ["S", "1"] + ["0"] * 4 + ["4194560"] + ["0"] * 12 + ["12345"] + ["0"] * 16 + ["3"]
    s = parse_stat(Read("77 (a) b) c) " + " ".join(rest) + "\n"))
    assert (s.state, s.flags, s.started, s.last_cpu, s.problem) == ("S", 4194560, 123.45, 3, None)
    short = parse_stat(Read("77 (a) " + " ".join(rest[:20]) + "\n"))  # the line ends before processor
    assert (short.started, short.last_cpu) == (123.45, None)
    assert parse_stat(Read("77 (a) S 1")).started is None


def test_parse_stat_garbage_and_truncated():
    assert parse_stat(Read("garbage")).problem == "garbage"
    assert parse_stat(Read("1 (x) S 0")).problem == "truncated"
    assert parse_stat(Read("1 (x) S 0")).state == "S"
    assert parse_stat(Read("1 (x) 9 0 0 0 0 0 0")).problem == "garbage"
    assert parse_stat(Read(None, "vanished")).problem == "vanished"


@given(st.text())
def test_parse_stat_never_raises(text):
    parse_stat(Read(text))


def test_thread_listing_skips_non_numeric(fake):
    fake.task(10, comm="a").task(10, 11, comm="a").task(20, comm="b")
    (fake.root / "proc/self").mkdir()
    (fake.root / "proc/sys").mkdir(exist_ok=True)
    assert list(iter_thread_ids(Tree(fake.root))) == [(10, 10), (10, 11), (20, 20)]


def test_kthread_from_flags_and_fallback_on_ppid(fake):
    fake.task(5, comm="kworker/0:1", kthread=True, ppid=2)
    raw = read_task_details(Tree(fake.root), 5, 5, 0, None, with_stack=False)
    assert raw.kthread is True and raw.state == "S" and raw.comm == "kworker/0:1"
    fake.write("proc/5/task/5/stat", "5 (kworker/0:1) I 2 0 0")  # truncated: no flags
    raw = read_task_details(Tree(fake.root), 5, 5, 0, None, with_stack=False)
    assert raw.kthread is True and "stat: truncated" in raw.problems


def test_patch_state_garbage_and_out_of_range(fake):
    fake.task(3, patch_state="7")
    fake.task(4, patch_state="banana")
    fake.task(6, patch_state="")
    tree = Tree(fake.root)
    assert read_patch_state(tree, 3, 3) == (None, "unexpected value 7")
    assert read_patch_state(tree, 4, 4)[1].startswith("garbage")
    assert read_patch_state(tree, 6, 6) == (None, "empty")
    assert read_patch_state(tree, 99, 99) == (None, "vanished")


def test_task_vanishing_mid_read_returns_none(fake):
    fake.task(8, patch_state="0")

    class VanishingTree(Tree):
        def read(self, rel):
            out = super().read(rel)
            if rel.endswith("/comm"):
                shutil.rmtree(self.root / "proc/8")
            return out

    assert read_task_details(VanishingTree(fake.root), 8, 8, 0, None, with_stack=True) is None


def test_stack_unreadable_keeps_reason(fake):
    fake.task(9, patch_state="0")
    (fake.root / "proc/9/task/9/stack").unlink()
    (fake.root / "proc/9/task/9/stack").mkdir()
    raw = read_task_details(Tree(fake.root), 9, 9, 0, None, with_stack=True)
    assert raw.stack is None and raw.stack_error == "not a regular file"
