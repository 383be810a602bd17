"""The pre-flight's vermagic check as the kernel's same_magic() makes it (kernel/module/version.c): with
symbol CRCs the release is skipped and the rest must match, without them the whole string. Modules and
the in-tree reference are built here (lptui.sim.kofile.module_image), never taken from the host."""

from __future__ import annotations

import contextlib
import io
import struct

import pytest

from lptui.cli.main import main
from lptui.core.actions.preflight import inspect_file
from lptui.core.kofile.vermagic import kernel_vermagic, same_magic, word_differences
from lptui.core.snapshot import read_snapshot
from lptui.core.tree import Tree
from lptui.sim.kofile import module_image
from tests.faketree import FakeKernel

RELEASE = "6.1.0-57-amd64"
KERNEL = f"{RELEASE} SMP preempt mod_unload modversions "
VERSIONS = bytes(64)  # one __versions entry (crc, name[56]): its presence is what the kernel tests


@pytest.fixture
def host(tmp_path):
    fake = FakeKernel(tmp_path / "root").kernel(release=RELEASE)
    ref = fake.root / f"lib/modules/{RELEASE}/kernel/lib"
    ref.mkdir(parents=True)
    (ref / "crc32.ko").write_bytes(module_image({"name": "crc32", "intree": "Y", "vermagic": KERNEL}))
    kernel_vermagic.cache_clear()
    return fake


def patch_file(tmp_path, vermagic: str, *, crcs: bool) -> str:
    info = {"name": "lp_test", "livepatch": "Y", "license": "GPL", "vermagic": vermagic}
    path = tmp_path / "lp_test.ko"
    path.write_bytes(module_image(info, extra={"__versions": VERSIONS} if crcs else None))
    return str(path)


def vermagic_check(host, path):
    tree = Tree(host.root)
    ins = inspect_file(path, read_snapshot(tree), tree)
    (check,) = [c for c in ins.checks if "vermagic" in c.text or "built for" in c.text]
    return ins, check


def test_same_magic_as_the_kernel_has_it():
    assert same_magic("6.1.0-1 SMP mod_unload ", "6.1.0-2 SMP mod_unload ", crcs=True)
    assert not same_magic("6.1.0-1 SMP mod_unload ", "6.1.0-2 SMP mod_unload ", crcs=False)
    assert not same_magic("6.1.0-1 SMP mod_unl0ad ", "6.1.0-1 SMP mod_unload ", crcs=True)
    assert same_magic("6.1.0-1", "6.1.0-2", crcs=True)  # no space: both empty past the release
    assert word_differences("r SMP mod_unl0ad", "r SMP mod_unload") == [
        "'mod_unl0ad' where this kernel has 'mod_unload'"
    ]
    assert word_differences("r SMP", "r SMP preempt") == ["lacks 'preempt', which this kernel has"]


@pytest.mark.parametrize("crcs", [True, False])
def test_the_same_string_is_built_for_this_kernel(tmp_path, host, crcs):
    _, check = vermagic_check(host, patch_file(tmp_path, KERNEL, crcs=crcs))
    assert check.level == "ok" and check.text == f"built for this kernel ({RELEASE})"


@pytest.mark.parametrize("crcs", [True, False])
def test_one_flag_changed_is_refused_naming_it(tmp_path, host, crcs):
    path = patch_file(tmp_path, KERNEL.replace("mod_unload", "mod_unl0ad"), crcs=crcs)
    ins, check = vermagic_check(host, path)
    assert check.level == "error" and not ins.loadable
    assert "'mod_unl0ad' where this kernel has 'mod_unload'" in check.text and "ENOEXEC" in check.text
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--root", str(host.root), "inspect", path])
    assert code == 4 and "mod_unl0ad" in out.getvalue()


def versions(**crcs: int) -> bytes:
    """__versions records: struct modversion_info { unsigned long crc; char name[56]; }."""
    return b"".join(struct.pack("<Q", crc) + name.encode().ljust(56, b"\0") for name, crc in crcs.items())


