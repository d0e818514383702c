"""The coordinator: load -> validate -> plan the outputs -> render the stale ones.

Every output file is a :class:`Job`: a hash of everything that goes into it
(its final HTML, which carries the content and templates; the stylesheets,
fonts and settings; the page size; the tool's version) and a function that
writes it. A job whose hash matches the one recorded in the output folder,
and whose file is still there unchanged, is up to date and is not rendered.
The rest render in worker processes (:mod:`handbook.workers`), in parallel
and under a time and memory limit.

Everything is checked before anything is written; each output is written
atomically, and an output that fails does not stop the others.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, partial
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from handbook import __version__, pdf
from handbook.cache import BuildCache, digest
from handbook.errors import HandbookError, Problem
from handbook.output import write_atomic
from handbook.project import Project, open_project
from handbook.workers import Limits, Outcome, Task, WorkerPool, default_jobs

# Loading, validating and templating (pydantic, Jinja) are imported when a
# build needs them, so a build with nothing to do finishes in a blink.
if TYPE_CHECKING:
    from handbook.pdf import PageSource
    from handbook.render import Card
    from handbook.validate import Handbook

RENDERED = "rendered"
UP_TO_DATE = "up to date"
FAILED = "failed"
NOT_REBUILT = "not rebuilt"  # an output it is made from failed


@dataclass(frozen=True)
class BuildOptions:
    out_dir: Path | None = None  # default: <project>/build
    paper: str | None = None  # default: handbook.yaml's paper
    card_size: str | None = None  # default: handbook.yaml's card_size
    force: bool = False  # render every output, even those that are up to date
    jobs: int | None = None  # worker processes; default: one per core
    limits: Limits = field(default_factory=Limits)


@dataclass
class OutputResult:
    path: Path
    pages: int
    seconds: float
    status: str = RENDERED
    renders: int = 0  # layouts it took now (a card fitted to its page takes several)


@dataclass(frozen=True)
class Made:
    """What a job's ``make`` reports about the file it wrote."""

    pages: int
    renders: int = 1


