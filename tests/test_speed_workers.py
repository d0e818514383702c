"""Workers sized to the work: a rebuild starts as many render workers as it has outputs to make."""

from __future__ import annotations

import pytest

from handbook.build import RENDERED, BuildOptions, build
from handbook.build import workers as worker_module


@pytest.fixture
def render_workers(monkeypatch) -> list[object]:
    """Every rendering worker the build starts (the planning worker has nothing to warm up:
    it imports no WeasyPrint)."""
    started: list[object] = []
    original = worker_module._Worker.__init__

    def counting(self, limits, warm_up, *zygote):
        original(self, limits, warm_up, *zygote)
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
