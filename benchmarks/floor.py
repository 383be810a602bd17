"""lptui against its floors, side by side in one run, on one synthetic tree.

    .venv/bin/python benchmarks/floor.py [--threads 100000] [--pending 10] [--rounds 3]
                                         [--idle-seconds 60] [--skip-console] [--json FILE]

Builds a /proc of --threads threads on tmpfs with a transition in progress, then measures (medians):
  - a C reader compiled here with the system compiler (opendir/openat/read of every patch_state):
    the floor; skipped with a line when there is no compiler;
  - a plain Python loop (os.scandir + open + read);
  - a kpatch-style shell loop (`cat` per task, as kpatch's is_stalled does), timed on a sample of
    2,000 tasks and extrapolated;
  - lptui's first transition scan in process, an incremental rescan, and an idle refresh (with the
    number of task files it reads);
  - `lptui --root DIR tasks --json` and `status --json` end to end, against `python -c pass` and
    importing argparse, json, dataclasses, pathlib, enum and re;
  - the console in a real terminal (tmux): time to first paint (median of 3 starts) and CPU over
    --idle-seconds, on this tree with no transition (a host), on `--demo idle`, and following this
    tree's transition, against a minimal Textual app; RSS.
Children run the installed `lptui` script with bytecode caching, as an installed copy has it.
Prints one table with ratios; --json writes the numbers for comparison over time. A benchmark, not a
test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scan import CountingTree, build, set_states  # noqa: E402
from lptui.core.snapshot import SnapshotReader  # noqa: E402
from lptui.core.tree import Tree  # noqa: E402

PY = sys.executable
# the command users run: the entry script pip installed next to this Python (`python -m` adds runpy)
_SCRIPT = Path(PY).parent / "lptui"
LPTUI = [str(_SCRIPT)] if _SCRIPT.exists() else [PY, "-m", "lptui"]
# Every child runs with bytecode caching, as an installed lptui has it (pip compiles at install); with
# PYTHONDONTWRITEBYTECODE set (as on some build machines) each start would recompile every lptui module
# while the standard library baseline loads precompiled files: not a like-for-like comparison.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

C_READER = ROOT / "benchmarks/floor_reader.c"  # the C floor, also run in the real-kernel guest

MINIMAL_TEXTUAL = """
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Minimal(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("PID", "Command", "State")
        for i in range(20):
            table.add_row(str(i), f"task-{i}", "S")

Minimal().run()
"""


def median_time(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_quiet(cmd: list[str]) -> None:
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)


def python_loop(proc: Path, target: int) -> int:
    pending = 0
    for p in os.scandir(proc):
        if not p.name.isdigit():
            continue
        for t in os.scandir(f"{p.path}/task"):
            with open(f"{t.path}/patch_state", "rb") as fh:
                value = int(fh.read())
            if value not in (-1, target):
                pending += 1
    return pending


def _start_in_tmux(session: str, cmd: list[str], marker: str) -> tuple[int, float | None]:
    """Start `cmd` in a 120x36 tmux pane; its pid and the seconds until `marker` is on screen."""
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    shell = "exec env -u PYTHONDONTWRITEBYTECODE " + " ".join(map(str, cmd))
    start = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "36", shell], check=True)
    pid = int(
        subprocess.run(
            ["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"], capture_output=True, text=True
        ).stdout.split()[0]
    )
    while time.perf_counter() - start < 120:
        screen = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
        ).stdout
        if marker in screen:
            return pid, time.perf_counter() - start
        time.sleep(0.02)
    return pid, None


def console_measure(cmd: list[str], marker: str, seconds: float, paint_rounds: int = 3) -> dict:
    """First paint: the median of `paint_rounds` starts (time until `marker` is on screen). Then one
    more start: CPU share over `seconds` once start-up has settled, and RSS."""
    session = f"lptui-bench-{os.getpid()}"
    paints = []
    for _ in range(paint_rounds):
        paints.append(_start_in_tmux(session, cmd, marker)[1])
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    pid, _ = _start_in_tmux(session, cmd, marker)
    time.sleep(2)  # let start-up work settle

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    c0, t0 = cpu(), time.perf_counter()
    time.sleep(seconds)
    c1, t1 = cpu(), time.perf_counter()
    rss = (
        next(
            int(line.split()[1])
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("VmRSS")
        )
        / 1024
    )
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    paint = None if None in paints else statistics.median(paints)
    return {"first_paint_s": paint, "cpu_percent": 100 * (c1 - c0) / (t1 - t0), "rss_mb": rss}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=100_000)
    ap.add_argument("--pending", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--idle-seconds", type=float, default=60.0)
    ap.add_argument("--skip-console", action="store_true")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    results: dict[str, dict] = {}
    scratch = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="lptui-floor-", dir=scratch) as tmp:
        root = Path(tmp) / "root"
        # compile lptui once (into its __pycache__), as `pip install` does; not part of any timing
        subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "lptui")], env=ENV, check=True)
        print(f"building a tree of {args.threads} threads on {scratch or 'disk'}...", file=sys.stderr)
        build(root, args.threads, args.pending)
        (root / "sys/kernel/livepatch/lp_bench/transition").write_text("1\n")
        set_states(root, args.threads, args.pending, "1")
        proc = root / "proc"

        cc = shutil.which("cc") or shutil.which("gcc")
        if cc:
            src = C_READER
            binary = Path(tmp) / "floor"
            subprocess.run([cc, "-O2", "-o", str(binary), str(src)], check=True)
            out = subprocess.run([str(binary), str(proc), "1"], capture_output=True, text=True).stdout.split()
            assert out == [str(args.threads), str(args.pending)], out
            results["c_floor"] = {
                "s": median_time(lambda: run_quiet([str(binary), str(proc), "1"]), args.rounds)
            }
        else:
            print(
                "no C compiler (cc/gcc): the C floor is skipped; ratios use the Python loop", file=sys.stderr
            )

        assert python_loop(proc, 1) == args.pending
        results["python_loop"] = {"s": median_time(lambda: python_loop(proc, 1), args.rounds)}

        sample = sorted(proc.glob("[0-9]*/task/[0-9]*/patch_state"))[:2000]
        listing = Path(tmp) / "sample.txt"
        listing.write_text("\n".join(map(str, sample)) + "\n")
        shell = f'while read f; do cat "$f" >/dev/null; done < {listing}'
        per = median_time(lambda: run_quiet(["sh", "-c", shell]), 1) / len(sample)
        results["kpatch_shell_loop"] = {"s": per * args.threads, "extrapolated_from": len(sample)}

        def first_scan() -> None:
            snap = SnapshotReader(Tree(root)).read()
            assert snap.transition.tasks_pending == args.pending

        results["lptui_first_scan"] = {"s": median_time(first_scan, args.rounds)}
        reader = SnapshotReader(Tree(root))
        reader.read()
        results["lptui_rescan"] = {"s": median_time(reader.read, max(args.rounds, 5))}

        results["lptui_tasks_json"] = {
            "s": median_time(lambda: run_quiet([*LPTUI, "--root", str(root), "tasks", "--json"]), args.rounds)
        }

        # A host with no transition: what `status --json` and `check` cost when all is well, against
        # Python's own start-up. Start-ups are short and noisy: the four commands take turns, 15 rounds.
        (root / "sys/kernel/livepatch/lp_bench/transition").write_text("0\n")
        imports = "import argparse, json, dataclasses, pathlib, enum, re"
        startups = {
            "python_pass": [PY, "-c", "pass"],
            "python_imports": [PY, "-c", imports],
            "lptui_status_json": [*LPTUI, "--root", str(root), "status", "--json"],
            "lptui_check": [*LPTUI, "--root", str(root), "check"],
        }
        times: dict[str, list[float]] = {name: [] for name in startups}
        for _ in range(max(args.rounds, 15)):
            for name, cmd in startups.items():
                start = time.perf_counter()
                run_quiet(cmd)
                times[name].append(time.perf_counter() - start)
        for name, measured in times.items():
            results[name] = {"s": statistics.median(measured), "rounds": len(measured)}
        idle = CountingTree(root)
        idle_reader = SnapshotReader(idle)
        idle_reader.read()
        idle.count = 0
        results["lptui_idle_refresh"] = {"s": median_time(idle_reader.read, 5)}
        task_reads = []
        counting = CountingTree(root)
        counting_read = counting.read

        def spy(rel: str):
            if "/task/" in rel:
                task_reads.append(rel)
            return counting_read(rel)

        counting.read = spy  # type: ignore[method-assign]
        SnapshotReader(counting).read()
        results["lptui_idle_refresh"]["task_files_read"] = len(task_reads)

        console = not args.skip_console and shutil.which("tmux")
        if console:
            # first paint = the first frame with data: the minimal app's last row, lptui's patch count
            minimal = Path(tmp) / "minimal.py"
            minimal.write_text(textwrap.dedent(MINIMAL_TEXTUAL))
            results["textual_minimal_console"] = console_measure([PY, minimal], "task-19", args.idle_seconds)
            # a host with no transition (this tree, idle), then the demo's simulated kernel
            results["lptui_console_idle"] = console_measure(
                [*LPTUI, "--root", root], "Patches (", args.idle_seconds
            )
            results["lptui_console_demo_idle"] = console_measure(
                [*LPTUI, "--demo", "idle"], "Patches (", args.idle_seconds
            )
        (root / "sys/kernel/livepatch/lp_bench/transition").write_text("1\n")
        if console:
            results["lptui_console_transition"] = console_measure(
                [*LPTUI, "--root", root], "Pending tasks", args.idle_seconds
            )
    print_table(results, args)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"threads": args.threads, "pending": args.pending, "results": results}, indent=2)
            + "\n"
        )


def print_table(results: dict[str, dict], args) -> None:
    floor = results.get("c_floor", results["python_loop"])["s"]
    base = results["python_imports"]["s"]
    rounds = f"medians of {args.rounds} (start-ups: of {max(args.rounds, 15)}, taking turns)"
    print(f"\n{args.threads} threads, {args.pending} pending, {rounds}\n")
    print(f"{'what':38} {'time':>10} {'ratio':>16}")
    scan_rows = (
        "c_floor",
        "python_loop",
        "kpatch_shell_loop",
        "lptui_first_scan",
        "lptui_tasks_json",
        "lptui_rescan",
        "lptui_idle_refresh",
    )
    for name in scan_rows:
        if name in results:
            r = results[name]
            ratio = f"{r['s'] / floor:.2f}x C floor"
            if name == "lptui_rescan":
                ratio = f"{r['s'] / results['lptui_first_scan']['s'] * 100:.1f}% of 1st scan"
            extra = f"  ({r['task_files_read']} task files read)" if "task_files_read" in r else ""
            print(f"{name:38} {r['s']:>9.3f}s {ratio:>16}{extra}")
    for name in ("python_pass", "python_imports", "lptui_status_json", "lptui_check"):
        r = results[name]
        print(f"{name:38} {r['s']:>9.3f}s {r['s'] / base:>13.2f}x imp")
    for name in (
        "textual_minimal_console",
        "lptui_console_idle",
        "lptui_console_demo_idle",
        "lptui_console_transition",
    ):
        if name in results:
            r = results[name]
            paint = "-" if r["first_paint_s"] is None else f"{r['first_paint_s']:.2f}s"
            print(f"{name:38} paint {paint:>7}  cpu {r['cpu_percent']:5.2f}%  rss {r['rss_mb']:6.1f} MB")


if __name__ == "__main__":
    main()
