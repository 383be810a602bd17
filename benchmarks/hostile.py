"""What the worst inputs cost lptui, beside a well-formed one in the same run: for each input class
(module file, bundle, saved tree), the command a user would run on it, its wall time, its peak memory
(the child's own VmHWM, read as it exits) and what it answered. Not a timed test: a table to compare.

    .venv/bin/python benchmarks/hostile.py [--json FILE] [--only NAME] [--timeout S]

Every input is built here, from tests/hostile_files.py and tests/hostile_bundles.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = """
import atexit, sys
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(sys.argv[1], "w").write(line.split()[1])
atexit.register(peak)
from lptui.cli.main import main
code = main(sys.argv[2:])
peak()
sys.exit(code)
"""


def measure(argv: list[str], timeout: float) -> dict:
    """Run `lptui ARGV` in a child: seconds, peak KiB, exit code, the answer's last line."""
    with tempfile.NamedTemporaryFile("r") as hwm:
        began = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, "-c", CHILD, hwm.name, *argv],
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, "COLUMNS": "200"},
            )
        except subprocess.TimeoutExpired:
            return {
                "seconds": None,
                "peak_kib": None,
                "code": None,
                "said": f"still running at {timeout:.0f} s",
            }
        seconds = time.perf_counter() - began
        peak = hwm.read().strip()
    said = (done.stdout + done.stderr).strip().splitlines()
    return {
        "seconds": round(seconds, 2),
        "peak_kib": int(peak) if peak.isdecimal() else None,
        "code": done.returncode,
        "said": said[-1][:150] if said else "",
    }


def module_cases(work: Path) -> list[tuple[str, list[str]]]:
    from tests import hostile_files as h

    files = {
        "plain.ko (baseline)": h.plain_module(),
        "modinfo-60MB.ko.xz": h.xz_of(h.modinfo_pairs(60)),
        "symbols-10M.ko.gz": h.gzip_of(h.many_symbols(10_000_000)),
        "symbols-2.5M.ko.gz (under the cap)": h.gzip_of(h.many_symbols(2_500_000)),
        "relocations-10M.ko.gz": h.gzip_of(h.many_relocations(10_000_000)),
        "symbols-at-cap-4KiB-names.ko": h.many_symbols(32_767, name_length=4_096),
        "relocations-at-cap-4KiB-names.ko": h.many_relocations(65_536, name_length=4_096),
        "sections-at-cap-4KiB-names.ko": h.many_sections(16_380, name_length=4_096),
        "names-without-NUL-4MB.ko": h.unterminated_names(),
        "bomb-1GiB.ko.gz": h.gzip_of(module_then_zeros=1024),
        "bomb-1GiB.ko.xz": h.xz_of(module_then_zeros=1024),
        "bomb-1GiB.ko.zst": h.zstd_of(module_then_zeros=1024),
    }
    cases = []
    for name, data in files.items():
        path = h.write(work / name.split(" ")[0], data)
        cases.append((f"inspect {name} ({len(data):,} bytes)", ["inspect", str(path)]))
    return cases


def bundle_cases(work: Path) -> list[tuple[str, list[str]]]:
    from tests import hostile_bundles as b
    from tests.faketree import FakeKernel
    from tests.hostile_files import modinfo_pairs, xz_of

    files = {
        "capture.tar.gz (baseline)": b.gz(b.manifest(), b.member("proc/uptime", b"1 1\n"), b.end()),
        "500k-inodes.tar.gz (the bound)": b.most_inodes(),
        "sparse-map.tar.gz": b.sparse_map(),
        "400-chained-pax.tar.gz": b.extension_chain(400, b"x"),
        "400-chained-longnames.tar.gz": b.extension_chain(400, b"L"),
        "1200-nested-dirs.tar.gz": b.nested(),
        "400k-dirs.tar.gz": b.directories(),
        "15-files-of-64MiB-zeros.tar.gz": b.zero_files(),
        "two-gzip-members.tar.gz": b.two_members(with_end=False),
        "manifest-NaN.tar.gz": b.gz(
            b.manifest(b'{"lptui_version": "0.1", "captured_at_unix": NaN}'), b.end()
        ),
        "modinfo-bomb-in-patch-dir.tar.gz": b.gz(
            b.manifest(),
            b.member("proc/sys/kernel/osrelease", b"6.1.0-28-amd64\n"),
            b.member("var/lib/kpatch/6.1.0-28-amd64/lp.ko.xz", xz_of(modinfo_pairs(60))),
            b.end(),
        ),
    }
    cases = [
        (
            f"--root {name} status ({len(data):,} bytes)",
            ["--root", str(b.write(work / name.split(" ")[0], data)), "status"],
        )
        for name, data in files.items()
    ]
    fifo_tree = work / "fifo-tree"
    fake = FakeKernel(fifo_tree).kernel()
    fake.patch("lp", transition="1")
    fake.task(10, patch_state="0")
    for rel in ("sys/kernel/livepatch/lp/enabled", "proc/10/task/10/patch_state"):
        (fifo_tree / rel).unlink()
        os.mkfifo(fifo_tree / rel)
    cases.append(
        ("--root DIR status, FIFOs at enabled and a patch_state", ["--root", str(fifo_tree), "status"])
    )
    cases.append(
        ("--root DIR tasks, FIFOs at enabled and a patch_state", ["--root", str(fifo_tree), "tasks"])
    )
    return cases


def fake_prometheus(answer_mib: float) -> str:
    """A loopback server answering every instant query with a valid vector of `answer_mib` MiB (its
    hosts' names long enough to fill it): the most a round can be made to carry."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    item = '{"metric":{"instance":"h%07d:9839","patch":"%s"},"value":[1800000000.0,"1"]}'
    count = int(answer_mib * (1 << 20) / 300)
    body = (
        '{"status":"success","data":{"resultType":"vector","result":['
        + ",".join(item % (i, "p" * 200) for i in range(count))
        + "]}}"
    ).encode()

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    quiet = type("Quiet", (ThreadingHTTPServer,), {"handle_error": lambda self, *args: None})
    httpd = quiet(("127.0.0.1", 0), Answer)  # lptui hangs up once a round is over its bound
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_port}"


def fleet_cases() -> list[tuple[str, list[str]]]:
    cases = []
    for mib in (4, 60):
        url = fake_prometheus(mib)
        cases.append((f"fleet hosts, every answer {mib} MiB", ["fleet", "--prometheus", url, "hosts"]))
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="FILE", help="also write the numbers here")
    parser.add_argument("--only", metavar="TEXT", help="only the cases whose name holds TEXT")
    parser.add_argument("--timeout", type=float, default=60.0, help="give up on a case after S (60)")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="lptui-hostile-") as tmp:
        for name, argv in module_cases(Path(tmp)) + bundle_cases(Path(tmp)) + fleet_cases():
            if args.only and args.only not in name:
                continue
            results[name] = measure(argv, args.timeout)
            r = results[name]
            seconds = "-" if r["seconds"] is None else f"{r['seconds']:.2f} s"
            peak = "-" if r["peak_kib"] is None else f"{r['peak_kib'] / 1024:.0f} MiB"
            print(f"{name:60} {seconds:>9} {peak:>9}  exit {r['code']}: {r['said']}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
