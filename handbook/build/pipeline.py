"""The coordinator: load -> validate -> plan the outputs -> render the stale ones.

Every output file is a :class:`Job`: a hash of everything that goes into it
(its final HTML, which carries the content and templates; the stylesheets,
fonts and settings; the page size and print options; the tool's version)
and a function that writes it. A job whose hash matches the one recorded in
the output folder, and whose files are still there unchanged, is up to date
and is not rendered. The rest render in worker processes
(:mod:`handbook.build.workers`), in parallel and under a time and memory limit.

Everything is checked before anything is written; each output is written
atomically, and an output that fails does not stop the others.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, partial
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from handbook import __version__
from handbook.build.cache import BuildCache, digest
from handbook.build.output import build_lock, write_atomic
from handbook.build.workers import Limits, Outcome, Task, WorkerPool, default_jobs
from handbook.engine import pdf
from handbook.errors import HandbookError, Problem
from handbook.press.sizes import CARD_SIZES, PAPER_SIZES, pouch_margin, print_sheet, sheet_for_paper
from handbook.project import Project, open_project

# Loading, validating and templating (pydantic, Jinja) are imported when a
# build needs them, so a build with nothing to do finishes in a blink.
if TYPE_CHECKING:
    from handbook.content.validate import Handbook, Origin
    from handbook.engine.pdf import PageSource
    from handbook.html.render import Card
    from handbook.press.sheets import SheetLayout

RENDERED = "rendered"
UP_TO_DATE = "up to date"
FAILED = "failed"
NOT_REBUILT = "not rebuilt"  # an output it is made from failed

BLEED_DIR = ".bleed"  # each card with its bleed, for card-sheets.pdf
PREVIEW_DPI = 150


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
    pdf_variant: str | None = None  # one of pdf.PDF_VARIANTS, such as "pdf/a-3b"
    force: bool = False  # render every output, even those that are up to date
    jobs: int | None = None  # worker processes; default: one per core
    limits: Limits = field(default_factory=Limits)


@dataclass
class OutputResult:
    path: Path
    pages: int
    seconds: float
    scale: float = 1.0  # a card's text size after fitting it on one page (1.0 = full size)
    renders: int = 1  # layouts it took now (0 when up to date)
    status: str = RENDERED


@dataclass(frozen=True)
class Made:
    """What a job's ``make`` reports about the file it wrote."""

    pages: int
    renders: int = 1
    scale: float = 1.0


