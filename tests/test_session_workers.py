"""Workers kept for a series of builds (``watch``, ``serve``): ready for the build after a
save, and never handing one build what another left behind."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import pytest

from handbook.build import RENDERED, BuildOptions, build, pipeline, session_workers
from handbook.build.workers import Limits, Task, WorkerPool
from handbook.errors import HandbookError
from tests.conftest import pdf_text
from tests.test_limits import SLOW_LIMIT, TECHNIQUE, make_pathological

EDITED = "content/gliding.yaml"


def edited(project: Path, old: str, new: str) -> None:
    path = project / EDITED
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def first_step(project: Path) -> str:
    text = (project / EDITED).read_text(encoding="utf-8")
    return text.split("steps:\n  - ", 1)[1].split("\n", 1)[0]


def pids(pool: WorkerPool) -> set[int]:
    return {worker.process.pid for worker in pool.workers}


def _no_workers_of_its_own(*args, **kwargs):
    raise AssertionError("a build of a session started workers of its own")


def test_the_builds_of_a_session_render_in_the_same_workers(tiny_built, monkeypatch):
    project, out = tiny_built
    options = BuildOptions(out_dir=out)
    step = first_step(project)
    with session_workers(project, options) as workers:
        monkeypatch.setattr(pipeline, "_workers", _no_workers_of_its_own)
        started = pids(workers)
        for n in (1, 2):
            edited(project, step, f"{step} Edit {n}.")
            step = f"{step} Edit {n}."
            report = build(project, options, workers=workers)
            assert out / "cards/gliding.pdf" in [o.path for o in report.with_status(RENDERED)]
            assert f"Edit {n}." in " ".join(pdf_text(out / "cards/gliding.pdf").split())
        assert pids(workers) == started


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_a_run_left_unread_does_not_reach_the_next_one():
    with WorkerPool(2, Limits()) as pool:
        tasks = [
            Task("quick", "a.yaml", partial(abs, -1)),
            Task("slow", "b.yaml", partial(_sleep, 5)),
        ]
        run = pool.run(tasks)
        assert next(run).value == 1  # the slow task still running, as in a build that failed
        run.close()
        pool.settle()
        assert not any(worker.task for worker in pool.workers)
        [outcome] = pool.run([Task("next", "c.yaml", partial(abs, -3))])
        assert (outcome.task.name, outcome.value) == ("next", 3)


@pytest.mark.slow
def test_a_build_that_fails_leaves_the_session_workers_ready_for_the_fix(tiny_built):
    project, out = tiny_built
    original = (project / TECHNIQUE).read_text(encoding="utf-8")
    options = BuildOptions(out_dir=out, limits=Limits(seconds=SLOW_LIMIT))
    with session_workers(project, options) as workers:
        make_pathological(project)
        with pytest.raises(HandbookError):
            build(project, options, workers=workers)
        (project / TECHNIQUE).write_text(original, encoding="utf-8")
        step = first_step(project)
        edited(project, step, f"{step} Fixed.")
        build(project, options, workers=workers)
    assert "Fixed." in " ".join(pdf_text(out / "cards/gliding.pdf").split())
