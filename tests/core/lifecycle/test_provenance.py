"""Provenance and the life cycle of patches: which file each loaded patch came from (confirmed by
srcversion), what is installed but not loaded, what a reboot loses, and CVE ids."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lptui.core.lifecycle.provenance import answer_cve, boot_service, cves_in, read_life_cycle
from lptui.core.snapshot import read_snapshot
from lptui.core.tree import Tree
from lptui.sim.kofile import module_image

RELEASE = "6.1.0-28-amd64"  # the fake kernel's
SRC = "7D2CF4E6C1F9D3B1F1B2A3C"  # the fake patch module's sysfs srcversion
KO = Path(__file__).resolve().parents[2] / "data/ko"


def install(
    fake,
    directory: str,
    name: str,
    *,
    srcversion: str = SRC,
    description: str | None = None,
    release: str = RELEASE,
    livepatch: bool = True,
) -> Path:
    info = {"name": name, "srcversion": srcversion, "vermagic": f"{release} SMP mod_unload "}
    if livepatch:
        info["livepatch"] = "Y"
    if description:
        info["description"] = description
    path = fake.root / directory.format(r=release) / f"{name}.ko"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(module_image(info))
    return path


def life(fake):
    tree = Tree(fake.root)
    snap = read_snapshot(tree)
    return snap, read_life_cycle(tree, snap)


def test_found_by_name_and_confirmed_by_srcversion(fake):
    fake.patch("lp_fix")
    install(fake, "var/lib/kpatch/{r}", "lp_fix", description="Fix CVE-2026-0001; see cve-2025-99999")
    _, lc = life(fake)
    prov = lc.provenance["lp_fix"]
    assert prov.file is not None and prov.matched_by == "srcversion"
    assert prov.file.path == f"/var/lib/kpatch/{RELEASE}/lp_fix.ko"  # as the tree shows it
    assert prov.cves == ("CVE-2025-99999", "CVE-2026-0001")
    assert prov.package is None and "not asked" in prov.why  # a saved tree: no package database
    assert lc.lost_at_reboot == () and [i.loaded for i in lc.installed] == [True]


def test_a_file_with_another_srcversion_is_not_the_source(fake):
    fake.patch("lp_fix")
    install(fake, "lib/modules/{r}/livepatch", "lp_fix", srcversion="0000000000000000DEADBEE")
    _, lc = life(fake)
    prov = lc.provenance["lp_fix"]
    assert prov.file is None and "0000000000000000DEADBEE" in prov.why and "not the file" in prov.why
    assert lc.lost_at_reboot == ("lp_fix",)
    assert [(i.facts.name, i.loaded) for i in lc.installed] == [("lp_fix", False)]  # another build


def test_without_srcversion_in_sysfs_the_name_decides(fake):
    fake.patch("lp_fix", module=False)
    fake.module("lp_fix", refcnt="1", taint="OEK")  # no srcversion file
    install(fake, "lib/modules/{r}/updates", "lp_fix")
    _, lc = life(fake)
    assert lc.provenance["lp_fix"].matched_by == "name"


def test_installed_lost_other_releases_and_unreadable(fake):
    fake.patch("lp_loaded_by_hand")
    install(
        fake,
        "lib/modules/{r}/extra",
        "lp_spare",
        srcversion="1111111111111111111111A",
        description="CVE-2026-2222",
    )
    install(fake, "usr/lib/kpatch/{r}", "lp_old", release="6.1.0-20-amd64")
    install(fake, "lib/modules/{r}/extra", "plain_module", livepatch=False)
    bad = fake.root / f"var/lib/kpatch/{RELEASE}/broken.ko"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"\x7fELF garbage")
    snap, lc = life(fake)
    assert lc.lost_at_reboot == ("lp_loaded_by_hand",)
    assert [(i.facts.name, i.loaded) for i in lc.installed] == [("lp_spare", False)]  # not the plain one
    assert [(i.release, i.facts.name) for i in lc.other_releases] == [("6.1.0-20-amd64", "lp_old")]
    assert len(lc.problems) == 1 and "broken.ko" in lc.problems[0]
    answer = answer_cve("cve-2026-2222", snap, lc)
    assert not answer.live and answer.patches == () and answer.unknown == ("lp_loaded_by_hand",)
    assert answer.not_loaded == (f"/lib/modules/{RELEASE}/extra/lp_spare.ko",)


def test_the_suites_real_module_is_read(fake):
    """A module built by the kernel's own build (tests/data/ko), not only the demo's minimal ELF."""
    fake.patch("lptui_lp_cmdline", module=False)
    fake.module("lptui_lp_cmdline", refcnt="1", taint="OEK")
    target = fake.root / f"lib/modules/{RELEASE}/livepatch"
    target.mkdir(parents=True)
    shutil.copy(KO / "lptui_lp_cmdline.ko", target)
    _, lc = life(fake)
    facts = lc.provenance["lptui_lp_cmdline"].file
    assert (
        facts is not None
        and facts.livepatch
        and facts.description == "lptui test: livepatch of cmdline_proc_show"
    )


def test_cve_answers(fake):
    fake.patch("lp_fix", transition="1")
    install(fake, "var/lib/kpatch/{r}", "lp_fix", description="CVE-2026-0001")
    snap, lc = life(fake)
    answer = answer_cve("CVE-2026-0001", snap, lc)
    assert answer.patches == (("lp_fix", True, False),) and not answer.live  # still in transition
    fake.write("sys/kernel/livepatch/lp_fix/transition", "0\n")
    snap, lc = life(fake)
    assert answer_cve("CVE-2026-0001", snap, lc).live
    assert answer_cve("CVE-2026-0002", snap, lc).patches == ()


def test_boot_service(fake):
    assert boot_service(fake.root) is None
    unit = fake.root / "usr/lib/systemd/system/kpatch.service"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Unit]\n")
    assert boot_service(fake.root) == "disabled"
    wants = fake.root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True)
    os.symlink("/usr/lib/systemd/system/kpatch.service", wants / "kpatch.service")  # dangling here: fine
    assert boot_service(fake.root) == "enabled"


def test_cve_ids_are_found_and_normalised():
    assert cves_in("fixes cve-2024-1234 and CVE-2025-123456.", None, "CVE-24-1") == (
        "CVE-2024-1234",
        "CVE-2025-123456",
    )


def test_capture_carries_exactly_the_files_the_readers_read(fake):
    """One walk serves both (issue 18): every module file the life cycle found is in `files_read`, and
    every module file `files_read` lists is one the life cycle read or reported unreadable."""
    from lptui.core.lifecycle.provenance import files_read

    fake.patch("lp_fix")
    install(fake, "var/lib/kpatch/{r}", "lp_fix")
    install(fake, "usr/lib/kpatch/{r}", "lp_pkg")
    install(fake, "lib/modules/{r}/updates", "lp_suse", release="6.1.0-27-amd64")
    install(fake, "var/lib/kpatch/{r}", "lp_old", release="6.1.0-27-amd64")
    install(fake, "lib/modules/{r}/extra", "plain", livepatch=False)  # not a patch: read, not listed
    bad = fake.root / "lib/modules/6.1.0-27-amd64/livepatch/broken.ko"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"\x7fELF garbage")
    _, lc = life(fake)
    found = {i.facts.path for i in (*lc.installed, *lc.other_releases)}
    listed = {"/" + str(p.relative_to(fake.root)) for p in files_read(fake.root) if p.suffix == ".ko"}
    old = "6.1.0-27-amd64"
    assert found == {
        f"/var/lib/kpatch/{RELEASE}/lp_fix.ko",
        f"/usr/lib/kpatch/{RELEASE}/lp_pkg.ko",
        f"/lib/modules/{old}/updates/lp_suse.ko",
        f"/var/lib/kpatch/{old}/lp_old.ko",
    }
    unreadable = {p for p in listed if any(p in problem for problem in lc.problems)}
    assert unreadable == {"/lib/modules/6.1.0-27-amd64/livepatch/broken.ko"}
    assert listed == found | unreadable | {f"/lib/modules/{RELEASE}/extra/plain.ko"}
