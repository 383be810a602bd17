"""BPF stalls named: the fix probed in kallsyms, the traced function from BTF, attached or stale from
ftrace's enabled_functions, as the simulated kernel renders them (tests/sim keeps it equal to the
real kernels' shapes)."""

from lptui.core.livepatch.bpfstall import BpfReader, attached_trampolines, probe_reliable
from lptui.core.model import Reason
from lptui.core.snapshot import read_snapshot
from lptui.core.tree import Tree
from lptui.sim.scenarios import build_bpf
from lptui.sim.session import SimSession


def _session(**changes):
    sim = build_bpf()
    for key, value in changes.items():
        setattr(sim, key, value)
    sim._changed()
    return SimSession(sim, speed=0)


def test_each_bpf_stall_is_named_with_its_function_and_whether_a_program_is_attached():
    with _session() as session:
        snap = read_snapshot(Tree(session.root))
        tasks = {t.comm: t for t in snap.pending_tasks}
        assert {t.reason_code for t in tasks.values()} == {Reason.UNRELIABLE_STACK}
        assert "the BPF trampoline on schedule_timeout" in tasks["kcompactd0"].reason
        assert (
            "still attached" in tasks["kcompactd0"].reason and "kernel thread" in tasks["kcompactd0"].reason
        )
        assert (
            "msleep_interruptible" in tasks["khugepaged"].reason
            and "stale frame" in tasks["khugepaged"].reason
        )
        assert "fake signal" in tasks["sleep"].reason


def test_a_kernel_that_walks_bpf_frames_gets_no_bpf_reason():
    with _session(bpf_reliable=True) as session:
        tree = Tree(session.root)
        assert probe_reliable(tree) is True
        session.advance(1.0)  # the kernel's next retry switches them all: their stacks are clean
        assert read_snapshot(tree).transition is None


def test_probe_and_attachments_read_what_the_kernel_shows(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/kallsyms").write_text(
        "ffffffff81000000 T _stext\nffffffff81000100 T bpf_has_frame_pointer\n"
    )
    assert probe_reliable(Tree(tmp_path)) is True
    (tmp_path / "proc/kallsyms").write_text("ffffffff81000100 T bpf_has_frame_pointer_x\n")
    assert probe_reliable(Tree(tmp_path)) is False
    assert probe_reliable(Tree(tmp_path / "none")) is None
    tracing = tmp_path / "sys/kernel/tracing"
    tracing.mkdir(parents=True)
    (tracing / "enabled_functions").write_text(
        "uptime_proc_show (1)           tramp: 0xffffffffc0001000 (klp_ftrace_handler+0x0/0x1d0)\n"
        "msleep (1)      D   M \ttramp: 0xffffffffc0002000 (call_direct_funcs+0x0/0x20)\n"
        "\tdirect-->bpf_trampoline_6442540718+0x0/0x1000\n"
    )
    assert attached_trampolines(Tree(tmp_path)) == {"bpf_trampoline_6442540718": "msleep"}


def test_the_reader_keeps_what_cannot_change():
    with _session() as session:
        tree = Tree(session.root)
        reader = BpfReader()
        frames = {"bpf_trampoline_6442540856": (1, 89_912)}
        first = reader.facts(tree, frames)
        btf = session.root / "sys/kernel/btf/vmlinux"  # mode 0444, as the kernel's: replace, not write
        btf.unlink()
        btf.write_bytes(b"")  # read once: a name does not change
        assert (
            reader.facts(tree, frames).targets
            == first.targets
            == {"bpf_trampoline_6442540856": "schedule_timeout"}
        )


def fake_bpftool(tmp_path, monkeypatch, links: str, progs: str) -> None:
    tool = tmp_path / "bin/bpftool"
    tool.parent.mkdir(parents=True)
    tool.write_text(f"#!/bin/sh\ncase \"$1\" in link) echo '{links}';; prog) echo '{progs}';; esac\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tool.parent))


PROGS = (
    '[{"id": 7, "type": "tracing", "name": "kretfunc_msleep", "pids": [{"pid": 812, "comm": "bpftrace"}]}]'
)


def test_bpftool_names_the_program_on_the_function_and_its_holder(tmp_path, monkeypatch):
    from lptui.core.livepatch.bpfstall import bpftool_programs

    links = '[{"id": 3, "type": "tracing", "prog_id": 7, "target_obj_id": 1, "target_btf_id": 89774}]'
    fake_bpftool(tmp_path, monkeypatch, links, PROGS)
    frames = {"bpf_trampoline_6442540718": (1, 89_774)}
    said = bpftool_programs(frames)["bpf_trampoline_6442540718"]
    assert said == "still attached: program kretfunc_msleep (bpftrace pid 812)"


def test_a_bpftool_without_link_targets_lists_the_tracing_programs_said_so(tmp_path, monkeypatch):
    from lptui.core.livepatch.bpfstall import bpftool_programs

    fake_bpftool(tmp_path, monkeypatch, '[{"id": 3, "type": "tracing", "prog_id": 7}]', PROGS)
    said = bpftool_programs({"bpf_trampoline_6442540718": (1, 89_774)})["bpf_trampoline_6442540718"]
    assert "does not say which" in said and "kretfunc_msleep (bpftrace pid 812)" in said
    fake_bpftool(tmp_path / "x", monkeypatch, "not json", PROGS)  # a broken answer: nothing said
    assert bpftool_programs({"bpf_trampoline_6442540718": (1, 89_774)}) == {}


def test_on_another_architecture_a_bpf_frame_proves_nothing_by_itself():
    # x86's ORC rule is the only one lptui knows: on aarch64 only the kernel's verdict says "unreliable"
    sim = build_bpf()
    sim.machine = "aarch64"
    sim._changed()
    with SimSession(sim, speed=0) as session:
        codes = {t.comm: t.reason_code for t in read_snapshot(Tree(session.root)).pending_tasks}
        assert codes == {"kcompactd0": Reason.KTHREAD, "khugepaged": Reason.KTHREAD, "sleep": Reason.WAITING}
