#!/usr/bin/env python3
"""The README on a fresh Debian 12, as a newcomer runs it (called by .ci/run, as root).

Builds a minimal Debian 12 root (debootstrap --variant=minbase bookworm, from the mirror the machine's
apt uses, cached in /var/cache/lptui-ci), installs into it only the packages the README's "Set up"
names, clones this repository into it and, as a non-root user, runs the README's two commands exactly
as README.md prints them: the demo in a real terminal (tmux, 80x24) until the first screen shows the
transition and a blocker, then `q` (exit 0 required); then the test command (no failure allowed).
Then, as root, the README's "Install for root" command, and `sudo lptui status` and
`sudo lptui --demo stuck tasks` through it. Reuses the machine's pip configuration, CA store and apt
settings where present. Any failure: one line naming the step, exit 1.

Standard library only: it runs with the machine's /usr/bin/python3 before any venv exists.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("LPTUI_CI_CACHE", "/var/cache/lptui-ci"))
USER = "newcomer"
SUITE = "bookworm"
STEP_TIMEOUT = 15 * 60
# Copied from the host when present, so the root reaches the registries the way the host does:
# what apt needs before the packages go in, then pip's settings and the CA store after them (the
# ca-certificates package would otherwise rebuild the bundle without the host's own authorities).
HOST_FILES_FOR_APT = ("/etc/resolv.conf", "/etc/apt/apt.conf.d/99artifact-registry")
HOST_FILES_FOR_PIP = ("/etc/pip.conf", "/etc/xdg/pip", "/etc/ssl/certs/ca-certificates.crt")


class StepFailed(Exception):
    pass


def log(msg: str) -> None:
    print(f"[fresh-debian] {msg}", file=sys.stderr, flush=True)


def readme_commands(readme: Path = REPO / "README.md") -> dict[str, str]:
    """The shell blocks of README's "Set up" (demo, test) and "Install for root" sections."""
    text = readme.read_text()

    def blocks(heading: str) -> list[str]:
        section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
        return re.findall(r"```sh\n(.+?)\n```", section)

    demo, test = blocks("Set up")
    (install,) = blocks("Install for root")
    packages = re.search(r"`apt-get install -y ([^`]+)`", text.split("\n## Set up\n", 1)[1])
    if packages is None:
        raise StepFailed("read README: no `apt-get install -y ...` line in Set up")
    return {"demo": demo, "test": test, "install": install, "packages": packages.group(1)}


def run(step: str, cmd: list[str], *, timeout: float = STEP_TIMEOUT, **kw) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise StepFailed(f"{step}: timed out after {timeout:.0f}s") from None
    except FileNotFoundError:
        raise StepFailed(f"{step}: {cmd[0]} not found") from None
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise StepFailed(f"{step}: exit {proc.returncode}: {tail}")
    return proc