@dataclass
class BuildReport:
    outputs: list[OutputResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def with_status(self, status: str) -> list[OutputResult]:
        return [output for output in self.outputs if output.status == status]


@dataclass(frozen=True)
class Job:
    """One output file: the hash of all its inputs and how to make it.

    To add an output, add a job in :func:`plan`: :func:`rendered_job` for one
    rendered from HTML, :func:`derived_job` for one made from other outputs.
    """

    name: str  # the file's path inside the output folder
    origin: str  # the project file named when it fails
    key: str
    make: Callable[[Path], Made]  # writes the file; runs in a worker
    needs: tuple[str, ...] = ()  # outputs this one is made from


def check(project_dir: Path) -> Handbook:
    """Validate a project without rendering; raises HandbookError listing every problem."""
    from handbook.validate import load_handbook

    return load_handbook(open_project(project_dir))


def build(
    project_dir: Path,
    options: BuildOptions = BuildOptions(),
    on_output: Callable[[OutputResult], None] | None = None,
) -> BuildReport:
    """Bring every output up to date; ``on_output`` hears of each as it is settled.

    Raises HandbookError (after writing what it could) if any output failed.
    """
    project = open_project(project_dir)
    out_dir = options.out_dir or project.root / "build"
    report = BuildReport()
    output_cache = BuildCache(out_dir)

    def settle(result: OutputResult) -> None:
        report.outputs.append(result)
        if on_output:
            on_output(result)

    sources = _source_stamp(project, options)
    unchanged = None if options.force else output_cache.unchanged_since(sources)
    if unchanged is not None:
        for name in unchanged:
            settle(OutputResult(out_dir / name, output_cache.pages(name), 0.0, UP_TO_DATE))
        return report
    output_cache.sources = None
    # The workers start now and import WeasyPrint while this process reads the project.
    with WorkerPool(options.jobs or default_jobs(), options.limits, _import_weasyprint) as pool:
        from handbook.validate import load_handbook

        handbook = load_handbook(project)
        jobs = plan(project, handbook, options, report.problems)
        stale = []
        for job in jobs:
            if options.force or not output_cache.is_fresh(job.name, job.key):
                stale.append(job)
            else:
                pages = output_cache.pages(job.name)
                settle(OutputResult(out_dir / job.name, pages, 0.0, UP_TO_DATE))
        try:
            for job, outcome in _render(pool, stale, out_dir):
                settle(_result(outcome, out_dir))
                report.problems.extend(outcome.problems)
                if outcome.ok:
                    output_cache.record(job.name, job.key, outcome.value.pages)
            if not report.problems:  # a failed plan lacks jobs whose old outputs must stay
                output_cache.prune({job.name for job in jobs})
                output_cache.sources, output_cache.order = sources, [job.name for job in jobs]
        finally:
            output_cache.save()
    order = {out_dir / job.name: index for index, job in enumerate(jobs)}
    report.outputs.sort(key=lambda result: order[result.path])
    if report.problems:
        raise HandbookError(report.problems)
    return report


def plan(
    project: Project, handbook: Handbook, options: BuildOptions, problems: list[Problem]
) -> list[Job]:
    """Every output of the project as a job, booklet first (it takes longest).

    An output whose HTML cannot be made (a template error) adds its problems
    to ``problems`` and has no job.
    """
    from handbook.render import Renderer, cards

    renderer = Renderer(project)
    shared = _shared_inputs(project, handbook)
    paper = options.paper or handbook.settings.paper
    card_size = options.card_size or handbook.settings.card_size
    jobs: list[Job] = []

    def add(name: str, origin: str, make_source: Callable[[], PageSource], make) -> None:
        try:
            jobs.append(rendered_job(shared, name, origin, make_source(), make))
        except HandbookError as exc:
            problems.extend(exc.problems)

    add("handbook.pdf", "handbook.yaml", partial(renderer.booklet, handbook, paper), _make_booklet)
    all_cards = cards(handbook)
    for card in all_cards:
        add(
            f"cards/{card.id}.pdf",
            card.source_path,
            partial(renderer.card, handbook, card, card_size),
            partial(_make_card, card, card_size),
        )
    card_jobs = [job for job in jobs if job.name.startswith("cards/")]
    if all_cards and len(card_jobs) == len(all_cards):
        jobs.append(derived_job("cards.pdf", card_jobs, _combine))
    return jobs


def rendered_job(
    shared: str, name: str, origin: str, source: PageSource, make: Callable[..., Made]
) -> Job:
    """An output rendered from HTML; ``make(source, target)`` writes it."""
    key = digest(shared, name, source.html, source.extra_css, *map(str, source.stylesheets))
    return Job(name, origin, key, partial(make, source))


def derived_job(name: str, inputs: list[Job], make: Callable[..., Made], *params: str) -> Job:
    """An output made from other outputs (combined, imposed), after they are written.

    ``make(input_names, target)`` writes it; its key is its inputs' keys plus
    ``params`` (whatever else changes it, such as a sheet size).
    """
    names = tuple(job.name for job in inputs)
    key = digest(name, *params, *(job.key for job in inputs))
    return Job(name, "handbook.yaml", key, partial(make, names), names)


def _shared_inputs(project: Project, handbook: Handbook) -> str:
    """A hash of what every output depends on besides its own HTML."""
    parts = [_tool_version(), handbook.settings.model_dump_json()]
    for kind in ("styles", "fonts"):
        for folder in project.search_dirs(kind):
            if folder.is_dir():
                for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                    parts += [f"{kind}/{path.relative_to(folder).as_posix()}", path.read_bytes()]
    return digest(*parts)


def _source_stamp(project: Project, options: BuildOptions) -> str:
    """A cheap hash of the name, size and modification time of every source file.

    When it matches the last clean build and no output was touched, nothing
    needs reading at all; otherwise the content hashes decide per output.
    """
    folders = [project.content_dir]
    for kind in ("templates", "styles", "fonts"):
        folders += project.search_dirs(kind)
    files = [project.settings_file]
    for folder in folders:
        files += sorted(p for p in folder.rglob("*") if p.is_file())
    parts = [_tool_version(), f"{options.paper} {options.card_size}"]
    for path in files:
        stat = path.stat()
        parts.append(f"{path} {stat.st_size} {stat.st_mtime_ns}")
    return digest(*parts)


@cache
def _tool_version() -> str:
    return f"handbook {__version__}, weasyprint {version('weasyprint')}"


def _import_weasyprint() -> None:
    import weasyprint  # noqa: F401


def _render(pool: WorkerPool, jobs: list[Job], out_dir: Path) -> Iterator[tuple[Job, Outcome]]:
    """Render the jobs in the workers; yield each with its outcome as it ends."""
    by_name = {job.name: job for job in jobs}
    tasks = [
        Task(job.name, job.origin, partial(job.make, out_dir / job.name), job.needs) for job in jobs
    ]
    for outcome in pool.run(tasks):
        yield by_name[outcome.task.name], outcome


def _result(outcome: Outcome, out_dir: Path) -> OutputResult:
    target = out_dir / outcome.task.name
    if outcome.skipped:
        return OutputResult(target, 0, 0.0, NOT_REBUILT)
    if outcome.problems:
        return OutputResult(target, 0, outcome.seconds, FAILED)
    made = outcome.value
    return OutputResult(target, made.pages, outcome.seconds, RENDERED, made.renders)


# --- what runs in the workers ------------------------------------------------


def _make_booklet(source: PageSource, target: Path) -> Made:
    document = pdf.render(source)
    write_atomic(target, pdf.to_pdf_bytes(document, source.origin))
    return Made(len(document.pages))


def _make_card(card: Card, size: str, source: PageSource, target: Path) -> Made:
    document = pdf.render(source)
    if len(document.pages) > 1:
        raise HandbookError([_overflow_problem(card, size, len(document.pages))])
    write_atomic(target, pdf.to_pdf_bytes(document, source.origin))
    return Made(1)


def _overflow_problem(card: Card, size: str, pages: int) -> Problem:
    return Problem(
        card.source_path,
        1,
        1,
        f"the {card.kind} card '{card.id}' does not fit on one {size} card "
        f"(it needs {pages} pages)",
        "shorten the steps, cues or lists of this item",
    )


def _combine(card_names: tuple[str, ...], target: Path) -> Made:
    """All cards in one file, one card per page, from the card files just written."""
    import pikepdf

    combined = pikepdf.Pdf.new()
    out_dir = target.parent
    for name in card_names:
        with pikepdf.Pdf.open(out_dir / name) as card_pdf:
            combined.pages.extend(card_pdf.pages)
    buffer = io.BytesIO()
    combined.save(buffer, deterministic_id=True)
    write_atomic(target, buffer.getvalue())
    return Made(len(card_names), renders=0)
