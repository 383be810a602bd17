"""A running blocker's last CPU (stat field 39), and an isolated or nohz_full CPU said so."""

from lptui.core.livepatch.cpus import parse_cpulist
from lptui.core.model import Reason
from lptui.core.snapshot import read_snapshot
from lptui.core.tree import Tree


def stat_on_cpu(comm: str, tid: int, cpu: int) -> str:
    # fields 3..52 after "(comm)"; field 39 (task_cpu) is the 37th of them
    rest = ["R", "1", str(tid), str(tid), "0", "-1", str(0x00400100)] + ["0"] * 29 + [str(cpu)] + ["0"] * 13
    return f"{tid} ({comm}) " + " ".join(rest) + "\n"


def test_cpu_lists_as_the_kernel_prints_them():
    assert parse_cpulist("2-3,6\n") == {2, 3, 6}
    assert parse_cpulist("\n") == frozenset() and parse_cpulist("(null)") == frozenset()
    assert parse_cpulist("3-1") is None and parse_cpulist("x") is None and parse_cpulist("0-99999999") is None


def test_a_running_blocker_on_an_isolated_cpu_is_said_to_be_there(fake):
    fake.patch("lp", transition="1")
    fake.task(500, comm="spin", state="R", patch_state="0", stack=[])
    fake.task(600, comm="spin2", state="R", patch_state="0", stack=[])
    fake.write("proc/500/task/500/stat", stat_on_cpu("spin", 500, 3))
    fake.write("proc/600/task/600/stat", stat_on_cpu("spin2", 600, 1))
    fake.write("sys/devices/system/cpu/isolated", "2-3\n")
    fake.write("sys/devices/system/cpu/nohz_full", "3\n")
    tasks = {t.tid: t for t in read_snapshot(Tree(fake.root)).pending_tasks}
    assert tasks[500].reason_code is Reason.RUNNING and tasks[500].cpu == 3
    assert "last on CPU 3, which is isolated and nohz_full" in tasks[500].reason
    assert (
        tasks[600].cpu == 1 and "last on CPU 1" in tasks[600].reason and "isolated" not in tasks[600].reason
    )
