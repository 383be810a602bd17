"""A process's facts for the task detail, read through the tree (never the host's /proc when the
tree is a saved one): owner, command line, parent, start time."""

from __future__ import annotations

from dataclasses import dataclass

from lptui.core.livepatch.tasks import parse_stat
from lptui.core.shown import shown
from lptui.core.tree import Tree


@dataclass(frozen=True)
class ProcessFacts:
    pid: int
    uid: int | None
    user: str | None  # the name, where this tree's root is the live system
    cmdline: str | None  # None: unreadable; "" for kernel threads (they have none)
    ppid: int | None
    parent_comm: str | None
    started_after_boot: float | None  # seconds after boot (stat's starttime)
    started_wall: float | None  # wall-clock start, when the tree's boot time is known
    problem: str | None = None  # why nothing could be read ("not in this tree")


def _status_field(text: str, key: str) -> str | None:
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return value.strip()
    return None


def read_process_facts(tree: Tree, pid: int, *, live: bool) -> ProcessFacts:
    base = f"proc/{pid}"
    status = tree.read(f"{base}/status")
    if not status.ok:
        why = "not in this tree" if status.error == "vanished" else status.error
        return ProcessFacts(pid, None, None, None, None, None, None, None, problem=why)
    text = status.text or ""
    uid_field = _status_field(text, "Uid")
    uid = int(uid_field.split()[0]) if uid_field and uid_field.split()[0].isdecimal() else None
    ppid_field = _status_field(text, "PPid")
    ppid = int(ppid_field) if ppid_field and ppid_field.isdecimal() else None
    user = None
    if live and uid is not None:
        import pwd

        try:
            user = pwd.getpwuid(uid).pw_name
        except KeyError:
            user = None
    cmd = tree.read(f"{base}/cmdline")
    # a process writes its own command line: shown escaped, cut where the read's cap cut it
    cmdline = shown(cmd.text.replace("\x00", " ").strip()) if cmd.ok and cmd.text is not None else None
    if cmdline is not None and cmd.truncated:
        cmdline += " …"
    parent_comm = None
    if ppid:
        comm = tree.read(f"proc/{ppid}/comm")
        parent_comm = shown(comm.text.strip()) if comm.ok and comm.text else None
    started = parse_stat(tree.read(f"{base}/stat")).started
    btime = None
    sysstat = tree.read("proc/stat")
    if sysstat.ok and sysstat.text:
        value = _status_field(sysstat.text.replace("btime ", "btime:"), "btime")
        btime = int(value) if value and value.isdecimal() else None
    wall = btime + started if btime is not None and started is not None else None
    return ProcessFacts(pid, uid, user, cmdline, ppid, parent_comm, started, wall)
