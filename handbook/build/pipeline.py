"""The coordinator: read the project, plan the outputs, render the stale ones, record them.

Every output is a :class:`~handbook.build.jobs.Job` with a hash of its inputs;
the stale ones render in worker processes (:mod:`handbook.build.workers`), in
parallel and under a time and memory limit. Everything is checked before
anything is written; each output is written atomically, and an output that
fails does not stop the others.

Reading the YAML and planning (templating, hashing) run in a worker of their
own too (:func:`under_limits`), for every stale edition at once: the source's and
each translation's. This process only stamps the sources, keeps each
edition's record and hands the jobs to the rendering workers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from handbook import engine
from handbook.build.cache import CACHE_FILE, BuildCache
from handbook.build.inputs import (
    picture_stamps,
    read_stamps,
    source_stamp,
    translation_stamp,
    with_pictures,
)
from handbook.build.output import build_lock
from handbook.build.report import (
    FAILED,
    NOT_REBUILT,
    UP_TO_DATE,
    BuildReport,
    CardFit,
    OutputResult,
    RenderListener,
)
from handbook.build.workers import (
    PLANNING_MODULES,
    Limits,
    Outcome,
    Task,
    WorkerPool,
    at_most,
    default_jobs,
)
from handbook.errors import HandbookError, Notice, Problem
from handbook.press.format import Format, resolve_format
from handbook.project import OUTPUT_DIR, TRANSLATIONS_DIR, Project, open_project

# Loading, validating and templating (pydantic, Jinja) are imported when a
# build needs them, so a build with nothing to do finishes in a blink.
if TYPE_CHECKING:
    from handbook.build.jobs import BuildPlan, EditionPlan, Job
    from handbook.content.pictures import PictureFile
    from handbook.content.translations import Translation
    from handbook.content.validate import Handbook

T = TypeVar("T")


@dataclass(frozen=True)
class BuildOptions:
    out_dir: Path | None = None  # default: <project>/build
    paper: str | None = None  # default: handbook.yaml's paper
    card_size: str | None = None  # default: handbook.yaml's card_size
    sheet: str | None = None  # card sheets on "a4" or "letter"; default: from the paper
    duplex: bool = False  # card sheets with each card's back on the reverse
    png: bool = False  # also write build/png/: a PNG per card and a contact sheet
    html: bool = False  # also write build/html/: the HTML edition, for screens
    bleed: str | None = None  # e.g. "3mm" around the booklet's pages, for a print shop
    marks: bool = False  # crop marks on the booklet's pages
    pdf_variant: str | None = None  # one of engine.PDF_VARIANTS, such as "pdf/a-3b"
    language: str | None = None  # build only this language (the source's or a translation's)
    force: bool = False  # render every output, even those that are up to date
    jobs: int | None = None  # worker processes; default: one per core
    limits: Limits = field(default_factory=Limits)

    def format_for(self, handbook: Handbook) -> Format:
        """The print format: these options where given, else handbook.yaml's settings."""
        settings = handbook.settings
        paper = self.paper or settings.paper
        card = self.card_size or settings.card_size
        design = handbook.design
        least = design.card_picture_min_height_mm
        return resolve_format(paper, card, design.bleed_mm, self.sheet, picture_min_mm=least)


@dataclass
class CheckReport:
    handbook: Handbook
    cards: list[CardFit] = field(default_factory=list)  # empty unless cards were laid out
    translations: list[Translation] = field(default_factory=list)


def check(project_dir: Path, limits: Limits | None = None) -> Handbook:
    """Validate a project without rendering; raises HandbookError listing every problem."""
    return check_project(project_dir, limits).handbook


def check_project(project_dir: Path, limits: Limits | None = None) -> CheckReport:
    """Validate a project and its translations without rendering; raises HandbookError
    listing every problem. The translations' notices are in the report.

    The project is read in a worker, under the limits of a build.
    """
    from handbook.build.jobs import read_only

    project = open_project(project_dir)
    planned = under_limits(project, limits or Limits(), partial(read_only, project))
    return CheckReport(planned.handbook, translations=planned.translations)


def check_cards(project_dir: Path, options: BuildOptions = BuildOptions()) -> CheckReport:
    """Validate a project and lay out every card as the build would, writing nothing.

    The cards of every translation are laid out too (named ``de/kneading``, say).
    The cards are laid out in the same workers and under the same limits as a
    build. Raises HandbookError naming every problem, such as a card too long
    for one page.
    """
    from handbook.build.jobs import read_and_plan_checks

    project = open_project(project_dir)
    with _workers(project, options) as pool:
        planned = under_limits(
            project, options.limits, partial(read_and_plan_checks, project, options)
        )
        handbook, tasks, problems = planned.handbook, planned.tasks, planned.problems
        translations = planned.translations
        fits = []
        for outcome in pool.run(tasks):
            problems += outcome.problems
            if outcome.ok:
                fits.append(CardFit(outcome.task.name, outcome.value.scale))
    if problems:
        raise HandbookError(problems)
    order = {task.name: index for index, task in enumerate(tasks)}
    fits.sort(key=lambda fit: order[fit.id])
    return CheckReport(handbook, fits, translations)


