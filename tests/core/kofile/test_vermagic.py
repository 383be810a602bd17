"""The pre-flight's vermagic check as the kernel's same_magic() makes it (kernel/module/version.c): with
symbol CRCs the release is skipped and the rest must match, without them the whole string. Modules and
the in-tree reference are built here (lptui.sim.kofile.module_image), never taken from the host."""

from __future__ import annotations

import contextlib
import io

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


def test_another_release_with_crcs_is_what_the_crc_check_decides(tmp_path, host):
    ins, check = vermagic_check(
        host, patch_file(tmp_path, KERNEL.replace(RELEASE, "6.1.0-56-amd64"), crcs=True)
    )
    assert check.level == "unknown" and "check_version" in check.text and "6.1.0-56-amd64" in check.text
    assert ins.loadable and not ins.certain  # no promise either way: never a ✓


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
