"""The command line: a thin layer over :mod:`handbook.build`.

Heavy modules (WeasyPrint) are imported only when something is rendered, so
``handbook --help``, ``check``, ``schema`` and a build with nothing to do
start fast.
"""

from __future__ import annotations

import contextlib
import functools
import json
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
from handbook.errors import HandbookError, Problem, counted
from handbook.press.sizes import CARD_SIZES, PAPER_SIZES
from handbook.project import OUTPUT_DIR, SCHEMA_DIR, example_names

SHEETS = ["a4", "letter"]
INTERRUPTED = 130  # the status shells give a command stopped by Ctrl-C (128 + SIGINT)


class BleedLength(click.ParamType):
    """A length with a unit, such as 3mm: refused as a usage error before any work starts.

    The rule is the one the renderer applies (:func:`print_shop_css`).
    """

    name = "length"

    def convert(self, value, param, ctx):
        try:
            print_shop_css(value)
        except HandbookError as exc:
            [problem] = exc.problems
            self.fail(f"{problem.message}; {problem.hint}", param, ctx)
        return value


def _find_project(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """Without --project, the project holding the current folder, found upward."""
    if value is not None:
        return value
    from handbook.project import find_project

    return find_project(Path("."))


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
    callback=_find_project,
    help="The handbook project folder (the one with handbook.yaml) "
    "[default: the current folder or the nearest one above it with handbook.yaml].",
)