def languages(project_dir: Path) -> list[str]:
    """The languages a build can make: the source's first, then every translation's."""
    project = open_project(project_dir)
    return [project.source_language, *project.translation_languages()]


def build(
    project_dir: Path,
    options: BuildOptions = BuildOptions(),
    on_output: Callable[[OutputResult], None] | None = None,
    on_render: RenderListener | None = None,
    workers: WorkerPool | None = None,
) -> BuildReport:
    """Bring every output up to date; ``on_output`` hears of each as it is settled,
    ``on_render`` of the outputs to render and of each as it starts. The outputs
    render in ``workers`` where given (see :func:`session_workers`), else in
    workers started for this build.

    Raises HandbookError (after writing what it could) if any output failed.
    """
    project = open_project(project_dir)
    out_dir = options.out_dir or _default_out_dir(project)
    with build_lock(out_dir):
        return _Build(project, out_dir, options, on_output, on_render, workers).run()


def session_workers(project_dir: Path, options: BuildOptions = BuildOptions()) -> WorkerPool:
    """Workers for a series of builds of one project with the same options (``watch``,
    ``serve``), to give each :func:`build`; close them when the series ends.

    They start and warm up once, so the build after a save finds them ready,
    the project's stylesheets parsed and its fonts loaded, where workers started
    for it would spend most of a small rebuild getting there.
    """
    return _workers(open_project(project_dir), options, lasting=True)


@dataclass
class _Edition:
    """The outputs of one language: the source's in the output folder, a translation's
    in a folder of its own inside it, named after its language.

    Each has its own record of what it was built from, so cleaning up after one
    never touches another's files.
    """

    language: str | None  # None for the source
    out_dir: Path
    stamp: str
    cache: BuildCache
    jobs: list[Job] = field(default_factory=list)
    stale: list[Job] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # its outputs, in order

    def task(self, name: str) -> str:
        """The name of one of its outputs among every edition's."""
        return f"{self.language}/{name}" if self.language else name


