"""The coordinator: load -> validate -> render HTML -> PDF -> write.

Everything is checked before anything is written; each output is written
atomically, and a card that fails does not stop the other cards.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from handbook import impose, pdf
from handbook.errors import HandbookError, Problem
from handbook.output import build_lock, write_atomic
from handbook.project import Project, open_project
from handbook.render import Card, Renderer, cards
from handbook.sizes import print_sheet
from handbook.validate import Handbook, load_handbook


@dataclass(frozen=True)
class BuildOptions:
    out_dir: Path | None = None  # default: <project>/build
    paper: str | None = None  # default: handbook.yaml's paper
    card_size: str | None = None  # default: handbook.yaml's card_size
    bleed: str | None = None  # e.g. "3mm" around the booklet's pages, for a print shop
    marks: bool = False  # crop marks on the booklet's pages
    pdf_variant: str | None = None  # one of pdf.PDF_VARIANTS, such as "pdf/a-3b"


@dataclass
class OutputResult:
    path: Path
    pages: int
    seconds: float


@dataclass
class BuildReport:
    outputs: list[OutputResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def check(project_dir: Path) -> Handbook:
    """Validate a project without rendering; raises HandbookError listing every problem."""
    return load_handbook(open_project(project_dir))


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
    card_pdfs = [
        _build_card(
            renderer, handbook, card, card_size, out_dir / "cards" / f"{card.id}.pdf", report
        )
        for card in cards(handbook)
    ]
    if card_pdfs and all(card_pdfs):
        _combine(card_pdfs, out_dir / "cards.pdf", report)
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
) -> bytes | None:
    started = time.perf_counter()
    try:
        source = renderer.card(handbook, card, size)
        document = pdf.render(source)
        if len(document.pages) > 1:
            raise HandbookError([_overflow_problem(card, size, len(document.pages))])
        data = pdf.to_pdf_bytes(document, source.origin)
        write_atomic(target, data)
    except HandbookError as exc:
        report.problems.extend(exc.problems)
        return None
    report.outputs.append(OutputResult(target, 1, time.perf_counter() - started))
    return data


def _overflow_problem(card: Card, size: str, pages: int) -> Problem:
    return Problem(
        card.source_path,
        1,
        1,
        f"the {card.kind} card '{card.id}' does not fit on one {size} card "
        f"(it needs {pages} pages)",
        "shorten the steps, cues or lists of this item",
    )


def _combine(card_pdfs: list[bytes], target: Path, report: BuildReport) -> None:
    """All cards in one file, one card per page."""
    import pikepdf

    started = time.perf_counter()
    combined = pikepdf.Pdf.new()
    for data in card_pdfs:
        with pikepdf.Pdf.open(io.BytesIO(data)) as card_pdf:
            combined.pages.extend(card_pdf.pages)
    buffer = io.BytesIO()
    combined.save(buffer, deterministic_id=True)
    write_atomic(target, buffer.getvalue())
    report.outputs.append(OutputResult(target, len(card_pdfs), time.perf_counter() - started))
