"""Exit statuses: 0 done, 1 problems in the project, 2 a wrong command line, 130 Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import handbook.build
import handbook.build.watch
from handbook.cli import INTERRUPTED, BleedLength, cli
from tests.conftest import TINY


def press_ctrl_c(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_dash_h_is_help_on_every_command(command):
    result = CliRunner().invoke(cli, [command, "-h"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: cli {command} ")


def test_dash_h_is_help_on_the_group():
    result = CliRunner().invoke(cli, ["-h"])
    assert result.exit_code == 0
    assert "Commands:" in result.output


@pytest.mark.parametrize("length", ["3mm", "0.125in", "9pt", "1.5cm"])
def test_bleed_lengths_with_a_unit_are_accepted(length):
    assert BleedLength().convert(length, None, None) == length


@pytest.mark.parametrize("length", ["3", "3 mm", "-3mm", "3px", "mm"])
def test_a_bleed_without_a_valid_unit_is_a_usage_error_before_any_work(tmp_path, length):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["build", "--project", str(TINY), "--out", str(out), "--bleed", length]
    )
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '--bleed': '{length}' is not a bleed length" in result.output
    assert "such as 3mm, 0.125in or 9pt" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("where", "command"),
    [
        ("build", ["build", "--project", str(TINY)]),
        ("check_cards", ["check", "--project", str(TINY)]),
        ("check_project", ["check", "--no-cards", "--project", str(TINY)]),
    ],
)
def test_ctrl_c_exits_130_with_one_line(monkeypatch, where, command):
    monkeypatch.setattr(handbook.build, where, press_ctrl_c)
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == INTERRUPTED == 130
    assert result.output.strip() == "interrupted"


def test_ctrl_c_during_inits_first_build_exits_130(monkeypatch, tmp_path):
    monkeypatch.setattr(handbook.build, "build", press_ctrl_c)
    result = CliRunner().invoke(cli, ["init", "--quiet", str(tmp_path / "new")])
    assert result.exit_code == 130
    assert result.output.strip() == "interrupted"


def test_ctrl_c_is_how_watch_stops_so_it_exits_0(monkeypatch):
    monkeypatch.setattr(handbook.build.watch, "watch", press_ctrl_c)
    result = CliRunner().invoke(cli, ["watch", "--project", str(TINY)])
    assert result.exit_code == 0, result.output
    assert result.output == "stopped watching\n"


@pytest.mark.slow
def test_ctrl_c_in_a_real_build_stops_it_without_a_traceback(tiny_copy: Path):
    """SIGINT to the whole process group, as a terminal sends it, once rendering has begun."""
    build = subprocess.Popen(
        [sys.executable, "-m", "handbook", "build", "--jobs", "1", "--project", str(tiny_copy)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        first = build.stdout.readline()  # the first output is written; others are rendering
        os.killpg(build.pid, signal.SIGINT)
        rest, err = build.communicate(timeout=120)
    finally:
        build.kill()
    assert first.startswith("rendered"), first + rest + err
    assert build.returncode == 130, first + rest + err
    assert err.strip().endswith("interrupted")
    assert "Traceback" not in err


@pytest.mark.parametrize(("code", "status", "said"), [(None, 0, ""), (3, 3, ""), ("bad", 1, "bad")])
def test_the_command_line_ends_at_once_after_the_exit_functions(code, status, said):
    """main() ends the process without freeing the interpreter's objects, but only after
    the exit functions ran (temporary folders go then) and the output is out."""
    script = (
        "import atexit, sys, tempfile, handbook.cli as cli\n"
        "folder = tempfile.TemporaryDirectory()\n"
        "atexit.register(lambda: print('exit functions ran'))\n"
        "print(folder.name)\n"
        "sys.stdout.write('unflushed')\n"
        f"cli.end_now({code!r})\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == status
    folder, rest = run.stdout.split("\n", 1)
    assert rest == "unflushedexit functions ran\n"
    assert not Path(folder).exists()
    assert run.stderr.strip() == said


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_output_the_command_line_cannot_write_out_ends_with_status_120_as_python_does():
    script = "import sys, handbook.cli as cli\nsys.stdout.write('x' * 100)\ncli.end_now(0)\n"
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open("/dev/full", "w") as full:
        run = subprocess.run([sys.executable, "-c", script], stdout=full, env=environment)
    assert run.returncode == 120
