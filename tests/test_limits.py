"""Each render runs in a worker under a time and a memory limit; the old PDFs stay."""

from __future__ import annotations

import subprocess
import sys
import time
import weakref
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner

from handbook.build import FAILED, BuildOptions, build, check
from handbook.build.workers import (
    MAX_MEMORY_MB,
    MAX_SECONDS,
    Limits,
    Task,
    WorkerPool,
    _alarm,
    at_most,
    default_jobs,
    run_tasks,
)
from handbook.cli import cli
from handbook.errors import HandbookError, OutOfTime
from tests.conftest import REPO, write
from tests.hostile import mini_project

TECHNIQUE = "content/gliding.yaml"
# Enough to read the project and fill in its templates, too little for the slow card.
SLOW_LIMIT = 2.5
# Steps of the slow card: laid out in several times the limit (a hundred took 1.7 s once
# workers loaded WeasyPrint faster), so that it times out on any machine.
STEPS = 500


def pdf_bytes(out: Path) -> dict[str, bytes]:
    """The output PDFs (not the build's own kept parts in hidden folders such as .parts/,
    which a failed build may add to: a booklet part laid out before the card failed)."""
    paths = [p for p in out.rglob("*.pdf") if not p.relative_to(out).parts[0].startswith(".")]
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in paths}


def make_pathological(project: Path) -> None:
    """Long steps of one unbreakable word each: a card far slower to lay out than the limit."""
    path = project / TECHNIQUE
    steps = "".join(f"  - {'Knead' * 400}{n}\n" for n in range(STEPS))
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition("steps:\n")
    rest = rest[rest.index("never:") :]
    path.write_text(f"{head}steps:\n{steps}{rest}", encoding="utf-8")


@pytest.fixture
def built(tiny_built: tuple[Path, Path]) -> tuple[Path, Path, dict[str, bytes]]:
    """The tiny project, its up-to-date outputs, and their bytes."""
    project, out = tiny_built
    return project, out, pdf_bytes(out)


@pytest.mark.slow
def test_a_render_over_the_time_limit_is_a_located_error_and_the_old_pdf_stays(built):
    project, out, before = built
    make_pathological(project)
    options = BuildOptions(out_dir=out, limits=Limits(seconds=SLOW_LIMIT))
    with pytest.raises(HandbookError) as caught:
        build(project, options)
    [problem] = [p for p in caught.value.problems if p.path == TECHNIQUE]
    assert f"cards/gliding.pdf took longer than the time limit of {SLOW_LIMIT} s" in problem.message
    assert "--time-limit" in problem.hint
    assert pdf_bytes(out) == before


