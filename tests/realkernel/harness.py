"""Boot Debian's kernels under QEMU (virtme-ng, software emulation) and run the guest tests there.

Host side only. As root on a fresh Debian 12 machine it installs what it needs from the package
registries, downloads each kernel image and its headers (extracted into a cache, nothing written
to /boot or /lib/modules), builds tests/realkernel/modules against the headers, boots the kernel
with the host's file system shared, runs `pytest tests/realkernel/guest` inside it and reads the
JUnit XML it wrote to a shared writable directory. Downloads, extractions and builds are cached
under .cache/realkernel (or $LPTUI_REALKERNEL_CACHE).
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULE_SRC = Path(__file__).resolve().parent / "modules"
# user-space helpers built next to the modules: many real threads, and the C floor of a task scan
USERSPACE_SRC = (
    Path(__file__).resolve().parent / "userspace/lptui_threads.c",
    REPO / "benchmarks/floor_reader.c",
)
CACHE = Path(os.environ.get("LPTUI_REALKERNEL_CACHE", REPO / ".cache/realkernel"))
# bpftrace (Debian 12: 0.17, with kretfunc:) and bpftool build the BPF-trampoline stalls in the guest,
# which sees this host's file system
APT_PACKAGES = (
    "qemu-system-x86",
    "busybox-static",
    "kmod",
    "make",
    "gcc",
    "libelf1",
    "tmux",
    "bpftrace",
    "bpftool",
)
VNG_REQUIREMENT = "virtme-ng>=1.30,<2"
GUEST_TIMEOUT = 30 * 60  # the guest suite takes ~10 min under emulation, the churn's 3 included

# label -> (image metapackage, headers metapackage); resolved to exact versions at run time.
KERNELS = {
    "6.1": ("linux-image-amd64", "linux-headers-amd64"),
    "6.12": ("linux-image-6.12-amd64", "linux-headers-6.12-amd64"),
}


class HarnessError(Exception):
    """Something outside the project stopped the suite (no package, no download, a build failed)."""


def log(msg: str) -> None:
    print(f"[realkernel] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], *, cwd: Path | None = None, env: dict | None = None, timeout: float = 1800) -> str:
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise HarnessError(f"timed out after {timeout:.0f}s: {' '.join(cmd)}") from exc
    except FileNotFoundError as exc:
        raise HarnessError(f"not found: {cmd[0]}") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise HarnessError(f"{' '.join(cmd)} failed ({proc.returncode}):\n" + "\n".join(tail))
    return proc.stdout


def why_cannot_run() -> str | None:
    """One line saying why the suite cannot run here, or None if it can."""
    if sys.platform != "linux":
        return "the real-kernel suite needs Linux"
    if os.geteuid() != 0:
        return "the real-kernel suite needs root (to install QEMU and boot a kernel); run the tests as root"
    if shutil.which("apt-get") is None and shutil.which("qemu-system-x86_64") is None:
        return "the real-kernel suite needs apt-get (Debian) or an installed qemu-system-x86_64"
    return None


def _static_busybox() -> bool:
    path = shutil.which("busybox")
    if path is None:
        return False
    out = subprocess.run(["file", "-L", path], capture_output=True, text=True).stdout
    return "statically linked" in out or "static-pie" in out or not out  # no `file`: trust the package


_apt_updated = False


def apt_update() -> None:
    global _apt_updated
    if not _apt_updated:
        log("apt-get update")
        run(["apt-get", "update", "-qq"])
        _apt_updated = True


def ensure_host_tools() -> None:
    missing = [
        tool
        for tool in ("qemu-system-x86_64", "insmod", "make", "gcc", "tmux", "bpftrace", "bpftool")
        if shutil.which(tool) is None
    ]
    if missing or not _static_busybox():
        log(f"installing {' '.join(APT_PACKAGES)}")
        apt_update()
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES], env=env)


def ensure_vng() -> Path:
    venv = CACHE / "vng-venv"
    vng = venv / "bin/vng"
    if not vng.exists():
        log("installing virtme-ng")
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(venv / "bin/pip"), "install", "-q", VNG_REQUIREMENT])
    return vng


def _depends(package: str) -> list[str]:
    out = subprocess.run(["apt-cache", "depends", package], capture_output=True, text=True).stdout
    return re.findall(r"Depends: (\S+)", out)


def resolve(label: str) -> tuple[str, str, list[str]]:
    """(release, image package, header packages) for a kernel label, from the metapackages."""
    image_meta, headers_meta = KERNELS[label]
    deps = _depends(image_meta) or (apt_update() or _depends(image_meta))
    images = [d for d in deps if d.startswith("linux-image-")]
    headers = [d for d in _depends(headers_meta) if d.startswith("linux-headers-")]
    if not images or not headers:
        raise HarnessError(f"cannot resolve {image_meta}/{headers_meta} in the package archive")
    image, header = images[0], headers[0]
    release = header.removeprefix("linux-headers-")
    extra = [d for d in _depends(header) if d.startswith(("linux-headers-", "linux-kbuild-"))]
    return release, image, [header, *extra]


def download(packages: list[str]) -> list[Path]:
    debs = CACHE / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    os.chmod(debs, 0o777)  # apt's _apt sandbox user writes here
    found = []
    for pkg in packages:
        have = sorted(debs.glob(f"{pkg}_*.deb"))
        if not have:
            log(f"downloading {pkg}")
            run(["apt-get", "download", "-q", pkg], cwd=debs)
            have = sorted(debs.glob(f"{pkg}_*.deb"))
        if not have:
            raise HarnessError(f"apt-get download {pkg} produced no file")
        found.append(have[-1])
    return found


@dataclass(frozen=True)
class Kernel:
    label: str
    release: str
    vmlinuz: Path
    headers: Path


def prepare_kernel(label: str) -> Kernel:
    release, image, header_pkgs = resolve(label)
    root = CACHE / "kernels" / release
    done = root / ".extracted"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        for deb in download([image, *header_pkgs]):
            log(f"extracting {deb.name}")
            run(["dpkg", "-x", str(deb), str(root)])
        # Debian's flavour Makefile includes the -common tree by absolute path: point it into the cache.
        makefile = root / f"usr/src/linux-headers-{release}/Makefile"
        text = makefile.read_text()
        makefile.write_text(text.replace("include /usr/src/", f"include {root}/usr/src/"))
        done.touch()
    vmlinuz = root / f"boot/vmlinuz-{release}"
    if not vmlinuz.exists():
        raise HarnessError(f"{vmlinuz} missing after extracting {image}")
    return Kernel(label, release, vmlinuz, root / f"usr/src/linux-headers-{release}")


# Copies of lptui_lp_target under fresh names: a patch forced while being removed keeps its module
# until reboot, so each force test gets a module of its own.
FORCE_COPIES = ("lptui_lp_force1", "lptui_lp_force2")
BUILD_RECIPE = "2"


def _sources_digest() -> str:
    digest = hashlib.sha256(BUILD_RECIPE.encode() + " ".join(FORCE_COPIES).encode())
    for path in [*sorted(MODULE_SRC.iterdir()), *USERSPACE_SRC]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def build_modules(kernel: Kernel) -> Path:
    out = CACHE / "build" / f"{kernel.release}-{_sources_digest()}"
    if (out / ".built").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(MODULE_SRC, out)
    for copy in FORCE_COPIES:
        shutil.copy(out / "lptui_lp_target.c", out / f"{copy}.c")
    kbuild = out / "Kbuild"
    kbuild.write_text(kbuild.read_text().strip() + "".join(f" {c}.o" for c in FORCE_COPIES) + "\n")
    log(f"building test modules for {kernel.release}")
    # No pahole here: skip BTF for modules (the tests do not need it).
    run(["make", "-C", str(kernel.headers), f"M={out}", "CONFIG_DEBUG_INFO_BTF_MODULES=", "modules"])
    for src in USERSPACE_SRC:
        run(["gcc", "-O2", "-pthread", "-o", str(out / src.stem), str(src)])
    (out / ".built").touch()
    return out


@dataclass(frozen=True)
class GuestCase:
    name: str
    outcome: str  # passed, failed, error, skipped
    message: str = ""


@dataclass(frozen=True)
class GuestRun:
    kernel: Kernel
    cases: tuple[GuestCase, ...]
    log_text: str
    out: Path | None = None  # the shared directory: results and artifacts

    def failed(self) -> list[GuestCase]:
        return [c for c in self.cases if c.outcome in ("failed", "error")]


def parse_junit(path: Path) -> tuple[GuestCase, ...]:
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = {"failure": "failed"}.get(tag, tag)
                message = (node.get("message") or "") + "\n" + (node.text or "")
                break
        cases.append(GuestCase(name, outcome, message.strip()))
    return tuple(cases)


def boot_and_test(
    kernel: Kernel, modules: Path, pytest_args: list[str] | None = None, other: Path | None = None
) -> GuestRun:
    vng = ensure_vng()
    out = CACHE / "out" / kernel.release
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    # Bytecode compiled here (__pycache__, as an installed copy has it), read there: the guest sees this
    # file system read-only and would otherwise compile every lptui module at each Python start
    # (seconds each under software emulation).
    run([sys.executable, "-m", "compileall", "-q", "lptui", "tests"], cwd=REPO)
    env_vars = {
        "LPTUI_GUEST": "1",
        "LPTUI_GUEST_MODULES": str(modules),
        "LPTUI_GUEST_OTHER_MODULES": str(other or ""),  # the other kernel's build of the same modules
        "LPTUI_GUEST_KERNEL": kernel.label,
        "LPTUI_GUEST_OUT": str(out),  # artifacts for the host side (a capture bundle)
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": "/tmp",
    }
    exports = " ".join(f"{k}={v}" for k, v in env_vars.items())
    args = shlex.join(pytest_args or [])
    guest_cmd = (
        f"cd {REPO} && {exports} {sys.executable} -m pytest tests/realkernel/guest -p no:cacheprovider "
        f"-o addopts= -rA --junitxml={out}/junit.xml {args} > {out}/pytest.log 2>&1; echo $? > {out}/exit"
    )
    log(f"booting {kernel.release} under QEMU (software emulation)")
    env = dict(os.environ, PATH=f"{vng.parent}:{os.environ.get('PATH', '')}")
    # One vCPU: under TCG, the kernel's int3-based code patching (ftrace, text_poke_bp) racing on a
    # second vCPU oopsed a 6.12 guest ("Oops: int3" in force_qs_rnp while unpatching).
    cmd = [
        str(vng),
        "--run",
        str(kernel.vmlinuz),
        "--disable-kvm",
        "--memory",
        "2G",
        "--cpus",
        "1",
        "--verbose",
        "--rwdir",
        str(out),
        "--exec",
        guest_cmd,
    ]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=GUEST_TIMEOUT)
        vng_out = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired:
        vng_out = f"guest timed out after {GUEST_TIMEOUT}s"
    # the guest's console (kernel messages included): the evidence if the guest dies
    (CACHE / "out" / f"{kernel.release}.console.log").write_text(vng_out)
    log_text = (out / "pytest.log").read_text() if (out / "pytest.log").exists() else ""
    junit = out / "junit.xml"
    if not junit.exists():
        raise HarnessError(
            f"the guest on {kernel.release} wrote no results.\n"
            f"--- guest console (tail) ---\n{vng_out[-3000:]}\n"
            f"--- guest pytest ---\n{log_text[-3000:]}"
        )
    return GuestRun(kernel, parse_junit(junit), log_text, out)


def run_kernel(label: str, pytest_args: list[str] | None = None) -> GuestRun:
    ensure_host_tools()
    kernel = prepare_kernel(label)
    modules = build_modules(kernel)
    # the same modules built for the other kernel: a file of another release, for the CRC check
    other = build_modules(prepare_kernel(next(k for k in KERNELS if k != label)))
    try:
        return boot_and_test(kernel, modules, pytest_args, other)
    except HarnessError as first:
        # A guest that dies without writing results (seen once under emulation) gets one more
        # boot; failing tests are never retried. The first console is kept for the post-mortem.
        console = CACHE / "out" / f"{kernel.release}.console.log"
        kept = console.with_suffix(".first-attempt.log")
        if console.exists():
            console.replace(kept)
        log(f"guest on {kernel.release} died without results; console kept in {kept}; booting once more")
        try:
            return boot_and_test(kernel, modules, pytest_args, other)
        except HarnessError as second:
            raise HarnessError(f"{second}\n(first attempt: {first})") from None


if __name__ == "__main__":  # python tests/realkernel/harness.py 6.1 [-k expr]
    result = run_kernel(sys.argv[1], sys.argv[2:])
    for case in result.cases:
        print(f"{case.outcome:8} {case.name}")
        if case.outcome in ("failed", "error"):
            print("    " + case.message.replace("\n", "\n    ")[:2000])
    sys.exit(1 if result.failed() or not result.cases else 0)
