"""Where each loaded patch came from, what it fixes, and what survives a reboot.

A loaded module's file is not recorded by the kernel; lptui looks where kpatch and the distributions
install livepatch modules, matches by name and confirms by `srcversion` (modpost's digest of the
sources, in `/sys/module/<name>/srcversion` and in the file's `.modinfo`). Everything is read through
the tree, so a saved tree or the demo answers the same way; only the package manager is asked of the
live host itself.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from lptui.core.model import Mechanism, Snapshot
from lptui.core.tree import Tree

# kpatch installs to /var/lib/kpatch/<release> (`kpatch install`) or /usr/lib/kpatch/<release>
# (packages); distributions ship livepatch modules under /lib/modules/<release>/ (SUSE: updates/,
# Ubuntu: kernel/livepatch or livepatch/, out-of-tree builds: extra/).
SEARCH = ("var/lib/kpatch/{r}", "usr/lib/kpatch/{r}", "lib/modules/{r}/livepatch", "lib/modules/{r}/updates",
          "lib/modules/{r}/extra")  # fmt: skip
OTHER_RELEASES = ("var/lib/kpatch", "usr/lib/kpatch", "lib/modules")
KO_SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")
CVE = re.compile(r"\bCVE-\d{4}-\d{4,}\b", re.IGNORECASE)
# kpatch's boot service (kpatch/contrib/kpatch.service): it loads /var/lib/kpatch/<release>/*.ko at boot
UNIT = "kpatch.service"


@dataclass(frozen=True)
class ModuleFacts:
    """What one module file says about itself (its .modinfo)."""

    path: str  # as the host sees it (under the tree's root)
    name: str
    srcversion: str | None
    description: str | None
    version: str | None
    vermagic: str | None
    livepatch: bool
    signed: bool
    cves: tuple[str, ...]  # found in its .modinfo


@dataclass(frozen=True)
class Provenance:
    file: ModuleFacts | None
    matched_by: str | None  # "srcversion", or "name" when the loaded module shows no srcversion
    package: str | None
    package_cves: tuple[str, ...]
    why: str | None  # why no file, or why no package

    @property
    def cves(self) -> tuple[str, ...]:
        own = self.file.cves if self.file else ()
        return tuple(sorted(set(own) | set(self.package_cves)))


@dataclass(frozen=True)
class Installed:
    facts: ModuleFacts
    release: str
    loaded: bool


@dataclass(frozen=True)
class LifeCycle:
    release: str | None
    provenance: dict[str, Provenance]  # per loaded patch
    installed: tuple[Installed, ...]  # livepatch modules installed for the running release
    other_releases: tuple[Installed, ...]
    lost_at_reboot: tuple[str, ...]  # loaded patches whose file is not installed
    boot_service: str | None  # "enabled", "disabled", or None when kpatch's service is not installed
    problems: tuple[str, ...]  # files that could not be read


def cves_in(*texts: str | None) -> tuple[str, ...]:
    return tuple(sorted({m.upper() for t in texts if t for m in CVE.findall(t)}))


def read_facts(path: Path, root: Path | None = None) -> ModuleFacts:
    """Raises ModuleFileError for a file that is not a module. `root`: paths are shown as the tree
    shows them (a saved tree's /var/lib/kpatch, not where it is stored)."""
    from lptui.core.kofile.modfile import open_module  # pyelftools: only when there is a file to read

    mod = open_module(str(path))
    stem = path.name.split(".ko")[0]
    values = [v for values in mod.modinfo.values() for v in values]
    shown = "/" + str(path.relative_to(root)) if root is not None and root != Path("/") else str(path)
    return ModuleFacts(
        path=shown,
        name=(mod.name or stem).replace("-", "_"),
        srcversion=mod.info("srcversion"),
        description=mod.info("description"),
        version=mod.info("version"),
        vermagic=mod.info("vermagic"),
        livepatch=mod.is_livepatch,
        signed=mod.signed,
        cves=cves_in(*values),
    )


def _module_files(directory: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, _dirs, names in os.walk(directory):
        out.extend(Path(dirpath) / n for n in sorted(names) if n.endswith(KO_SUFFIXES))
    return sorted(out)


def _read(path: Path, root: Path, problems: list[str]) -> ModuleFacts | None:
    from lptui.core.kofile.modfile import ModuleFileError  # pyelftools: only when there is a file to read

    try:
        return read_facts(path, root)
    except ModuleFileError as exc:
        shown = "/" + str(path.relative_to(root)) if root != Path("/") else str(path)
        problems.append(str(exc).replace(str(path), shown))  # as the tree shows it, like every path
        return None


def module_files(root: Path) -> list[tuple[str, Path]]:
    """The one walk of the module directories, shared by the readers and `capture` (so a bundle holds
    exactly what provenance reads): every module file under the search directories of every release
    found there, as (release, path); a release's files in SEARCH's order."""
    releases = sorted(
        {e.name for base in OTHER_RELEASES if (root / base).is_dir() for e in (root / base).iterdir()}
    )
    return [(r, path) for r in releases for p in SEARCH for path in _module_files(root / p.format(r=r))]


def _scan(found: list[tuple[str, Path]], root: Path, release: str, problems: list[str]) -> list[ModuleFacts]:
    """The livepatch modules installed for `release`."""
    out = []
    for rel, path in found:
        if rel == release:
            facts = _read(path, root, problems)
            if facts is not None and facts.livepatch:
                out.append(facts)
    return out


def _other_releases(
    found: list[tuple[str, Path]], root: Path, release: str | None, problems: list[str]
) -> list[Installed]:
    out = []
    for rel, path in found:
        if rel == release:
            continue
        facts = _read(path, root, problems)
        # kpatch's directories hold patches only; under lib/modules only the livepatch modules count
        if facts is not None and (facts.livepatch or not str(path).startswith(str(root / "lib/modules"))):
            out.append(Installed(facts, rel, False))
    unique = {(i.facts.path, i.release): i for i in out}
    return sorted(unique.values(), key=lambda i: (i.release, i.facts.name))


def files_read(root: Path) -> list[Path]:
    """Every file provenance looks at under `root` (a capture bundle carries them, so a replay finds
    the same): the module files of the one walk, kpatch's unit and its links."""
    out = [path for _, path in module_files(root)]
    for d in ("usr/lib/systemd/system", "lib/systemd/system", "etc/systemd/system"):
        out.extend(p for p in [root / d / UNIT] if os.path.lexists(p))
    system = root / "etc/systemd/system"
    out.extend(d / UNIT for d in (system.iterdir() if system.is_dir() else []) if os.path.lexists(d / UNIT))
    return out


def boot_service(root: Path) -> str | None:
    """kpatch's boot service: installed, and enabled (a symlink in a .wants directory) or not."""
    units = [root / d / UNIT for d in ("usr/lib/systemd/system", "lib/systemd/system", "etc/systemd/system")]
    if not any(u.exists() for u in units):
        return None
    system = root / "etc/systemd/system"
    # `systemctl enable` links the unit into a *.wants directory; the link may point outside the tree
    wants = [d for d in system.iterdir() if d.name.endswith(".wants")] if system.is_dir() else []
    enabled = any(os.path.lexists(d / UNIT) for d in wants)
    return "enabled" if enabled else "disabled"


def _package(root: Path, path: str) -> tuple[str | None, tuple[str, ...], str | None]:
    """The package owning `path` and the CVEs of its changelog; only on the live host (a saved tree's
    files are not in this host's package database)."""
    if root != Path("/"):
        return None, (), "a saved or simulated tree: the package database is not asked"
    import shutil
    import subprocess

    for tool, query in (("dpkg-query", ["dpkg-query", "-S", path]), ("rpm", ["rpm", "-qf", path])):
        if shutil.which(tool) is None:
            continue
        try:
            done = subprocess.run(query, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode != 0 or not done.stdout.strip():
            continue
        if tool == "dpkg-query":  # "pkg: /path" (or "pkg1, pkg2: /path")
            package = done.stdout.split(":", 1)[0].split(",")[0].strip()
            return package, _deb_changelog_cves(package), None
        package = done.stdout.strip().splitlines()[0]
        log = subprocess.run(
            ["rpm", "-q", "--changelog", package], capture_output=True, text=True, timeout=10
        )
        return package, cves_in(log.stdout), None
    return None, (), "no package manager knows this file"


def _deb_changelog_cves(package: str) -> tuple[str, ...]:
    import gzip

    for name in ("changelog.Debian.gz", "changelog.gz"):
        path = Path("/usr/share/doc") / package / name
        try:
            with gzip.open(path, "rt", errors="replace") as fh:
                return cves_in(fh.read(4 * 1024 * 1024))
        except (OSError, EOFError):
            continue
    return ()


# Systems that keep their patches elsewhere than kpatch and the distributions' module directories.
OWN_STORES = {
    Mechanism.KGRAFT: "not searched: kGraft patches come in SUSE's kgraft-patch packages (see `rpm -qa "
    "'kgraft-patch*'`)",
    Mechanism.KSPLICE: "not searched: Ksplice keeps its updates in its own store (/var/cache/uptrack with "
    "Uptrack; ksplice-view lists them)",
}


def read_life_cycle(tree: Tree, snap: Snapshot) -> LifeCycle:
    root = Path(tree.root)
    release = snap.kernel.release
    problems: list[str] = []
    found = module_files(root)
    installed_facts = _scan(found, root, release, problems) if release else []
    loaded = {p.module.name: p.module for p in snap.patches}
    loaded.update({m.name: m for m in snap.inactive_modules})
    provenance: dict[str, Provenance] = {}
    not_searched: set[str] = set()
    for patch in snap.patches:
        module = patch.module
        if patch.mechanism in OWN_STORES:
            provenance[patch.name] = Provenance(None, None, None, (), OWN_STORES[patch.mechanism])
            not_searched.add(patch.name)
            continue
        named = [f for f in installed_facts if f.name == module.name]
        same = [f for f in named if module.srcversion and f.srcversion == module.srcversion]
        if same:
            facts, how = same[0], "srcversion"
        elif named and not module.srcversion:
            facts, how = named[0], "name"
        else:
            facts, how = None, None
        if facts is None:
            where = ", ".join("/" + p.format(r=release) for p in SEARCH) if release else "(release unknown)"
            why = (f"{named[0].path} has srcversion {named[0].srcversion}, the loaded module "
                   f"{module.srcversion}: not the file it was loaded from" if named
                   else f"no file for {module.name} under {where}")  # fmt: skip
            provenance[patch.name] = Provenance(None, None, None, (), why)
            continue
        package, package_cves, why = _package(root, facts.path)
        provenance[patch.name] = Provenance(facts, how, package, package_cves, why)

    def is_loaded(f: ModuleFacts) -> bool:
        module = loaded.get(f.name)
        return module is not None and (module.srcversion is None or module.srcversion == f.srcversion)

    installed = tuple(Installed(f, release or "?", is_loaded(f)) for f in installed_facts)
    lost = tuple(name for name, p in provenance.items() if p.file is None and name not in not_searched)
    return LifeCycle(
        release=release,
        provenance=provenance,
        installed=installed,
        other_releases=tuple(_other_releases(found, root, release, problems)),
        lost_at_reboot=lost,
        boot_service=boot_service(root),
        problems=tuple(problems),
    )


@dataclass(frozen=True)
class CveAnswer:
    cve: str
    patches: tuple[tuple[str, bool | None, bool], ...]  # (patch, enabled, transition complete)
    unknown: tuple[str, ...] = ()  # loaded patches with no file found: their CVEs cannot be read
    not_loaded: tuple[str, ...] = ()  # installed files naming it, not loaded

    @property
    def live(self) -> bool:
        """Fixed in the running kernel: a patch naming it is enabled and fully transitioned."""
        return any(enabled and complete for _, enabled, complete in self.patches)


def answer_cve(cve: str, snap: Snapshot, lc: LifeCycle) -> CveAnswer:
    """Which loaded patches name `cve` (their file's .modinfo, their package's changelog)."""
    wanted = cve.upper()
    moving = snap.transition.patch if snap.transition is not None else None
    found = tuple(
        (p.name, p.enabled, p.name != moving)
        for p in snap.patches
        if (prov := lc.provenance.get(p.name)) is not None and wanted in prov.cves
    )
    unknown = tuple(name for name, p in lc.provenance.items() if p.file is None)
    not_loaded = tuple(i.facts.path for i in lc.installed if not i.loaded and wanted in i.facts.cves)
    return CveAnswer(wanted, found, unknown, not_loaded)
