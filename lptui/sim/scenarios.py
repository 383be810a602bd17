"""Named demo and test scenarios for the simulated kernel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lptui.core.declared import PlannedFunction, PlannedObject
from lptui.sim.bpf import SimTrampoline
from lptui.sim.catalog import SUMMARIES
from lptui.sim.dyndbg import FILE, SITES
from lptui.sim.kernel import SimKernel
from lptui.sim.legacy import (
    KgraftSim,
    KgrFunc,
    KgrPatch,
    KpatchCoreSim,
    KpatchPatch,
    KspliceSim,
    KspliceUpdate,
)
from lptui.sim.population import KTHREAD_TAIL, SYSCALL_TAIL, Population
from lptui.sim.rules import ALL_FEATURES
from lptui.sim.state import InstalledFile, PatchSpec, SimTask

CVE_PATCH = PatchSpec(
    "livepatch_cve_2026_0815",
    (PlannedObject("vmlinux", (PlannedFunction("cmdline_proc_show"), PlannedFunction("meminfo_proc_show"))),),
    srcversion="A1B2C3D4E5F60718293A4B5",
    version="1",
    description="Fix CVE-2026-0815 (procfs information leak) and CVE-2026-0816",
)
NFSD_PATCH = PatchSpec(
    "livepatch_nfsd_fix",
    (
        PlannedObject("nfsd", (PlannedFunction("nfsd4_process_open2"), PlannedFunction("nfsd_setattr"))),
        PlannedObject("btrfs", (PlannedFunction("btrfs_sync_file"),)),
    ),
    srcversion="0F1E2D3C4B5A69788796A5B",
    description="nfsd: fix a use-after-free in OPEN (CVE-2026-1207)",
)
STUCK_PATCH = PatchSpec(
    "kpatch_cve_2026_4242",
    (
        PlannedObject(
            "vmlinux",
            (
                PlannedFunction("pipe_read"),
                PlannedFunction("cmdline_proc_show", new_func="cmdline_proc_show"),
            ),
        ),
        PlannedObject("xfs", (PlannedFunction("xfsaild", new_func="xfsaild"),)),
        PlannedObject("ext4", (PlannedFunction("ext4_sync_file", new_func="ext4_sync_file"),)),
    ),
    srcversion="5E6F7A8B9C0D1E2F3A4B5C6",
    description="Fix CVE-2026-4242 (pipe_read double fetch); xfs and ext4 stability fixes",
)
CUMULATIVE_PATCH = PatchSpec(
    "livepatch_cumulative_3",
    (PlannedObject("vmlinux", (PlannedFunction("cmdline_proc_show"), PlannedFunction("do_sys_openat2"))),),
    replace=True,
    srcversion="C0FFEE0123456789ABCDEF0",
)
TCP_PATCH = PatchSpec(
    "livepatch_tcp_fix",
    (PlannedObject("vmlinux", (PlannedFunction("tcp_recvmsg"), PlannedFunction("tcp_sendmsg"))),),
    srcversion="7CA7CA7CA7CA7CA7CA7CA7C",
    description="tcp: fix a data race in tcp_recvmsg (CVE-2026-2290)",
)
OLD_RELEASE_PATCH = PatchSpec(
    "livepatch_cve_2026_0815",
    (PlannedObject("vmlinux", (PlannedFunction("cmdline_proc_show"),)),),
    srcversion="5EE5EE5EE5EE5EE5EE5EE5E",
    description="Fix CVE-2026-0815 (procfs information leak), for 6.15",
)


UPTIME_PATCH = PatchSpec(
    "livepatch_uptime_fix",
    (PlannedObject("vmlinux", (PlannedFunction("uptime_proc_show"),)),),
    srcversion="0B5E55ED0B5E55ED0B5E55E",
    description="proc: fix the idle time in /proc/uptime",
)


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    build: Callable[[], SimKernel]


def _kernel(features=ALL_FEATURES) -> tuple[SimKernel, Population]:
    sim = SimKernel(features=features)
    pop = Population()
    pop.base_system(sim.ncpus)
    for mod in ("xfs", "ext4", "jbd2", "nfsd"):
        sim.load_module(mod, taint="")
    for task in pop.tasks:
        sim.add_task(task)
    sim.taint = 0
    return sim, pop


KPATCH_DIR = "var/lib/kpatch/{r}"  # where `kpatch install` puts a patch module


def _settle(sim: SimKernel) -> None:
    sim.advance(1.0)  # first retry: clean stacks switch, transition completes


def _apply(sim: SimKernel, *specs: PatchSpec) -> None:
    """Load each patch and let its transition complete (no task holds what it changes)."""
    for spec in specs:
        sim.load_module(spec.name, patch=spec)
        _settle(sim)


def _on_disk(sim: SimKernel, *files: InstalledFile) -> None:
    """The module files installed, with kpatch's boot service enabled (it loads them at boot)."""
    sim.installed = list(files)
    sim.boot_service = "enabled"


