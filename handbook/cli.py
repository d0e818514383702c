"""The command line: a thin layer over :mod:`handbook.build`.

Heavy modules (WeasyPrint) are imported inside the commands that render, so
``handbook --help`` and ``handbook check`` start fast.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from handbook import __version__
from handbook.errors import HandbookError
from handbook.model import CardSize, PaperSize
from handbook.pdf import PDF_VARIANTS

PAPERS = list(PaperSize.__args__)
CARD_SIZES = list(CardSize.__args__)
SHEETS = ["a4", "letter"]

project_option = click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The handbook project folder (the one with handbook.yaml).",
)


def reports_problems(command):
    """Print user errors as located lines with hints, then exit with status 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except HandbookError as exc:
            for problem in exc.problems:
                click.echo(problem.format(), err=True)
            count = len(exc.problems)
            click.echo(f"{count} problem{'s' if count != 1 else ''} found.", err=True)
            sys.exit(1)

    return wrapper


@click.group()
@click.version_option(__version__, prog_name="handbook")
def cli() -> None:
    """Build a printed handbook and one-page cheat cards from YAML content."""


@cli.command()
@project_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder [default: PROJECT/build].",
)
@click.option(
    "--paper", type=click.Choice(PAPERS), help="Booklet paper size [default: from handbook.yaml]."
)
@click.option(
    "--card-size", type=click.Choice(CARD_SIZES), help="Card size [default: from handbook.yaml]."
)
@click.option(
    "--sheet",
    type=click.Choice(SHEETS),
    help="Paper for card-sheets.pdf [default: letter for letter-family paper, else a4].",
)
@click.option("--duplex", is_flag=True, help="Print each card's back on the reverse of its sheet.")
@click.option("--png", is_flag=True, help="Also write build/png/: each card and a contact sheet.")
@click.option(
    "--bleed", metavar="LENGTH", help="Bleed around the booklet's pages for a print shop, e.g. 3mm."
)
@click.option("--marks", is_flag=True, help="Crop marks on the booklet's pages.")
@click.option(
    "--pdf-variant",
    type=click.Choice(PDF_VARIANTS),
    help="Write the booklet as PDF/A (archiving) or PDF/UA (accessibility).",
)
@reports_problems
def build(
    project_dir: Path,
    out_dir: Path | None,
    paper: str | None,
    card_size: str | None,
    sheet: str | None,
    duplex: bool,
    png: bool,
    bleed: str | None,
    marks: bool,
    pdf_variant: str | None,
) -> None:
    """Build the booklet (handbook.pdf, handbook-print.pdf), the cards and card-sheets.pdf.

    handbook-print.pdf is the booklet imposed for saddle stitching: print it
    double-sided (flip on the short edge), fold the stack in the middle and
    staple it.
    """
    from handbook.build import BuildOptions
    from handbook.build import build as run_build

    options = BuildOptions(
        out_dir=out_dir,
        paper=paper,
        card_size=card_size,
        sheet=sheet,
        duplex=duplex,
        png=png,
        bleed=bleed,
        marks=marks,
        pdf_variant=pdf_variant,
    )
    report = run_build(project_dir, options)
    for output in report.outputs:
        pages = f"{output.pages} page{'s' if output.pages != 1 else ''}"
        shrunk = f", text shrunk to {output.scale:.0%}" if output.scale < 1 else ""
        click.echo(f"wrote {output.path} ({pages}, {output.seconds:.2f} s{shrunk})")


@cli.command()
@project_option
@click.option(
    "--card-size", type=click.Choice(CARD_SIZES), help="Card size [default: from handbook.yaml]."
)
@click.option(
    "--cards/--no-cards",
    default=True,
    show_default=True,
    help="Lay out every card to find cards too long for one page (takes a moment).",
)
@reports_problems
def check(project_dir: Path, card_size: str | None, cards: bool) -> None:
    """Validate the whole project and print every problem; writes nothing."""
    from handbook.build import check as run_check

    handbook = run_check(project_dir)
    counts = (
        f"{len(handbook.chapters)} chapters, {len(handbook.techniques)} techniques, "
        f"{len(handbook.routines)} routines, {len(handbook.safety)} safety topics"
    )
    if cards:
        from handbook.build import check_cards

        fits = check_cards(project_dir, card_size)
        shrunk = [f"{card_id} ({scale:.0%})" for card_id, scale in fits if scale < 1]
        counts += f"; {len(fits)} cards fit one page"
        if shrunk:
            counts += f", text shrunk on {', '.join(shrunk)}"
    click.echo(f"ok: {counts}")


def main() -> None:
    cli(prog_name="handbook")
