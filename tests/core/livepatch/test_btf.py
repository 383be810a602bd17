"""The bounded BTF reader: names at type ids, and malformed or hostile BTF refused without an error."""

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from lptui.core.livepatch.btf import KIND_FUNC, type_names
from lptui.sim.btf import build_btf


def test_names_the_function_at_a_trampolines_type_id():
    data = build_btf({89_774: "msleep", 7: "do_nanosleep"})
    found = type_names(data, {89_774, 7, 8})
    assert found == {89_774: (KIND_FUNC, "msleep"), 7: (KIND_FUNC, "do_nanosleep"), 8: (2, "")}


def test_every_kind_is_walked_by_its_own_length():
    # an ENUM with 3 values (8 bytes each) then a FUNC: the FUNC's id is found only if the enum's
    # trailing data was skipped right
    strings = b"\0e\0f\0"
    types = struct.pack("<3I", 1, (6 << 24) | 3, 4) + b"\0" * 24 + struct.pack("<3I", 3, KIND_FUNC << 24, 0)
    data = struct.pack("<HBBI4I", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings)) + types + strings
    assert type_names(data, {2}) == {2: (KIND_FUNC, "f")}


def test_offsets_outside_the_data_and_unknown_kinds_give_none():
    good = build_btf({3: "msleep"})
    assert type_names(good[:30], {3}) is None  # sections beyond the end
    assert type_names(b"\x00" * 64, {3}) is None  # no magic
    bad_kind = bytearray(good)
    bad_kind[24 + 4 + 3] = 31  # type 1's kind byte: no such kind
    assert type_names(bytes(bad_kind), {3}) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=400), st.sets(st.integers(1, 1 << 31), max_size=4))
def test_arbitrary_bytes_never_raise(blob, wanted):
    data = struct.pack("<HBBI", 0xEB9F, 1, 0, 24) + blob
    result = type_names(data, wanted)
    assert result is None or set(result) <= wanted


def test_a_huge_vlen_stops_at_the_section_end():
    # STRUCT with vlen 65535 claims 786 KB of members in a 36-byte section: the walk ends, no error
    types = struct.pack("<3I", 0, (4 << 24) | 0xFFFF, 8) + struct.pack("<3I", 0, KIND_FUNC << 24, 0)
    data = struct.pack("<HBBI4I", 0xEB9F, 1, 0, 24, 0, len(types), len(types), 1) + types + b"\0"
    assert type_names(data, {2}) == {}


def test_the_walk_stops_at_max_types(monkeypatch):
    import lptui.core.livepatch.btf as btf

    monkeypatch.setattr(btf, "MAX_TYPES", 100)
    data = build_btf({50: "early", 5000: "late"})
    assert btf.type_names(data, {50, 5000}) == {50: (KIND_FUNC, "early")}
