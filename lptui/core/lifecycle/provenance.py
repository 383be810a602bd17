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
from dataclasses import dataclass, field
from pathlib import Path

from lptui.core.model import CVE_PATTERN, Mechanism, ModuleInfo, Snapshot
from lptui.core.tree import Tree

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.core.kofile.unpack import Budget

# kpatch installs to /var/lib/kpatch/<release> (`kpatch install`) or /usr/lib/kpatch/<release>
# (packages); distributions ship livepatch modules under /lib/modules/<release>/ (SUSE: updates/,
# Ubuntu: kernel/livepatch or livepatch/, out-of-tree builds: extra/).
SEARCH = (
    "var/lib/kpatch/{r}",
    "usr/lib/kpatch/{r}",
    "lib/modules/{r}/livepatch",
    "lib/modules/{r}/updates",
    "lib/modules/{r}/extra",
)
OTHER_RELEASES = ("var/lib/kpatch", "usr/lib/kpatch", "lib/modules")
MAX_RELEASES = 256  # release directories looked at under each of OTHER_RELEASES
# One look at the life cycle reads at most MAX_FILES module files and LIFE_CYCLE_BYTES read and unpacked
# in all (a directory of a thousand 9 KB bombs costs what a few do); the running release's files first.
MAX_FILES = 1_000
LIFE_CYCLE_BYTES = 256 << 20
CVE = re.compile(rf"\b{CVE_PATTERN}\b", re.IGNORECASE)
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


def read_facts(path: Path, root: Path | None = None, budget: Budget | None = None) -> ModuleFacts:
    """Raises ModuleFileError for a file that is not a module. `root`: paths are shown as the tree
    shows them (a saved tree's /var/lib/kpatch, not where it is stored)."""
    from lptui.core.kofile.modfile import open_module  # pyelftools: only when there is a file to read

    mod = open_module(str(path), budget)
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


def _shown(path: Path, root: Path) -> str:
    return "/" + str(path.relative_to(root)) if root != Path("/") else str(path)


@dataclass
class _Reader:
    """The module files one look at the life cycle reads, within MAX_FILES and LIFE_CYCLE_BYTES."""

    root: Path
    problems: list[str] = field(default_factory=list)
    unread: set[str] = field(default_factory=set)  # releases with files left unread (over the bounds)
    count: int = 0
    budget: Budget | None = None  # made with the first file read (no import on a host without one)

    def read(self, release: str, path: Path) -> ModuleFacts | None:
        from lptui.core.kofile.modfile import ModuleFileError  # pyelftools: only when there is a file
        from lptui.core.kofile.unpack import Budget

        if self.budget is None:
            self.budget = Budget(LIFE_CYCLE_BYTES)
        self.count += 1
        if self.count > MAX_FILES or self.budget.left == 0:
            self.unread.add(release)
            return None
        try:
            return read_facts(path, self.root, self.budget)
        except ModuleFileError as exc:
            if self.budget.left == 0:
                self.unread.add(release)
            self.problems.append(str(exc).replace(str(path), _shown(path, self.root)))  # as the tree shows it
            return None

    def skipped(self) -> list[str]:
        if self.budget is None or (self.count <= MAX_FILES and self.budget.left):
            return []
        left = max(self.count - MAX_FILES, 0)
        more = f" ({left:,} more files)" if left else ""
        bound = f"{MAX_FILES:,} files and {LIFE_CYCLE_BYTES >> 20} MiB of them"
        return [f"module files not read: lptui reads at most {bound} at once{more}"]


def _releases(root: Path) -> list[str]:
    names: set[str] = set()
    for base in OTHER_RELEASES:
        try:
            with os.scandir(root / base) as it:
                names.update(e.name for _, e in zip(range(MAX_RELEASES), it, strict=False))
        except OSError:
            continue
    return sorted(names)


def walk_module_files(root: Path) -> tuple[list[tuple[str, Path]], list[str]]:
    """The one walk of the module directories, shared by the readers and `capture` (so a bundle holds
    exactly what provenance reads): every module file under the search directories of every release
    found there, as (release, path), a release's files in SEARCH's order; and where the walk was cut."""
    found: list[tuple[str, Path]] = []
    cuts: list[str] = []
    releases = _releases(root)
    if not releases:
        return found, cuts
    from lptui.core.kofile.files import module_files_under  # only where there are module directories

    for release in releases:
        for pattern in SEARCH:
            under = module_files_under(root / pattern.format(r=release))
            found.extend((release, path) for path in sorted(under.files))
            if under.cut:
                cuts.append(under.cut.replace(str(root), "", 1) if root != Path("/") else under.cut)
    return found, cuts