def build_idle() -> SimKernel:
    sim, _ = _kernel()
    _apply(sim, CVE_PATCH, NFSD_PATCH)
    sim.advance(60.0)
    # on disk: the CVE patch installed by kpatch (it comes back at boot), the nfsd fix loaded by hand
    # from a file since deleted (gone at the next boot), a tcp fix installed but not loaded, and an
    # older release's patch left behind
    _on_disk(
        sim,
        InstalledFile(KPATCH_DIR, CVE_PATCH),
        InstalledFile("lib/modules/{r}/livepatch", TCP_PATCH),
        InstalledFile(KPATCH_DIR, OLD_RELEASE_PATCH, release="6.15.0-lptui-demo"),
    )
    return sim


def build_kprobe() -> SimKernel:
    """The idle host, where a tracing tool put a kprobe with a post_handler on tcp_recvmsg (IPMODIFY: the
    tcp fix installed on disk is refused with EBUSY) and a plain one on cmdline_proc_show (a co-user of
    the loaded CVE patch: both run)."""
    sim = build_idle()
    sim.kprobes = {"tcp_recvmsg": True, "cmdline_proc_show": False}
    return sim


def build_stuck() -> SimKernel:
    """A patching transition over a few hundred threads; three never switch on their own."""
    sim, pop = _kernel()
    _apply(sim, CVE_PATCH)
    sim.advance(300.0)
    _on_disk(sim, *(InstalledFile(KPATCH_DIR, s) for s in (CVE_PATCH, STUCK_PATCH)))
    pop.stagger(fraction=0.35, upto=9.0)
    xfsaild = pop.kthread(
        "xfsaild/dm-0",
        stack=[("xfsaild", "xfs"), ("kthread", None), ("ret_from_fork", None), ("ret_from_fork_asm", None)],
    )
    fsync = pop.process(
        "postgres",
        state="D",
        stack=[
            ("jbd2_log_wait_commit", "jbd2"),
            ("ext4_sync_file", "ext4"),
            ("__x64_sys_fdatasync", None),
            *SYSCALL_TAIL,
        ],
    )[0]
    # Waiting for the pipe's mutex inside pipe_read (__pipe_lock is a plain mutex_lock): D state,
    # so the kernel's fake signal does not move it and the demo keeps three blockers however long
    # one watches. Its stack is hidden from lptui, as for a user without root.
    hidden = pop.process(
        "backup-agent",
        state="D",
        stack=[
            ("__mutex_lock", None),
            ("pipe_read", None),
            ("vfs_read", None),
            ("ksys_read", None),
            *SYSCALL_TAIL,
        ],
    )[0]
    hidden.stack_readable = False
    for task in (xfsaild, fsync, hidden):
        sim.add_task(task)
    sim.load_module(STUCK_PATCH.name, patch=STUCK_PATCH)
    # On call, lptui usually starts late: the transition has been stuck for 2 h 14 m.
    sim.advance(2 * 3600 + 14 * 60)
    return sim


