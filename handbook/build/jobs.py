"""Every output of a project as a job: the hash of all its inputs, and how to make it.

A job whose hash matches the one recorded in the output folder, and whose
files are still there unchanged, is up to date and is not made again. To add
an output, add a job in :func:`plan`: :func:`rendered_job` for one rendered
from HTML, :func:`derived_job` for one made from other outputs, with a maker
from :mod:`handbook.build.makers`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from handbook import engine
from handbook.build import makers
from handbook.build.cache import digest
from handbook.build.dates import document_date
from handbook.build.inputs import pictures_shown, shared_inputs
from handbook.build.report import Made
from handbook.build.workers import Task, default_jobs
from handbook.errors import HandbookError, Notice, Problem
from handbook.html.render import pages_wanted
from handbook.press.metadata import DocumentInfo
from handbook.press.sizes import sheet_for_paper

if TYPE_CHECKING:
    from handbook.build.pipeline import BuildOptions
    from handbook.content.pictures import PictureFile
    from handbook.content.translations import Translation
    from handbook.content.validate import Handbook
    from handbook.html.render import Renderer
    from handbook.html.views import Card
    from handbook.press.format import Format
    from handbook.project import Project

T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    name: str  # the file's path inside the output folder
    origin: str  # the project file named when it fails
    key: str
    # Writes the file into the output folder; runs in a worker. None for an output planned
    # as one the last build left as it is now (see :func:`read_and_plan`).
    make: Callable[[Path], Made] | None
    needs: tuple[str, ...] = ()  # outputs this one is made from
    files: tuple[str, ...] = ()  # other files it writes, kept up to date with it
    suspects: tuple[str, ...] = ()  # see Task.suspects


@dataclass
class Planner:
    """What every job of one build is planned from; collects the problems of planning."""

    renderer: Renderer
    handbook: Handbook
    fmt: Format
    shared: str  # the hash of what every output depends on besides its own HTML
    suspects: tuple[str, ...] = ()  # the largest content files
    problems: list[Problem] = dataclasses.field(default_factory=list)
    booklet: Job | None = None  # once planned: cards that cite its pages wait for it
    # Each card's page (front or back) as planned, by job name, for cards.pdf.
    card_pages: dict[str, makers.CardPage] = dataclasses.field(default_factory=dict)

    def attempt(self, make: Callable[[], T]) -> T | None:
        """``make()``, or None with its problems recorded (a template error, say)."""
        try:
            return make()
        except HandbookError as exc:
            self.problems.extend(exc.problems)
            return None

    def rendered_job(
        self, name: str, origin: str, source: engine.PageSource, make, *params: str
    ) -> Job:
        """An output rendered from HTML; ``make(source, out_dir)`` writes it.

        ``params`` are whatever else changes it besides the source (a PDF variant);
        the pictures it shows are found in its HTML.
        """
        key = digest(self.besides_html(source, *params), name, source.html)
        return Job(name, origin, key, partial(make, source))

    def besides_html(self, source: engine.PageSource, *params: str) -> str:
        """The hash of all an output rendered from ``source`` is made from but its HTML:
        what its stylesheets, its settings and the pictures it shows make it."""
        stylesheets = map(str, source.stylesheets)
        pictures = pictures_shown(source.html, self.handbook.pictures)
        return digest(self.shared, source.extra_css, *stylesheets, *params, *pictures)

    def card_job(self, card: Card, back: bool = False, variant: str | None = None) -> Job | None:
        """A card (or its back) fitted on one page, written trimmed, and how it was fitted;
        as the PDF ``variant`` when there is one."""
        page = self.renderer.card_back if back else self.renderer.card
        source = self.attempt(partial(bounded, page, self.handbook, card, self.fmt))
        if source is None:
            return None
        written = makers.Variant(variant, document_date(self.handbook.settings.date, variant))
        make = partial(makers.make_card, card, self.fmt, back, self.origins([card]), written)
        name, params = makers.card_file(card.id, back), (str(variant), str(written.date))
        self.card_pages[name] = makers.CardPage(card.id, back, source)
        job = self.rendered_job(name, card.source_path, source, make, *params)
        job = dataclasses.replace(job, files=(makers.bleed_file(card.id, back),))
        if self.booklet is None or not pages_wanted(source.html):
            return job
        # It prints the pages its links have in the booklet: made after it, and again
        # whenever the booklet changes.
        key = digest(job.key, self.booklet.key)
        return dataclasses.replace(job, key=key, needs=(self.booklet.name,))

    def check_task(self, card: Card) -> Task | None:
        """A card laid out as its :meth:`card_job` would be, writing nothing."""
        source = self.attempt(partial(bounded, self.renderer.card, self.handbook, card, self.fmt))
        if source is None:
            return None
        fit = partial(makers.fit_card, card, self.fmt, self.origins([card]), source)
        return Task(card.id, card.source_path, fit)

    def origins(self, cards: list[Card]) -> makers.Origins:
        found = self.handbook.origins
        return makers.Origins({c.id: found[c.id] for c in cards if c.id in found})


# Far more HTML than any handbook's booklet; a template that makes more (a loop that
# runs away) would have it copied between processes, and laid out, for nothing.
MAX_HTML_CHARS = 64 * 1024 * 1024


def bounded(page: Callable[..., engine.PageSource], *args) -> engine.PageSource:
    """``page(*args)``, refused if its templates made more HTML than one document may have."""
    source = page(*args)
    if len(source.html) > MAX_HTML_CHARS:
        mib = 1024 * 1024
        raise HandbookError(
            [
                Problem(
                    source.origin,
                    0,
                    0,
                    f"the templates made {len(source.html) // mib} MiB of HTML for one "
                    f"document, over the {MAX_HTML_CHARS // mib} MiB limit",
                    "look for a loop in the templates that repeats more than it should",
                )
            ]
        )
    return source


def derived_job(name: str, inputs: list[Job], make, *params: str) -> Job:
    """An output made from other outputs (combined, imposed), after they are written.

    ``make(input_names, out_dir)`` writes it; its key is its inputs' keys plus
    ``params`` (whatever else changes it, such as a sheet size).
    """
    names = tuple(job.name for job in inputs)
    key = digest(name, *params, *(job.key for job in inputs))
    return Job(name, "handbook.yaml", key, partial(make, names), names)


@dataclass
class Plan:
    """What the workers check, and the handbook (and its translations) it was planned from."""

    handbook: Handbook
    tasks: list[Task]
    problems: list[Problem]
    translations: list[Translation] = dataclasses.field(default_factory=list)


@dataclass
class EditionPlan:
    """One language's outputs as planned: the jobs, the problems of planning them, and
    what its translation noted (nothing for the source)."""

    jobs: list[Job] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    notices: list[Notice] = dataclasses.field(default_factory=list)


@dataclass
class BuildPlan:
    """What the build needs of the source's handbook (its notices, the pictures it
    shows) and each edition asked for, by language (None for the source)."""

    notices: list[Notice]
    pictures: dict[str, PictureFile]
    editions: dict[str | None, EditionPlan]


# An edition's outputs as the last build left them, files untouched since: name -> the
# key it was made from, and the other files made with it.
Kept = dict[str, tuple[str, tuple[str, ...]]]


def planning_task(project: Project, run: Callable[[], Plan]) -> Task:
    """Reading and templating the project as a task, so that it runs under the limits too."""
    action = "reading the project and its templates"
    return Task("the project", "handbook.yaml", run, action=action, suspects=largest(project))


def largest(project: Project) -> tuple[str, ...]:
    """The largest files of handbook.yaml and the content, as the project names them."""
    sizes = {}
    for path in [project.settings_file, *project.content_files()]:
        with contextlib.suppress(OSError):
            sizes[path.relative_to(project.root).as_posix()] = path.stat().st_size
    return tuple(sorted(sizes, key=lambda name: -sizes[name])[:SUSPECTS])


SUSPECTS = 3  # how many of the largest content files a limit problem names


def read_and_plan(
    project: Project,
    options: BuildOptions,
    languages: tuple[str | None, ...],
    kept: dict[str | None, Kept] | None = None,
) -> BuildPlan:
    """The handbook read and every output of each edition in ``languages`` planned
    (in a worker: see :func:`planning_task`).

    A job planned as one of ``kept`` (by edition) was made from the same inputs
    and comes without its ``make``: the build leaves it as it is, and its sources
    (the HTML of every card) are not copied back to the build for nothing.
    """
    from handbook.content.validate import load_handbook

    handbook = load_handbook(project)
    editions = {}
    for language in languages:
        planned = plan_edition(project, handbook, language, options)
        found = (kept or {}).get(language, {})
        planned.jobs = [
            dataclasses.replace(job, make=None)
            if found.get(job.name) == (job.key, job.files)
            else job
            for job in planned.jobs
        ]
        editions[language] = planned
    return BuildPlan(handbook.notices, handbook.pictures, editions)


def plan_edition(
    project: Project, handbook: Handbook, language: str | None, options: BuildOptions
) -> EditionPlan:
    """The jobs of the source's edition (``language`` None) or of a translation's; a
    translation that cannot be read is its problems, and no jobs."""
    notices: list[Notice] = []
    if language:
        from handbook.content.translations import translate

        try:
            translation = translate(project, handbook, language)
        except HandbookError as exc:
            return EditionPlan(problems=exc.problems)
        handbook, notices = translation.handbook, translation.notices
    jobs, problems = plan(project, handbook, options.format_for(handbook), options)
    return EditionPlan(jobs, problems, notices)


def read_and_plan_checks(project: Project, options: BuildOptions) -> Plan:
    """The handbook and its translations read, and a layout task planned for each card
    of every one (a translation's named ``de/kneading``, say), in a worker."""
    from handbook.content.validate import load_handbook

    handbook = load_handbook(project)
    found = translations(project, handbook)
    fmt = options.format_for(handbook)
    tasks, problems = plan_checks(project, handbook, fmt)
    for translation in found:
        more, planned = plan_checks(project, translation.handbook, fmt)
        problems += planned
        tasks += [dataclasses.replace(t, name=f"{translation.language}/{t.name}") for t in more]
    return Plan(handbook, tasks, problems, found)


def read_only(project: Project) -> Plan:
    """The handbook and its translations read and checked, nothing planned (in a worker)."""
    from handbook.content.validate import load_handbook

    handbook = load_handbook(project)
    return Plan(handbook, [], [], translations(project, handbook))


def translations(project: Project, handbook: Handbook) -> list[Translation]:
    """Every translation of the project; raises HandbookError with all their problems."""
    from handbook.content.translations import translate

    found, problems = [], []
    for language in project.translation_languages():
        try:
            found.append(translate(project, handbook, language))
        except HandbookError as exc:
            problems += exc.problems
    if problems:
        raise HandbookError(problems)
    return found


def planner(project: Project, handbook: Handbook, fmt: Format) -> Planner:
    from handbook.html.render import Renderer

    return Planner(
        Renderer(project), handbook, fmt, shared_inputs(project, handbook), largest(project)
    )


def plan(
    project: Project, handbook: Handbook, fmt: Format, options: BuildOptions
) -> tuple[list[Job], list[Problem]]:
    """Every output of the project as a job, booklet first (it takes longest).

    An output whose HTML cannot be made (a template error) is reported among
    the problems and has no job, nor have the outputs made from it.
    """
    from handbook.html.views import cards, outline

    jobs_of = planner(project, handbook, fmt)
    jobs = _booklet_jobs(jobs_of, options) if outline(handbook) else []  # none for cards only
    if options.html and outline(handbook):
        jobs += [job for job in [jobs_of.attempt(partial(_edition_job, jobs_of))] if job]
    all_cards = cards(handbook)
    variant = engine.weasyprint_variant(options.pdf_variant)  # no PDF/X cards
    fronts = [jobs_of.card_job(card, variant=variant) for card in all_cards]
    jobs += [job for job in fronts if job]
    if not all_cards or not all(fronts):
        return jobs, jobs_of.problems
    backs = (
        [jobs_of.card_job(card, back=True, variant=variant) for card in all_cards]
        if options.duplex
        else []
    )
    jobs += [job for job in backs if job]
    ids = tuple(card.id for card in all_cards)
    jobs += _card_files(jobs_of, ids, [job for job in fronts if job], backs, options)
    return jobs, jobs_of.problems


def plan_checks(
    project: Project, handbook: Handbook, fmt: Format
) -> tuple[list[Task], list[Problem]]:
    """A task per card that lays it out as the build would, for ``check``."""
    from handbook.html.views import cards

    jobs_of = planner(project, handbook, fmt)
    tasks = [jobs_of.check_task(card) for card in cards(handbook)]
    return [task for task in tasks if task], jobs_of.problems


def document_info(handbook: Handbook) -> DocumentInfo:
    """What the files put together from the booklet or the cards say about themselves."""
    settings = handbook.settings
    date = document_date(settings.date, None)
    authors = tuple(settings.authors)
    return DocumentInfo(settings.title, authors, settings.language, settings.subtitle, date)


def _booklet_jobs(jobs_of: Planner, options: BuildOptions) -> list[Job]:
    """The tagged booklet and its imposed print file, or none if the booklet cannot be made."""
    booklet = jobs_of.attempt(partial(_booklet_job, jobs_of, options))
    if booklet is None:
        return []
    jobs_of.booklet = booklet
    fmt, info = jobs_of.fmt, document_info(jobs_of.handbook)
    sheet_name = sheet_for_paper(fmt.paper).capitalize()
    body_pt = jobs_of.handbook.design.booklet_text_pt
    sheet = makers.PrintSheet(fmt.print_sheet_pt, sheet_name, body_pt)
    if fmt.print_paper == fmt.paper:
        make = partial(makers.make_print, sheet, info)
        imposed = derived_job("handbook-print.pdf", [booklet], make, repr(sheet), repr(info))
        return [booklet, imposed]
    edition = jobs_of.attempt(partial(_print_edition_job, jobs_of, sheet, info))
    return [booklet, edition] if edition else [booklet]


def _print_edition_job(jobs_of: Planner, sheet: makers.PrintSheet, info: DocumentInfo) -> Job:
    """handbook-print.pdf of an A4 or Letter booklet: laid out at half the sheet
    (A5, half-letter), so that it is imposed at true size."""
    fmt = dataclasses.replace(jobs_of.fmt, paper=jobs_of.fmt.print_paper)
    source = bounded(jobs_of.renderer.booklet, jobs_of.handbook, fmt)
    date = document_date(jobs_of.handbook.settings.date, None)
    make = partial(makers.make_print_edition, sheet, info, date)
    params = (repr(sheet), repr(info), str(date))
    job = jobs_of.rendered_job("handbook-print.pdf", source.origin, source, make, *params)
    return dataclasses.replace(job, suspects=jobs_of.suspects)


def _booklet_job(jobs_of: Planner, options: BuildOptions) -> Job:
    """The booklet; with bleed or marks, its pages grow around the trim box.

    WeasyPrint renders the bleed; the marks are drawn afterwards, in a slug
    around the bleed (:mod:`handbook.press.marks`), as on the card sheets.
    """
    source = bounded(jobs_of.renderer.booklet, jobs_of.handbook, jobs_of.fmt)
    extra = engine.print_shop_css(options.bleed)
    source = dataclasses.replace(source, extra_css=source.extra_css + extra)
    date = document_date(jobs_of.handbook.settings.date, options.pdf_variant)
    notes = jobs_of.renderer.notes_pages(jobs_of.handbook, jobs_of.fmt)
    if notes is not None:  # the same bleed as the pages they go between
        notes = dataclasses.replace(notes, extra_css=notes.extra_css + extra)
    notes_html = notes.html if notes else ""
    params = (str(date), str(options.pdf_variant), f"marks={options.marks}", notes_html)
    context = jobs_of.besides_html(source, *params)
    ahead = (options.jobs or default_jobs()) > 1  # its parts side by side, where it helps
    make = partial(
        makers.make_booklet,
        date,
        options.pdf_variant,
        options.marks,
        notes,
        context,
        options.force,
        ahead,
    )
    job = jobs_of.rendered_job("handbook.pdf", source.origin, source, make, *params)
    return dataclasses.replace(job, files=(makers.PAGE_MAP,), suspects=jobs_of.suspects)


def _edition_job(jobs_of: Planner) -> Job:
    """The HTML edition: its page, and the pictures and fonts it names copied beside it."""
    from handbook.html.edition import EDITION_DIR, EDITION_PAGE, edition

    made = edition(jobs_of.renderer, jobs_of.handbook)
    pictures = pictures_shown(made.html, jobs_of.handbook.pictures)
    key = digest(jobs_of.shared, EDITION_PAGE, made.html, *pictures)
    files = tuple(sorted(made.files.items()))
    roots = jobs_of.renderer.project.allowed_roots
    make = partial(makers.make_edition, made.html, files, roots)
    names = tuple(f"{EDITION_DIR}/{name}" for name, _ in files)
    return Job(EDITION_PAGE, "handbook.yaml", key, make, files=names)


def _card_files(
    jobs_of: Planner,
    ids: tuple[str, ...],
    fronts: list[Job],
    backs: list[Job | None],
    options: BuildOptions,
) -> list[Job]:
    """cards.pdf, card-sheets.pdf and the PNG previews, made from the card files.

    cards.pdf puts the cards' PDFs together (with the backs for duplex sheets),
    so that all share one set of fonts; card-sheets.pdf is imposed from that.
    """
    from handbook.press import sheets

    fmt, info = jobs_of.fmt, document_info(jobs_of.handbook)
    sheets_planned = all(backs)
    inputs = [*fronts, *(job for job in backs if job and sheets_planned)]
    pages = tuple(jobs_of.card_pages[job.name] for job in inputs)
    ahead = (options.jobs or default_jobs()) > 1  # its groups side by side, where it helps
    make_cards = partial(makers.make_cards_pdf, info, pages, ahead)
    combined = derived_job("cards.pdf", inputs, make_cards, repr(info))
    combined = dataclasses.replace(combined, files=(makers.BLEED_CARDS,))
    jobs = [combined]
    if sheets_planned:
        layout = sheets.layout(fmt.sheet_mm, fmt.card_mm, fmt.pouch_mm, fmt.bleed_mm)
        make_sheets = partial(makers.make_sheets, layout, len(fronts), options.duplex, info)
        params = (repr(layout), repr(info), f"duplex={options.duplex}")
        jobs.append(derived_job("card-sheets.pdf", [combined], make_sheets, *params))
    if options.png:
        previews = derived_job(
            "png/contact-sheet.png", [combined], partial(makers.make_previews, ids), *ids
        )
        jobs.append(dataclasses.replace(previews, files=tuple(f"png/{i}.png" for i in ids)))
    return jobs
