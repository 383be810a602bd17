"""A plausible set of threads for a small server, generated deterministically."""

from __future__ import annotations

import random

from lptui.sim.state import SimTask

Frames = list[tuple[str, str | None]]

SYSCALL_TAIL: Frames = [("do_syscall_64", None), ("entry_SYSCALL_64_after_hwframe", None)]
KTHREAD_TAIL: Frames = [("kthread", None), ("ret_from_fork", None), ("ret_from_fork_asm", None)]

USER_STACKS: tuple[Frames, ...] = (
    [("ep_poll", None), ("do_epoll_wait", None), ("__x64_sys_epoll_wait", None), *SYSCALL_TAIL],
    [
        ("futex_wait_queue", None),
        ("futex_wait", None),
        ("do_futex", None),
        ("__x64_sys_futex", None),
        *SYSCALL_TAIL,
    ],
    [("do_select", None), ("core_sys_select", None), ("__x64_sys_pselect6", None), *SYSCALL_TAIL],
    [("hrtimer_nanosleep", None), ("__x64_sys_clock_nanosleep", None), *SYSCALL_TAIL],
    [("wait_woken", None), ("n_tty_read", None), ("tty_read", None), ("vfs_read", None), *SYSCALL_TAIL],
)
KTHREAD_STACKS: tuple[Frames, ...] = (
    [("worker_thread", None), *KTHREAD_TAIL],
    [("smpboot_thread_fn", None), *KTHREAD_TAIL],
    [("rcu_gp_kthread", None), *KTHREAD_TAIL],
)

_SERVICES = (
    ("systemd-journal", 1),
    ("systemd-udevd", 1),
    ("dbus-daemon", 1),
    ("sshd", 1),
    ("cron", 1),
    ("rsyslogd", 4),
    ("chronyd", 1),
    ("nginx", 5),
    ("postgres", 16),
    ("redis-server", 5),
    ("java", 160),
    ("containerd", 24),
    ("node_exporter", 8),
    ("bash", 1),
    ("tmux: server", 1),
    ("python3", 3),
)


class Population:
    def __init__(self, seed: int = 4242) -> None:
        self.rng = random.Random(seed)
        self.next_pid = 1
        self.tasks: list[SimTask] = []

    def _pid(self) -> int:
        pid = self.next_pid
        self.next_pid += self.rng.randint(1, 7)
        return pid

    def process(self, comm: str, threads: int = 1, **kw) -> list[SimTask]:
        pid = self._pid()
        out = []
        for i in range(threads):
            tid = pid if i == 0 else self._pid()
            stack = kw.pop("stack", None) or [*self.rng.choice(USER_STACKS)]
            task = SimTask(pid=pid, tid=tid, comm=comm, stack=stack, ppid=1, **kw)
            out.append(task)
        self.tasks.extend(out)
        return out

    def kthread(self, comm: str, **kw) -> SimTask:
        pid = self._pid()
        stack = kw.pop("stack", None) or [*self.rng.choice(KTHREAD_STACKS)]
        task = SimTask(pid=pid, tid=pid, comm=comm, kthread=True, ppid=2, stack=stack, **kw)
        self.tasks.append(task)
        return task

    def base_system(self, ncpus: int = 4) -> None:
        self.process("systemd")
        self.kthread(
            "kthreadd", stack=[("kthreadd", None), ("ret_from_fork", None), ("ret_from_fork_asm", None)]
        )
        for cpu in range(ncpus):
            for name in ("cpuhp", "migration", "ksoftirqd"):
                self.kthread(f"{name}/{cpu}")
            self.kthread(f"kworker/{cpu}:0H-events_highpri")
            self.kthread(f"kworker/{cpu}:1-events")
        for name in (
            "rcu_gp",
            "rcu_par_gp",
            "kdevtmpfs",
            "khungtaskd",
            "oom_reaper",
            "kcompactd0",
            "kswapd0",
        ):
            self.kthread(name)
        for i in range(24):
            self.kthread(f"kworker/u{2 * ncpus}:{i}-events_unbound")
        for comm, threads in _SERVICES:
            self.process(comm, threads)

    def stagger(self, fraction: float, upto: float) -> None:
        """Give a share of tasks a delay before they switch (busy, running, or just slow to check)."""
        for task in self.tasks:
            if task.switch_after is None and self.rng.random() < fraction:
                task.switch_after = round(self.rng.uniform(0.5, upto), 1)