def build_bpf() -> SimKernel:
    """A patch of an unrelated function held up by BPF fexit trampolines (an EDR agent's and a bpftrace
    one-liner's): the stacks they sit on are unreliable to the kernel's check (no ORC data for BPF
    code), so nothing on them is even looked at. 12 s in, the kernel's verdicts on for three retries."""
    sim, pop = _kernel()
    _apply(sim, CVE_PATCH)
    sim.advance(600.0)
    sched = SimTrampoline("schedule_timeout", 89_912)
    nanosleep = SimTrampoline("do_nanosleep", 72_404)
    stale = SimTrampoline("msleep_interruptible", 89_780, attached=False)  # its bpftrace was stopped
    sim.trampolines = [sched, nanosleep, stale]
    waits: list[tuple[str, str | None]] = [
        ("__schedule", None),
        ("schedule", None),
        ("schedule_timeout", None),
    ]
    compact = [*waits, (sched.name, "bpf"), ("kcompactd", None), *KTHREAD_TAIL]
    huge = [*waits, ("msleep_interruptible", None), (stale.name, "bpf"), ("khugepaged", None), *KTHREAD_TAIL]
    nap = [*waits[:2], ("do_nanosleep", None), (nanosleep.name, "bpf"), ("hrtimer_nanosleep", None)]
    nap += [("__x64_sys_clock_nanosleep", None), *SYSCALL_TAIL]
    sim.add_task(pop.kthread("kcompactd0", stack=compact))
    sim.add_task(pop.kthread("khugepaged", stack=huge))
    sim.add_task(pop.process("sleep", stack=nap, wakes_on_signal=True)[0])
    sim.load_module(UPTIME_PATCH.name, patch=UPTIME_PATCH)
    sim.advance(9.0)
    for line, _, _ in SITES:  # as `lptui verdicts` does: on for three retries, then restored
        sim.write_dyndbg(f"file {FILE} line {line} +p")
    sim.advance(3.0)
    for line, _, _ in SITES:
        sim.write_dyndbg(f"file {FILE} line {line} =_")
    return sim


def build_replace() -> SimKernel:
    """A cumulative patch replacing two older ones, caught mid-transition."""
    sim, pop = _kernel()
    _apply(sim, CVE_PATCH, NFSD_PATCH)
    sim.advance(120.0)
    pop.stagger(fraction=0.1, upto=20.0)
    sim.load_module(CUMULATIVE_PATCH.name, patch=CUMULATIVE_PATCH)
    sim.advance(3.0)
    _on_disk(sim, *(InstalledFile(KPATCH_DIR, s) for s in (CVE_PATCH, NFSD_PATCH, CUMULATIVE_PATCH)))
    return sim


def build_unpatch() -> SimKernel:
    """A patching transition that stalled and was reversed by the admin; now unpatching."""
    sim, pop = _kernel()
    _apply(sim, CVE_PATCH)
    sim.advance(90.0)
    stalled = SimTask(
        pid=pop.next_pid,
        tid=pop.next_pid,
        comm="kworker/u8:7+flush",
        kthread=True,
        ppid=2,
        stack=[("tcp_sendmsg", None), ("worker_thread", None), ("kthread", None), ("ret_from_fork", None)],
    )
    pop.next_pid += 3
    sim.add_task(stalled)
    _on_disk(sim, *(InstalledFile(KPATCH_DIR, s) for s in (CVE_PATCH, TCP_PATCH)))
    sim.load_module(TCP_PATCH.name, patch=TCP_PATCH)
    sim.advance(8.0)
    # Meanwhile nginx workers entered the new tcp_recvmsg and sleep in it.
    nginx = [t for t in sim.tasks.values() if t.comm == "nginx"][:3]
    for i, task in enumerate(nginx):
        task.stack = [("livepatch_tcp_recvmsg", TCP_PATCH.name), ("inet_recvmsg", None), *SYSCALL_TAIL]
        task.wakes_on_signal = True
        task.switch_after = None if i else 40.0
        task.dirty = True
    sim.write_enabled(TCP_PATCH.name, "0")  # the admin reverses the stalled transition
    sim.advance(2.0)
    return sim


def build_kgraft() -> SimKernel:
    """SLE 12 before the upstream core: kGraft only. An older kGraft patch is applied; a newer one is in
    progress, held up by three processes that have not crossed back to user space."""
    sim, pop = _kernel()
    sim.core = False
    sim.release, sim.version = "3.12.74-60.64.40-default", "#1 SMP Thu Jun 1 08:02:44 UTC 2017 (2d4bcfb)"
    sim.kgraft = KgraftSim()
    for name, funcs in (("kgraft_patch_1_2_1", [KgrFunc("SyS_newuname"), KgrFunc("cmdline_proc_show")]),):
        sim.load_module(name, livepatch=True, taint="")
        sim.kgraft.patches.append(KgrPatch(name, funcs, refs=0))
    sim.advance(3600.0)
    kthread = pop.kthread(
        "xfsaild/dm-0", stack=[("xfsaild", "xfs"), ("kthread", None), ("ret_from_fork", None)]
    )
    entry = ("entry_SYSCALL_64_fastpath", None)
    fsync_stack = [
        ("jbd2_log_wait_commit", "jbd2"),
        ("ext4_sync_file", "ext4"),
        ("SyS_fdatasync", None),
        entry,
    ]
    fsync = pop.process("postgres", state="D", stack=fsync_stack)[0]
    read_stack = [("pipe_wait", None), ("pipe_read", None), ("__vfs_read", None), ("SyS_read", None), entry]
    reader = pop.process("monitor-agent", stack=read_stack)[0]
    for task in (kthread, fsync, reader):
        sim.add_task(task)
    new = "kgraft_patch_1_2_2"
    sim.load_module(new, livepatch=True, taint="")
    sim.kgraft.start(
        KgrPatch(new, [KgrFunc("pipe_read"), KgrFunc("xfsaild", "xfs"), KgrFunc("SyS_newuname")], refs=1),
        {t.pid for t in sim.tasks.values()},
    )
    sim.kgraft.stuck = {kthread.pid, fsync.pid, reader.pid}
    sim.advance(25 * 60)
    return sim


