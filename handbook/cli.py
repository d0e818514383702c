"""The command line: a thin layer over :mod:`handbook.build`.

Heavy modules (WeasyPrint) are imported only when something is rendered, so
``handbook --help``, ``check``, ``schema`` and a build with nothing to do
start fast.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import shlex
import sys
import time
from pathlib import Path
from typing import ClassVar

import click

from handbook import __version__
from handbook.build.workers import MAX_MEMORY_MB, MAX_SECONDS, MIN_MEMORY_MB
from handbook.engine import PDF_VARIANTS, print_shop_css
from handbook.errors import HandbookError, counted
from handbook.press.sizes import CARD_SIZES, PAPER_SIZES
from handbook.project import OUTPUT_DIR

SHEETS = ["a4", "letter"]
INTERRUPTED = 130  # the status shells give a command stopped by Ctrl-C (128 + SIGINT)


class BleedLength(click.ParamType):
    """A length with a unit, such as 3mm: refused as a usage error before any work starts.

    The rule is the one the renderer applies (:func:`print_shop_css`).
    """

    name = "length"

    def convert(self, value, param, ctx):
        try:
            print_shop_css(value, marks=False)
        except HandbookError as exc:
            [problem] = exc.problems
            self.fail(f"{problem.message}; {problem.hint}", param, ctx)
        return value


class Seconds(click.FloatRange):
    """A number of seconds in a range; NaN, which no comparison refuses, is refused too."""

    def convert(self, value, param, ctx):
        seconds = super().convert(value, param, ctx)
        if math.isnan(seconds):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return seconds


project_option = click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The handbook project folder (the one with handbook.yaml).",
)


def build_options(command):
    """The options shared by every command that builds."""
    options = [
        click.option(
            "--out",
            "out_dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Output folder [default: PROJECT/build].",
        ),
        click.option(
            "--paper",
            type=click.Choice(list(PAPER_SIZES)),
            help="Booklet paper size [default: from handbook.yaml].",
        ),
        click.option(
            "--card-size",
            type=click.Choice(list(CARD_SIZES)),
            help="Card size [default: from handbook.yaml].",
        ),
        click.option(
            "--sheet",
            type=click.Choice(SHEETS),
            help="Paper for card-sheets.pdf [default: letter for letter-family paper, else a4].",
        ),
        click.option(
            "--duplex", is_flag=True, help="Print each card's back on the reverse of its sheet."
        ),
        click.option(
            "--png", is_flag=True, help="Also write build/png/: each card and a contact sheet."
        ),
        click.option(
            "--bleed",
            type=BleedLength(),
            metavar="LENGTH",
            help="Bleed around the booklet's pages for a print shop, e.g. 3mm.",
        ),
        click.option("--marks", is_flag=True, help="Crop marks on the booklet's pages."),
        click.option(
            "--pdf-variant",
            type=click.Choice(PDF_VARIANTS),
            help="Write the booklet as PDF/A (archiving) or PDF/UA (accessibility).",
        ),
        click.option("--force", is_flag=True, help="Render every output, even unchanged ones."),
        click.option("--quiet", "-q", is_flag=True, help="Print only problems."),
        click.option(
            "--verbose", "-v", is_flag=True, help="Also list the outputs that are up to date."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return limit_options(command)


def limit_options(command):
    """How many workers lay out pages, and how long and how much memory each output may take."""
    options = [
        click.option(
            "--jobs",
            "-j",
            type=click.IntRange(min=1),
            help="Outputs rendered at once [default: one per core].",
        ),
        click.option(
            "--time-limit",
            type=Seconds(min=0, min_open=True, max=MAX_SECONDS),
            default=300,
            show_default=True,
            help="Seconds one output may take to render.",
        ),
        click.option(
            "--memory-limit",
            type=click.IntRange(min=MIN_MEMORY_MB, max=MAX_MEMORY_MB),
            default=3072,
            show_default=True,
            help="Megabytes of memory one render may use.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def reports_problems(command):
    """Print user errors as located lines with hints, then exit with status 1.

    Ctrl-C prints one line instead of click's "Aborted!" and exits with the
    status shells use for it.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except HandbookError as exc:
            _print_problems(exc)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("\ninterrupted", err=True)
            sys.exit(INTERRUPTED)

    return wrapper


def _print_problems(exc: HandbookError) -> None:
    for problem in exc.problems:
        click.echo(problem.format(), err=True)
    count = len(exc.problems)
    click.echo(f"{counted(count, 'problem')} found.", err=True)


class Progress:
    """One line per output as it is settled, then a summary; coloured on a terminal."""

    STYLES: ClassVar[dict[str, str | None]] = {
        "rendered": "green",
        "up to date": None,
        "failed": "red",
        "not rebuilt": "yellow",
    }

    def __init__(self, quiet: bool = False, verbose: bool = False):
        self.quiet, self.verbose = quiet, verbose
        self.color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.started = time.perf_counter()
        self.counts: dict[str, int] = {}

    def output(self, result) -> None:
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        if self.quiet or (result.status == "up to date" and not self.verbose):
            return
        status = click.style(f"{result.status:<11}", fg=self.STYLES[result.status], bold=True)
        details = []
        if result.pages:
            details.append(counted(result.pages, "page"))
        if result.seconds:
            details.append(f"{result.seconds:.2f} s")
        if result.scale < 1:
            details.append(f"text shrunk to {result.scale:.0%}")
        line = f"{status} {_shown(result.path)}"
        if details:
            line += f" ({', '.join(details)})"
        click.echo(line, color=self.color)

    def summary(self) -> None:
        if self.quiet or not self.counts:
            return
        seconds = time.perf_counter() - self.started
        parts = [f"{count} {status}" for status, count in self.counts.items()]
        click.echo(f"{', '.join(parts)} in {seconds:.2f} s")

    def restart(self) -> None:
        self.started = time.perf_counter()
        self.counts = {}


