"""The Events pane shows the newest line: on both real kernels the console showed the four oldest livepatch
lines when the log filled the pane before the first layout, and the transition's own start line was out of
sight (issue 29)."""

from __future__ import annotations

from lptui.source import open_source
from tests.faketree import FakeKernel
from tests.tui.helpers import make_app, settle


async def test_the_newest_event_is_visible_when_the_log_fills_before_the_first_paint(tmp_path):
    fake = FakeKernel(tmp_path / "root").kernel()
    fake.patch("lp", transition="1", objects={"vmlinux": ["cmdline_proc_show,1"]})
    fake.task(10, patch_state="0")
    log = [f"6,{i},{1_000_000 + i},-;livepatch: 'old_{i:02d}': patching complete" for i in range(60)]
    log.append("5,60,9000000,-;livepatch: 'lp': starting patching transition")
    fake.write("dev/kmsg", "\n".join(log) + "\n")
    fake.write("proc/uptime", "10.0 10.0\n")
    source = open_source(root=str(fake.root))
    app = make_app(source)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.pause(0.3)
            strips = app.screen._compositor.render_strips()
            text = "\n".join("".join(seg.text for seg in strip) for strip in strips)
    finally:
        source.close()
    assert "'lp': starting patching transition" in text, text
    assert "old_00" not in text


async def test_lines_written_before_the_pane_has_a_size_still_end_at_the_newest():
    """The widget alone: every line written before its first layout (as under emulation, when the first
    poll's view arrives while Textual sets the screen up)."""
    from textual.app import App, ComposeResult

    from lptui.core.oncall.kmsg import LogLine
    from lptui.tui.widgets.event_log import EventLog

    lines = [LogLine(i, 1_000_000 + i, 6, f"livepatch: line {i:02d}") for i in range(60)]

    class One(App):
        CSS = "EventLog { height: 8; }"

        def compose(self) -> ComposeResult:
            log = EventLog(id="events")
            log.add_kernel_lines(lines, 1_800_000_000.0)  # before it is even mounted
            yield log

    app = One()
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause(0.3)
        strips = app.screen._compositor.render_strips()
        text = "\n".join("".join(seg.text for seg in strip) for strip in strips)
    assert "line 59" in text and "line 00" not in text, text