FORMATS = {
    "text": "lines for people",
    "json": "one JSON object per line, for editors and scripts",
    "github": "GitHub Actions annotations for problems",
}
format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(list(FORMATS)),
    default="text",
    show_default=True,
    help="How outputs and problems are printed: "
    + "; ".join(f"{name}, {what}" for name, what in FORMATS.items())
    + ".",
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
            "--html",
            is_flag=True,
            help="Also write build/html/: the handbook as a web page, for phones and screens.",
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
            help="Write the booklet and cards as PDF/A (archiving) or PDF/UA (accessibility); "
            "pdf/x-3: the booklet in CMYK for a print shop (needs Ghostscript).",
        ),
        click.option(
            "--language",
            metavar="TAG",
            help="Build only this language: the source's, or one in translations/ "
            "[default: every language].",
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
    jobs = click.option(
        "--jobs",
        "-j",
        type=click.IntRange(min=1),
        help="Outputs rendered at once [default: one per core].",
    )
    return jobs(time_and_memory_options(command))


def time_and_memory_options(command):
    """How long and how much memory work made from the project may take."""
    options = [
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
            root = kwargs.get("project_dir")
            _print_problems(exc, kwargs.get("output_format", "text"), root)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("\ninterrupted", err=True)
            sys.exit(INTERRUPTED)

    return wrapper


def _print_notices(notices, output_format: str = "text", root: Path | None = None) -> None:
    """Notes on the project that are no mistake (a language without built-in labels)."""
    for notice in notices:
        if output_format == "json":
            _echo_json({"type": "notice", **_problem_fields(notice, root)})
        else:
            click.echo(notice.format(), err=True)


def _print_problems(exc: HandbookError, output_format: str = "text", root: Path | None = None):
    if output_format == "json":
        for problem in exc.problems:
            _echo_json({"type": "problem", **_problem_fields(problem, root)})
        return
    for problem in exc.problems:
        if output_format == "github":
            click.echo(_annotation(problem, root))
        click.echo(problem.format(), err=True)
    count = len(exc.problems)
    click.echo(f"{counted(count, 'problem')} found.", err=True)


def _problem_fields(problem: Problem, root: Path | None) -> dict[str, object]:
    """A problem's parts, its path as seen from the current folder."""
    return {
        "path": _problem_path(problem, root),
        "line": problem.line or None,
        "column": problem.column or None,
        "message": problem.message,
        "hint": problem.hint or None,
    }


def _problem_path(problem: Problem, root: Path | None) -> str:
    """The problem's file from the current folder (``../handbook.yaml`` when the
    project was found above it), as editors and CI annotations need it."""
    path = Path(problem.path)
    if root is None or path.is_absolute() or not problem.path:
        return problem.path
    return os.path.relpath(root / path)


def _annotation(problem: Problem, root: Path | None) -> str:
    """A GitHub Actions workflow command that marks the problem on its file and line."""
    fields = [f"file={_escaped(_problem_path(problem, root), property=True)}"]
    if problem.line:
        fields += [f"line={problem.line}", f"col={problem.column}"]
    text = problem.message + (f"\nhint: {problem.hint}" if problem.hint else "")
    return f"::error {','.join(fields)}::{_escaped(text)}"


def _escaped(text: str, *, property: bool = False) -> str:
    """Text as a workflow command carries it: %, CR and LF encoded, in a property : and , too."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property else text


def _echo_json(record: dict[str, object]) -> None:
    click.echo(json.dumps(record, ensure_ascii=False))


class Progress:
    """One line per output as it is settled, then a summary; coloured on a terminal."""

    output_format = "text"

    STYLES: ClassVar[dict[str, str | None]] = {
        "rendered": "green",
        "up to date": None,
        "failed": "red",
        "not rebuilt": "yellow",
    }

    def __init__(self, quiet: bool = False, verbose: bool = False):
        self.quiet, self.verbose = quiet, verbose
        self.color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.began = time.perf_counter()
        self.counts: dict[str, int] = {}

    def planned(self, outputs: int, workers: int) -> None:
        """The plan: told only where it is shown live (:class:`LiveProgress`)."""

    def started(self, path: Path) -> None:
        """An output began rendering: shown only live."""

    def output(self, result) -> None:
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        if self.quiet or (result.status == "up to date" and not self.verbose):
            return
        status, details = self._line(result)
        styled = click.style(f"{result.status:<11}", fg=self.STYLES[result.status], bold=True)
        click.echo(f"{styled}{status[11:]}{details}", color=self.color)

    @staticmethod
    def _line(result) -> tuple[str, str]:
        """An output's line: its status and path, then what is worth knowing of it."""
        details = []
        if result.pages:
            details.append(counted(result.pages, "page"))
        if result.seconds:
            details.append(f"{result.seconds:.2f} s")
        if result.scale < 1:
            details.append(f"text shrunk to {result.scale:.0%}")
        shown = f"{result.status:<11} {_shown(result.path)}"
        return shown, f" ({', '.join(details)})" if details else ""

    def summary(self) -> None:
        if self.quiet or not self.counts:
            return
        click.echo(self._summary_line())

    def _summary_line(self) -> str:
        seconds = time.perf_counter() - self.began
        parts = [f"{count} {status}" for status, count in self.counts.items()]
        return f"{', '.join(parts)} in {seconds:.2f} s"

    def restart(self) -> None:
        self.began = time.perf_counter()
        self.counts = {}


class LiveProgress(Progress):
    """On a terminal: the plan, then a bar with a counter and what is rendering now,
    each output's line printed above it as it is settled (rich draws it)."""

    def __init__(self, verbose: bool = False, console=None):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        super().__init__(False, verbose)
        plain = bool(os.environ.get("NO_COLOR"))
        self.console = console or Console(highlight=False, color_system=None if plain else "auto")
        columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        description = TextColumn("{task.description}")
        self.bar = Bar(*columns, description, console=self.console, transient=True)
        self.bar_id = None
        self.rendering: list[str] = []

    def planned(self, outputs: int, workers: int) -> None:
        plan = f"rendering {counted(outputs, 'output')} in {counted(workers, 'worker')}"
        self.console.print(plan, soft_wrap=True)
        self.bar_id = self.bar.add_task("", total=outputs)
        self.bar.start()

    def started(self, path: Path) -> None:
        self.rendering.append(_shown(path))
        self._describe()

    def output(self, result) -> None:
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        shown = _shown(result.path)
        if shown in self.rendering:
            self.rendering.remove(shown)
        if self.bar_id is not None and result.status != "up to date":
            self.bar.advance(self.bar_id)
            self._describe()
        if result.status == "up to date" and not self.verbose:
            return
        from rich.markup import escape

        status, details = self._line(result)
        style = self.STYLES[result.status]
        text = (f"[bold {style}]" if style else "[bold]") + status[:11] + "[/]"
        self.console.print(text + escape(status[11:] + details), soft_wrap=True)

    def _describe(self) -> None:
        if self.bar_id is not None:
            self.bar.update(self.bar_id, description=", ".join(self.rendering))

    def summary(self) -> None:
        self.bar.stop()
        if self.counts:
            self.console.print(self._summary_line(), soft_wrap=True)


class JsonProgress(Progress):
    """Each settled output, then the summary, as one JSON object per line."""

    output_format = "json"

    def output(self, result) -> None:
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        record = {"type": "output", "path": _shown(result.path), "status": result.status}
        record |= {"pages": result.pages, "seconds": round(result.seconds, 3)}
        _echo_json(record | {"scale": result.scale})

    def summary(self) -> None:
        seconds = round(time.perf_counter() - self.began, 3)
        _echo_json({"type": "summary", "counts": self.counts, "seconds": seconds})


def _progress(output_format: str, quiet: bool, verbose: bool) -> Progress:
    """JSON when asked; live on a terminal (not a dumb one); else a line per output."""
    if output_format == "json":
        return JsonProgress()
    if not quiet and sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
        return LiveProgress(verbose)
    return Progress(quiet, verbose)


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
        report = run_build(project_dir, options, progress.output, progress)
    finally:
        progress.summary()
    _print_notices(report.notices, progress.output_format, project_dir)
    for language, notices in report.translation_notices.items():
        _print_translation_notices(
            language, notices, progress.output_format, project_dir, listed=progress.verbose
        )


# How a build and check sum up a translation's notices, by their kind.
NOTICE_WORDS = {
    "missing": "not translated",
    "stale": "out of date",
    "untranslated": "still in the source language",
    "partial": "incomplete",
    "unknown": "for no source item",
}


def _print_translation_notices(
    language: str, notices, output_format: str, root: Path, *, listed: bool
) -> None:
    """A translation's notices: each where it is (if ``listed``), then a line of counts;
    as JSON, each notice."""
    if output_format == "json":
        for notice in notices:
            fields = _problem_fields(notice.problem, root)
            _echo_json({"type": "notice", "language": language, "kind": notice.kind, **fields})
        return
    if listed:
        for notice in notices:
            click.echo(notice.problem.format(), err=True)
    if not notices:
        return
    counts = {kind: sum(n.kind == kind for n in notices) for kind in NOTICE_WORDS}
    summary = ", ".join(f"{count} {NOTICE_WORDS[kind]}" for kind, count in counts.items() if count)
    where = "" if listed else "; 'handbook check' says where"
    click.echo(f"{language}: {counted(len(notices), 'translation notice')} ({summary}){where}")


def _check_language(project_dir: Path, language: str | None) -> None:
    """``--language`` must name the source's language or a translation's: else a usage error."""
    from handbook.build import languages

    if language is None:
        return
    available = languages(project_dir)
    if language not in available:
        raise click.BadParameter(
            f"no language '{language}' in this project; the languages are: " + ", ".join(available),
            param_hint="'--language'",
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="handbook")
def cli() -> None:
    """Build a printed handbook and one-page cheat cards from YAML content."""


@cli.command()
@project_option
@build_options
@format_option
@reports_problems
def build(project_dir: Path, quiet: bool, verbose: bool, output_format: str, **options) -> None:
    """Build the booklet (handbook.pdf, handbook-print.pdf), the cards and card-sheets.pdf.

    handbook-print.pdf is the booklet imposed for saddle stitching: print it
    double-sided (flip on the short edge), fold the stack in the middle and
    staple it. Only outputs whose inputs changed since the last build are
    rendered.
    A translation in translations/LANG/ is built into build/LANG/.
    """
    _check_language(project_dir, options["language"])
    _refresh_schemas(project_dir, output_format, quiet)
    _run_build(project_dir, _options(**options), _progress(output_format, quiet, verbose))


def _refresh_schemas(project_dir: Path, output_format: str, quiet: bool) -> None:
    """Rewrite a project's schema/ when this version's schemas differ from it. A project
    without one costs nothing: making the schemas imports the whole content model."""
    folder = project_dir / SCHEMA_DIR
    if not folder.is_dir():
        return
    from handbook.content.schema import refresh_schemas

    try:
        if not refresh_schemas(project_dir):
            return
    except HandbookError as exc:  # a link, say: the build goes on without them
        _print_notices(exc.problems, output_format, project_dir)
        return
    if output_format == "json":
        _echo_json({"type": "schemas", "path": _shown(folder), "status": "rewritten"})
    elif not quiet:
        click.echo(f"rewrote the editor schemas in {_shown(folder)}/ for handbook {__version__}")


def _schema_notices(project_dir: Path) -> list[Problem]:
    """A notice when the project's schema/ is not this version's (check writes nothing)."""
    from handbook.content.schema import outdated_schemas

    folder = project_dir / SCHEMA_DIR
    if not outdated_schemas(project_dir):
        return []
    command = "handbook schema"
    if folder.resolve() != (Path.cwd() / SCHEMA_DIR).resolve():
        command += f" --out {shlex.quote(_shown(folder))}"
    message = f"written by another version of handbook ({__version__} is installed)"
    hint = f"run '{command}' so editors check the files as 'handbook check' does"
    return [Problem(SCHEMA_DIR, 0, 0, message, hint)]


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
        else:
            _print_notices(result.notices)
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
@project_option
@build_options
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Port to listen on [default: a free one].",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but this machine's own lets others see the preview.",
)
@click.option("--no-open", is_flag=True, help="Do not open the preview in a browser.")
@reports_problems
def serve(
    project_dir: Path, quiet: bool, verbose: bool, port: int, host: str, no_open: bool, **options
) -> None:
    """Build, then show the booklet's pages and the cards in a browser, updated on every save.

    The page updates in place after each save, keeping its place; a failed build
    shows its problems over the last good pictures. Stop with Ctrl-C.
    """
    import ipaddress
    import webbrowser

    from handbook.serve import serve as run_serve

    with contextlib.suppress(ValueError):
        if not ipaddress.ip_address(host).is_loopback:
            click.echo(f"note: serving on {host}: other machines can see the preview", err=True)
    progress = Progress(quiet, verbose)

    def on_ready(url: str) -> None:
        click.echo(f"serving the preview at {url} (Ctrl-C to stop)")
        if not no_open:
            webbrowser.open(url)

    def on_build(result) -> None:
        if isinstance(result, HandbookError):
            _print_problems(result)
        progress.summary()

    def on_change(paths) -> None:
        progress.restart()
        if not quiet:
            click.echo(f"changed: {', '.join(sorted(_shown(p) for p in paths))}")

    with contextlib.suppress(KeyboardInterrupt):
        run_serve(
            project_dir,
            _options(**options),
            host=host,
            port=port,
            on_ready=on_ready,
            on_build=on_build,
            on_output=progress.output,
            on_change=on_change,
        )
    click.echo("stopped serving")


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--example",
    type=click.Choice(example_names()),
    help="Start from this bundled example handbook instead of the default one.",
)
@click.option("--bare", is_flag=True, help="A minimal skeleton instead of a full handbook.")
@click.option("--quiet", "-q", is_flag=True, help="Print only problems.")
@reports_problems
def init(folder: Path, example: str | None, bare: bool, quiet: bool) -> None:
    """Start a new project in FOLDER and build it.

    The project is a copy of the default handbook (a back massage guide),
    of a bundled example (--example) or a small skeleton (--bare).
    Templates, styles and fonts come from the built-in defaults; put a file
    of the same name in the project's templates/, styles/ or fonts/ to
    change one. FOLDER must be new or empty: init never overwrites files.
    """
    from handbook.build import BuildOptions
    from handbook.scaffold import init_project

    if bare and example:
        raise click.UsageError("--bare and --example cannot be used together; choose one")
    root = init_project(folder, bare=bare, example=example)
    if not quiet:
        click.echo(f"created {_shown(root)}")
    _run_build(root, BuildOptions(), _progress("text", quiet, verbose=False))
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
@click.option(
    "--strict",
    is_flag=True,
    help="Fail (exit 1) when a translation lacks a text or has one out of date.",
)
@limit_options
@format_option
@reports_problems
def check(
    project_dir: Path,
    card_size: str | None,
    cards: bool,
    strict: bool,
    output_format: str,
    **limits,
) -> None:
    """Validate the whole project and print every problem; writes nothing.

    Also lists, for each translation, the items it lacks, the entries whose
    source changed after they were translated, and entries for no source item.
    """
    from handbook.build import check_cards, check_project

    _print_notices(_schema_notices(project_dir), output_format, project_dir)
    if cards:
        report = check_cards(project_dir, _options(card_size=card_size, **limits))
    else:
        report = check_project(project_dir, _options(**limits).limits)
    handbook, fits = report.handbook, report.cards
    _print_notices(handbook.notices, output_format, project_dir)
    for translation in report.translations:
        _print_translation_notices(
            translation.language, translation.notices, output_format, project_dir, listed=True
        )
    noticed = sum(len(translation.notices) for translation in report.translations)
    if strict and noticed:
        click.echo(f"{counted(noticed, 'translation notice')} found (--strict).", err=True)
        sys.exit(1)
    if output_format == "json":
        kinds = {"chapters": handbook.chapters, "techniques": handbook.techniques}
        kinds |= {"routines": handbook.routines, "safety_topics": handbook.safety}
        counts = {kind: len(items) for kind, items in kinds.items()}
        cards_fit = [{"id": fit.id, "scale": fit.scale} for fit in fits]
        _echo_json({"type": "summary", "ok": True, "counts": counts, "cards": cards_fit})
        return
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
    current = [t.language for t in report.translations if not t.notices]
    if current:
        counts += f"; translations complete and up to date: {', '.join(current)}"
    click.echo(f"ok: {counts}")