@pytest.mark.slow
def test_the_cli_reports_the_limit_without_a_traceback(built):
    project, out, before = built
    make_pathological(project)
    result = CliRunner().invoke(
        cli,
        ["build", "--project", str(project), "--out", str(out), "--time-limit", str(SLOW_LIMIT)],
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


class _Held:
    """Something whose weak reference runs a callback when it goes."""


def _busy_for(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_the_time_limit_still_stops_a_task_when_its_first_alarm_was_dropped(monkeypatch):
    """Python drops an exception raised inside a weakref callback (the import system's
    module locks have one); the alarm must ring again, or the task runs on past its
    limit, and the dropped one is not printed as a traceback."""
    printed = []
    monkeypatch.setattr(sys, "unraisablehook", printed.append)
    held = _Held()
    ref = weakref.ref(held, lambda _: _busy_for(0.3))
    with pytest.raises(OutOfTime), _alarm(0.05):
        del held  # the callback runs now, and the alarm rings inside it
        time.sleep(1)
    assert ref() is None
    assert printed == []
    assert sys.unraisablehook == printed.append  # as it was


def test_the_alarm_raises_once_while_a_handler_says_where_the_task_was():
    with pytest.raises(OutOfTime) as raised, _alarm(0.05):
        try:
            time.sleep(1)
        except OutOfTime as exc:
            exc.where = ("templates/card.html.j2", 3)
            _busy_for(0.3)  # several rings, none of which may replace it
            raise
    assert raised.value.where == ("templates/card.html.j2", 3)


def test_work_a_worker_may_give_up_stops_quietly_at_its_budget():
    started = time.monotonic()
    with at_most(0.05):
        time.sleep(2)
    assert time.monotonic() - started < 1


# Work driven by project content that happens before any render: reading the YAML
# and filling in the templates. It runs in a worker too, under the same limits.

ENDLESS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
GREEDY = '{% set text = "x" * 1000000000 %}{{ text | length }}'
EARLIER = b"%PDF-1.7 earlier output\n"


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """The smallest project with a card, and an earlier booklet in its output folder."""
    root = mini_project(tmp_path / "mini")
    (root / "build").mkdir()
    (root / "build" / "handbook.pdf").write_bytes(EARLIER)
    return root


def test_an_endless_template_stops_at_the_time_limit_in_build_and_check(mini):
    write(mini / "templates" / "card-technique.html.j2", ENDLESS)
    started = time.monotonic()
    for command in (["build"], ["check"], ["check", "--no-cards"]):
        result = CliRunner().invoke(cli, [*command, "--project", str(mini), "--time-limit", "1"])
        if command == ["check", "--no-cards"]:  # no template is filled in
            assert result.exit_code == 0
            continue
        assert result.exit_code == 1, result.output
        assert result.output.startswith(
            "templates/card-technique.html.j2:1:1: reading the project and its templates "
            "took longer than the time limit of 1 s\n"
            "    hint: it was here when time ran out: look for a loop that runs too long, "
            "or raise the limit with --time-limit\n"
        )
    assert time.monotonic() - started < 30
    assert (mini / "build" / "handbook.pdf").read_bytes() == EARLIER


def test_a_greedy_template_stops_at_the_memory_limit(mini):
    write(mini / "templates" / "card-technique.html.j2", GREEDY)
    for command in ("build", "check"):
        result = CliRunner().invoke(cli, [command, "--project", str(mini), "--memory-limit", "256"])
        assert result.exit_code == 1
        assert "templates/card-technique.html.j2:1:1: template error: MemoryError" in result.output
    assert not (mini / "build" / "cards").exists()


def test_a_render_over_the_memory_limit_is_a_located_error_and_the_old_pdf_stays(mini):
    """Run as a command of its own: forked from this test process, whose address space
    is large, the worker reading the project would not fit in the limit already."""
    command = [sys.executable, "-m", "handbook", "build", "--project", str(mini)]
    result = subprocess.run(
        [*command, "--memory-limit", "150"], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 1
    assert "content/gliding.yaml: rendering cards/gliding.pdf " in result.stderr
    assert "memory limit of 150 MB" in result.stderr
    assert "Traceback" not in result.stderr
    assert (mini / "build" / "handbook.pdf").read_bytes() == EARLIER


def test_reading_a_large_project_stops_at_the_time_limit(mini):
    # Many small values: each is a node to compose and a field to check.
    sections = "".join(f"  - {{title: Step {n}, body: Glide, then rest.}}\n" for n in range(20_000))
    for n in range(3):
        write(
            mini / "content" / f"long{n}.yaml",
            f"kind: chapter\nid: long{n}\ntitle: Long\nsections:\n" + sections,
        )
    with pytest.raises(HandbookError) as caught:
        check(mini, Limits(seconds=0.2))
    [problem] = caught.value.problems
    assert "reading the project and its templates took longer" in problem.message


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--time-limit", "nan", "'nan' is not a number of seconds"),
        ("--time-limit", "inf", "inf is not in the range"),
        ("--time-limit", "1e400", "inf is not in the range"),
        ("--time-limit", "0", "0.0 is not in the range"),
        ("--memory-limit", "9" * 30, "is not in the range 64<=x<="),
        ("--memory-limit", "63", "63 is not in the range"),
        ("--jobs", "0", "0 is not in the range x>=1"),
    ],
)
def test_limits_that_mean_nothing_are_usage_errors(tmp_path, option, value, says):
    result = CliRunner().invoke(cli, ["build", "--project", str(tmp_path), option, value])
    assert result.exit_code == 2
    assert says in result.output
    assert "Traceback" not in result.output


def test_limits_beyond_any_machine_still_build(tmp_path):
    limits = Limits(seconds=MAX_SECONDS, memory_mb=MAX_MEMORY_MB)
    [outcome] = run_tasks([Task("one.pdf", "content/one.yaml", partial(abs, -1))], 1, limits)
    assert outcome.value == 1


def test_many_jobs_start_no_more_workers_than_there_is_work_for():
    with WorkerPool(10_000, Limits()) as pool:
        assert len(pool.workers) <= default_jobs()
        tasks = [Task(f"{n}.pdf", "content/x.yaml", partial(abs, -n)) for n in range(3)]
        assert sorted(outcome.value for outcome in pool.run(tasks)) == [0, 1, 2]
        assert len(pool.workers) <= max(3, default_jobs())


def test_a_task_made_from_many_files_names_the_largest_when_it_runs_out_of_time():
    booklet = Task(
        "handbook.pdf",
        "handbook.yaml",
        partial(time.sleep, 60),
        suspects=("content/huge.yaml", "content/big.yaml"),
    )
    [outcome] = run_tasks([booklet], 1, Limits(seconds=0.5))
    [problem] = outcome.problems
    assert problem.hint == (
        "shorten what it is made from (the largest: content/huge.yaml, content/big.yaml), "
        "or raise the limit with --time-limit if it is expected"
    )


def test_a_template_making_too_much_html_is_a_located_problem(mini):
    write(
        mini / "templates" / "card-technique.html.j2",
        '{% for i in range(70000) %}{{ "x" * 1000 }}{% endfor %}',
    )
    result = CliRunner().invoke(cli, ["check", "--project", str(mini)])
    assert result.exit_code == 1
    assert result.output.startswith(
        "content/gliding.yaml: the templates made 66 MiB of HTML for one document, "
        "over the 64 MiB limit\n"
    )


def _wrapped_memory_error() -> None:
    try:
        raise MemoryError
    except MemoryError as exc:
        raise ValueError("URLFetchingError: MemoryError: ") from exc


def test_a_memory_error_a_library_wraps_is_the_memory_limit_not_a_crash():
    [outcome] = run_tasks([Task("a.pdf", "content/a.yaml", _wrapped_memory_error)], 1, Limits())
    [problem] = outcome.problems
    assert problem.message == "rendering a.pdf needed more than the memory limit of 3072 MB"


@pytest.mark.parametrize("translated", [False, True])
def test_a_huge_handbook_yaml_is_read_under_the_time_limit_too(mini, translated):
    """Composing this much YAML takes seconds (a tenth of that allowed); the build's own
    process reads none of it (not even to find the theme, nor for a translation's edition)."""
    if translated:
        write(mini / "translations" / "de" / "handbook.yaml", "title: Mini auf Deutsch\n")
    keys = "".join(f"  k{n}: [a, b, c, d, e, f, g, h]\n" for n in range(28_000))
    write(mini / "handbook.yaml", f"title: Mini\noutline: [techniques]\nlabels:\n{keys}")
    started = time.monotonic()
    with pytest.raises(HandbookError) as caught:
        build(mini, BuildOptions(limits=Limits(seconds=0.3)))
    assert time.monotonic() - started < 15
    [problem] = caught.value.problems
    assert "reading the project and its templates took longer" in problem.message
    assert "(the largest: handbook.yaml, content/gliding.yaml)" in problem.hint
    assert (mini / "build" / "handbook.pdf").read_bytes() == EARLIER
