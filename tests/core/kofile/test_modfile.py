"""Module files: the good fixtures inspect correctly; a corpus of bad files gets one clear line each."""

import gzip
import lzma
import os
import random
import shutil
import struct
from pathlib import Path

import pytest

from lptui.core.kofile.klpelf import plan_patch
from lptui.core.kofile.modfile import SIGNATURE_MARKER, ModuleFileError, open_module

KO = Path(__file__).resolve().parents[2] / "data/ko"
GOOD = KO / "lptui_lp_target.ko"


def test_modinfo_and_plan_of_a_livepatch():
    mod = open_module(str(GOOD))
    assert (mod.name, mod.is_livepatch, mod.vermagic_release, mod.machine) == (
        "lptui_lp_target",
        True,
        "6.1.0-56-amd64",
        "x86_64",
    )
    assert mod.info("license") == "GPL" and mod.signed is False
    plan = plan_patch(mod)
    assert plan.source == "klp_patch" and plan.replace is False
    ((obj_name, funcs),) = [
        (o.name, [(f.name, f.sympos, f.new_func) for f in o.functions]) for o in plan.objects
    ]
    assert obj_name == "lptui_target" and funcs == [("lptui_target_sleep", 1, "lptui_lp_target_sleep")]


def test_vmlinux_object_and_replace_flag():
    plan = plan_patch(open_module(str(KO / "lptui_lp_replace.ko")))
    assert [o.name for o in plan.objects] == ["vmlinux"] and plan.replace is True
    assert plan_patch(open_module(str(KO / "lptui_lp_cmdline.ko"))).replace is False


def test_plain_module_has_no_plan():
    mod = open_module(str(KO / "lptui_plain.ko"))
    assert not mod.is_livepatch
    plan = plan_patch(mod)
    assert plan.source == "unknown" and "cannot tell" in plan.notes[0]


def test_compressed_and_signed_modules_are_read(tmp_path):
    raw = GOOD.read_bytes()
    xz = tmp_path / "m.ko.xz"
    xz.write_bytes(lzma.compress(raw, format=lzma.FORMAT_XZ))
    gz = tmp_path / "m.ko.gz"
    gz.write_bytes(gzip.compress(raw))
    signed = tmp_path / "signed.ko"
    pkcs7 = b"\x30\x82" + b"\xaa" * 300
    signed.write_bytes(raw + pkcs7 + bytes(8) + struct.pack(">I", len(pkcs7)) + SIGNATURE_MARKER)
    assert open_module(str(xz)).compressed == "xz" and open_module(str(gz)).compressed == "gzip"
    mod = open_module(str(signed))
    assert mod.signed and mod.signature_len == len(pkcs7) and mod.name == "lptui_lp_target"


def _patch(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


def _rename_section(data: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new) and old in data
    return data.replace(old + b"\x00", new + b"\x00", 1)


def _shared_object() -> bytes:
    """A complete little ELF64 shared object (ET_DYN), built here byte by byte: one PT_LOAD program
    header, a null section and .shstrtab. Never a file of the machine's, whose layout varies."""
    shstrtab = b"\x00.shstrtab\x00"
    ehsize, phentsize, shentsize = 64, 56, 64
    phoff = ehsize
    strtab_off = phoff + phentsize
    shoff = strtab_off + len(shstrtab) + (-(strtab_off + len(shstrtab)) % 8)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # ELFCLASS64, little-endian, version 1
    header = ident + struct.pack(
        "<HHIQQQIHHHHHH", 3, 62, 1, 0x1000, phoff, shoff, 0, ehsize, phentsize, 1, shentsize, 2, 1
    )
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, 0, 0, shoff, shoff, 0x1000)  # PT_LOAD, R+X
    body = header + phdr + shstrtab
    body += bytes(shoff - len(body))
    null = bytes(shentsize)
    strtab_hdr = struct.pack("<IIQQQQIIQQ", 1, 3, 0, 0, strtab_off, len(shstrtab), 0, 0, 1, 0)  # SHT_STRTAB
    return body + null + strtab_hdr


