from lptui.core.livepatch.kernel import probe_features, read_kernel
from lptui.core.livepatch.patches import read_patches
from lptui.core.livepatch.taint import decode_taint
from lptui.core.tree import Tree


def test_kernel_identity_and_taint(fake):
    k = read_kernel(Tree(fake.root))
    assert k.release == "6.1.0-28-amd64"
    assert k.version.startswith("#1 SMP")
    assert k.livepatch_supported is True
    assert k.tainted == 45056
    assert [f.letter for f in k.taint_flags] == ["O", "E", "K"]
    assert k.ftrace_enabled is True
    assert k.possible_cpus == 2
    assert k.problems == ()


def test_taint_letters_and_unknown_bits():
    assert [f.letter for f in decode_taint(1 << 15)] == ["K"]
    assert decode_taint(0) == ()
    flags = decode_taint((1 << 12) | (1 << 30))
    assert [f.letter for f in flags] == ["O", "?"]
    assert flags[1].bit == 30


def test_no_livepatch_dir_means_unsupported(tmp_path):
    from tests.faketree import FakeKernel

    fk = FakeKernel(tmp_path).kernel(livepatch=False)
    assert read_kernel(Tree(fk.root)).livepatch_supported is False


def test_garbage_kernel_files_become_unknown_with_reasons(fake):
    fake.write("proc/sys/kernel/osrelease", "")
    fake.write("proc/sys/kernel/version", "\x00\x00\x00")
    fake.write("proc/sys/kernel/tainted", "lots\n")
    fake.write("proc/sys/kernel/ftrace_enabled", "maybe\n")
    fake.write("sys/devices/system/cpu/possible", "0-x\n")
    k = read_kernel(Tree(fake.root))
    assert (k.release, k.version, k.tainted, k.ftrace_enabled, k.possible_cpus) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert k.taint_flags == ()
    joined = " ".join(k.problems)
    for field in ("release: empty", "version: garbage", "tainted: garbage", "ftrace_enabled: garbage"):
        assert field in joined


def test_negative_taint_is_unknown(fake):
    fake.write("proc/sys/kernel/tainted", "-5\n")
    k = read_kernel(Tree(fake.root))
    assert k.tainted is None and any("negative" in p for p in k.problems)


def test_features_probed_from_files(fake):
    fake.patch("lp_a", replace="0", patched={"vmlinux": "1"})
    tree = Tree(fake.root)
    f = probe_features(tree, read_patches(tree))
    assert (f.transition, f.force, f.signal, f.replace, f.stack_order, f.object_patched) == (
        True,
        True,
        False,
        True,
        False,
        True,
    )
    assert f.probed_from == "lp_a"


def test_features_of_older_kernel(fake):
    # 6.0-like: no replace, no per-object patched; 5.0-like has signal
    fake.patch("lp_old", transition="0")
    fake.write("sys/kernel/livepatch/lp_old/signal", "")
    tree = Tree(fake.root)
    f = probe_features(tree, read_patches(tree))
    assert f.signal is True and f.replace is False and f.object_patched is False


def test_features_unknown_without_patches(fake):
    tree = Tree(fake.root)
    f = probe_features(tree, read_patches(tree))
    assert f.probed_from is None and f.force is None
