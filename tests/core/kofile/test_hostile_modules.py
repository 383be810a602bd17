"""Module files built to cost a careless reader minutes and gigabytes: each is refused, or read, within
the bounds README's Security section states (64 MiB on disk and unpacked, a 256 KiB .modinfo, 16,384
sections, names ending within 4 KiB, 32,768 symbols and 65,536 relocations walked, 256 MiB and 1,000
files per look at the life cycle). Work is measured, not timed: the bytes a read spent, the child's
own peak memory (VmHWM)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lptui.core.kofile import relocs, survey, unpack
from lptui.core.kofile.klpelf import plan_patch
from lptui.core.kofile.modfile import MAX_MODINFO, ModuleFileError, open_module
from lptui.core.kofile.unpack import Budget
from lptui.core.oncall.bundle import remove
from tests import hostile_files as h
from tests.elfbuild import Section, module

MiB = 1 << 20
PEAK_MIB = 220  # the most any of these may cost in all, interpreter and pyelftools included
BOMB_MIB = 160  # bombs for the tests: past the 64 MiB cap, cheap to build (the benchmark's are 1 GiB)
ROOT = Path(__file__).resolve().parents[3]


def peak_mib(code: str) -> tuple[float, str]:
    """Run `code` in a child Python; its own peak resident memory (VmHWM) in MiB, and what it printed."""
    wrapper = code + "\nprint([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
    done = subprocess.run(
        [sys.executable, "-c", wrapper], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    *said, peak = done.stdout.strip().splitlines()
    return int(peak) / 1024, "\n".join(said)


BOMBS = {
    "gzip": lambda: h.gzip_of(module_then_zeros=BOMB_MIB),
    "xz": lambda: h.xz_of(module_then_zeros=BOMB_MIB),
    "zstd": lambda: h.zstd_of(module_then_zeros=BOMB_MIB),
}


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_a_bomb_is_refused_as_it_streams(tmp_path, kind):
    """Before: a .ko.gz bomb was read as its first 256 MiB and judged, a .ko.xz bomb refused after
    549 MB, a .ko.zst not read at all. Now each is refused once 64 MiB have come out of it."""
    path = h.write(tmp_path / f"bomb.ko.{kind}", BOMBS[kind]())
    budget = Budget(1 << 40)
    with pytest.raises(ModuleFileError, match="unpacks to over 64 MiB"):
        open_module(str(path), budget)
    spent = budget.total - budget.left
    assert spent <= path.stat().st_size + unpack.MAX_IMAGE + unpack.PIECE
    peak, said = peak_mib(f"from lptui.cli.main import main; print(main(['inspect', '{path}']))")
    assert said.endswith("1") and peak < PEAK_MIB, (peak, said)


def test_a_zstd_module_is_read_like_any_other(tmp_path):
    path = h.write(tmp_path / "lp.ko.zst", h.zstd_of(h.plain_module()))
    mod = open_module(str(path))
    assert (mod.name, mod.compressed, mod.is_livepatch) == ("lp_evil", "zstd", True)


def test_a_modinfo_of_millions_of_pairs_is_not_parsed(tmp_path):
    """Before: 9 KB of .ko.xz holding 60 MB of `a=b` pairs cost 6.2 s and 1.1 GB."""
    path = h.write(tmp_path / "pairs.ko.xz", h.xz_of(h.modinfo_pairs(60)))
    assert path.stat().st_size < 20_000
    with pytest.raises(ModuleFileError, match=f"over the {MAX_MODINFO >> 10} KiB lptui reads"):
        open_module(str(path))
    peak, _ = peak_mib(f"from lptui.cli.main import main; main(['inspect', '{path}'])")
    assert peak < PEAK_MIB, peak


def test_names_that_never_end_are_refused_before_pyelftools_reads_them(tmp_path):
    """Before: a 4 MB file of 32,000 sections whose names share one without a NUL ran for minutes."""
    path = h.write(tmp_path / "names.ko", h.unterminated_names())
    with pytest.raises(ModuleFileError, match="sections, over the 16,384"):
        open_module(str(path))
    few = module()
    for i in range(100):
        few.add(Section(f".s{i}"))
    few.raw_names = b"\0.modinfo\0" + b"A" * 100_000
    few.name_offsets = [1] + [10] * 102
    path = h.write(tmp_path / "few.ko", few.image())
    with pytest.raises(ModuleFileError, match="name has no end within 4,096 bytes"):
        open_module(str(path))


def test_sections_at_the_cap_are_read_within_the_memory_bound(tmp_path):
    path = h.write(tmp_path / "sections.ko", h.many_sections(survey.MAX_SECTIONS - 4, name_length=4_096))
    peak, said = peak_mib(f"from lptui.cli.main import main; print(main(['inspect', '{path}']))")
    assert said.splitlines()[-1] == "4" and peak < PEAK_MIB, (peak, said)  # read, and not loadable


@pytest.mark.parametrize(
    "build, words",
    [
        (lambda: h.many_symbols(relocs.MAX_SYMBOLS), "32,769 symbols, over the 32,768"),
        (lambda: h.many_relocations(relocs.MAX_RELOCATIONS + 1), "65,537 relocations, over the 65,536"),
        (lambda: h.gzip_of(h.many_symbols(2_500_000)), "2,500,001 symbols"),
    ],
)
def test_tables_past_their_bound_are_not_walked(tmp_path, build, words):
    """Before: 2.5 million symbols under the file cap took 43 s, 10 million over a minute."""
    path = h.write(tmp_path / "tables.ko.gz", build())
    plan = plan_patch(open_module(str(path)))
    assert plan.source == "unknown" and words in plan.notes[0], plan.notes


def test_tables_at_their_bound_are_walked(tmp_path):
    for data in (
        h.many_symbols(relocs.MAX_SYMBOLS - 1, name_length=4_096),
        h.many_relocations(relocs.MAX_RELOCATIONS, name_length=4_096),
    ):
        path = h.write(tmp_path / "at-cap.ko", data)
        plan = plan_patch(open_module(str(path)))
        assert plan.source == "unknown" and "no klp_patch structure" in plan.notes[0], plan.notes


def test_a_symbol_name_without_an_end_is_not_walked(tmp_path):
    elf = module()
    text = elf.add(Section(".text", flags=6, data=bytes(16)))
    from tests.elfbuild import symbol, with_tables

    path = h.write(
        tmp_path / "sym.ko", with_tables(elf, bytes(24) + symbol(1, 0, text, 2), b"\0" + b"f" * 9000).image()
    )
    plan = plan_patch(open_module(str(path)))
    assert "has no end within 4,096 bytes" in plan.notes[0], plan.notes


def test_the_life_cycle_reads_a_bounded_share_of_a_directory_of_bombs(tmp_path):
    """Before: provenance read every installed module whole: a tree of small bombs cost each one's
    unpacking in turn. Now one look reads 1,000 files and 256 MiB at most, and a loaded patch whose file
    may be among those left unread is not claimed lost at reboot."""
    from lptui.core.lifecycle.provenance import LIFE_CYCLE_BYTES, UNREAD, read_life_cycle
    from lptui.core.snapshot import read_snapshot
    from lptui.core.tree import Tree
    from tests.faketree import FakeKernel

    fake = FakeKernel(tmp_path / "root").kernel(release="6.1.0-28-amd64")
    fake.patch("lp", objects={"vmlinux": ["cmdline_proc_show,1"]})
    bomb = h.gzip_of(module_then_zeros=80)
    kpatch = tmp_path / "root/var/lib/kpatch/6.1.0-28-amd64"
    for i in range(6):
        h.write(kpatch / f"a{i}.ko.gz", bomb)
    life = read_life_cycle(Tree(fake.root), read_snapshot(Tree(fake.root)))
    assert life.provenance["lp"].why == UNREAD and "lp" not in life.lost_at_reboot
    assert any("module files not read" in p for p in life.problems), life.problems
    assert sum("unpacks to over" in p for p in life.problems) <= LIFE_CYCLE_BYTES // unpack.MAX_IMAGE


def test_a_deep_or_wide_module_directory_is_walked_within_bounds(tmp_path):
    from lptui.core.kofile.files import MAX_DEPTH, module_files_under

    deep = tmp_path / "deep"
    path = str(deep)
    os.mkdir(path)
    for _ in range(1_200):  # deeper than Python's recursion limit (made one by one: makedirs recurses)
        path += "/d"
        os.mkdir(path)
    Path(path, "x.ko").write_bytes(b"")
    (deep / "d" / "top.ko").write_bytes(b"")
    found = module_files_under(deep)
    assert [p.name for p in found.files] == ["top.ko"] and MAX_DEPTH < 1_200
    remove(deep)  # without recursion (pytest's own clean-up would recurse, and fail)
    assert not deep.exists()
    wide = tmp_path / "wide"
    wide.mkdir()
    for i in range(2_000):
        (wide / f"{i:05}.ko").write_bytes(b"")
    found = module_files_under(wide, max_entries=500)
    assert len(found.files) == 500 and "over 500 entries" in (found.cut or "")


def test_a_fifo_where_a_module_should_be_is_refused_at_once(tmp_path):
    fifo = tmp_path / "lp.ko"
    os.mkfifo(fifo)
    with pytest.raises(ModuleFileError, match="not a regular file"):
        open_module(str(fifo))  # opened without blocking: no writer ever comes


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    sections=st.lists(
        st.tuples(
            st.integers(0, 12),  # type
            st.integers(0, 1 << 16),  # size
            st.integers(0, 64),  # link
            st.sampled_from([0, 24, 56, 1 << 40]),  # entsize
        ),
        max_size=12,
    ),
    names=st.binary(max_size=300),
    offsets=st.lists(st.integers(0, 400), max_size=16),
)
def test_any_section_table_gives_a_module_or_one_line(tmp_path_factory, sections, names, offsets):
    elf = module()
    for i, (kind, size, link, entsize) in enumerate(sections):
        elf.add(Section(f".x{i}", kind, 2, bytes(min(size, 4096)), link, 1, entsize))
    if names:
        elf.raw_names, elf.name_offsets = names, (offsets + [1] * 20)[: len(elf.sections) + 1]
    path = tmp_path_factory.mktemp("elf") / "x.ko"
    path.write_bytes(elf.image())
    try:
        mod = open_module(str(path))
    except ModuleFileError as exc:
        assert "\n" not in str(exc)
        return
    plan_patch(mod)  # never raises: an unreadable structure is "cannot tell"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    kind=st.sampled_from([unpack.XZ_MAGIC, unpack.GZIP_MAGIC, unpack.ZSTD_MAGIC]),
    rest=st.binary(max_size=2000),
)
def test_any_compressed_stream_gives_a_module_or_one_line(tmp_path_factory, kind, rest):
    path = tmp_path_factory.mktemp("z") / "x.ko.z"
    path.write_bytes(kind + rest)
    with pytest.raises(ModuleFileError):
        open_module(str(path))