def bad_corpus(tmp: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, words the error must contain). Every input is built here, deterministically."""
    raw = GOOD.read_bytes()
    noise = random.Random(8).randbytes
    files: dict[str, tuple[bytes | None, str]] = {
        "empty": (b"", "empty file"),
        "text": (b"hello, I am not a module\n", "not an ELF"),
        "elf_magic_only": (b"\x7fELF", "truncated or corrupt"),
        "truncated_64": (raw[:64], "truncated or corrupt"),
        "truncated_half": (raw[: len(raw) // 2], "truncated or corrupt"),
        "random_after_magic": (b"\x7fELF" + noise(2000), "corrupt"),
        "class32": (_patch(raw, 4, b"\x01"), "32-bit"),
        "exec_type": (_patch(raw, 16, struct.pack("<H", 2)), "not a relocatable object"),
        "shoff_beyond_end": (_patch(raw, 0x28, struct.pack("<Q", len(raw) * 4)), "corrupt"),
        "no_modinfo": (_rename_section(raw, b".modinfo", b".modinfX"), "no .modinfo"),
        "no_this_module": (
            _rename_section(raw, b".gnu.linkonce.this_module", b".gnu.linkonce.this_modulX"),
            "not a kernel module",
        ),
        "corrupt_xz": (b"\xfd7zXZ\x00" + noise(100), "corrupt compressed"),
        "corrupt_gzip": (b"\x1f\x8b\x08\x00" + noise(100), "corrupt compressed"),
        "zstd": (b"\x28\xb5\x2f\xfd" + noise(100), "zstd"),
        "signature_only": (SIGNATURE_MARKER, "not an ELF"),
        "shared_library": (_shared_object(), "ELF type ET_DYN, not a relocatable"),
    }
    out = {}
    for name, (data, words) in files.items():
        path = tmp / f"{name}.ko"
        path.write_bytes(data)
        out[name] = (path, words)
    (tmp / "a_directory.ko").mkdir()
    out["directory"] = (tmp / "a_directory.ko", "is a directory")
    out["missing"] = (tmp / "missing.ko", "no such file")
    fifo = tmp / "fifo.ko"
    os.mkfifo(fifo)
    out["fifo"] = (fifo, "not a regular file")
    (tmp / "dangling.ko").symlink_to(tmp / "nowhere")
    out["dangling_symlink"] = (tmp / "dangling.ko", "no such file")
    return out


def test_corpus_has_at_least_15_bad_files(tmp_path):
    assert len(bad_corpus(tmp_path)) >= 15


def test_every_bad_file_gives_one_clear_line(tmp_path):
    for name, (path, words) in bad_corpus(tmp_path).items():
        with pytest.raises(ModuleFileError) as info:
            open_module(str(path))
        message = str(info.value)
        assert words in message, (name, message)
        assert "\n" not in message and str(path) in message, name


def test_wrong_machine_is_one_line(tmp_path):
    from lptui.core.actions.preflight import inspect_file
    from lptui.core.snapshot import read_snapshot
    from lptui.core.tree import Tree
    from tests.faketree import FakeKernel

    path = tmp_path / "arm.ko"
    path.write_bytes(_patch(GOOD.read_bytes(), 18, struct.pack("<H", 183)))  # EM_AARCH64
    fk = FakeKernel(tmp_path / "root").kernel(release="6.1.0-56-amd64")
    fk.write("proc/sys/kernel/arch", "x86_64\n")
    with pytest.raises(ModuleFileError, match="built for aarch64, but this machine is x86_64"):
        inspect_file(str(path), read_snapshot(Tree(fk.root)), Tree(fk.root))
    assert open_module(str(path)).machine == "aarch64"  # readable on its own, refused for this machine


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.ko"
    shutil.copy(GOOD, path)
    path.chmod(0o600)
    os.chmod(tmp_path, 0o755)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: become nobody, try, report through the pipe
        try:
            os.setgid(65534)
            os.setuid(65534)
            try:
                open_module(str(path))
                message = "opened"
            except ModuleFileError as exc:
                message = str(exc)
            os.write(write_end, message.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    message = os.read(read_end, 4096).decode()
    assert message.endswith("permission denied"), message


def test_objects_without_functions_are_kept():
    """Like the selftests' test_klp_callbacks_demo: objects with callbacks and an empty klp_func[]."""
    plan = plan_patch(open_module(str(KO / "lptui_lp_callbacks.ko")))
    assert plan.source == "klp_patch" and plan.replace is False
    assert [(o.name, [f.name for f in o.functions]) for o in plan.objects] == [
        ("vmlinux", []),
        ("lptui_plain", []),
        ("lptui_target", ["lptui_target_sleep"]),
    ]


@pytest.mark.parametrize("version", [1, 2])
def test_callbacks_only_cumulative_patch_with_states(version):
    """Like test_klp_state/test_klp_state2: a klp_patch with one function-less object, replace and
    a system state; it is a patch, not "no klp_patch structure found"."""
    plan = plan_patch(open_module(str(KO / f"lptui_lp_state{version}.ko")))
    assert plan.source == "klp_patch" and plan.replace is True
    assert [(o.name, o.functions) for o in plan.objects] == [("vmlinux", ())]
    assert [(st.id, st.version) for st in plan.states] == [(1, version)]
    assert plan_patch(open_module(str(KO / "lptui_lp_replace.ko"))).states == ()


def test_an_xz_bomb_is_refused_within_the_bound(tmp_path, monkeypatch):
    """A small .ko.xz that unpacks past the module bound: refused without unpacking it whole."""
    import lzma

    from lptui.core.kofile import modfile, unpack

    monkeypatch.setattr(unpack, "MAX_IMAGE", 1 << 20)
    path = tmp_path / "bomb.ko.xz"
    path.write_bytes(lzma.compress(bytes(8 << 20)))  # 8 MiB of zeros in ~1 KiB
    with pytest.raises(modfile.ModuleFileError, match="unpacks to over 1 MiB"):
        modfile.open_module(str(path))


def test_a_reserved_section_index_counts_as_no_section(tmp_path):
    """klp-convert's `.klp.sym.*` symbols carry st_shndx SHN_LIVEPATCH (0xff20): a symbol with any
    reserved index is in no section, and the rest of the patch is read (klpelf._Relocs._section)."""
    import struct

    from elftools.elf.elffile import ELFFile

    src = KO / "lptui_lp_cmdline.ko"
    data = bytearray(src.read_bytes())
    with src.open("rb") as fh:
        symtab = ELFFile(fh).get_section_by_name(".symtab")
        names = [(i, s.name) for i, s in enumerate(symtab.iter_symbols())]
        offset = symtab["sh_offset"]
    (index,) = [i for i, name in names if name == "lptui_cmdline_proc_show"]
    struct.pack_into("<H", data, offset + index * 24 + 6, 0xFF20)
    path = tmp_path / "klp_converted.ko"
    path.write_bytes(bytes(data))
    plan = plan_patch(open_module(str(path)))
    assert [(o.name, [f.name for f in o.functions]) for o in plan.objects] == [
        ("vmlinux", ["cmdline_proc_show"])
    ]