def module_files(root: Path) -> list[tuple[str, Path]]:
    return walk_module_files(root)[0]


def _scan(found: list[tuple[str, Path]], reader: _Reader, release: str) -> list[ModuleFacts]:
    """The livepatch modules installed for `release`."""
    out = []
    for rel, path in found:
        if rel == release:
            facts = reader.read(rel, path)
            if facts is not None and facts.livepatch:
                out.append(facts)
    return out


def _other_releases(found: list[tuple[str, Path]], reader: _Reader, release: str | None) -> list[Installed]:
    out = []
    for rel, path in found:
        if rel == release:
            continue
        facts = reader.read(rel, path)
        # kpatch's directories hold patches only; under lib/modules only the livepatch modules count
        in_kpatch_dir = not str(path).startswith(str(reader.root / "lib/modules"))
        if facts is not None and (facts.livepatch or in_kpatch_dir):
            out.append(Installed(facts, rel, False))
    unique = {(i.facts.path, i.release): i for i in out}
    return sorted(unique.values(), key=lambda i: (i.release, i.facts.name))


def files_read(root: Path) -> list[Path]:
    """Every file provenance looks at under `root` (a capture bundle carries them, so a replay finds
    the same): the module files of the one walk, kpatch's unit and its links."""
    out = [path for _, path in walk_module_files(root)[0]]
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


UNREAD = "not known: some module files were not read (see the life cycle's problems)"

# Systems that keep their patches elsewhere than kpatch and the distributions' module directories.
OWN_STORES = {
    Mechanism.KGRAFT: "not searched: kGraft patches come in SUSE's kgraft-patch packages (see `rpm -qa "
    "'kgraft-patch*'`)",
    Mechanism.KSPLICE: "not searched: Ksplice keeps its updates in its own store (/var/cache/uptrack with "
    "Uptrack; ksplice-view lists them)",
}


def _provenance(
    module: ModuleInfo, installed: list[ModuleFacts], release: str | None, root: Path, unread: bool
) -> Provenance:
    """The file a loaded module came from, matched by srcversion (or by name when it shows none)."""
    named = [f for f in installed if f.name == module.name]
    same = [f for f in named if module.srcversion and f.srcversion == module.srcversion]
    if same or (named and not module.srcversion):
        facts, how = (same[0], "srcversion") if same else (named[0], "name")
        package, package_cves, why = _package(root, facts.path)
        return Provenance(facts, how, package, package_cves, why)
    if named:
        other = f"{named[0].path} has srcversion {named[0].srcversion}"
        why = f"{other}, the loaded module {module.srcversion}: not the file it was loaded from"
        return Provenance(None, None, None, (), why)
    if unread:  # its file may be among those left unread: not known, and so not "lost at reboot"
        return Provenance(None, None, None, (), UNREAD)
    where = ", ".join("/" + p.format(r=release) for p in SEARCH) if release else "(release unknown)"
    return Provenance(None, None, None, (), f"no file for {module.name} under {where}")


def read_life_cycle(tree: Tree, snap: Snapshot) -> LifeCycle:
    root = Path(tree.root)
    release = snap.kernel.release
    reader = _Reader(root)
    found, cuts = walk_module_files(root)
    installed_facts = _scan(found, reader, release) if release else []
    others = _other_releases(found, reader, release)
    loaded = {p.module.name: p.module for p in snap.patches}
    loaded.update({m.name: m for m in snap.inactive_modules})
    unread = release in reader.unread or bool(cuts)
    provenance: dict[str, Provenance] = {}
    for patch in snap.patches:
        if patch.mechanism in OWN_STORES:
            provenance[patch.name] = Provenance(None, None, None, (), OWN_STORES[patch.mechanism])
        else:
            provenance[patch.name] = _provenance(patch.module, installed_facts, release, root, unread)

    def is_loaded(f: ModuleFacts) -> bool:
        module = loaded.get(f.name)
        return module is not None and (module.srcversion is None or module.srcversion == f.srcversion)

    unknown = {OWN_STORES.get(p.mechanism, UNREAD) for p in snap.patches} | {UNREAD}
    return LifeCycle(
        release=release,
        provenance=provenance,
        installed=tuple(Installed(f, release or "?", is_loaded(f)) for f in installed_facts),
        other_releases=tuple(others),
        lost_at_reboot=tuple(n for n, p in provenance.items() if p.file is None and p.why not in unknown),
        boot_service=boot_service(root),
        problems=tuple(reader.problems + cuts + reader.skipped()),
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
