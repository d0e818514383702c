"""Each render runs in a worker under a time and a memory limit; the old PDFs stay."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner

from handbook.build import FAILED, BuildOptions, build
from handbook.build.workers import Limits, Task, run_tasks
from handbook.cli import cli
from handbook.errors import HandbookError

TECHNIQUE = "content/gliding.yaml"


def pdf_bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.pdf")}


def make_pathological(project: Path) -> None:
    """Forty long steps of one unbreakable word each: a slow card to lay out."""
    path = project / TECHNIQUE
    steps = "".join(f"  - {'Knead' * 400}{n}\n" for n in range(40))
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition("steps:\n")
    rest = rest[rest.index("never:") :]
    path.write_text(f"{head}steps:\n{steps}{rest}", encoding="utf-8")


@pytest.fixture
def built(tiny_built: tuple[Path, Path]) -> tuple[Path, Path, dict[str, bytes]]:
    """The tiny project, its up-to-date outputs, and their bytes."""
    project, out = tiny_built
    return project, out, pdf_bytes(out)


def test_a_render_over_the_time_limit_is_a_located_error_and_the_old_pdf_stays(built):
    project, out, before = built
    make_pathological(project)
    options = BuildOptions(out_dir=out, limits=Limits(seconds=0.05))
    with pytest.raises(HandbookError) as caught:
        build(project, options)
    [problem] = [p for p in caught.value.problems if p.path == TECHNIQUE]
    assert "cards/gliding.pdf took longer than the time limit of 0.05 s" in problem.message
    assert "--time-limit" in problem.hint
    assert pdf_bytes(out) == before


def test_a_render_over_the_memory_limit_is_a_located_error_and_the_old_pdf_stays(built):
    project, out, before = built
    make_pathological(project)
    options = BuildOptions(out_dir=out, limits=Limits(memory_mb=64))
    with pytest.raises(HandbookError) as caught:
        build(project, options)
    [problem] = [p for p in caught.value.problems if p.path == TECHNIQUE]
    assert "memory limit of 64 MB" in problem.message
    assert pdf_bytes(out) == before


def test_the_cli_reports_the_limit_without_a_traceback(built):
    project, out, before = built
    make_pathological(project)
    result = CliRunner().invoke(
        cli, ["build", "--project", str(project), "--out", str(out), "--time-limit", "0.05"]
    )
    assert result.exit_code == 1
    assert f"{TECHNIQUE}: rendering cards/gliding.pdf took longer" in result.output
    assert "Traceback" not in result.output
    assert f"{FAILED:<11} " in result.output
    assert pdf_bytes(out) == before


def _sleep_forever() -> None:
    time.sleep(60)


def test_a_stuck_worker_is_killed_and_the_other_tasks_still_run():
    tasks = [
        Task("stuck.pdf", "content/stuck.yaml", _sleep_forever),
        Task("fine.pdf", "content/fine.yaml", partial(abs, -1)),
        Task("after.pdf", "content/after.yaml", partial(abs, -2), needs=("fine.pdf",)),
        Task("blocked.pdf", "content/blocked.yaml", partial(abs, -3), needs=("stuck.pdf",)),
    ]
    outcomes = {o.task.name: o for o in run_tasks(tasks, 2, Limits(seconds=0.5))}
    assert outcomes["fine.pdf"].value == 1
    assert outcomes["after.pdf"].value == 2
    assert outcomes["blocked.pdf"].skipped
    [problem] = outcomes["stuck.pdf"].problems
    assert problem.path == "content/stuck.yaml"
    assert outcomes["stuck.pdf"].seconds < 5