def build_kpatch_core() -> SimKernel:
    """RHEL 7 before the upstream core: kpatch.ko and its patch modules; one patch enabled, one disabled
    (`lptui revert` disables through its `enabled`, as kpatch does)."""
    sim, _ = _kernel()
    sim.core = False
    sim.release, sim.version = "3.10.0-123.el7.x86_64", "#1 SMP Mon May 5 11:16:57 EDT 2014"
    sim.kpatch_core = KpatchCoreSim()
    sim.load_module("kpatch", taint="OE")
    sim.modules["kpatch"].version = "0.4.0"
    for name, funcs, enabled in (
        ("kpatch_cve_2014_3153", [("vmlinux", "futex_requeue", 0), ("vmlinux", "futex_lock_pi", 0)], True),
        ("kpatch_xfs_fix", [("xfs", "xfs_iomap_write_direct", 0)], True),
        ("kpatch_meminfo_fix", [("vmlinux", "meminfo_proc_show", 0)], False),
    ):
        sim.load_module(name, taint="OE")
        sim.kpatch_core.patches.append(KpatchPatch(name, funcs, enabled=enabled))
        sim.modules["kpatch"].refcnt += 1  # the patch module depends on kpatch.ko
        sim.modules[name].refcnt = int(enabled)
    # kpatch install put the CVE fix in /var/lib/kpatch/<release>; kpatch.service loads it at boot
    fix = PatchSpec(
        "kpatch_cve_2014_3153", (), description="Fix CVE-2014-3153 (futex requeue privilege escalation)"
    )
    _on_disk(sim, InstalledFile(KPATCH_DIR, fix))
    sim.advance(600.0)
    return sim


def build_ksplice() -> SimKernel:
    """Ksplice built into a kernel that also has the upstream core: one update applied, and one whose
    apply aborted (code_busy) because two processes were using what it changes."""
    sim, pop = _kernel()
    sim.release, sim.version = "5.4.17-2136.lptui.el8uek.x86_64", "#2 SMP Thu Oct 1 12:00:00 PDT 2026"
    sshd = pop.process("sshd", stack=[("sys_newuname", None), ("do_syscall_64", None)])[0]
    agent = pop.process("uptrack-agent", stack=[("sys_newuname", None), ("do_syscall_64", None)])[0]
    for task in (sshd, agent):
        sim.add_task(task)
    for mod in ("ksplice_8c4o6ucj_vmlinux", "ksplice_q2v9xw1e_vmlinux"):
        sim.load_module(mod, taint="")
    sim.ksplice = KspliceSim(
        [
            KspliceUpdate("8c4o6ucj", stage="applied"),
            KspliceUpdate(
                "q2v9xw1e",
                stage="preparing",
                abort_cause="code_busy",
                conflicts=[
                    ("sshd", sshd.pid, ["sys_newuname"]),
                    ("uptrack-agent", agent.pid, ["sys_newuname"]),
                ],
            ),
        ]
    )
    sim._log(6, "ksplice: Update 8c4o6ucj applied successfully")
    sim.advance(120.0)
    return sim


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("idle", SUMMARIES["idle"], build_idle),
        Scenario("stuck", SUMMARIES["stuck"], build_stuck),
        Scenario("replace", SUMMARIES["replace"], build_replace),
        Scenario("unpatch", SUMMARIES["unpatch"], build_unpatch),
        Scenario("kgraft", SUMMARIES["kgraft"], build_kgraft),
        Scenario("kpatch-core", SUMMARIES["kpatch-core"], build_kpatch_core),
        Scenario("ksplice", SUMMARIES["ksplice"], build_ksplice),
        Scenario("bpf", SUMMARIES["bpf"], build_bpf),
        Scenario("kprobe", SUMMARIES["kprobe"], build_kprobe),
    )
}
