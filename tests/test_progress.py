"""What `handbook build` prints: a line per output, quiet and verbose, colour on a terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from handbook.cli import cli


@pytest.mark.slow
def test_a_line_per_rendered_output_then_a_summary(tiny_copy, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    project = ["--project", str(tiny_copy), "--out", str(out), "--card-size", "a6"]
    first = runner.invoke(cli, ["build", *project])
    assert first.exit_code == 0, first.output
    assert (out / "handbook.pdf").is_file() and (out / "cards.pdf").is_file()
    assert not (tiny_copy / "build").exists()
    lines = first.output.splitlines()
    assert any(line.startswith("rendered") and "handbook.pdf (" in line for line in lines)
    assert lines[-1].startswith(f"{len(lines) - 1} rendered in ")

    again = runner.invoke(cli, ["build", *project])
    assert again.output.splitlines() == [again.output.splitlines()[-1]]
    assert again.output.startswith(f"{len(lines) - 1} up to date in ")

    verbose = runner.invoke(cli, ["build", "--verbose", *project])
    assert (
        sum(line.startswith("up to date") for line in verbose.output.splitlines()) == len(lines) - 1
    )
    assert runner.invoke(cli, ["build", "--quiet", *project]).output == ""


def run_on_terminal(args: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    """What the command shows on a terminal: its output read from a pseudo-terminal
    while it runs (a live bar writes more than the terminal buffers)."""
    primary, secondary = os.openpty()
    command = [sys.executable, "-m", "handbook", *args]
    process = subprocess.Popen(command, stdout=secondary, env=env, cwd=cwd)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the command ended and closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert process.wait(timeout=60) == 0
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_unless_no_color(tiny_built):
    project, out = tiny_built
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    args = ["build", "--verbose", "--project", str(project), "--out", str(out)]
    assert "\x1b[" in run_on_terminal(args, env)
    plain = run_on_terminal(args, {**env, "NO_COLOR": "1"})
    assert "up to date" in plain and "\x1b[" not in plain


@pytest.mark.slow
def test_on_a_terminal_the_plan_a_live_bar_and_each_output(tiny_copy, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env |= {"TERM": "xterm", "COLUMNS": "200"}  # room to name what is rendering
    shown = run_on_terminal(["build"], env, cwd=tiny_copy)  # paths short enough to show
    summary = re.search(r"(\d+) rendered in [\d.]+ s\s*$", shown)
    assert summary, shown[-300:]
    outputs = int(summary[1])
    assert f"rendering {outputs} outputs in 2 workers" in shown
    assert f"{outputs}/{outputs}" in shown  # the bar's counter at its end
    assert "build/handbook.pdf, build/cards/" in shown  # what renders now, both workers busy
    assert "rendered    build/handbook.pdf (" in shown.replace("\x1b[0m", "").replace(
        "\x1b[1;32m", ""
    )


@pytest.mark.slow
def test_no_live_bar_on_a_dumb_terminal_or_when_quiet(tiny_copy, tmp_path):
    env = dict(os.environ) | {"TERM": "dumb"}
    out = tmp_path / "out"
    shown = run_on_terminal(["build", "--project", str(tiny_copy), "--out", str(out)], env)
    assert "rendering" not in shown and "\r" not in shown.replace("\r\n", "\n")
    quiet = run_on_terminal(
        ["build", "--quiet", "--project", str(tiny_copy), "--out", str(out)], env
    )
    assert quiet == ""
