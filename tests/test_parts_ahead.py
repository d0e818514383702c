"""The booklet's parts laid out side by side on the workers, when several must be laid
out again where the last build had them (a change to the styles, ``--force``)."""

from __future__ import annotations

import os
import time
from functools import partial

import pytest

from handbook.build import BuildOptions, booklet, build, makers
from handbook.build.jobs import read_and_plan
from handbook.build.workers import Limits, RunFirst, Task, WorkerPool
from handbook.errors import HandbookError, Problem
from handbook.project import open_project


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)  # long enough for every worker to take a run
    return os.getpid()


def _joined(values: list) -> list:
    return values


def _in_four() -> RunFirst:
    return RunFirst(tuple(partial(_pid_after, 0.3) for _ in range(4)), _joined, "waiting")


def _part_fails() -> None:
    raise HandbookError([Problem("content/part.yaml", 3, 1, "a part failed", "fix it")])


def _one_fails() -> RunFirst:
    return RunFirst((partial(_pid_after, 0.1), _part_fails), _joined)


def test_a_task_that_asks_for_runs_first_has_them_on_every_worker_then_its_last_step():
    tasks = [
        Task("booklet.pdf", "content/a.yaml", _in_four),
        Task("print.pdf", "content/a.yaml", partial(abs, -1), needs=("booklet.pdf",)),
    ]
    began = []
    with WorkerPool(2, Limits()) as pool:
        outcomes = {o.task.name: o for o in pool.run(tasks, began.append)}
    assert set(outcomes) == {"booklet.pdf", "print.pdf"}  # the runs are the task's own
    pids = outcomes["booklet.pdf"].value
    assert len(pids) == 4 and len(set(pids)) == 2
    assert outcomes["print.pdf"].value == 1
    assert [task.name for task in began] == ["booklet.pdf", "print.pdf"]


def test_a_run_that_fails_fails_its_task_with_its_problems():
    tasks = [
        Task("booklet.pdf", "content/a.yaml", _one_fails),
        Task("print.pdf", "content/a.yaml", partial(abs, -1), needs=("booklet.pdf",)),
    ]
    with WorkerPool(2, Limits()) as pool:
        outcomes = {o.task.name: o for o in pool.run(tasks)}
    [problem] = outcomes["booklet.pdf"].problems
    assert (problem.path, problem.line, problem.message) == (
        "content/part.yaml",
        3,
        "a part failed",
    )
    assert outcomes["print.pdf"].skipped


def test_parts_laid_out_ahead_are_the_parts_the_booklet_then_uses(tiny_copy, tmp_path, monkeypatch):
    """Every part laid out anew (``--force``), each where the last build had it, in runs
    of their own: the booklet then lays out none itself and is the same PDF."""
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    before = (out / "handbook.pdf").read_bytes()
    plan = read_and_plan(open_project(tiny_copy), BuildOptions(out_dir=out), (None,))
    [job] = [job for job in plan.editions[None].jobs if job.name == "handbook.pdf"]
    date, variant, marks, notes, context, _, _, source = job.make.args
    first = makers.make_booklet(date, variant, marks, notes, context, True, True, source, out)
    assert isinstance(first, RunFirst) and len(first.runs) >= 3  # every part
    laid = [run() for run in first.runs]

    def no_layout(*args, **kwargs):
        raise AssertionError("the booklet laid out a part itself")

    monkeypatch.setattr(booklet, "_lay_out", no_layout)
    made = first.then(laid)
    assert made.renders == len(first.runs)
    assert (out / "handbook.pdf").read_bytes() == before


@pytest.mark.parametrize("jobs", [1, 2])
def test_with_no_page_map_or_one_worker_nothing_is_laid_out_ahead(tiny_copy, tmp_path, jobs):
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    plan = read_and_plan(open_project(tiny_copy), BuildOptions(out_dir=out, jobs=jobs), (None,))
    [job] = [job for job in plan.editions[None].jobs if job.name == "handbook.pdf"]
    assert job.make.args[6] is (jobs > 1)  # whether it may lay out parts ahead
    date, variant, marks, notes, context, _, _, source = job.make.args
    empty = tmp_path / "empty"
    first = makers.make_booklet(date, variant, marks, notes, context, True, True, source, empty)
    assert not isinstance(first, RunFirst)  # a first build: no page map to go by
