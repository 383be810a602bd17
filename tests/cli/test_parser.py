"""Only the command being run has its parser built and its module imported: the result must be the
same as parsing with every parser built."""

import pytest

from lptui.cli.main import _MODULES, build_parser, wanted_command

EXAMPLES = [
    ["status", "--json"],
    ["--demo", "stuck", "tasks", "-v"],
    ["--root", "/x", "tasks", "--all", "--json"],
    ["inspect", "a.ko", "--json"],
    ["load", "a.ko", "--wait", "--timeout", "5"],
    ["revert", "p", "--unload"],
    ["force", "p", "--yes"],
    ["unload", "p"],
    ["signal", "p"],
    ["check", "--warn", "10", "--crit", "20", "--json"],
    ["watch", "--timeout", "3"],
    ["--demo=idle", "metrics", "--listen", "9000"],
    ["capture", "-o", "out.tar.gz", "--no-cmdline"],
    ["fleet", "--prometheus", "http://p:9090", "cve", "CVE-2026-0815", "--json"],
    ["verdicts", "--seconds", "5", "--json"],
]


@pytest.mark.parametrize("argv", EXAMPLES, ids=lambda a: " ".join(a))
def test_one_parser_parses_like_all(argv):
    wanted = wanted_command(argv)
    assert wanted is not None and wanted in argv[-len(argv) :]
    assert vars(build_parser(wanted).parse_args(argv)) == vars(build_parser(None).parse_args(argv))


def test_every_command_has_an_example():
    assert {wanted_command(a) for a in EXAMPLES} == set(_MODULES) | {"status", "tasks"}


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["-h", "status"], ["stauts"]],
    ids=lambda a: " ".join(a),
)
def test_every_parser_when_the_command_is_not_plain(argv):
    """Help, or a misspelt command (argparse lists the commands): build all."""
    assert wanted_command(argv) is None


@pytest.mark.parametrize(
    "argv",
    [[], ["--demo", "idle"], ["--root", "status"], ["--root=/x"]],
    ids=lambda a: " ".join(a) or "nothing",
)
def test_the_console_builds_no_command_parser(argv):
    """No command: the console (`--root status` is a directory named status); nothing else is built."""
    assert wanted_command(argv) == ""
    parsed = vars(build_parser("").parse_args(argv))
    assert parsed == vars(build_parser(None).parse_args(argv)) and parsed["command"] is None


def test_help_still_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        build_parser(wanted_command(["--help"])).parse_args(["--help"])
    out = capsys.readouterr().out
    for name in [*_MODULES, "status", "tasks"]:
        assert f"    {name}" in out
