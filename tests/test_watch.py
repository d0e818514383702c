"""Watch mode: a bad edit reports its error and keeps the old PDF; the fix rebuilds."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from handbook.build import BuildOptions, BuildReport
from handbook.build.watch import watch
from handbook.errors import HandbookError

TECHNIQUE = "content/gliding.yaml"

# Real time passes here (debounce, file events, a watch process): the slow tier.
pytestmark = pytest.mark.slow


def booklet_text(out: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(out / "handbook.pdf").pages)


def test_watch_survives_a_bad_edit_and_rebuilds_after_the_fix(tiny_copy):
    out = tiny_copy / "build"
    results: queue.Queue = queue.Queue()
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch,
        args=(tiny_copy, BuildOptions(), results.put),
        kwargs={"stop_event": stop, "debounce_ms": 100},
    )
    watcher.start()
    try:
        assert isinstance(results.get(timeout=60), BuildReport)
        good = (out / "handbook.pdf").read_bytes()
        technique = tiny_copy / TECHNIQUE
        text = technique.read_text(encoding="utf-8")

        technique.write_text(text.replace("level: 1", "level: 9"), encoding="utf-8")
        error = results.get(timeout=30)
        assert isinstance(error, HandbookError)
        [syntax] = [p for p in error.problems if p.path == TECHNIQUE]
        assert syntax.line == text.splitlines().index("level: 1") + 1
        assert (out / "handbook.pdf").read_bytes() == good

        # Rapid saves, as an editor makes them, settle into one rebuild.
        for oil in ("olive", "almond", "sesame"):
            technique.write_text(text.replace("Glide slowly", f"Glide {oil}"), encoding="utf-8")
        fixed = results.get(timeout=60)
        assert isinstance(fixed, BuildReport)
        assert "Glide sesame" in booklet_text(out)
        # Neither the later saves nor writing the outputs sets off another build.
        time.sleep(0.5)
        assert results.empty()
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert not watcher.is_alive()


def test_ctrl_c_stops_the_watch_command_cleanly(tiny_copy):
    process = subprocess.Popen(
        [sys.executable, "-m", "handbook", "watch", "--project", str(tiny_copy)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    line = ""
    while "watching for changes" not in line and time.monotonic() < deadline:
        line = process.stdout.readline()
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "stopped watching" in stdout
    assert "Traceback" not in stderr
