from lptui.core.livepatch.patches import read_inactive_modules, read_patch, read_patches
from lptui.core.tree import Read, Tree


def test_patch_objects_functions_and_module(fake):
    fake.module("xfs")
    fake.patch(
        "lp_fix",
        replace="1",
        stack_order="2",
        objects={
            "vmlinux": ["cmdline_proc_show,1", "dup_sym,3"],
            "xfs": ["xfsaild,1"],
            "nfsd": ["nfsd_open,1"],
        },
        patched={"vmlinux": "1", "xfs": "1", "nfsd": "0"},
    )
    (p,) = read_patches(Tree(fake.root))
    assert (p.name, p.enabled, p.transition, p.replace, p.stack_order) == ("lp_fix", True, False, True, 2)
    objs = {o.name: o for o in p.objects}
    assert [(f.name, f.sympos) for f in objs["vmlinux"].functions] == [
        ("cmdline_proc_show", 1),
        ("dup_sym", 3),
    ]
    assert objs["vmlinux"].loaded and objs["xfs"].loaded and not objs["nfsd"].loaded
    assert objs["nfsd"].patched is False and objs["xfs"].patched is True
    assert p.module.refcnt == 1 and p.module.taint == "OEK" and p.module.srcversion
    assert p.function_count == 4
    assert p.problems == ()


def test_optional_attributes_absent_are_none(fake):
    fake.patch("lp", transition=None)
    (p,) = read_patches(Tree(fake.root))
    assert p.transition is None and p.replace is None and p.stack_order is None
    assert p.objects[0].patched is None


def test_garbage_in_every_patch_file(fake):
    fake.patch("lp", enabled="yes", transition="", replace="2", stack_order="zero", patched={"vmlinux": "x"})
    fake.write("sys/module/lp/refcnt", "many\n")
    fake.write("sys/module/lp/taint", "#!\n")
    (fake.root / "sys/kernel/livepatch/lp/vmlinux/not_a_function").mkdir()
    (p,) = read_patches(Tree(fake.root))
    assert (p.enabled, p.transition, p.replace, p.stack_order) == (None, None, None, None)
    assert p.objects[0].patched is None
    assert p.module.refcnt is None and p.module.taint is None
    text = " ".join(p.problems + p.module.problems)
    for expected in (
        "enabled: garbage",
        "transition: empty",
        "replace: unexpected value 2",
        "stack_order: garbage",
    ):
        assert expected in text
    assert "unexpected entry 'not_a_function'" in text
    assert "refcnt: garbage" in text and "taint: garbage" in text


def test_patch_vanishing_between_listing_and_reading(fake):
    fake.patch("lp_gone")
    fake.patch("lp_stays")

    class VanishingTree(Tree):
        def read(self, rel: str) -> Read:
            if rel.startswith("sys/kernel/livepatch/lp_gone/"):
                import shutil

                shutil.rmtree(self.root / "sys/kernel/livepatch/lp_gone", ignore_errors=True)
            return super().read(rel)

    patches = read_patches(VanishingTree(fake.root))
    assert [p.name for p in patches] == ["lp_stays"]


def test_read_patch_of_missing_dir_is_none(fake):
    assert read_patch(Tree(fake.root), "nothing") is None


def test_patches_sorted_by_stack_order(fake):
    fake.patch("zz_first", stack_order="1")
    fake.patch("aa_second", stack_order="2")
    assert [p.name for p in read_patches(Tree(fake.root))] == ["zz_first", "aa_second"]


def test_inactive_livepatch_modules(fake):
    fake.patch("lp_active")
    fake.module("lp_old", refcnt="0", taint="OEK")
    fake.module("xfs", taint="")
    fake.module("proprietary", taint="PO")
    (fake.root / "sys/module/builtin_thing/parameters").mkdir(parents=True)
    inactive = read_inactive_modules(Tree(fake.root), {"lp_active"})
    assert [m.name for m in inactive] == ["lp_old"]
    assert inactive[0].refcnt == 0 and inactive[0].is_livepatch


def test_builtin_module_dir_is_not_loaded(fake):
    (fake.root / "sys/module/kvm/parameters").mkdir(parents=True)
    fake.patch("lp", objects={"kvm": ["kvm_foo,1"]})
    (p,) = read_patches(Tree(fake.root))
    assert p.objects[0].loaded is False
