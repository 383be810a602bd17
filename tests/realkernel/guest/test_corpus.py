"""Issue 30's "done when" on the real kernel: every module file the suite builds, for this kernel and for
the other one, is either refused by `inspect` or taken by the kernel; none is called loadable and then
refused, and no livepatch module is refused by `inspect` and then taken by the kernel (a plain module is
refused by `lptui load`, which loads livepatches only, and the kernel takes it: that is no contradiction).
Each file is inspected on a clean kernel, then given to `insmod`; what each said goes to corpus.jsonl in
the guest's out directory."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
from pathlib import Path

from lptui.cli.main import main
from tests.realkernel.guest.kmod import LP, MODULES, cleanup, read, wait_for

OUT = Path(os.environ.get("LPTUI_GUEST_OUT", "/tmp"))


def inspect_json(path: Path) -> tuple[int, dict]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["inspect", str(path), "--json"])
    return code, json.loads(out.getvalue())


def test_every_file_of_the_corpus_is_refused_by_inspect_or_taken_by_the_kernel():
    other = Path(os.environ["LPTUI_GUEST_OTHER_MODULES"])
    files = sorted(MODULES.glob("*.ko")) + sorted(other.glob("*.ko"))
    assert len(files) >= 40, files
    rows, wrong = [], []
    for path in files:
        cleanup()
        code, said = inspect_json(path)
        done = subprocess.run(["insmod", str(path)], capture_output=True, text=True)
        name = path.stem
        if done.returncode == 0 and (LP / name).exists():
            wait_for(lambda n=name: read(LP / n / "transition") == "0", what=f"{name}'s transition")
        livepatch = said["livepatch"]
        kernel = done.stderr.strip()
        rows.append(
            {
                "file": str(path),
                "livepatch": livepatch,
                "inspect": code,
                "insmod": done.returncode,
                "kernel": kernel,
            }
        )
        if code == 0 and done.returncode != 0:
            wrong.append(f"{path}: inspect said loadable, the kernel refused it: {done.stderr.strip()}")
        if code == 4 and done.returncode == 0 and livepatch:  # a plain module: lptui loads livepatches only
            errors = [c["text"] for c in said["checks"] if c["level"] == "error"]
            wrong.append(f"{path}: inspect refused it, the kernel took it ({errors})")
        if done.returncode == 0:
            with contextlib.suppress(AssertionError):  # a plain module may hold nothing to disable
                cleanup()
            if Path(f"/sys/module/{name}").exists():
                subprocess.run(["rmmod", name], capture_output=True)
    (OUT / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cleanup()
    assert wrong == [], wrong
    assert any(r["inspect"] == 4 and r["insmod"] != 0 for r in rows)  # the refusals are real ones
    assert any(r["inspect"] == 0 and r["insmod"] == 0 for r in rows)