@cli.command()
@click.argument("language")
@project_option
@click.option(
    "--mark-current",
    "mark",
    metavar="ID",
    multiple=True,
    help="Record that the entry for ID (or 'handbook.yaml') is translated from the source "
    "as it is now; repeat for several.",
)
@time_and_memory_options
@reports_problems
def translate(
    language: str, project_dir: Path, mark: tuple[str, ...], time_limit: float, memory_limit: int
) -> None:
    """Start or complete the translation into LANGUAGE (a tag such as de or pt-BR).

    Adds to translations/LANGUAGE/ an entry for every source text it lacks,
    holding the source text to write over. After revising an entry whose
    source changed, mark it current with --mark-current ID.
    """
    from handbook.build.workers import Limits
    from handbook.translate import add_missing, mark_current

    _check_new_language(language)
    limits = Limits(seconds=time_limit, memory_mb=memory_limit)
    if mark:
        for item_id in mark:
            where, changed = mark_current(project_dir, language, item_id, limits)
            state = "marked up to date with the source" if changed else "already up to date"
            click.echo(f"{where.path}:{where.line}: {where.message} {state}")
        return
    written = add_missing(project_dir, language, limits)
    for entry in written:
        click.echo(f"wrote {_shown(entry.path)}: {', '.join(entry.ids)}")
    total = sum(len(entry.ids) for entry in written)
    if not total:
        click.echo(f"{language}: every source text has an entry; nothing to add")
        return
    click.echo(
        f"{language}: {total} {'entry' if total == 1 else 'entries'} to translate; "
        "write over the source text in each, then run 'handbook check'"
    )


