"""ftrace's own tables, read as the kernel prints them: who else uses a patch's target functions (read
before a load), and which BPF trampolines are attached (bpfstall.py).

A livepatch puts its handler on each target with FTRACE_OPS_FL_IPMODIFY (klp_patch_func in
kernel/livepatch/patch.c). ftrace lets one IPMODIFY user own a function (__ftrace_hash_update_ipmodify
in kernel/trace/ftrace.c): with another already there the registration fails with -EBUSY and the kernel
logs "livepatch: failed to register ftrace handler for function '%s' (-16)". The other users, from the
kernel's own tables:

- tracefs `enabled_functions`, t_show() in kernel/trace/ftrace.c: "%ps" of the function (a module's as
  "func [mod]"), " (%ld)" users, then the flag columns " R"/"  " (regs), " I" (IPMODIFY), " D" (direct),
  and from 6.3/6.5 " O" (call ops) and " M " (modified since boot); then "\ttramp: %pS (%pS)" and
  " ->%pS" naming the owner's handler, and "\n\tdirect-->%pS" for a direct caller (a BPF trampoline).
  A livepatch's handler is klp_ftrace_handler.
- debugfs `kprobes/list`, report_probe() in kernel/kprobes.c: "%px  %s  %s+0x%x  %s " (address, k or r,
  symbol+offset, module) then [GONE] [DISABLED] [OPTIMIZED] [FTRACE]. It does not say whether a probe has
  a post_handler (arm_kprobe_ftrace gives those IPMODIFY): the I flag of the same function does.
- debugfs `fail_function/inject`, fei_seq_show() in kernel/fail_function.c: "%ps\n" per function.
- debugfs `error_injection/list`, ei_seq_show() in lib/error-inject.c: "%ps\t%s\n" (function, type):
  the functions a BPF program may override (bpf_override_return, and fmod_ret with security_*,
  check_attach_modify_return in kernel/bpf/verifier.c).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lptui.core.tree import Tree

TRACEFS = ("sys/kernel/tracing", "sys/kernel/debug/tracing")
DEBUGFS = ("sys/kernel/debug",)
MAX_TABLE = 16 << 20
_RECORD = re.compile(
    r"^(?P<func>[^\s\[(]+)(?: \[(?P<mod>[^\]]+)\])? \((?P<count>\d+)\)(?P<flags>[ RIDOM]*)(?P<rest>.*)$"
)
# "%px  %s  %s+0x%x  %s " then the flags: the module is a plain word (empty for vmlinux)
_KPROBE = re.compile(
    r"^[0-9a-fA-F]+\s+(?P<kind>[kr])\s+(?P<func>[^\s+]+)\+0x[0-9a-f]+(?:\s+(?P<mod>[^\s\[]\S*))?"
)


@dataclass(frozen=True)
class FtraceRecord:
    function: str
    module: str | None  # None: vmlinux
    users: int
    flags: frozenset[str]  # "R", "I", "D", "O", "M"
    owner: str  # the trampoline and handler text, as printed
    direct: str | None = None  # a direct caller's target (bpf_trampoline_<key>+...)

    @property
    def livepatch(self) -> bool:
        return "klp_ftrace_handler" in self.owner


def parse_enabled(
    text: str, wanted: frozenset[str] | None = None
) -> dict[tuple[str | None, str], FtraceRecord]:
    """(module or None, function) -> its record in enabled_functions; with `wanted`, only the records of
    those function names (a host tracing every function lists tens of thousands)."""
    out: dict[tuple[str | None, str], FtraceRecord] = {}
    last: FtraceRecord | None = None
    for line in text.splitlines():
        if wanted is not None and not line[:1].isspace() and line.split(" ", 1)[0] not in wanted:
            last = None
            continue
        if line[:1].isspace():
            found = re.search(r"direct-->(\S+)", line)
            if last is not None and found:
                last = FtraceRecord(last.function, last.module, last.users, last.flags, last.owner, found[1])
                out[(last.module, last.function)] = last
            continue
        match = _RECORD.match(line)
        if match is None:
            last = None
            continue
        direct = re.search(r"direct-->(\S+)", match["rest"])
        flags = frozenset(match["flags"].split())
        last = FtraceRecord(
            match["func"],
            match["mod"],
            int(match["count"]),
            flags,
            match["rest"].strip(),
            direct and direct[1],
        )
        out[(last.module, last.function)] = last
    return out


def parse_kprobes(text: str) -> dict[tuple[str | None, str], list[str]]:
    """(module or None, function) -> its probes ("kprobe", "kretprobe", with their flags)."""
    out: dict[tuple[str | None, str], list[str]] = {}
    for line in text.splitlines():
        match = _KPROBE.match(line.strip())
        if match is None:
            continue
        kind = "kretprobe" if match["kind"] == "r" else "kprobe"
        flags = " ".join(re.findall(r"\[(GONE|DISABLED|OPTIMIZED|FTRACE)\]", line))
        out.setdefault((match["mod"] or None, match["func"]), []).append(f"{kind} {flags}".strip())
    return out


def parse_functions(text: str) -> set[tuple[str | None, str]]:
    """fail_function/inject and error_injection/list: the first field of each line, "func [mod]"."""
    out = set()
    for line in text.splitlines():
        match = re.match(r"^(?P<func>[^\s\[]+)(?: \[(?P<mod>[^\]]+)\])?", line.strip())
        if match is not None:
            out.add((match["mod"], match["func"]))
    return out


@dataclass(frozen=True)
class FtraceTables:
    """What was readable; None: that table could not be read (lptui then cannot tell)."""

    enabled: dict[tuple[str | None, str], FtraceRecord] | None
    kprobes: dict[tuple[str | None, str], list[str]] | None
    fail_function: set[tuple[str | None, str]] | None
    error_injection: set[tuple[str | None, str]] | None
    why: str = ""  # why the first unreadable table was not read


def _mounts(tree: Tree, fstype: str) -> list[str]:
    out = []
    for line in (tree.read("proc/mounts").text or "").splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[2] == fstype:
            out.append(parts[1].lstrip("/"))
    return out


def _first(tree: Tree, bases: list[str], rel: str) -> tuple[str | None, str]:
    why = "not found"
    for base in dict.fromkeys(bases):
        read = tree.read_upto(f"{base}/{rel}", MAX_TABLE)
        if read.ok and not read.truncated:
            return read.text or "", ""
        why = "over 16 MiB" if read.truncated else (read.error or "unreadable")
    return None, f"{rel}: {why}"


def tracefs_dirs(tree: Tree) -> list[str]:
    debugfs = [*_mounts(tree, "debugfs"), *DEBUGFS]
    return [*_mounts(tree, "tracefs"), *(f"{d}/tracing" for d in debugfs), *TRACEFS]


def read_enabled(tree: Tree) -> dict[tuple[str | None, str], FtraceRecord] | None:
    """enabled_functions alone (None: unreadable)."""
    text, _ = _first(tree, tracefs_dirs(tree), "enabled_functions")
    return None if text is None else parse_enabled(text)


def read_tables(tree: Tree, wanted: frozenset[str] | None = None) -> FtraceTables:
    """The four tables, wherever tracefs and debugfs are mounted (/proc/mounts), then their usual places;
    `wanted`: the function names asked about (enabled_functions' other records are skipped unparsed)."""
    debugfs = [*_mounts(tree, "debugfs"), *DEBUGFS]
    enabled, why1 = _first(tree, tracefs_dirs(tree), "enabled_functions")
    kprobes, why2 = _first(tree, debugfs, "kprobes/list")
    inject, why3 = _first(tree, debugfs, "fail_function/inject")
    errors, why4 = _first(tree, debugfs, "error_injection/list")
    # debugfs readable (kprobes/list was) without these directories: a kernel built without
    # CONFIG_FAIL_FUNCTION / CONFIG_FUNCTION_ERROR_INJECTION (Debian 12's 6.1), so none can exist
    if kprobes is not None:
        base = next((b for b in dict.fromkeys(debugfs) if tree.exists(f"{b}/kprobes/list")), None)
        if base is not None and inject is None and not tree.exists(f"{base}/fail_function"):
            inject, why3 = "", ""
        if base is not None and errors is None and not tree.exists(f"{base}/error_injection"):
            errors, why4 = "", ""
    return FtraceTables(
        None if enabled is None else parse_enabled(enabled, wanted),
        None if kprobes is None else parse_kprobes(kprobes),
        None if inject is None else parse_functions(inject),
        None if errors is None else parse_functions(errors),
        next((w for w in (why1, why2, why3, why4) if w), ""),
    )


_FAILED = re.compile(r"failed to register ftrace handler for function '(?P<func>[^']+)' \(-16\)")


def ebusy_cause(kernel_said: list[str], tree: Tree) -> str | None:
    """For the kernel's "failed to register ftrace handler for function 'f' (-16)", who holds f."""
    match = next((m for m in map(_FAILED.search, kernel_said) if m), None)
    if match is None:
        return None
    func = match["func"]
    t = read_tables(tree)
    keys = [k for k in (t.enabled or {}) if k[1] == func]
    rec = (t.enabled or {})[keys[0]] if keys else None
    probes = [p for k, ps in (t.kprobes or {}).items() if k[1] == func for p in ps]
    if t.fail_function is not None and any(k[1] == func for k in t.fail_function):
        return f"{func} has a fail_function injection, an IPMODIFY ftrace user: remove it and load again"
    if probes and rec is not None and "I" in rec.flags:
        return f"{func} has a kprobe with a post_handler ({', '.join(probes)}), an IPMODIFY ftrace user"
    if rec is not None:
        return (
            f"{func} is held by another ftrace user ({rec.owner or 'flags ' + ' '.join(sorted(rec.flags))})"
        )
    return f"another IPMODIFY ftrace user held {func} (it is gone now, or {t.why or 'not listed'})"