@dataclass
class _Build:
    """One build of one project into one output folder, in every language asked for."""

    project: Project
    out_dir: Path
    options: BuildOptions
    on_output: Callable[[OutputResult], None] | None
    on_render: RenderListener | None = None
    workers: WorkerPool | None = None  # kept for a series of builds; else started for this one
    report: BuildReport = field(default_factory=BuildReport)

    def run(self) -> BuildReport:
        editions = self._editions()
        if self.options.language is None:
            self._forget_removed_translations()
        stale = [edition for edition in editions if not self._nothing_changed(edition)]
        if stale:
            from handbook.build.jobs import read_and_plan

            for edition in stale:
                edition.cache.sources = None
            with self._pool(stale) as pool:
                languages = tuple(edition.language for edition in stale)
                kept = {} if self.options.force else {e.language: e.cache.intact() for e in stale}
                plan = partial(read_and_plan, self.project, self.options, languages)
                planned: BuildPlan = under_limits(
                    self.project, self.options.limits, partial(plan, kept)
                )
                if not all(self._makeable(e, planned.editions[e.language]) for e in stale):
                    # an output changed since it was found intact: every job comes whole
                    planned = under_limits(self.project, self.options.limits, plan)
                self.report.notices = planned.notices
                for edition in stale:
                    self._plan(edition, planned.editions[edition.language])
                try:
                    self._render(pool, stale)
                finally:
                    for edition in stale:
                        self._record(edition, planned.pictures)
        self._sort_outputs(editions)
        self.report.translation_notices = {e.language: e.notices for e in editions if e.language}
        self.report.problems = [problem for e in editions for problem in e.problems]
        if self.report.problems:
            raise HandbookError(self.report.problems)
        return self.report

    @contextmanager
    def _pool(self, stale: list[_Edition]) -> Iterator[WorkerPool]:
        """The workers the stale outputs render in: the series' (left with no task of this
        build's, however it ends), or started for this build and stopped after it."""
        if self.workers is None:
            with _workers(self.project, self.options, self._rebuild(stale)) as pool:
                yield pool
            return
        self.workers.settle()
        try:
            yield self.workers
        finally:
            self.workers.settle()

    def _rebuild(self, stale: list[_Edition]) -> bool:
        """Whether every stale edition was built before: then only some outputs are
        likely stale, and one worker starts ahead of the plan (more once tasks wait)."""
        return not self.options.force and all(edition.cache.entries for edition in stale)

    def _editions(self) -> list[_Edition]:
        """The source's edition and each translation's, or the one ``language`` names."""
        sources = source_stamp(self.project, self.options)
        translated = self.project.translation_languages()
        wanted = self.options.language
        # Only a --language that names no translation makes this process read the
        # source's language from handbook.yaml; a build without one never parses it here.
        source = wanted is None or (
            wanted not in translated and wanted == self.project.source_language
        )
        if not source and wanted not in translated:
            raise HandbookError([_unknown_language(self.project, wanted)])
        editions = []
        if source:
            editions.append(_Edition(None, self.out_dir, sources, BuildCache(self.out_dir)))
        for language in translated:
            if wanted in (None, language):
                out_dir = _translation_dir(self.out_dir, language)
                stamp = translation_stamp(self.project, language, sources)
                cache = BuildCache(out_dir)
                cache.language = language
                editions.append(_Edition(language, out_dir, stamp, cache))
        return editions

    def _forget_removed_translations(self) -> None:
        """Delete the outputs of translations the project no longer has.

        Only a folder whose own record says it holds that language's outputs
        is touched, and only the files that record lists.
        """
        current = set(self.project.translation_languages())
        # A link is never a translation's folder: deleting through it could reach anywhere.
        folders = (p for p in self.out_dir.iterdir() if p.is_dir() and not p.is_symlink())
        for folder in sorted(folders):
            if folder.name in current or not (folder / CACHE_FILE).is_file():
                continue
            cache = BuildCache(folder)
            if cache.language == folder.name:
                cache.forget_everything()

    def _nothing_changed(self, edition: _Edition) -> bool:
        """Settle every output as up to date if no source changed since a clean build."""
        cache = edition.cache
        # Pictures may lie anywhere in the project: those the last build's content named
        # are stamped by name.
        stamp = with_pictures(edition.stamp, picture_stamps(self.project, cache.pictures))
        unchanged = None if self.options.force else cache.unchanged_since(stamp)
        if unchanged is None:
            return False
        edition.names, edition.notices = list(unchanged), cache.notices
        for name in unchanged:
            self._settle(_up_to_date(edition.out_dir / name, cache.pages(name)))
        return True

    def _makeable(self, edition: _Edition, planned: EditionPlan) -> bool:
        """Whether every job planned without its ``make`` (see ``read_and_plan``) is fresh."""
        cache = edition.cache
        return all(
            job.make is not None or cache.is_fresh(job.name, job.key, job.files)
            for job in planned.jobs
        )

    def _plan(self, edition: _Edition, planned: EditionPlan) -> None:
        """Take the edition's jobs as the worker planned them; the up-to-date ones are
        settled, the stale ones kept. A translation that could not be read has none
        (its last good outputs stay as they are)."""
        edition.jobs, edition.notices = planned.jobs, planned.notices
        edition.problems += planned.problems
        edition.names = [job.name for job in edition.jobs]
        for job in edition.jobs:
            if self.options.force or not edition.cache.is_fresh(job.name, job.key, job.files):
                edition.stale.append(job)
            else:
                path = edition.out_dir / job.name
                self._settle(_up_to_date(path, edition.cache.pages(job.name)))

    def _render(self, pool: WorkerPool, editions: list[_Edition]) -> None:
        """Make the stale jobs of every edition in the workers, recording each as it ends."""
        by_name = {e.task(job.name): (e, job) for e in editions for job in e.stale}
        tasks = [
            Task(
                name,
                job.origin,
                partial(job.make, e.out_dir),
                tuple(map(e.task, job.needs)),
                suspects=job.suspects,
            )
            for name, (e, job) in by_name.items()
        ]
        on_start = self._tell_render(tasks, pool, by_name) if self.on_render else None
        for outcome in pool.run(tasks, on_start):
            edition, job = by_name[outcome.task.name]
            self._settle(_result(outcome, edition.out_dir / job.name))
            edition.problems.extend(outcome.problems)
            if outcome.ok:
                edition.cache.record(job.name, job.key, outcome.value.pages, job.files)

    def _tell_render(
        self, tasks: list[Task], pool: WorkerPool, by_name: dict[str, tuple[_Edition, Job]]
    ) -> Callable[[Task], None]:
        """Tell the render listener the plan; the callback that tells it each start."""
        listener = self.on_render
        assert listener is not None
        listener.planned(len(tasks), min(pool.jobs, len(tasks)))

        def started(task: Task) -> None:
            edition, job = by_name[task.name]
            listener.started(edition.out_dir / job.name)

        return started

    def _record(self, edition: _Edition, pictures: dict[str, PictureFile]) -> None:
        if not edition.problems:  # a failed plan lacks jobs whose old outputs stay
            stamp = with_pictures(edition.stamp, read_stamps(pictures))
            names, notices = edition.names, edition.notices
            edition.cache.remember_clean_build(stamp, names, sorted(pictures), notices)
        edition.cache.save()

    def _settle(self, result: OutputResult) -> None:
        self.report.outputs.append(result)
        if self.on_output:
            self.on_output(result)

    def _sort_outputs(self, editions: list[_Edition]) -> None:
        paths = [edition.out_dir / name for edition in editions for name in edition.names]
        order = {path: index for index, path in enumerate(paths)}
        self.report.outputs.sort(key=lambda result: order.get(result.path, len(order)))