@dataclass
class BuildReport:
    outputs: list[OutputResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def with_status(self, status: str) -> list[OutputResult]:
        return [output for output in self.outputs if output.status == status]


@dataclass(frozen=True)
class Job:
    """One output: the hash of all its inputs and how to make it.

    To add an output, add a job in :func:`plan`: :func:`rendered_job` for one
    rendered from HTML, :func:`derived_job` for one made from other outputs.
    """

    name: str  # the file's path inside the output folder
    origin: str  # the project file named when it fails
    key: str
    make: Callable[[Path], Made]  # writes the file; runs in a worker
    needs: tuple[str, ...] = ()  # outputs this one is made from
    files: tuple[str, ...] = ()  # other files it writes, kept up to date with it


@dataclass(frozen=True)
class _Origins:
    """The one entry of ``Handbook.origins`` an overflowing card's problem needs.

    Tasks are pickled to the workers; this keeps the whole handbook out of them.
    """

    origins: dict[str, Origin]


def check(project_dir: Path) -> Handbook:
    """Validate a project without rendering; raises HandbookError listing every problem."""
    from handbook.content.validate import load_handbook

    return load_handbook(open_project(project_dir))


def check_cards(project_dir: Path, card_size: str | None = None) -> list[tuple[str, float]]:
    """Lay out every card as the build would: (card id, text scale) for each.

    Raises HandbookError naming each card too long for one page.
    """
    from handbook.content.validate import load_handbook
    from handbook.html.render import Renderer, cards
    from handbook.press.fit import fit_card, overflow_problem

    project = open_project(project_dir)
    handbook = load_handbook(project)
    renderer = Renderer(project)
    size = card_size or handbook.settings.card_size
    fits, problems = [], []
    for card in cards(handbook):
        try:
            source = renderer.card(handbook, card, size)
            fit = fit_card(source, size)
        except HandbookError as exc:
            problems.extend(exc.problems)
            continue
        if fit.fits:
            fits.append((card.id, fit.scale))
        else:
            problems.append(overflow_problem(handbook, card, size, fit, source.html))
    if problems:
        raise HandbookError(problems)
    return fits


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
    with build_lock(out_dir):
        return _update(project, out_dir, options, on_output)


def _update(
    project: Project,
    out_dir: Path,
    options: BuildOptions,
    on_output: Callable[[OutputResult], None] | None,
) -> BuildReport:
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
            settle(_up_to_date(out_dir / name, output_cache.pages(name)))
        return report
    output_cache.sources = None
    # The workers start now and import WeasyPrint while this process reads the project.
    with WorkerPool(options.jobs or default_jobs(), options.limits, _import_weasyprint) as pool:
        from handbook.content.validate import load_handbook

        handbook = load_handbook(project)
        jobs = plan(project, handbook, options, report.problems)
        stale = []
        for job in jobs:
            if options.force or not output_cache.is_fresh(job.name, job.key, job.files):
                stale.append(job)
            else:
                settle(_up_to_date(out_dir / job.name, output_cache.pages(job.name)))
        try:
            for job, outcome in _render(pool, stale, out_dir):
                settle(_result(outcome, out_dir))
                report.problems.extend(outcome.problems)
                if outcome.ok:
                    output_cache.record(job.name, job.key, outcome.value.pages, job.files)
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
    to ``problems`` and has no job, nor have the outputs made from it.
    """
    from handbook.html.render import Renderer, cards
    from handbook.press import sheets

    renderer = Renderer(project)
    shared = _shared_inputs(project, handbook)
    paper = options.paper or handbook.settings.paper
    size = options.card_size or handbook.settings.card_size
    jobs: list[Job] = []

    def attempt(make: Callable[[], object]):
        try:
            return make()
        except HandbookError as exc:
            problems.extend(exc.problems)
            return None

    booklet = attempt(partial(_booklet_job, renderer, handbook, shared, paper, options))
    if booklet:
        sheet = print_sheet(paper)
        imposed = derived_job(
            "handbook-print.pdf", [booklet], partial(_make_print, sheet), repr(sheet)
        )
        jobs += [booklet, imposed]

    all_cards = cards(handbook)
    card_jobs = [
        attempt(partial(_card_job, renderer, handbook, shared, card, size)) for card in all_cards
    ]
    jobs += [job for job in card_jobs if job]
    if not all_cards or not all(card_jobs):
        return jobs
    fronts = [job for job in card_jobs if job]
    ids = tuple(card.id for card in all_cards)
    combined = derived_job("cards.pdf", fronts, _make_cards_pdf)
    jobs.append(combined)

    sheet_paper = options.sheet or sheet_for_paper(paper)
    bleed = handbook.design.bleed_mm
    layout = sheets.layout(PAPER_SIZES[sheet_paper], CARD_SIZES[size], pouch_margin(size), bleed)
    backs: tuple[tuple[Card, PageSource], ...] | None = None
    if options.duplex:
        made = [attempt(partial(renderer.card_back, handbook, card, size)) for card in all_cards]
        if not all(made):
            return jobs
        backs = tuple(zip(all_cards, made, strict=True))
    make_sheets = partial(
        _make_sheets, layout, ids, backs, _card_origins(handbook, all_cards), size
    )
    params = [repr(layout), *(digest(shared, back.html) for _, back in backs or ())]
    jobs.append(derived_job("card-sheets.pdf", fronts, make_sheets, *params))
    if options.png:
        previews = derived_job(
            "png/contact-sheet.png", [combined], partial(_make_previews, ids), *ids
        )
        jobs.append(dataclasses.replace(previews, files=tuple(f"png/{i}.png" for i in ids)))
    return jobs


def rendered_job(
    shared: str, name: str, origin: str, source: PageSource, make: Callable[..., Made], *params: str
) -> Job:
    """An output rendered from HTML; ``make(source, target)`` writes it.

    ``params`` are whatever else changes it besides the source (a PDF variant).
    """
    stylesheets = map(str, source.stylesheets)
    key = digest(shared, name, source.html, source.extra_css, *stylesheets, *params)
    return Job(name, origin, key, partial(make, source))


def derived_job(name: str, inputs: list[Job], make: Callable[..., Made], *params: str) -> Job:
    """An output made from other outputs (combined, imposed), after they are written.

    ``make(input_names, target)`` writes it; its key is its inputs' keys plus
    ``params`` (whatever else changes it, such as a sheet size).
    """
    names = tuple(job.name for job in inputs)
    key = digest(name, *params, *(job.key for job in inputs))
    return Job(name, "handbook.yaml", key, partial(make, names), names)


def _booklet_job(renderer, handbook: Handbook, shared: str, paper: str, options) -> Job:
    """The tagged booklet; with bleed or marks, its pages grow around the trim box."""
    source = renderer.booklet(handbook, paper)
    extra = pdf.print_shop_css(options.bleed, options.marks)
    source = dataclasses.replace(source, extra_css=source.extra_css + extra)
    date = _document_date(handbook, options.pdf_variant)
    make = partial(_make_booklet, date, options.pdf_variant)
    params = (str(date), str(options.pdf_variant))
    return rendered_job(shared, "handbook.pdf", source.origin, source, make, *params)


def _card_job(renderer, handbook: Handbook, shared: str, card: Card, size: str) -> Job:
    """A card fitted on one page and written at its trimmed size (with its bleed aside)."""
    source = renderer.card(handbook, card, size)
    make = partial(_make_card, card, size, _card_origins(handbook, [card]))
    job = rendered_job(shared, f"cards/{card.id}.pdf", card.source_path, source, make)
    return dataclasses.replace(job, files=(f"{BLEED_DIR}/{card.id}.pdf",))


def _card_origins(handbook: Handbook, some_cards: list[Card]) -> _Origins:
    return _Origins({c.id: handbook.origins[c.id] for c in some_cards if c.id in handbook.origins})


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
    files = project.settings_files()
    for folder in folders:
        files += sorted(p for p in folder.rglob("*") if p.is_file())
    settings = dataclasses.replace(options, out_dir=None, force=False, jobs=None, limits=None)
    parts = [_tool_version(), repr(settings), os.environ.get("SOURCE_DATE_EPOCH", "")]
    for path in files:
        stat = path.stat()
        parts.append(f"{path} {stat.st_size} {stat.st_mtime_ns}")
    return digest(*parts)


@cache
def _tool_version() -> str:
    return f"handbook {__version__}, weasyprint {version('weasyprint')}"


def _document_date(handbook: Handbook, variant: str | None) -> str | None:
    """The PDF's date: handbook.yaml's ``date``, else ``SOURCE_DATE_EPOCH``, never the clock."""
    if handbook.settings.date:
        return handbook.settings.date.isoformat()
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        if not epoch.isdigit():
            raise HandbookError(
                [
                    Problem(
                        "SOURCE_DATE_EPOCH",
                        0,
                        0,
                        f"'{epoch}' is not a number of seconds since 1970",
                        "set it to a whole number, such as $(git log -1 --format=%ct)",
                    )
                ]
            )
        moment = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if variant and variant.startswith("pdf/x"):
        raise HandbookError(
            [
                Problem(
                    "handbook.yaml",
                    0,
                    0,
                    f"{variant} needs a date",
                    "set 'date' in handbook.yaml, or SOURCE_DATE_EPOCH",
                )
            ]
        )
    return None


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


# --- what runs in the workers ------------------------------------------------


def _make_booklet(date: str | None, variant: str | None, source: PageSource, target: Path) -> Made:
    document = pdf.render(source)
    data = pdf.to_pdf_bytes(document, source.origin, date=date, pdf_tags=True, pdf_variant=variant)
    write_atomic(target, data)
    return Made(len(document.pages))


def _make_print(sheet: tuple[float, float], names: tuple[str, ...], target: Path) -> Made:
    """The booklet imposed for saddle stitching, two pages per side of a landscape sheet."""
    from handbook.press import impose

    imposed = impose.impose((target.parent / names[0]).read_bytes(), sheet)
    write_atomic(target, imposed.pdf)
    return Made(imposed.sides, renders=0)


def _make_card(card: Card, size: str, origins: _Origins, source: PageSource, target: Path) -> Made:
    """Fit the card on one page; write it trimmed, and with its bleed for the sheets."""
    from handbook.press import sheets_pdf
    from handbook.press.fit import fit_card, overflow_problem

    fit = fit_card(source, size)
    if not fit.fits:
        raise HandbookError([overflow_problem(origins, card, size, fit, source.html)])
    data = pdf.to_pdf_bytes(fit.document, source.origin)
    write_atomic(_bleed_file(target.parent.parent, card.id), data)
    write_atomic(target, sheets_pdf.trimmed(data))
    return Made(1, fit.renders, fit.scale)


def _bleed_file(out_dir: Path, card_id: str) -> Path:
    return out_dir / BLEED_DIR / f"{card_id}.pdf"


def _make_cards_pdf(names: tuple[str, ...], target: Path) -> Made:
    """All cards in one file, one card per page, from the card files just written."""
    from handbook.press import sheets_pdf

    data = sheets_pdf.combine([(target.parent / name).read_bytes() for name in names])
    write_atomic(target, data)
    return Made(len(names), renders=0)


def _make_sheets(
    layout: SheetLayout,
    ids: tuple[str, ...],
    backs: tuple[tuple[Card, PageSource], ...] | None,
    origins: _Origins,
    size: str,
    names: tuple[str, ...],
    target: Path,
) -> Made:
    """The cards n-up with crop marks; with ``backs``, each sheet's reverse after it."""
    from handbook.press import sheets_pdf

    fronts = [_bleed_file(target.parent, card_id).read_bytes() for card_id in ids]
    back_pdfs = None if backs is None else _fit_backs(backs, origins, size)
    write_atomic(target, sheets_pdf.card_sheets(layout, fronts, back_pdfs))
    pages = layout.sheets_for(len(fronts)) * (2 if backs is not None else 1)
    return Made(pages, renders=len(backs or ()))


def _fit_backs(
    backs: tuple[tuple[Card, PageSource], ...], origins: _Origins, size: str
) -> list[bytes]:
    """Each card's back, fitted like a front; all problems at once if some do not fit."""
    from handbook.press.fit import fit_card, overflow_problem

    fitted, problems = [], []
    for card, source in backs:
        fit = fit_card(source, size)
        if fit.fits:
            fitted.append(pdf.to_pdf_bytes(fit.document, source.origin))
        else:
            problems.append(overflow_problem(origins, card, size, fit, source.html, back=True))
    if problems:
        raise HandbookError(problems)
    return fitted


def _make_previews(ids: tuple[str, ...], names: tuple[str, ...], target: Path) -> Made:
    """A PNG per card and a contact sheet, drawn from cards.pdf."""
    from handbook.press.preview import write_previews

    write_previews(target.parent.parent / names[0], list(ids), target.parent, dpi=PREVIEW_DPI)
    return Made(1, renders=0)
