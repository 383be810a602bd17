"""Every text command, fed strings an adversary controls (a module file's .modinfo, a process's comm and
command line, the kernel log, a bundle's manifest): nothing comes out that a terminal obeys, and nothing
is read as markup: the value appears exactly as `shown` writes it, brackets and all."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings

from lptui.cli.main import main
from tests import hostile
from tests.hostile import LINK, OSC52_ST, RLO, STYLED, controls_in, expected, hostile_text, hostile_tree

FAST = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


@contextlib.contextmanager
def _env(**values: str):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(*argv: str) -> tuple[int, str]:
    """`lptui ARGV` in this process; stdout and stderr together, the width wide enough for any cell."""
    out = io.StringIO()
    with _env(COLUMNS="4096"), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(argv))
    return code, out.getvalue()


COMMANDS = (
    ("status",),
    ("tasks",),
    ("tasks", "-v"),
    ("tasks", "--all"),
    ("check",),
    ("watch", "--timeout", "0.2"),
    ("metrics",),
)


def _check_every_command(root, value: str) -> None:
    for argv in COMMANDS:
        _, text = run("--root", str(root), *argv)
        assert not controls_in(text), (argv, controls_in(text), text[:2000])
    described = expected(value.replace("\x00", " ")).strip()  # .modinfo's strings end at a NUL
    _, status = run("--root", str(root), "status")
    assert described in status, status  # the description, as written
    _, inspected = run("--root", str(root), "inspect", str(root / f"var/lib/kpatch/{hostile.RELEASE}/lp.ko"))
    assert not controls_in(inspected), inspected
    assert described in inspected, inspected  # the license


@pytest.mark.parametrize("value", [OSC52_ST, LINK, STYLED, RLO, f"{LINK}{OSC52_ST}\n{STYLED}"])
def test_the_attacks_that_were_seen_come_out_escaped_and_as_written(tmp_path, value):
    hostile_tree(tmp_path / "root", value)
    _check_every_command(tmp_path / "root", value)


@FAST
@given(value=hostile_text())
def test_no_command_prints_a_control_or_reads_markup(tmp_path_factory, value):
    root = tmp_path_factory.mktemp("hostile") / "root"
    hostile_tree(root, value)
    _check_every_command(root, value)


def _bundle(path, meta: dict) -> None:
    with tarfile.open(path, "w:gz") as tar:
        data = json.dumps(meta).encode()
        info = tarfile.TarInfo("lptui-capture.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        files = (("proc/sys/kernel/osrelease", "6.1.0\n"), ("sys/kernel/livepatch/lp/enabled", "1\n"))
        for name, text in files:
            blob = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


def test_a_bundles_unreadable_reasons_are_shown_escaped(tmp_path):
    reason = f"{OSC52_ST}{LINK}{RLO}"
    unreadable = {"sys/kernel/livepatch/lp/transition": reason, "proc/10/task/10/stack": reason}
    meta = {"lptui_version": "0.1.0", "captured_at_unix": 1.8e9, "members": 3, "unreadable": unreadable}
    bundle = tmp_path / "b.tar.gz"
    _bundle(bundle, meta)
    for argv in (("status",), ("tasks",), ("check",)):
        _, text = run("--root", str(bundle), *argv)
        assert not controls_in(text), (argv, text)
    _, text = run("--root", str(bundle), "status")
    assert expected(reason) in text or expected(reason)[:200] in text, text


def test_errors_are_one_escaped_line(tmp_path):
    evil = tmp_path / f"x{OSC52_ST}{RLO}.ko"
    evil.write_bytes(b"not an elf")
    code, text = run("inspect", str(evil))
    assert code == 1 and not controls_in(text) and text.count("\n") == 1, text
    assert expected(str(evil)) in text
