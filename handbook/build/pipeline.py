"""The coordinator: read the project, plan the outputs, render the stale ones, record them.

Every output is a :class:`~handbook.build.jobs.Job` with a hash of its inputs;
the stale ones render in worker processes (:mod:`handbook.build.workers`), in
parallel and under a time and memory limit. Everything is checked before
anything is written; each output is written atomically, and an output that
fails does not stop the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from handbook import engine
from handbook.build.cache import BuildCache
from handbook.build.inputs import source_stamp
from handbook.build.output import build_lock
from handbook.build.report import (
    FAILED,
    NOT_REBUILT,
    UP_TO_DATE,
    BuildReport,
    CardFit,
    OutputResult,
)
from handbook.build.workers import (
    PLANNING_MODULES,
    Limits,
    Outcome,
    Task,
    WorkerPool,
    default_jobs,
)
from handbook.errors import HandbookError, Problem
from handbook.press.format import Format, resolve_format
from handbook.project import OUTPUT_DIR, Project, open_project

# Loading, validating and templating (pydantic, Jinja) are imported when a
# build needs them, so a build with nothing to do finishes in a blink.
if TYPE_CHECKING:
    from handbook.build.jobs import Job, Plan
    from handbook.content.validate import Handbook


@dataclass(frozen=True)
class BuildOptions:
    out_dir: Path | None = None  # default: <project>/build
    paper: str | None = None  # default: handbook.yaml's paper
    card_size: str | None = None  # default: handbook.yaml's card_size
    sheet: str | None = None  # card sheets on "a4" or "letter"; default: from the paper
    duplex: bool = False  # card sheets with each card's back on the reverse
    png: bool = False  # also write build/png/: a PNG per card and a contact sheet
    bleed: str | None = None  # e.g. "3mm" around the booklet's pages, for a print shop
    marks: bool = False  # crop marks on the booklet's pages
    pdf_variant: str | None = None  # one of engine.PDF_VARIANTS, such as "pdf/a-3b"
    force: bool = False  # render every output, even those that are up to date
    jobs: int | None = None  # worker processes; default: one per core
    limits: Limits = field(default_factory=Limits)

    def format_for(self, handbook: Handbook) -> Format:
        """The print format: these options where given, else handbook.yaml's settings."""
        settings = handbook.settings
        paper = self.paper or settings.paper
        card = self.card_size or settings.card_size
        return resolve_format(paper, card, handbook.design.bleed_mm, self.sheet)


@dataclass
class CheckReport:
    handbook: Handbook
    cards: list[CardFit] = field(default_factory=list)  # empty unless cards were laid out


def check(project_dir: Path, limits: Limits | None = None) -> Handbook:
    """Validate a project without rendering; raises HandbookError listing every problem.

    The project is read in a worker, under the limits of a build.
    """
    from handbook.build.jobs import read_only

    project = open_project(project_dir)
    return _planned(project, limits or Limits(), partial(read_only, project)).handbook


def check_cards(project_dir: Path, options: BuildOptions = BuildOptions()) -> CheckReport:
    """Validate a project and lay out every card as the build would, writing nothing.

    The cards are laid out in the same workers and under the same limits as a
    build. Raises HandbookError naming every problem, such as a card too long
    for one page.
    """
    from handbook.build.jobs import read_and_plan_checks

    project = open_project(project_dir)
    with _workers(options) as pool:
        planned = _planned(project, options.limits, partial(read_and_plan_checks, project, options))
        handbook, tasks, problems = planned.handbook, planned.tasks, planned.problems
        fits = []
        for outcome in pool.run(tasks):
            problems += outcome.problems
            if outcome.ok:
                fits.append(CardFit(outcome.task.name, outcome.value.scale))
    if problems:
        raise HandbookError(problems)
    order = {task.name: index for index, task in enumerate(tasks)}
    return CheckReport(handbook, sorted(fits, key=lambda fit: order[fit.id]))


def build(
    project_dir: Path,
    options: BuildOptions = BuildOptions(),
    on_output: Callable[[OutputResult], None] | None = None,
) -> BuildReport:
    """Bring every output up to date; ``on_output`` hears of each as it is settled.

    Raises HandbookError (after writing what it could) if any output failed.
    """
    project = open_project(project_dir)
    out_dir = options.out_dir or _default_out_dir(project)
    with build_lock(out_dir):
        return _Build(project, out_dir, options, on_output).run()


