"""What an adversary puts where lptui reads: strings that a terminal obeys or Rich and Textual read as
markup, as fixed examples and as a Hypothesis strategy, and a kernel tree that carries one everywhere
a tree, a process or a module file controls a string."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

from lptui.core.shown import shown
from lptui.sim.kofile import module_image
from tests.faketree import FakeKernel

OSC52_ST = "\x1b]52;c;b3duZWQ=\x1b\\"  # sets the terminal's clipboard to "owned" (ended by ST)
OSC52_BEL = "\x1b]52;c;b3duZWQ=\x07"  # the same ended by BEL
CLEAR = "\x1b[2J"
RLO = "\u202e"  # right-to-left override: reverses what follows
C1_CSI = "\x9b2J"  # the 8-bit CSI some terminals obey
LINK = "[link=file:///etc/passwd]GPL[/]"  # a hyperlink if read as Rich markup
STYLED = "[bold red]x[/]"
CLICK = "[@click=app.quit]q[/]"  # a clickable action if read as Textual markup
EXAMPLES = (OSC52_ST, OSC52_BEL, CLEAR, RLO, C1_CSI, "\x7f", LINK, STYLED, CLICK, ":smile:", "\x00", "\n")

# the characters lptui's own output may hold besides printable ones
LAYOUT = "\n"


def controls_in(text: str) -> list[str]:
    """Every character of `text` a terminal might obey: anything not printable but lptui's line breaks."""
    return sorted({repr(c) for c in text if not c.isprintable() and c not in LAYOUT})


def hostile_text(*, no: str = "") -> st.SearchStrategy[str]:
    """Strings built from the attacks above, markup brackets and arbitrary characters; `no`: characters
    the place cannot hold (a directory name holds no "/" or NUL)."""
    pieces = st.sampled_from(EXAMPLES) | st.text(
        alphabet=st.characters(codec="utf-8") | st.sampled_from("[]/=@:\\"), max_size=6
    )
    return (
        st.lists(pieces, min_size=1, max_size=4)
        .map(lambda parts: "".join(parts).translate({ord(c): "_" for c in no}))
        .filter(lambda s: s.strip() != "")
    )


def expected(value: str) -> str:
    """How lptui must show `value`: escaped, and every bracket as written (no markup read)."""
    return shown(value)


RELEASE = "6.1.0-28-amd64"


def hostile_tree(root: Path, value: str) -> FakeKernel:
    """A kernel mid-transition whose every string a stranger controls carries `value`: the blocking
    task's comm and command line, an installed patch module's .modinfo (description, license, version),
    the kernel log's livepatch line. Names from directory listings keep their own tests
    (tests/cli/test_escaping.py): a path holds no "/"."""
    fake = FakeKernel(root).kernel(release=RELEASE)
    fake.patch("lp", transition="1", objects={"vmlinux": ["cmdline_proc_show,1"]})
    one_line = value.replace("\n", " ").replace("\x00", " ")
    stack = ["[<0>] cmdline_proc_show+0x1d/0x40", "[<0>] kthread+0xe4/0x110"]
    fake.task(10, comm=one_line.replace(")", "_")[:64], patch_state="0", stack=stack)
    fake.write("proc/10/cmdline", value.replace("\x00", " ") + "\x00-x\x00")
    fake.write("proc/10/status", "Name:\tx\nUid:\t0\t0\t0\t0\nPPid:\t1\n")
    fake.write("proc/uptime", "100.0 50.0\n")
    fake.write("proc/loadavg", "0.00 0.01 0.05 2/123 4567\n")
    fake.write("dev/kmsg", f"4,1,90000000,-;livepatch: 'lp': starting patching transition {one_line}\n")
    module_file(root / f"var/lib/kpatch/{RELEASE}/lp.ko", value)
    return fake


def module_file(path: Path, value: str, name: str = "lp") -> Path:
    """A livepatch module file whose .modinfo carries `value` in every free-text field."""
    clean = value.replace("\x00", " ")
    info = {
        "name": name,
        "livepatch": "Y",
        "license": clean,
        "description": clean,
        "version": clean,
        "srcversion": "7D2CF4E6C1F9D3B1F1B2A3C",
        "vermagic": f"{RELEASE} SMP preempt mod_unload modversions {clean}",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(module_image(info))
    return path