def _check_new_language(language: str) -> None:
    """A language tag such as de or pt-BR: anything else is a usage error."""
    from pydantic import TypeAdapter, ValidationError

    from handbook.content.model import LanguageTag
    from handbook.content.translations import RESERVED_NAMES

    try:
        TypeAdapter(LanguageTag).validate_python(language)
    except ValidationError:
        raise click.BadParameter(
            f"'{language}' is not a language tag such as de or pt-BR", param_hint="'LANGUAGE'"
        ) from None
    if language in RESERVED_NAMES:
        raise click.BadParameter(f"'{language}' names an output folder", param_hint="'LANGUAGE'")


@cli.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="schema",
    show_default=True,
    help="Folder for the schemas of content files, handbook.yaml and translation files.",
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
    """Run the command, then end the process at once.

    By then the command has written and closed its files and stopped its
    workers; what is left is the interpreter freeing each object of every
    module the build imported (pydantic's, Jinja's, pikepdf's): 0.06-0.09 s
    at the end of every build that read the project. The exit functions
    (atexit, weak reference finalizers: the temporary folders) still run, and
    the output is flushed. An error that escaped the command ends as Python
    ends it.
    """
    try:
        cli(prog_name="handbook")
        code = 0
    except SystemExit as exc:
        code = exc.code
    end_now(code)


# The status Python ends with when it cannot write out what is left of its output.
_UNWRITTEN_STATUS = 120


def end_now(code: object) -> None:
    """End the process at once (see :func:`main`), with ``code`` as sys.exit takes it."""
    import atexit

    if code is not None and not isinstance(code, int):  # as sys.exit("message") ends
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except ValueError:  # closed already: nothing left in it
            pass
        except OSError:  # a full disk, a closed pipe: the output is not all there
            code = code or _UNWRITTEN_STATUS
    os._exit(code or 0)
