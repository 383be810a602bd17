"""Record every action, success or failure, in the kernel log (/dev/kmsg) and syslog/journal."""

from __future__ import annotations

import os
import pwd
import syslog
from collections.abc import Callable
from dataclasses import dataclass, field


def who() -> str:
    try:
        user = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        user = str(os.geteuid())
    sudo = os.environ.get("SUDO_USER")
    return f"{user} (via sudo by {sudo})" if sudo and sudo != user else user


@dataclass
class Audit:
    """`kmsg` is the path of the kernel log device; None for the simulated kernel (it logs itself)."""

    kmsg: str | None = "/dev/kmsg"
    use_syslog: bool = True
    sink: list[str] = field(default_factory=list)  # what was recorded, for the TUI's event log
    echo: Callable[[str, bool], None] | None = None  # the simulated kernel's log takes it too

    def record(self, text: str, *, ok: bool) -> None:
        line = f"lptui: {who()} {text}"
        self.sink.append(line)
        if self.echo is not None:
            self.echo(line, ok)
        if self.kmsg:
            level = 5 if ok else 4  # notice / warning
            try:
                fd = os.open(self.kmsg, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)
                try:
                    os.write(fd, f"<{level}>{line}\n".encode())
                finally:
                    os.close(fd)
            except OSError:
                pass  # not root or no /dev/kmsg: syslog still gets it
        if self.use_syslog:
            syslog.openlog("lptui", syslog.LOG_PID, syslog.LOG_AUTHPRIV)
            syslog.syslog(syslog.LOG_NOTICE if ok else syslog.LOG_WARNING, line)