def _shown(path: Path) -> str:
    try:
        return str(Path(os.path.realpath(path)).relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _options(time_limit: float, memory_limit: int, **options):
    from handbook.build import BuildOptions
    from handbook.build.workers import Limits

    return BuildOptions(**options, limits=Limits(seconds=time_limit, memory_mb=memory_limit))


def _run_build(project_dir: Path, options, progress: Progress) -> None:
    from handbook.build import build as run_build

    try:
        run_build(project_dir, options, progress.output)
    finally:
        progress.summary()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="handbook")
def cli() -> None:
    """Build a printed handbook and one-page cheat cards from YAML content."""


@cli.command()
@project_option
@build_options
@reports_problems
def build(project_dir: Path, quiet: bool, verbose: bool, **options) -> None:
    """Build the booklet (handbook.pdf, handbook-print.pdf), the cards and card-sheets.pdf.

    handbook-print.pdf is the booklet imposed for saddle stitching: print it
    double-sided (flip on the short edge), fold the stack in the middle and
    staple it. Only outputs whose inputs changed since the last build are
    rendered.
    """
    _run_build(project_dir, _options(**options), Progress(quiet, verbose))


@cli.command()
@project_option
@build_options
@reports_problems
def watch(project_dir: Path, quiet: bool, verbose: bool, **options) -> None:
    """Build, then build again whenever content, templates, styles or settings change.

    A failed build keeps the last good outputs. Stop with Ctrl-C.
    """
    from handbook.build.watch import watch as run_watch

    progress = Progress(quiet, verbose)

    def on_build(result) -> None:
        if isinstance(result, HandbookError):
            _print_problems(result)
        progress.summary()
        if not quiet:
            click.echo("watching for changes (Ctrl-C to stop)")

    def on_change(paths) -> None:
        progress.restart()
        if not quiet:
            click.echo(f"changed: {', '.join(sorted(_shown(p) for p in paths))}")

    with contextlib.suppress(KeyboardInterrupt):
        run_watch(
            project_dir,
            _options(**options),
            on_build,
            on_output=progress.output,
            on_change=on_change,
        )
    if not quiet:
        click.echo("stopped watching")


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--bare", is_flag=True, help="A minimal skeleton instead of the full example.")
@click.option("--quiet", "-q", is_flag=True, help="Print only problems.")
@reports_problems
def init(folder: Path, bare: bool, quiet: bool) -> None:
    """Start a new project in FOLDER and build it.

    Templates, styles and fonts come from the built-in defaults; put a file
    of the same name in the project's templates/, styles/ or fonts/ to
    change one. FOLDER must be new or empty: init never overwrites files.
    """
    from handbook.build import BuildOptions
    from handbook.scaffold import init_project

    root = init_project(folder, bare=bare)
    if not quiet:
        click.echo(f"created {_shown(root)}")
    _run_build(root, BuildOptions(), Progress(quiet))
    if not quiet:
        click.echo(_next_steps(root))


def _next_steps(root: Path) -> str:
    from handbook.scaffold import COMMANDS

    shown = _shown(root)
    cd = "" if shown == "." else f"  cd {shlex.quote(shown)}\n"
    return f"""
Next steps:
{cd}  The outputs are in {OUTPUT_DIR}/: handbook.pdf (the booklet), handbook-print.pdf
  (to print double-sided and fold), cards/ and card-sheets.pdf (the cards).
  Edit the YAML files in content/, then:
{COMMANDS}  README.md says what each folder is for."""


@cli.command()
@project_option
@click.option(
    "--card-size",
    type=click.Choice(list(CARD_SIZES)),
    help="Card size [default: from handbook.yaml].",
)
@click.option(
    "--cards/--no-cards",
    default=True,
    show_default=True,
    help="Lay out every card to find cards too long for one page (takes a moment).",
)
@limit_options
@reports_problems
def check(project_dir: Path, card_size: str | None, cards: bool, **limits) -> None:
    """Validate the whole project and print every problem; writes nothing."""
    from handbook.build import check as run_check
    from handbook.build import check_cards

    fits = []
    if cards:
        report = check_cards(project_dir, _options(card_size=card_size, **limits))
        handbook, fits = report.handbook, report.cards
    else:
        handbook = run_check(project_dir, _options(**limits).limits)
    counts = (
        f"{counted(len(handbook.chapters), 'chapter')}, "
        f"{counted(len(handbook.techniques), 'technique')}, "
        f"{counted(len(handbook.routines), 'routine')}, "
        f"{counted(len(handbook.safety), 'safety topic')}"
    )
    if cards:
        shrunk = [f"{fit.id} ({fit.scale:.0%})" for fit in fits if fit.scale < 1]
        counts += f"; {counted(len(fits), 'card')} fit one page"
        if shrunk:
            counts += f", text shrunk on {', '.join(shrunk)}"
    click.echo(f"ok: {counts}")


@cli.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="schema",
    show_default=True,
    help="Folder for content.schema.json and settings.schema.json.",
)
@reports_problems
def schema(out_dir: Path) -> None:
    """Write the JSON Schemas of content files and handbook.yaml, for editors.

    Point an editor at one with a first line such as
    '# yaml-language-server: $schema=../schema/content.schema.json'.
    """
    from handbook.content.schema import write_schemas

    for path in write_schemas(out_dir):
        click.echo(f"wrote {_shown(path)}")


def main() -> None:
    cli(prog_name="handbook")