def _unknown_language(project: Project, language: str) -> Problem:
    available = [project.source_language, *project.translation_languages()]
    return Problem(
        f"{TRANSLATIONS_DIR}/{language}",
        0,
        0,
        f"no language '{language}' to build",
        "the languages are: " + ", ".join(available),
    )


def _translation_dir(out_dir: Path, language: str) -> Path:
    """A translation's folder in the output folder, refused if it is a link: its
    outputs, and the clean-up after it, never reach out of the output folder."""
    folder = out_dir / language
    if folder.is_symlink():
        raise HandbookError(
            [
                Problem(
                    str(folder),
                    0,
                    0,
                    f"the output folder of the '{language}' translation is a link; "
                    "a build never writes through links",
                    f"delete the link {folder}",
                )
            ]
        )
    return folder


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


# How long a worker may spend laying out its first few words (see _warm_up).
_READY_SECONDS = 10.0


def _workers(
    project: Project, options: BuildOptions, rebuild: bool = False, lasting: bool = False
) -> WorkerPool:
    """Workers started now, so they import WeasyPrint while this process reads the project;
    for a ``rebuild``, only one: more start only if more outputs turn out to be stale;
    ``lasting``: for a series of builds (see ``WorkerPool``).

    What planning needs is imported first: the workers need it too (their tasks
    carry the handbook's models; their warm-up reads the theme), and forked after,
    each starts with it, where each would import it again."""
    _import_planning()
    jobs = options.jobs or default_jobs()
    warm_up = partial(_warm_up, project)
    return WorkerPool(jobs, options.limits, warm_up, ahead=1 if rebuild else None, lasting=lasting)


# What the renders finish their PDFs with (pikepdf, the booklet's parts and merge, the
# imposition), imported as a worker starts, beside the reading of the project, rather
# than by its first task, on the way to an output.
_FINISHING_MODULES = (
    "handbook.build.booklet",
    "handbook.engine.parts",
    "handbook.press.impose",
    "handbook.press.sheets_pdf",
    "handbook.press.tagging",
)


def _warm_up(project: Project) -> None:
    """What each worker does as it starts: import WeasyPrint and what finishes its PDFs,
    then lay out a few words in the project's styles (see ``engine.warm_up``), for at
    most a few seconds: styles slower than that are the renders' to time, under the
    build's limit."""
    from handbook.html.render import first_pages

    engine.warm_up()
    for module in _FINISHING_MODULES:
        # Under a tight memory limit a library may fail to load: the task that needs it
        # then reports the limit, naming its output (a module whose import failed is
        # imported afresh).
        with suppress(ImportError, MemoryError):
            importlib.import_module(module)
    with at_most(_READY_SECONDS):
        engine.warm_up(first_pages(project), _languages_of(project))


def _languages_of(project: Project) -> list[str]:
    """The source's language and each translation's; none if handbook.yaml cannot tell
    (the build reports that)."""
    try:
        return [project.source_language, *project.translation_languages()]
    except (HandbookError, OSError):
        return []


def under_limits(project: Project, limits: Limits, run: Callable[[], T]) -> T:
    """What ``run`` reads and plans, in a worker of its own, forked with what it needs
    imported; raises HandbookError if that fails."""
    from handbook.build.jobs import planning_task

    _import_planning()
    with WorkerPool(1, limits) as pool:
        [outcome] = pool.run([planning_task(project, run)])
    if not outcome.ok:
        raise HandbookError(outcome.problems)
    return outcome.value


def _import_planning() -> None:
    for module in PLANNING_MODULES:
        importlib.import_module(module)


def _up_to_date(path: Path, pages: int) -> OutputResult:
    return OutputResult(path, pages, 0.0, renders=0, status=UP_TO_DATE)


def _result(outcome: Outcome, target: Path) -> OutputResult:
    if outcome.skipped:
        return OutputResult(target, 0, 0.0, renders=0, status=NOT_REBUILT)
    if outcome.problems:
        return OutputResult(target, 0, outcome.seconds, status=FAILED)
    made = outcome.value
    return OutputResult(target, made.pages, outcome.seconds, made.scale, made.renders)
