"""Problems and outputs for editors and CI: JSON lines, GitHub annotations; the
project found from a subfolder; shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from handbook.cli import cli
from tests.conftest import write


def _broken(root: Path) -> Path:
    write(root / "handbook.yaml", "title: T\n")
    write(
        root / "content" / "t.yaml",
        "kind: technique\nid: t\nname: T, more\nsteps: [a]\nlevel: 11\n",
    )
    (root / "content" / "deep").mkdir()
    return root


def _run(args: list[str], cwd: Path):
    here = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, args)
    finally:
        os.chdir(here)


def test_json_prints_one_object_per_problem(tmp_path: Path) -> None:
    result = _run(["check", "--no-cards", "--format", "json"], _broken(tmp_path))
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records == [
        {
            "type": "problem",
            "path": "content/t.yaml",
            "line": 1,
            "column": 1,
            "message": "missing required field 'purpose'",
            "hint": "add 'purpose: ...' here",
        },
        {
            "type": "problem",
            "path": "content/t.yaml",
            "line": 5,
            "column": 8,
            "message": "'level' can be at most 10, not 11",
            "hint": None,
        },
    ]
    assert result.stderr == ""


def test_github_annotations_mark_the_file_from_a_subfolder(tmp_path: Path) -> None:
    root = _broken(tmp_path)
    result = _run(["check", "--no-cards", "--format", "github"], root / "content" / "deep")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=../t.yaml,line=1,col=1::missing required field 'purpose'%0A"
        "hint: add 'purpose: ...' here",
        "::error file=../t.yaml,line=5,col=8::'level' can be at most 10, not 11",
    ]
    assert result.stderr.splitlines()[-1] == "2 problems found."


def test_the_project_is_found_above_the_current_folder(tmp_path: Path) -> None:
    write(tmp_path / "handbook.yaml", "title: T\noutline: []\n")
    write(tmp_path / "content" / "c.yaml", "kind: chapter\nid: c\ntitle: C\ncard: true\n")
    result = _run(["check", "--no-cards", "--format", "json"], tmp_path / "content")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["type"], summary["ok"], summary["counts"]["chapters"]) == ("summary", True, 1)


def test_an_explicit_project_is_not_searched_upward(tmp_path: Path) -> None:
    root = _broken(tmp_path)
    result = _run(["check", "--project", "content"], root)
    assert result.exit_code == 1
    assert "no handbook project here (handbook.yaml is missing)" in result.stderr


@pytest.mark.slow
def test_json_build_reports_each_output(tmp_path: Path, tiny_copy: Path) -> None:
    result = _run(["build", "--format", "json"], tiny_copy)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    outputs = {r["path"]: r for r in records if r["type"] == "output"}
    assert outputs["build/handbook.pdf"]["status"] == "rendered"
    assert outputs["build/handbook.pdf"]["pages"] > 1
    assert records[-1]["type"] == "summary"
    assert records[-1]["counts"]["rendered"] == len(outputs)


def test_shell_completion_completes_commands_and_options() -> None:
    env = os.environ | {
        "_HANDBOOK_COMPLETE": "bash_complete",
        "COMP_WORDS": "handbook check --fo",
        "COMP_CWORD": "2",
    }
    command = [sys.executable, "-m", "handbook"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert "plain,--format" in done.stdout.splitlines()