def other_release(tmp_path, **crcs: int) -> str:
    info = {"name": "lp_test", "livepatch": "Y", "license": "GPL"}
    info["vermagic"] = KERNEL.replace(RELEASE, "6.12.118+deb12-amd64")
    path = tmp_path / "lp_other.ko"
    path.write_bytes(module_image(info, extra={"__versions": versions(**crcs)}))
    return str(path)


def inspect_code(host, path) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return main(["--root", str(host.root), "inspect", path])


def test_another_release_is_decided_by_module_symvers(tmp_path, host):
    symvers = host.root / f"lib/modules/{RELEASE}/build/Module.symvers"
    symvers.parent.mkdir(parents=True)
    symvers.write_text(
        "0x12345678\tmodule_layout\tvmlinux\tEXPORT_SYMBOL\t\n"
        "0x0000beef\tklp_enable_patch\tvmlinux\tEXPORT_SYMBOL_GPL\t\n"
    )
    same = other_release(tmp_path, module_layout=0x12345678, klp_enable_patch=0xBEEF)
    _, check = vermagic_check(host, same)
    assert check.level == "ok" and "every imported symbol's CRC (2) matches" in check.text
    assert inspect_code(host, same) == 0
    differs = other_release(tmp_path, module_layout=0x0BADC0DE, klp_enable_patch=0xBEEF)
    ins, check = vermagic_check(host, differs)
    assert check.level == "error" and not ins.loadable
    assert "CRC of module_layout is 0x0badc0de in the module and 0x12345678" in check.text
    assert "disagrees about version of symbol module_layout" in check.text
    assert inspect_code(host, differs) == 4


def test_without_symvers_the_in_tree_modules_crcs_decide(tmp_path, host):
    info = {"name": "crc16", "intree": "Y", "vermagic": KERNEL}
    ref = host.root / f"lib/modules/{RELEASE}/kernel/lib/crc16.ko"
    ref.write_bytes(module_image(info, extra={"__versions": versions(module_layout=0x12345678)}))
    _, check = vermagic_check(host, other_release(tmp_path, module_layout=0x0BADC0DE))
    assert check.level == "error" and "in-tree modules" in check.text and "module_layout" in check.text


def test_with_no_crcs_to_compare_inspect_cannot_tell_and_exits_6(tmp_path, host):
    path = other_release(tmp_path, module_layout=0x12345678)
    _, check = vermagic_check(host, path)
    assert check.level == "unknown" and "cannot tell" in check.text
    assert inspect_code(host, path) == 6


def test_another_release_without_crcs_is_refused(tmp_path, host):
    ins, check = vermagic_check(
        host, patch_file(tmp_path, KERNEL.replace(RELEASE, "6.1.0-56-amd64"), crcs=False)
    )
    assert check.level == "error" and "whole vermagic" in check.text and not ins.loadable


def test_without_a_reference_it_cannot_tell(tmp_path):
    fake = FakeKernel(tmp_path / "root").kernel(release=RELEASE)
    kernel_vermagic.cache_clear()
    ins, check = vermagic_check(fake, patch_file(tmp_path, KERNEL, crcs=True))
    assert check.level == "unknown" and "cannot tell" in check.text and not ins.certain
    # a plain module is no reference, nor one of another release
    ref = fake.root / f"lib/modules/{RELEASE}/kernel/a"
    ref.mkdir(parents=True)
    (ref / "out.ko").write_bytes(module_image({"name": "out", "vermagic": KERNEL}))  # not intree=Y
    (ref / "old.ko").write_bytes(module_image({"name": "old", "intree": "Y", "vermagic": "5.10.0-1 SMP "}))
    kernel_vermagic.cache_clear()
    assert kernel_vermagic(str(fake.root), RELEASE).vermagic is None


def test_the_console_load_dialog_says_the_same(tmp_path, host):
    """The load dialog renders the same inspection: the flag named, no ✓ for it."""
    from lptui.tui.screens.load import inspection_text

    ins, _ = vermagic_check(host, patch_file(tmp_path, KERNEL.replace("mod_unload", "mod_unl0ad"), crcs=True))
    text = str(inspection_text(ins))
    assert "'mod_unl0ad' where this kernel has 'mod_unload'" in text
    assert "✓ built for this kernel" not in text
