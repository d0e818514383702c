"""Workers sized to the work: a rebuild starts as many render workers as it has outputs to make."""

from __future__ import annotations

from functools import partial

import pytest

from handbook.build import RENDERED, BuildOptions, build
from handbook.build import workers as worker_module


@pytest.fixture
def render_workers(monkeypatch) -> list[object]:
    """Every rendering worker the build starts (the planning worker has nothing to warm up:
    it imports no WeasyPrint)."""
    started: list[object] = []
    original = worker_module._Worker.__init__

    def counting(self, limits, warm_up):
        original(self, limits, warm_up)
        if warm_up is not None:
            started.append(self)

    monkeypatch.setattr(worker_module._Worker, "__init__", counting)
    return started


def test_a_rebuild_of_one_output_starts_one_worker(tiny_built, render_workers):
    project, out = tiny_built
    (out / "cards" / "gliding.pdf").unlink()
    report = build(project, BuildOptions(out_dir=out, jobs=4))
    assert [o.path.relative_to(out).as_posix() for o in report.with_status(RENDERED)] == [
        "cards/gliding.pdf"
    ]
    assert len(render_workers) == 1


def test_a_rebuild_with_outputs_to_make_side_by_side_starts_a_second_worker(
    tiny_built, render_workers
):
    project, out = tiny_built
    for card in ("gliding", "pressing"):
        (out / "cards" / f"{card}.pdf").unlink()
    report = build(project, BuildOptions(out_dir=out, jobs=4))
    assert len(report.with_status(RENDERED)) == 2
    assert len(render_workers) == 2


def _plans_ahead(name: str) -> str:
    """A planning task that tells its parent of the first output before the rest."""
    worker_module.tell_parent(name)
    return "planned"


def test_a_task_told_of_ahead_starts_before_the_plan_ends_and_runs_once():
    """The booklet starts as soon as it is planned, in a render worker, while the cards
    are still being planned; the render pool then runs it once among the rest."""
    limits = worker_module.Limits()
    started: list[str] = []
    with worker_module.WorkerPool(2, limits) as render, worker_module.WorkerPool(1, limits) as plan:

        def start(task, name):
            assert task.name == "plan"
            render.start_early(worker_module.Task(name, "handbook.yaml", partial(abs, -7)))

        planning = worker_module.Task("plan", "handbook.yaml", partial(_plans_ahead, "booklet"))
        [planned] = plan.run([planning], on_early=start)
        assert planned.value == "planned"
        assert list(render.early) == ["booklet"]
        tasks = [
            worker_module.Task("booklet", "handbook.yaml", partial(abs, -7)),
            worker_module.Task("print", "handbook.yaml", partial(abs, -8), needs=("booklet",)),
        ]
        outcomes = list(render.run(tasks, lambda task: started.append(task.name)))
    assert [(o.task.name, o.value) for o in outcomes] == [("booklet", 7), ("print", 8)]
    assert started == ["booklet", "print"]
