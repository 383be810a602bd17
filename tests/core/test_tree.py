from hypothesis import given
from hypothesis import strategies as st

from lptui.core.tree import Read, Tree, parse_bool01, parse_int, parse_line


def test_read_missing_file_reports_vanished(tmp_path):
    read = Tree(tmp_path).read("nope")
    assert not read.ok and read.error == "vanished"


def test_read_directory_is_an_error_not_an_exception(tmp_path):
    (tmp_path / "d").mkdir()
    read = Tree(tmp_path).read("d")
    assert not read.ok and read.error == "not a regular file"


def test_parse_int_cases():
    assert parse_int(Read("42\n")).value == 42
    assert parse_int(Read("-1\n")).value == -1
    assert parse_int(Read("")).problem == "empty"
    assert parse_int(Read("  \n")).problem == "empty"
    assert parse_int(Read("4x2")).problem.startswith("garbage")
    assert parse_int(Read("7\n"), allowed=frozenset({0, 1})).problem == "unexpected value 7"
    assert parse_int(Read(None, "permission denied")).problem == "permission denied"


def test_parse_bool01_rejects_other_numbers():
    assert parse_bool01(Read("1\n")).value is True
    assert parse_bool01(Read("0\n")).value is False
    assert parse_bool01(Read("2\n")).value is None


def test_parse_line_rejects_binary():
    assert parse_line(Read("6.1.0\n")).value == "6.1.0"
    assert parse_line(Read("\x00\x01")).value is None
    assert parse_line(Read("ab\ufffdcd")).problem.startswith("garbage")


@given(st.text())
def test_parsers_never_raise(text):
    for parser in (parse_int, parse_bool01, parse_line):
        result = parser(Read(text))
        assert (result.value is None) == (result.problem is not None)


def test_listdir_and_subdirs_of_missing_dir_are_empty(tmp_path):
    tree = Tree(tmp_path)
    assert tree.listdir("gone") == []
    assert tree.subdirs("gone") == []


def test_control_characters_are_escaped():
    assert parse_line(Read("evil\x1b[2Jname\n")).value == "evil\\x1b[2Jname"
