"""What `handbook build` prints: a line per output, quiet and verbose, colour on a terminal."""

from __future__ import annotations

import os
import subprocess
import sys

from click.testing import CliRunner

from handbook.cli import cli


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


def run_on_terminal(args: list[str], env: dict[str, str]) -> str:
    primary, secondary = os.openpty()
    done = subprocess.run(
        [sys.executable, "-m", "handbook", *args], stdout=secondary, env=env, timeout=60
    )
    os.close(secondary)
    output = os.read(primary, 65536).decode()
    os.close(primary)
    assert done.returncode == 0
    return output


def test_colour_on_a_terminal_unless_no_color(tiny_built):
    project, out = tiny_built
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    args = ["build", "--verbose", "--project", str(project), "--out", str(out)]
    assert "\x1b[" in run_on_terminal(args, env)
    plain = run_on_terminal(args, {**env, "NO_COLOR": "1"})
    assert "up to date" in plain and "\x1b[" not in plain
