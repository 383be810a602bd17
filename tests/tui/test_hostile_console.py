"""The console fed what an adversary controls: nothing reaches the terminal that it would obey, and nothing
is read as Textual markup.

Two ways of looking: what the screen's compositor hands the terminal driver (every character of every
line, so a raw ESC would be seen), and a real terminal (tmux with `set-clipboard on`), where an OSC 52
sequence that got through would land in tmux's paste buffer."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings

from lptui.source import open_source
from tests.hostile import (
    CLICK,
    LINK,
    OSC52_BEL,
    OSC52_ST,
    RLO,
    STYLED,
    controls_in,
    expected,
    hostile_text,
    hostile_tree,
    module_file,
)
from tests.tui.helpers import demo_source, make_app, settle


async def screen_text(app, pilot, showing: str = "") -> str:
    """Every character the compositor would write for the current screen, once it shows `showing`."""
    for _ in range(30):
        await pilot.pause(0.2)
        strips = app.screen._compositor.render_strips()
        text = "\n".join("".join(segment.text for segment in strip) for strip in strips)
        if showing in text:
            break
    return text


async def _visit(app, pilot) -> list[str]:
    """The dashboard, a task's detail, the patches table and a patch's detail: the text of each."""
    seen = [await screen_text(app, pilot)]
    await pilot.press("enter")  # the pending task's detail: its command line, parent, stack
    await settle(pilot)
    seen.append(await screen_text(app, pilot))
    await pilot.press("escape", "tab", "enter")  # the patch's detail: its module file's .modinfo
    await settle(pilot)
    seen.append(await screen_text(app, pilot))
    return seen


async def _hostile_screens(root, value: str, size=(200, 50)) -> list[str]:
    hostile_tree(root, value)
    source = open_source(root=str(root))
    app = make_app(source)
    try:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            return await _visit(app, pilot)
    finally:
        source.close()


@pytest.mark.parametrize("value", [OSC52_ST, OSC52_BEL, LINK, STYLED, CLICK, RLO])
async def test_the_screens_show_the_attacks_escaped_and_as_written(tmp_path, value):
    dashboard, task, patch = await _hostile_screens(tmp_path / "root", value)
    for text in (dashboard, task, patch):
        assert not controls_in(text), controls_in(text)
    assert expected(value) in task  # the command line
    assert expected(value) in patch  # the module file's description


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=hostile_text())
def test_no_screen_shows_a_control(tmp_path_factory, value):
    import asyncio

    root = tmp_path_factory.mktemp("hostile") / "root"
    for text in asyncio.run(_hostile_screens(root, value)):
        assert not controls_in(text), (value, controls_in(text))


async def test_the_load_dialog_escapes_file_names_and_their_modinfo(tmp_path):
    """Whoever can write in a module directory names the files the picker lists and fills their .modinfo."""
    evil = tmp_path / "mods"
    name = f"x{OSC52_BEL}[bold red]y[@click=app.quit]{RLO}.ko"  # a file name holds no "/"
    module_file(evil / name, f"{OSC52_ST}{STYLED}", name="lptui_evil")
    source = demo_source("idle")
    app = make_app(source)
    app.module_dirs = lambda release: [evil]
    try:
        async with app.run_test(size=(200, 50)) as pilot:
            await settle(pilot)
            await pilot.press("l")
            await settle(pilot)
            picker = await screen_text(app, pilot, "Looked in")
            await pilot.press("enter")  # inspect the highlighted file
            await settle(pilot)
            inspected = await screen_text(app, pilot, "lptui_evil")
    finally:
        source.close()
    for text in (picker, inspected):
        assert not controls_in(text), controls_in(text)
    # the path wraps at the dialog's edge
    assert "\\x07[bold" in picker and "y[@click=app.quit]\\u202e.ko" in picker, picker


async def test_a_notification_never_reads_markup(tmp_path):
    source = demo_source("idle")
    app = make_app(source)
    try:
        async with app.run_test(size=(200, 50), notifications=True) as pilot:
            await settle(pilot)
            app.notify(f"host {CLICK} {OSC52_ST}", title=STYLED)
            text = await screen_text(app, pilot)
    finally:
        source.close()
    assert not controls_in(text) and expected(CLICK) in text and expected(STYLED) in text


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")
def test_a_module_description_cannot_set_the_clipboard(tmp_path):
    """The attack as seen: OSC 52 in a module file's description, Enter on the patch, in tmux with
    set-clipboard on. tmux keeps what OSC 52 sets as a paste buffer: there must be none."""
    root = tmp_path / "root"
    hostile_tree(root, f"fixes {OSC52_ST}CVE-2026-0001")
    tmux = ["tmux", "-S", str(tmp_path / "tmux.sock"), "-f", "/dev/null"]
    command = f"{sys.executable} -m lptui --root {root}"
    subprocess.run([*tmux, "new-session", "-d", "-s", "t", "-x", "160", "-y", "45", "sleep 600"], check=True)
    try:
        subprocess.run([*tmux, "set-option", "-g", "set-clipboard", "on"], check=True)
        subprocess.run([*tmux, "respawn-pane", "-k", "-t", "t", command], check=True)

        def screen() -> str:
            pane = subprocess.run([*tmux, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True)
            return pane.stdout

        deadline = time.monotonic() + 60
        while "Patches" not in screen():
            assert time.monotonic() < deadline, screen()
            time.sleep(0.2)
        subprocess.run([*tmux, "send-keys", "-t", "t", "Tab"], check=True)
        while "CVE-2026-0001" not in screen():  # the patch's detail, once its module file has been read
            assert time.monotonic() < deadline, screen()
            subprocess.run([*tmux, "send-keys", "-t", "t", "Enter"], check=True)
            time.sleep(1.0)
            if "CVE-2026-0001" not in screen():
                subprocess.run([*tmux, "send-keys", "-t", "t", "Escape"], check=True)
                time.sleep(0.5)
        buffers = subprocess.run([*tmux, "list-buffers"], capture_output=True, text=True).stdout
        assert "owned" not in buffers and buffers.strip() == "", buffers
        assert "\\x1b]52;c;b3duZWQ=" in screen()  # shown, escaped
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