def host_mirror() -> str:
    """The Debian mirror the machine's apt uses for bookworm (deb822 or one-line sources)."""
    sources = list(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in sources:
        for stanza in path.read_text().split("\n\n"):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            if uris and suites and SUITE in suites.group(1).split():
                return uris.group(1)
    for path in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*.list")]:
        if path.exists():
            match = re.search(rf"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+{SUITE}\s", path.read_text(), re.M)
            if match:
                return match.group(1)
    return "http://deb.debian.org/debian"


def base_tarball() -> Path:
    """A minbase bookworm root, built once and kept as a tarball."""
    tarball = CACHE / f"{SUITE}-minbase.tar"
    if tarball.exists():
        return tarball
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        root = Path(tmp) / "root"
        mirror = host_mirror()
        log(f"debootstrap --variant=minbase {SUITE} from {mirror} (cached after this run)")
        run("debootstrap", ["debootstrap", "--variant=minbase", SUITE, str(root), mirror], timeout=20 * 60)
        partial = tarball.with_suffix(".partial")
        run("cache the root", ["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."])
        partial.rename(tarball)
    return tarball


class Root:
    """A fresh copy of the base root with /proc, /sys, /dev and the source tree mounted."""

    def __init__(self, base: Path) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="lptui-fresh-", dir=CACHE))
        self.path = self.dir / "root"
        self.mounts: list[Path] = []
        self.path.mkdir()
        run("unpack the root", ["tar", "--numeric-owner", "-C", str(self.path), "-xf", str(base)])

    def mount(self, *args: str, target: str) -> None:
        where = self.path / target.lstrip("/")
        where.mkdir(parents=True, exist_ok=True)
        run(f"mount {target}", ["mount", *args, str(where)])
        self.mounts.append(where)
        if "--rbind" in args:  # unmounting ours must never reach the host's mounts
            run(f"mount {target}", ["mount", "--make-rslave", str(where)])

    def setup(self) -> None:
        self.mount("-t", "proc", "proc", target="/proc")
        self.mount("--rbind", "/sys", target="/sys")
        self.mount("--rbind", "/dev", target="/dev")
        self.mount("--bind", "-o", "ro", str(REPO), target="/mnt/lptui-src")
        self.copy_from_host(HOST_FILES_FOR_APT)

    def copy_from_host(self, names: tuple[str, ...]) -> None:
        for name in names:
            src = Path(name)
            if not src.exists():
                continue
            dst = self.path / name.lstrip("/")
            dst.parent.mkdir(parents=True, exist_ok=True)
            if dst.is_symlink() or dst.is_file():
                dst.unlink()
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copy(src, dst)

    def chroot(self, step: str, script: str, *, user: str | None = None, timeout: float = STEP_TIMEOUT):
        cmd = ["chroot", str(self.path)]
        if user:
            cmd += ["su", "-", user, "-c", script]
        else:
            cmd += ["/bin/sh", "-c", script]
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "HOME": "/root",
            "DEBIAN_FRONTEND": "noninteractive",
        }
        return run(step, cmd, timeout=timeout, env=env)

    def mounted_inside(self) -> list[str]:
        inside = str(self.dir) + "/"
        with open("/proc/self/mountinfo") as fh:
            return [f.split()[4] for f in fh if f.split()[4].startswith(inside)]

    def close(self) -> None:
        for where in reversed(self.mounts):
            subprocess.run(["umount", "-l", str(where)], capture_output=True)
        # never delete through a mount (the host's /dev, /sys or the source tree)
        left = self.mounted_inside()
        if left:
            log(f"left {self.dir} in place: still mounted: {', '.join(left[:3])}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def demo_in_tmux(root: Root, command: str) -> float:
    """Run the README's demo command as the user in an 80x24 tmux pane; wait for the first screen to
    show the transition and a blocker; press q; require exit 0. Returns seconds to the first screen."""
    status = root.path / "tmp/demo-exit"
    status.unlink(missing_ok=True)
    inner = f"cd lptui && {command}; echo $? > /tmp/demo-exit"
    outer = f"chroot {shlex.quote(str(root.path))} su - {USER} -c {shlex.quote(inner)}"
    session = "lptui-fresh"
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    # remain-on-exit: a command that dies early leaves its last screen to report
    run(
        "demo: start tmux",
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "80",
            "-y",
            "24",
            outer,
            ";",
            "set-option",
            "-w",
            "-t",
            session,
            "remain-on-exit",
            "on",
        ],
    )
    start = time.monotonic()
    screen = ""
    try:
        while time.monotonic() - start < 600:
            screen = run("demo: read screen", ["tmux", "capture-pane", "-p", "-t", session]).stdout
            if "Transition" in screen and "xfsaild" in screen and "Pending tasks" in screen:
                break
            if status.exists() or "Pane is dead" in screen:
                code = status.read_text().strip() if status.exists() else "?"
                last = " | ".join(line.strip() for line in screen.splitlines() if line.strip())[-400:]
                raise StepFailed(f"demo: exited ({code}) before showing the transition; screen: {last}")
            time.sleep(1)
        else:
            last = " | ".join(line.strip() for line in screen.splitlines() if line.strip())[-300:]
            raise StepFailed(f"demo: no transition and blocker on screen after 600 s; screen: {last}")
        shown = time.monotonic() - start
        run("demo: press q", ["tmux", "send-keys", "-t", session, "q"])
        deadline = time.monotonic() + 60
        while not status.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        if not status.exists():
            raise StepFailed("demo: still running 60 s after q")
        code = status.read_text().strip()
        if code != "0":
            raise StepFailed(f"demo: exited {code} after q")
        return shown
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def main() -> int:
    if os.geteuid() != 0:
        print("fresh-debian: needs root (debootstrap, chroot, mount)", file=sys.stderr)
        return 1
    began = time.monotonic()
    root = None
    try:
        commands = readme_commands()
        missing = [tool for tool in ("tmux", "debootstrap") if shutil.which(tool) is None]
        if missing:
            run("apt-get update", ["apt-get", "update", "-q"])
            run(f"install {' '.join(missing)}", ["apt-get", "install", "-y", "-q", *missing])
        root = Root(base_tarball())
        root.setup()
        log(f"apt-get install -y {commands['packages']} (README's Set up)")
        root.chroot("apt-get update", "apt-get update -q")
        root.chroot("install README's packages", f"apt-get install -y -q {commands['packages']}")
        root.copy_from_host(HOST_FILES_FOR_PIP)
        root.chroot("add the user", f"useradd -m -s /bin/bash {USER}")
        # The checkout may be one only root can enter (a `mktemp -d` clone is mode 0700): root clones it
        # into the user's home and gives it to the user, who then has their own clone as a newcomer does.
        home = f"/home/{USER}/lptui"
        root.chroot("clone", f"git clone -q /mnt/lptui-src {home} && chown -R {USER}: {home}")
        log("README demo command, as the user, in tmux 80x24")
        shown = demo_in_tmux(root, commands["demo"])
        log(f"demo: transition and blocker on screen after {shown:.0f} s (pip install included); q exited 0")
        log("README test command, as the user")
        proc = root.chroot("test command", f"cd lptui && {commands['test']}", user=USER, timeout=30 * 60)
        summary = [line for line in proc.stdout.splitlines() if re.search(r"\d+ passed", line)]
        if not summary or "failed" in summary[-1] or " error" in summary[-1]:
            raise StepFailed(f"test command: no clean pytest summary: {summary[-1:] or proc.stdout[-200:]}")
        log(f"test command: {summary[-1].strip('= ')}")
        log("README install for root, then sudo lptui")
        root.chroot("install for root", f"cd /home/{USER}/lptui && {commands['install']}")
        status = root.chroot("sudo lptui status", "cd / && sudo lptui status")
        if "Kernel" not in status.stdout:
            raise StepFailed("sudo lptui status: no kernel block in its output")
        tasks = root.chroot("sudo lptui --demo stuck tasks", "cd / && sudo lptui --demo stuck tasks")
        if "xfsaild/dm-0" not in tasks.stdout:
            raise StepFailed("sudo lptui --demo stuck tasks: the blocker is missing")
    except StepFailed as exc:
        print(f"fresh-debian: FAILED at {exc}", file=sys.stderr)
        return 1
    finally:
        if root is not None:
            root.close()
    log(f"passed in {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