@dataclass
class _Build:
    """One build of one project into one output folder."""

    project: Project
    out_dir: Path
    options: BuildOptions
    on_output: Callable[[OutputResult], None] | None
    report: BuildReport = field(default_factory=BuildReport)

    def run(self) -> BuildReport:
        cache = BuildCache(self.out_dir)
        sources = source_stamp(self.project, self.options)
        if self._nothing_changed(cache, sources):
            return self.report
        cache.sources = None
        from handbook.build.jobs import read_and_plan

        with _workers(self.options) as pool:
            plan = partial(read_and_plan, self.project, self.options)
            planned = _planned(self.project, self.options.limits, plan)
            jobs, self.report.problems = planned.tasks, planned.problems
            stale = self._settle_fresh(jobs, cache)
            try:
                self._render(pool, stale, cache)
                if not self.report.problems:  # a failed plan lacks jobs whose old outputs stay
                    cache.remember_clean_build(sources, [job.name for job in jobs])
            finally:
                cache.save()
        self._sort_outputs(jobs)
        if self.report.problems:
            raise HandbookError(self.report.problems)
        return self.report

    def _nothing_changed(self, cache: BuildCache, sources: str) -> bool:
        """Settle every output as up to date if no source changed since a clean build."""
        unchanged = None if self.options.force else cache.unchanged_since(sources)
        for name in unchanged or ():
            self._settle(_up_to_date(self.out_dir / name, cache.pages(name)))
        return unchanged is not None

    def _settle_fresh(self, jobs: list[Job], cache: BuildCache) -> list[Job]:
        """Settle the jobs that are up to date; return the stale ones."""
        stale = []
        for job in jobs:
            if self.options.force or not cache.is_fresh(job.name, job.key, job.files):
                stale.append(job)
            else:
                self._settle(_up_to_date(self.out_dir / job.name, cache.pages(job.name)))
        return stale

    def _render(self, pool: WorkerPool, jobs: list[Job], cache: BuildCache) -> None:
        """Make the stale jobs in the workers, recording each as it ends."""
        by_name = {job.name: job for job in jobs}
        tasks = [
            Task(
                job.name,
                job.origin,
                partial(job.make, self.out_dir),
                job.needs,
                suspects=job.suspects,
            )
            for job in jobs
        ]
        for outcome in pool.run(tasks):
            job = by_name[outcome.task.name]
            self._settle(_result(outcome, self.out_dir))
            self.report.problems.extend(outcome.problems)
            if outcome.ok:
                cache.record(job.name, job.key, outcome.value.pages, job.files)

    def _settle(self, result: OutputResult) -> None:
        self.report.outputs.append(result)
        if self.on_output:
            self.on_output(result)

    def _sort_outputs(self, jobs: list[Job]) -> None:
        order = {self.out_dir / job.name: index for index, job in enumerate(jobs)}
        self.report.outputs.sort(key=lambda result: order[result.path])


def _default_out_dir(project: Project) -> Path:
    """The project's own output folder, refused if it is a link (one that came with the
    project could point anywhere); a folder given with ``--out`` is the user's choice."""
    out_dir = project.root / OUTPUT_DIR
    if out_dir.is_symlink():
        raise HandbookError(
            [
                Problem(
                    OUTPUT_DIR,
                    0,
                    0,
                    "the output folder is a link; a build never writes through links",
                    f"delete the link {out_dir}, or choose where to build with --out",
                )
            ]
        )
    return out_dir


def _workers(options: BuildOptions) -> WorkerPool:
    """Workers started now, so they import WeasyPrint while this process reads the project."""
    return WorkerPool(options.jobs or default_jobs(), options.limits, engine.warm_up)


def _planned(project: Project, limits: Limits, run: Callable[[], Plan]) -> Plan:
    """What ``run`` reads and plans, in a worker of its own (with what it needs imported,
    while the rendering workers import WeasyPrint); raises HandbookError if that fails."""
    from handbook.build.jobs import planning_task

    for module in PLANNING_MODULES:
        importlib.import_module(module)
    with WorkerPool(1, limits) as pool:
        [outcome] = pool.run([planning_task(project, run)])
    if not outcome.ok:
        raise HandbookError(outcome.problems)
    return outcome.value


def _up_to_date(path: Path, pages: int) -> OutputResult:
    return OutputResult(path, pages, 0.0, renders=0, status=UP_TO_DATE)


def _result(outcome: Outcome, out_dir: Path) -> OutputResult:
    target = out_dir / outcome.task.name
    if outcome.skipped:
        return OutputResult(target, 0, 0.0, renders=0, status=NOT_REBUILT)
    if outcome.problems:
        return OutputResult(target, 0, outcome.seconds, status=FAILED)
    made = outcome.value
    return OutputResult(target, made.pages, outcome.seconds, made.scale, made.renders)
