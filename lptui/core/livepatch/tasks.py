"""Read threads from /proc/<pid>/task/<tid>: comm, state, kernel-thread flag, patch_state, stack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from lptui.core.tree import Problems, Read, Tree, parse_int, parse_line

PF_KTHREAD = 0x00200000
PATCH_STATES = frozenset({-1, 0, 1})

TaskId = tuple[int, int]  # (pid, tid)


def iter_thread_ids(tree: Tree) -> Iterator[TaskId]:
    """Every thread visible in /proc; threads that vanish while we list are skipped."""
    for pid_name in tree.listdir("proc"):
        if not pid_name.isdecimal():
            continue
        pid = int(pid_name)
        for tid_name in tree.listdir(f"proc/{pid_name}/task"):
            if tid_name.isdecimal():
                yield pid, int(tid_name)


def task_dir(pid: int, tid: int) -> str:
    return f"proc/{pid}/task/{tid}"


# USER_HZ: the unit of /proc/<pid>/stat's times (jiffies_64_to_clock_t in kernel/time/time.c), 100 on
# every architecture lptui supports.
USER_HZ = 100


@dataclass(frozen=True, slots=True)
class StatFields:
    """/proc/<pid>/stat (fs/proc/array.c do_task_stat), the fields lptui uses. None: unreadable, or the
    line ends before it; `problem` says why the first three are missing."""

    state: str | None  # field 3: R, S, D, …
    ppid: int | None  # field 4
    flags: int | None  # field 9: PF_* (PF_KTHREAD)
    problem: str | None = None
    started: float | None = None  # field 22, starttime: seconds after boot (CLOCK_BOOTTIME), in USER_HZ
    last_cpu: int | None = None  # field 39, processor: the CPU it last ran on (since 2.2.8)


def _decimal(rest: list[str], index: int) -> int | None:
    return int(rest[index]) if len(rest) > index and rest[index].isdecimal() else None


def _decimal_signed(rest: list[str], index: int) -> int | None:
    """As int() reads it (a sign, spaces): what parse_stat always accepted for ppid and flags."""
    try:
        return int(rest[index])
    except (IndexError, ValueError):
        return None


def parse_stat(read: Read) -> StatFields:
    """Parse ``pid (comm) S ppid pgrp session tty tpgid flags ...``; comm may hold ')' and spaces, so
    the fields are counted from the last ')'."""
    if not read.ok:
        return StatFields(None, None, None, read.error)
    text = read.text or ""
    close = text.rfind(")")
    if close < 0:
        return StatFields(None, None, None, "garbage")
    rest = text[close + 1 :].split()  # rest[0] is field 3
    if not rest or len(rest[0]) != 1 or not rest[0].isalpha():
        return StatFields(None, None, None, "garbage")
    state = rest[0]
    ticks = _decimal(rest, 19)
    started = None if ticks is None else ticks / USER_HZ
    cpu = _decimal(rest, 36)
    ppid = _decimal_signed(rest, 1)
    if ppid is None:
        return StatFields(state, None, None, "truncated", started, cpu)
    flags = _decimal_signed(rest, 6)
    if flags is None:
        return StatFields(state, ppid, None, "truncated", started, cpu)
    return StatFields(state, ppid, flags, None, started, cpu)


def thread_started(tree: Tree, pid: int, tid: int) -> float | None:
    """Seconds after boot a thread started (its stat's starttime); None when unreadable."""
    return parse_stat(tree.read(f"{task_dir(pid, tid)}/stat")).started


@dataclass(frozen=True, slots=True)
class RawTask:
    """What was read for one thread before deciding whether and why it blocks."""

    pid: int
    tid: int
    patch_state: int | None
    comm: str | None = None
    state: str | None = None
    kthread: bool | None = None
    stack: tuple[str, ...] | None = None
    stack_error: str | None = None
    problems: tuple[str, ...] = ()


_STATE_BYTES = {b"-1\n": -1, b"0\n": 0, b"1\n": 1}
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
# never blocking: a FIFO where a saved tree's patch_state should be reads as nothing (the careful path
# then says what it is), never waits for a writer
_FILE_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY


class FastProc:
    """The full scan's hot path on a real or plain tree: openat() relative to /proc's descriptor and
    bytes compared without decoding (the kernel prints patch_state as "%d\n", proc_pid_patch_state).
    Anything unusual (an error, garbage) returns None and the caller takes the careful path, so
    problems are reported exactly as before."""

    def __init__(self, proc_fd: int) -> None:
        self.proc_fd = proc_fd

    @classmethod
    def open(cls, tree: Tree) -> FastProc | None:
        if type(tree) is not Tree:  # a counting, recording or replaying tree sees every read
            return None
        try:
            return cls(os.open(tree.root / "proc", _DIR_FLAGS))
        except OSError:
            return None

    def tids(self, pid: int) -> set[int] | None:
        try:
            fd = os.open(f"{pid}/task", _DIR_FLAGS, dir_fd=self.proc_fd)
        except OSError:
            return None
        try:
            return {int(name) for name in os.listdir(fd) if name.isdecimal()}
        except OSError:
            return None
        finally:
            os.close(fd)

    def task_states(self, pid: int) -> dict[int, int | None] | None:
        """Every thread of `pid` with its patch_state (None: unusual, take the careful path), read
        relative to the task directory as a C reader does: one short path lookup per thread, one
        Python call per process. None if the process is gone or its task directory unreadable."""
        try:
            task_fd = os.open(f"{pid}/task", _DIR_FLAGS, dir_fd=self.proc_fd)
        except OSError:
            return None
        states: dict[int, int | None] = {}
        try:
            for name in os.listdir(task_fd):
                if not name.isdecimal():
                    continue
                try:
                    fd = os.open(f"{name}/patch_state", _FILE_FLAGS, dir_fd=task_fd)
                except OSError:
                    states[int(name)] = None
                    continue
                try:
                    states[int(name)] = _STATE_BYTES.get(os.read(fd, 16))
                except OSError:
                    states[int(name)] = None
                finally:
                    os.close(fd)
        except OSError:
            return None
        finally:
            os.close(task_fd)
        return states

    def patch_state(self, pid: int, tid: int) -> int | None:
        try:
            fd = os.open(f"{pid}/task/{tid}/patch_state", _FILE_FLAGS, dir_fd=self.proc_fd)
        except OSError:
            return None
        try:
            return _STATE_BYTES.get(os.read(fd, 16))
        except OSError:
            return None
        finally:
            os.close(fd)

    def close(self) -> None:
        os.close(self.proc_fd)


def read_patch_state(tree: Tree, pid: int, tid: int) -> tuple[int | None, str | None]:
    parsed = parse_int(tree.read(f"{task_dir(pid, tid)}/patch_state"), allowed=PATCH_STATES)
    return parsed.value, parsed.problem


def read_task_details(
    tree: Tree, pid: int, tid: int, patch_state: int | None, ps_problem: str | None, *, with_stack: bool
) -> RawTask | None:
    """Read comm, stat and (optionally) the stack. None if the thread is gone."""
    base = task_dir(pid, tid)
    problems = Problems()
    if ps_problem:
        problems.append(f"patch_state: {ps_problem}")
    comm = problems.field("comm", parse_line(tree.read(f"{base}/comm")))
    stat = parse_stat(tree.read(f"{base}/stat"))
    if stat.problem:
        problems.append(f"stat: {stat.problem}")
    kthread: bool | None = None
    if stat.flags is not None:
        kthread = bool(stat.flags & PF_KTHREAD)
    elif stat.ppid is not None:
        kthread = stat.ppid == 2 or pid == 2
    stack: tuple[str, ...] | None = None
    stack_error: str | None = None
    if with_stack:
        read = tree.read(f"{base}/stack")
        if read.ok:
            stack = tuple(line.strip() for line in (read.text or "").splitlines() if line.strip())
        else:
            stack_error = read.error
    if not tree.exists(base):
        return None  # exited while we read it
    return RawTask(
        pid=pid,
        tid=tid,
        patch_state=patch_state,
        comm=comm,
        state=stat.state,
        kthread=kthread,
        stack=stack,
        stack_error=stack_error,
        problems=tuple(problems),
    )
