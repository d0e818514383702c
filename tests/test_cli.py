"""The command line, through click's runner and as a real installed command."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from handbook.cli import cli
from tests.conftest import REPO, write


@pytest.mark.slow
def test_check_default_project():
    """The default content passes every check, the fit of each of its cards included."""
    result = CliRunner().invoke(cli, ["check", "--project", str(REPO)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok:")


def test_check_reports_every_problem_located_without_traceback(tmp_path):
    write(tmp_path / "handbook.yaml", "title: T\npaper: a3\n")
    write(tmp_path / "content" / "t.yaml", "kind: technique\nid: t\nname: T\nsteps: [a]\n")
    write(tmp_path / "content" / "u.yaml", "kind: technique\nid: [\n")
    result = CliRunner().invoke(cli, ["check", "--project", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "content/t.yaml:1:1: missing required field 'purpose'" in lines
    assert any(line.startswith("content/u.yaml:") for line in lines)
    assert any(line.startswith("handbook.yaml:2:8:") for line in lines)
    assert lines[-1] == "3 problems found."
    assert "Traceback" not in result.output


def test_unknown_option_value_is_a_usage_error():
    result = CliRunner().invoke(cli, ["build", "--project", str(REPO), "--paper", "a3"])
    assert result.exit_code == 2
    assert "'a3' is not one of" in result.output


def installed_command() -> str:
    found = shutil.which("handbook", path=str(Path(sys.executable).parent))
    return found or shutil.which("handbook") or ""


def test_installed_command_runs_in_a_project_folder(tmp_path):
    command = installed_command()
    assert command, "the 'handbook' command is not installed"
    write(tmp_path / "handbook.yaml", "title: T\n")
    write(tmp_path / "content" / "t.yaml", "kind: technique\nid: t\nname: T\nsteps: [a]\n")
    result = subprocess.run(
        [command, "check"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.startswith("content/t.yaml:1:1: missing required field 'purpose'")
    assert "Traceback" not in result.stderr
