"""README promises two set-up commands; CI must run the test one verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATCHES = ("livepatch_cve_2026_0815", "livepatch_nfsd_fix")  # loaded on the idle demo


def setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_has_exactly_two_setup_commands():
    commands = setup_commands()
    assert len(commands) == 2
    assert "lptui --demo" in commands[0]
    assert "pytest" in commands[1] and ".[test]" in commands[1]


def test_ci_runs_readme_test_command():
    ci = (ROOT / ".ci/run").read_text()
    assert setup_commands()[1] in ci.splitlines()


def test_fresh_debian_job_reads_the_same_commands():
    """.ci/fresh_debian.py takes the commands from README.md, never retyped."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("fresh_debian", ROOT / ".ci/fresh_debian.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    commands = module.readme_commands(ROOT / "README.md")
    assert [commands["demo"], commands["test"]] == setup_commands()
    assert "/usr/local/bin/lptui" in commands["install"]
    assert set(commands["packages"].split()) >= {"git", "python3-venv", "sudo"}
    assert ".ci/fresh_debian.py" in (ROOT / ".ci/run").read_text()


def test_readme_tables_are_whole():
    """A blank line inside a Markdown table splits it and the rest renders as raw `|` text."""
    lines = (ROOT / "README.md").read_text().splitlines()
    for i in range(1, len(lines) - 1):
        if not lines[i].strip():
            above, below = lines[i - 1].lstrip(), lines[i + 1].lstrip()
            assert not (above.startswith("|") and below.startswith("|")), (
                f"README line {i + 1} splits a table"
            )


def test_readme_never_calls_bare_python():
    """Debian has no `python` command: every command README shows names python3 or a venv's python."""
    text = (ROOT / "README.md").read_text()
    assert not re.findall(r"(?<![/\w])python (?!3)\S+\.py", text)


def test_readme_states_the_metrics_series_counts():
    """README's cardinality claim, counted on the idle demo: the total, and per loaded patch."""
    import contextlib
    import io

    from lptui.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["metrics", "--demo", "idle"]) == 0
    samples = [line for line in out.getvalue().splitlines() if line and not line.startswith("#")]
    text = " ".join((ROOT / "README.md").read_text().split())
    total = int(re.search(r"Per host: (\d+) series on the idle demo", text)[1])
    per_patch = int(re.search(r"at most (\d+) per loaded patch plus one per CVE", text)[1])
    assert len(samples) == total
    for patch in PATCHES:
        mine = [s for s in samples if f'patch="{patch}"' in s and not s.startswith("lptui_patch_fixes")]
        mine = [s for s in mine if not s.startswith(("lptui_patch_installed", "lptui_transition"))]
        assert len(mine) <= per_patch, mine
    counts = [
        len([s for s in samples if f'patch="{p}"' in s and "fixes" not in s and "transition_dur" not in s])
        for p in PATCHES
    ]
    histogram = [s for s in samples if s.startswith("lptui_transition_duration_seconds")]
    outcomes = {re.search(r'outcome="(\w+)"', s)[1] + re.search(r'patch="([^"]*)"', s)[1] for s in histogram}
    assert len(histogram) == 13 * len(outcomes)  # README: 13 per outcome and patch
    assert per_patch in counts  # the bound is reached, not only respected
