"""The coordinator: load -> validate -> render HTML -> PDF -> write.

Everything is checked before anything is written; each output is written
atomically, and a card that fails does not stop the other cards.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from handbook import impose, pdf
from handbook.errors import HandbookError, Problem
from handbook.output import build_lock, write_atomic
from handbook.project import Project, open_project
from handbook.render import Card, Renderer, cards
from handbook.sizes import CARD_SIZES, PAPER_SIZES, pouch_margin, print_sheet, sheet_for_paper
from handbook.validate import Handbook, load_handbook


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


@dataclass
class OutputResult:
    path: Path
    pages: int
    seconds: float
    scale: float = 1.0  # a card's text size after fitting it on one page (1.0 = full size)
    renders: int = 1  # layouts it took


@dataclass
class BuildReport:
    outputs: list[OutputResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def check(project_dir: Path) -> Handbook:
    """Validate a project without rendering; raises HandbookError listing every problem."""
    return load_handbook(open_project(project_dir))


def check_cards(project_dir: Path, card_size: str | None = None) -> list[tuple[str, float]]:
    """Lay out every card as the build would: (card id, text scale) for each.

    Raises HandbookError naming each card too long for one page.
    """
    from handbook.fit import fit_card, overflow_problem

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


def build(project_dir: Path, options: BuildOptions = BuildOptions()) -> BuildReport:
    """Build the booklet and the cards. Raises HandbookError after writing what it could."""
    project = open_project(project_dir)
    handbook = load_handbook(project)
    out_dir = options.out_dir or project.root / "build"
    with build_lock(out_dir):
        return _write_outputs(project, handbook, out_dir, options)


def _write_outputs(
    project: Project, handbook: Handbook, out_dir: Path, options: BuildOptions
) -> BuildReport:
    renderer = Renderer(project)
    report = BuildReport()
    paper = options.paper or handbook.settings.paper
    card_size = options.card_size or handbook.settings.card_size

    booklet = _build_booklet(renderer, handbook, paper, options, out_dir / "handbook.pdf", report)
    if booklet:
        _build_print(booklet, paper, out_dir / "handbook-print.pdf", report)
    all_cards = cards(handbook)
    card_pdfs = [
        _build_card(
            renderer, handbook, card, card_size, out_dir / "cards" / f"{card.id}.pdf", report
        )
        for card in all_cards
    ]
    if card_pdfs and all(card_pdfs):
        _write_card_set(
            renderer, handbook, all_cards, card_pdfs, card_size, options, out_dir, report
        )
    if report.problems:
        raise HandbookError(report.problems)
    return report


def _build_booklet(
    renderer, handbook, paper: str, options: BuildOptions, target: Path, report: BuildReport
) -> bytes | None:
    """The tagged booklet; with bleed or marks, its pages grow around the trim box."""
    started = time.perf_counter()
    try:
        source = renderer.booklet(handbook, paper)
        extra = pdf.print_shop_css(options.bleed, options.marks)
        document = pdf.render(dataclasses.replace(source, extra_css=source.extra_css + extra))
        data = pdf.to_pdf_bytes(
            document,
            source.origin,
            date=_document_date(handbook, options.pdf_variant),
            pdf_tags=True,
            pdf_variant=options.pdf_variant,
        )
        write_atomic(target, data)
    except HandbookError as exc:
        report.problems.extend(exc.problems)
        return None
    report.outputs.append(OutputResult(target, len(document.pages), time.perf_counter() - started))
    return data


def _build_print(booklet: bytes, paper: str, target: Path, report: BuildReport) -> None:
    """The booklet imposed for saddle stitching, two pages per side of a landscape sheet."""
    started = time.perf_counter()
    imposed = impose.impose(booklet, print_sheet(paper))
    try:
        write_atomic(target, imposed.pdf)
    except HandbookError as exc:
        report.problems.extend(exc.problems)
        return
    report.outputs.append(OutputResult(target, imposed.sides, time.perf_counter() - started))


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


def _build_card(
    renderer: Renderer, handbook: Handbook, card: Card, size: str, target: Path, report: BuildReport
) -> tuple[bytes, bytes] | None:
    """Fit the card on one page and write it at its trimmed size.

    Returns the card trimmed and with its bleed (for the sheets); None when it
    does not fit, and then nothing is written for it.
    """
    from handbook import sheets_pdf
    from handbook.fit import fit_card, overflow_problem

    started = time.perf_counter()
    try:
        source = renderer.card(handbook, card, size)
        fit = fit_card(source, size)
        if not fit.fits:
            raise HandbookError([overflow_problem(handbook, card, size, fit, source.html)])
        data = pdf.to_pdf_bytes(fit.document, source.origin)
        card_pdf = sheets_pdf.trimmed(data)
        write_atomic(target, card_pdf)
    except HandbookError as exc:
        report.problems.extend(exc.problems)
        return None
    seconds = time.perf_counter() - started
    report.outputs.append(OutputResult(target, 1, seconds, fit.scale, fit.renders))
    return card_pdf, data


def _write_card_set(
    renderer: Renderer,
    handbook: Handbook,
    all_cards: list[Card],
    card_pdfs: list[tuple[bytes, bytes]],
    size: str,
    options: BuildOptions,
    out_dir: Path,
    report: BuildReport,
) -> None:
    """cards.pdf (one card a page), card-sheets.pdf (n-up) and, if asked, the PNG previews."""
    from handbook import sheets, sheets_pdf

    started = time.perf_counter()
    target = out_dir / "cards.pdf"
    write_atomic(target, sheets_pdf.combine([trimmed for trimmed, _ in card_pdfs]))
    report.outputs.append(OutputResult(target, len(card_pdfs), time.perf_counter() - started))

    started = time.perf_counter()
    paper = options.paper or handbook.settings.paper
    sheet = options.sheet or sheet_for_paper(paper)
    layout = sheets.layout(PAPER_SIZES[sheet], CARD_SIZES[size], pouch_margin(size))
    backs = None
    if options.duplex:
        backs = _card_backs(renderer, handbook, all_cards, size, report)
        if backs is None:
            return
    target = out_dir / "card-sheets.pdf"
    fronts = [with_bleed for _, with_bleed in card_pdfs]
    write_atomic(target, sheets_pdf.card_sheets(layout, fronts, backs))
    pages = layout.sheets_for(len(card_pdfs)) * (2 if options.duplex else 1)
    report.outputs.append(OutputResult(target, pages, time.perf_counter() - started))

    if options.png:
        from handbook.preview import write_previews

        started = time.perf_counter()
        written = write_previews(
            out_dir / "cards.pdf", [c.id for c in all_cards], out_dir / "png", dpi=150
        )
        report.outputs.append(OutputResult(written[-1], 1, time.perf_counter() - started))


def _card_backs(renderer, handbook, all_cards, size: str, report: BuildReport):
    """Each card's back, fitted like a front; None when one of them does not fit."""
    from handbook.fit import fit_card, overflow_problem

    backs = []
    for card in all_cards:
        try:
            source = renderer.card_back(handbook, card, size)
            fit = fit_card(source, size)
            if not fit.fits:
                problem = overflow_problem(handbook, card, size, fit, source.html, back=True)
                raise HandbookError([problem])
            backs.append(pdf.to_pdf_bytes(fit.document, source.origin))
        except HandbookError as exc:
            report.problems.extend(exc.problems)
    return backs if len(backs) == len(all_cards) else None
