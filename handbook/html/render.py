"""Stage 3: the validated handbook -> HTML, through Jinja templates.

Templates are looked up in the project's ``templates/`` first, then in the
theme's, then in the built-in defaults; so are stylesheets. The theme's
design values reach every page as CSS custom properties declared before its
stylesheets, and every diagram as its own stylesheet (``diagrams.css`` with
the values written in). Every template is autoescaped and rendered in Jinja's
sandbox with StrictUndefined, so content cannot inject markup and a typo in a
template fails with the template's file and line.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
import sys
from collections.abc import Callable
from contextvars import ContextVar
from functools import cache, cached_property
from html import escape as html_escape
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup

from handbook.content import markup, pictures
from handbook.content.validate import Handbook, theme_design
from handbook.design import Design, resolved, root_rule
from handbook.engine import PageSource
from handbook.errors import HandbookError, OutOfTime, Problem, relative_path
from handbook.html import diagrams, language
from handbook.html.notes import ruled_lines
from handbook.html.views import Card, Sequence, anchors, glossary, outline, sequence, title_of
from handbook.press.format import Format
from handbook.press.sizes import css_size
from handbook.project import BUILTIN_THEMES, SETTINGS_FILE, Project, defaults_root

_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
# The stylesheets of each kind of page.
BOOKLET_STYLES = ("base.css", "booklet.css")
CARD_STYLES = ("base.css", "card.css")
# What a worker lays out with each kind's styles as it starts (see first_pages).
_FIRST_PAGE = (
    '<html lang="{language}"><body class="{kind}"><p>Ready: <b>bold</b>, <i>italic, '
    "<b>both</b></i>.</p></body></html>"
)


def first_pages(project: Project) -> list[PageSource]:
    """A few words styled as the booklet and as a card, for each worker to lay out as it
    starts, while the project is read (see ``engine.warm_up``); none if the styles
    cannot be found (the build reports that)."""
    try:
        found = [
            (kind, tuple(project.find("styles", name) for name in styles))
            for kind, styles in (("booklet", BOOKLET_STYLES), ("card", CARD_STYLES))
        ]
        fonts = project.font_files()
    except (HandbookError, OSError):
        return []
    design = theme_design(project)
    if design is None:
        return []
    language = html_escape(project.source_language)
    return [
        PageSource(
            html=_FIRST_PAGE.format(language=language, kind=kind),
            stylesheets=stylesheets,
            extra_css=root_rule(design),
            origin=SETTINGS_FILE,
            allowed_roots=project.allowed_roots,
            fonts=fonts,
        )
        for kind, stylesheets in found
    ]


class Renderer:
    def __init__(self, project: Project):
        self.project = project
        self.env = ImmutableSandboxedEnvironment(
            loader=_ContainedLoader([str(d) for d in project.search_dirs("templates")]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # one renderer per build: its templates do not change
        )
        self._booklet_anchors: dict[int, tuple[Handbook, frozenset[str]]] = {}
        self.env.filters["markdown"] = _markdown
        self.env.filters["inline"] = _inline
        self.env.filters["long_date"] = _long_date
        self.env.filters["css_string"] = css_string
        self.env.filters["picture_url"] = pictures.url
        self.env.globals["body_map"] = self._body_map
        self.env.globals["timeline"] = self._timeline
        self.env.globals["sequence"] = _sequence

    def booklet(self, handbook: Handbook, fmt: Format) -> PageSource:
        parts = outline(handbook)
        html = self._render(
            "booklet.html.j2",
            anchors(parts),
            handbook=handbook,
            parts=parts,
            glossary=glossary(handbook),
            labels=handbook.settings.labels,
            paper=fmt.paper,
            notes_lines=_notes_lines(handbook, fmt),
        )
        return self._page(
            html,
            "booklet.html.j2",
            BOOKLET_STYLES,
            fmt.page_mm,
            "handbook.yaml",
            handbook.design,
        )

    def edition_html(self, handbook: Handbook, styles: Markup) -> str:
        """The HTML edition's page: the booklet's parts for screens (see html/edition.py)."""
        parts = outline(handbook)
        return self._render(
            "edition.html.j2",
            anchors(parts),
            handbook=handbook,
            parts=parts,
            glossary=glossary(handbook),
            labels=handbook.settings.labels,
            styles=styles,
        )

    def notes_pages(self, handbook: Handbook, fmt: Format) -> PageSource | None:
        """A left and a right notes page (after a first page to leave out) that complete
        the booklet's last sheet; None unless the handbook asks for notes pages."""
        lines = _notes_lines(handbook, fmt)
        if not lines:
            return None
        html = self._render(
            "booklet-notes.html.j2",
            frozenset(),
            handbook=handbook,
            labels=handbook.settings.labels,
            paper=fmt.paper,
            notes_lines=lines,
        )
        return self._page(
            html,
            "booklet-notes.html.j2",
            BOOKLET_STYLES,
            fmt.page_mm,
            "handbook.yaml",
            handbook.design,
        )

    def card(self, handbook: Handbook, card: Card, fmt: Format) -> PageSource:
        return self._card_page(f"card-{card.kind}.html.j2", handbook, card, fmt)

    def card_back(self, handbook: Handbook, card: Card, fmt: Format) -> PageSource:
        """The reverse of a card for duplex sheets: a short safety reminder."""
        return self._card_page("card-back.html.j2", handbook, card, fmt)

    def _card_page(self, template: str, handbook: Handbook, card: Card, fmt: Format) -> PageSource:
        html = self._render(
            template,
            frozenset(),  # a card has none of the places content links to
            self._anchors_in_booklet(handbook),  # where the booklet has them
            f"{handbook.settings.labels.see} {handbook.settings.labels.page}",
            handbook=handbook,
            card=card,
            item=card.item,
            labels=handbook.settings.labels,
        )
        return self._page(
            html,
            template,
            CARD_STYLES,
            fmt.card_mm,
            card.source_path,
            handbook.design,
        )

    def _page(
        self,
        html: str,
        template: str,
        styles: tuple[str, ...],
        size: tuple[float, float],
        origin: str,
        design: Design,
    ) -> PageSource:
        return PageSource(
            html=html,
            stylesheets=self._stylesheets(styles),
            extra_css=self._extra_css(design, size),
            origin=origin,
            allowed_roots=self.project.allowed_roots,
            template_files=self._template_files(template),
            fonts=self.fonts,
        )

    # What every page of a kind shares, found once per renderer (one per build, in
    # which the project's files do not change): a build plans hundreds of cards. The
    # caches keep their renderer for as long as the planning worker lives.

    def _anchors_in_booklet(self, handbook: Handbook) -> frozenset[str]:
        """The ids the booklet has a place for, which a card's links may point to."""
        known = self._booklet_anchors.get(id(handbook))
        if known is None:  # kept with the handbook, whose id is then no other's
            known = self._booklet_anchors[id(handbook)] = (handbook, anchors(outline(handbook)))
        return known[1]

    @cache  # noqa: B019
    def _stylesheets(self, styles: tuple[str, ...]) -> tuple[Path, ...]:
        return tuple(self.project.find("styles", name) for name in styles)

    @cache  # noqa: B019
    def _extra_css(self, design: Design, size: tuple[float, float]) -> str:
        return f"{root_rule(design)}@page {{ size: {css_size(size)}; }}"

    @cache  # noqa: B019
    def _template_files(self, template: str) -> tuple[Path, ...]:
        own_templates = sorted((self.project.root / "templates").glob("*.j2"))
        return (Path(self.env.get_template(template).filename), *own_templates)

    @cached_property
    def fonts(self) -> tuple[Path, ...]:
        return self.project.font_files()

    @cache  # noqa: B019 (one renderer per build, and few designs)
    def diagram_style(self, design: Design) -> diagrams.DiagramStyle:
        """The stylesheet every diagram carries: diagrams.css with the design's values in."""
        css = self.project.find("styles", "diagrams.css").read_text(encoding="utf-8")
        css = " ".join(_CSS_COMMENT.sub(" ", css).split())  # each SVG carries a copy
        return diagrams.DiagramStyle(resolved(css, design), design.diagram_label_size)

    @jinja2.pass_context
    def _body_map(self, context: Any, item: Any, narrow: bool = False) -> Markup:
        """``{{ body_map(item) }}``: the map of a technique or safety topic;
        ``body_map(item, narrow=true)`` keeps it narrow, to stand beside text."""
        handbook: Handbook = context["handbook"]
        style = self.diagram_style(handbook.design)
        labels = handbook.settings.labels
        return diagrams.body_map(
            handbook.zones, handbook.drawings, item, style, labels, narrow=bool(narrow)
        )

    @jinja2.pass_context
    def _timeline(self, context: Any, routine: Any) -> Markup:
        """``{{ timeline(routine) }}``: a timed routine's steps as a bar of minutes."""
        handbook: Handbook = context["handbook"]
        items = [*handbook.techniques, *handbook.safety, *handbook.routines]
        names = {item.id: title_of(item) for item in items}
        order = [item.id for item in items]
        return diagrams.timeline(routine, names, self.diagram_style(handbook.design), order)

    def _render(
        self,
        name: str,
        anchors: frozenset[str],
        booklet: frozenset[str] = frozenset(),
        see: str = "",
        **context: Any,
    ) -> str:
        """The template's HTML, with links to places the document lacks printed as text."""
        speaking = _LANGUAGE.set(context["handbook"].settings.language)
        try:
            html = self.env.get_template(name).render(**context)
            return unlink(html, anchors, booklet, see)
        except jinja2.TemplateSyntaxError as exc:
            path = self._shown(exc.filename or name)
            raise HandbookError(
                [Problem(path, exc.lineno, 1, f"template syntax error: {exc.message}")]
            ) from None
        except jinja2.TemplateNotFound as exc:
            path, line = self._template_frame(name)
            if not line:  # the template asked for is missing, not one it includes
                path = f"templates/{exc.name}"
            raise HandbookError(
                [Problem(path, line, 1 if line else 0, f"template '{exc.name}' not found")]
            ) from None
        except OutOfTime as exc:  # the time limit is near: say which template line ran
            path, line = self._template_frame(name, compiled=True)
            exc.where = (path, line) if line else None
            raise
        except _TemplateRefused as exc:
            raise HandbookError([self._at_include(exc.problem, name)]) from None
        except (jinja2.UndefinedError, SecurityError) as exc:
            path, line = self._template_frame(name)
            raise HandbookError(
                [Problem(path, line, 1, f"template error: {exc}", "check the name in the template")]
            ) from None
        except Exception as exc:
            # Anything raised while a template runs (a failing filter, 1/0) is the
            # template's mistake; an exception with no template frame is a bug.
            path, line = self._template_frame(name)
            if not line:
                raise
            raise HandbookError(
                [Problem(path, line, 1, f"template error: {type(exc).__name__}: {exc}")]
            ) from None
        finally:
            _LANGUAGE.reset(speaking)

    def _template_frame(self, fallback: str, compiled: bool = False) -> tuple[str, int]:
        """The innermost template file and line in the current traceback.

        Jinja rewrites the traceback of an Exception to name template lines; one that
        is ``compiled`` (not rewritten) names lines of the Python Jinja made, mapped back.
        """
        tb = sys.exc_info()[2]
        found = (f"templates/{fallback}", 0)
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename.endswith(".j2"):
                line = tb.tb_lineno
                template = tb.tb_frame.f_globals.get("__jinja_template__")
                if compiled and template is not None:
                    line = template.get_corresponding_lineno(line)
                found = (self._shown(filename), line)
            tb = tb.tb_next
        return found

    def _at_include(self, problem: Problem, name: str) -> Problem:
        """A refused template's problem, saying which line includes it, if any."""
        path, line = self._template_frame(name)
        if not line or problem.line:
            return problem
        message = f"{problem.message} (included at {path}:{line})"
        return dataclasses.replace(problem, message=message)

    def _shown(self, filename: str) -> str:
        """A template as the user knows it: relative to the project, or as a built-in one."""
        path = Path(filename)
        for builtin in (defaults_root(), BUILTIN_THEMES.parent):
            if path.is_relative_to(builtin) and not path.is_relative_to(self.project.root):
                return f"built-in {path.relative_to(builtin).as_posix()}"
        return relative_path(path, self.project.root)


_INTERNAL_LINK = re.compile(r'<a\b[^>]*?\bhref="#([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)
# Where a card's link prints the page its target has in the booklet, once known.
_PAGE_OF = re.compile('<span class="page-of">([^<]*)\ue000([a-z0-9-]+)\ue001([^<]*)</span>')


def unlink(
    html: str, anchors: frozenset[str], booklet: frozenset[str] = frozenset(), see: str = ""
) -> str:
    """Internal links to ids not in ``anchors`` as plain text (``<span class="link">``).

    A card has no anchors at all, and the booklet none for the items of a part
    its outline leaves out; WeasyPrint would refuse such links. A link whose
    target is in the ``booklet`` gets a place for that page ("see page N",
    ``see`` being the words before the number), filled in by
    :func:`with_pages` once the booklet is laid out. Every link in the HTML
    comes from the templates or the Markdown renderer (content is escaped),
    whose anchors never nest.
    """

    def replace(match: re.Match) -> str:
        target, text = match[1], match[2]
        if target in anchors:
            return match[0]
        page = f'<span class="page-of"> ({see} \ue000{target}\ue001)</span>'
        return f'<span class="link">{text}{page if target in booklet else ""}</span>'

    return _INTERNAL_LINK.sub(replace, html)


def pages_wanted(html: str) -> bool:
    """Whether the HTML prints booklet pages that :func:`with_pages` must fill in."""
    return _PAGE_OF.search(html) is not None


def with_pages(html: str, page_of: Callable[[str], int | None]) -> str:
    """Each booklet page a card cites filled in by ``page_of(id)``; one it gives no
    page for (the booklet lacks it) is left out."""

    def fill(match: re.Match) -> str:
        page = page_of(match[2])
        return "" if page is None else f'<span class="page-of">{match[1]}{page}{match[3]}</span>'

    return _PAGE_OF.sub(fill, html)


def _notes_lines(handbook: Handbook, fmt: Format) -> str:
    """The ruled lines of the booklet's notes pages, or "" if it has none."""
    if handbook.settings.blank_pages != "notes":
        return ""
    return ruled_lines(fmt.page_mm, handbook.design)


def css_string(text: str) -> Markup:
    """A quoted CSS string for text from content, safe inside an HTML ``<style>``.

    Every character that could end the string, the rule or the element is
    written as a CSS escape (``\\22 `` for a quote, ``\\3c `` for ``<``).
    """
    escaped = "".join(
        f"\\{ord(char):x} " if char in "\"\\<>&'" or not char.isprintable() else char
        for char in str(text)
    )
    return Markup(f'"{escaped}"')


_PLAIN_FILE = "a template must be a plain file in the templates folder"


def _not_utf8(shown: str, exc: UnicodeDecodeError) -> Problem:
    """Where in a template the byte that is not UTF-8 is."""
    before = exc.object[: exc.start]
    line = before.count(b"\n") + 1
    column = exc.start - (before.rfind(b"\n") + 1) + 1
    byte = exc.object[exc.start]
    return Problem(
        shown,
        line,
        column,
        f"the template is not valid UTF-8 (byte 0x{byte:02x})",
        "save the file with UTF-8 encoding",
    )


class _TemplateRefused(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


class _ContainedLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that serves only regular files that really lie in its folders.

    Jinja already refuses ``..`` in template names; this also refuses a template
    that is a link to a file elsewhere, or a device or FIFO.
    """

    def get_source(self, environment, template):
        pieces = jinja2.loaders.split_template_path(template)
        for folder in self.searchpath:
            candidate = Path(folder, *pieces)
            if not os.path.lexists(candidate):
                continue
            real = Path(os.path.realpath(candidate))
            shown = f"templates/{template}"
            if not real.is_relative_to(os.path.realpath(folder)):
                raise _TemplateRefused(
                    Problem(
                        shown, 0, 0, f"refused to read '{real}': it is outside the templates folder"
                    )
                )
            if not real.is_file():
                raise _TemplateRefused(Problem(shown, 0, 0, "not a regular file", _PLAIN_FILE))
            break
        try:
            return super().get_source(environment, template)
        except UnicodeDecodeError as exc:
            raise _TemplateRefused(_not_utf8(f"templates/{template}", exc)) from None


@jinja2.pass_context
def _sequence(context: Any, routine: Any) -> Sequence:
    """``{% set seq = sequence(routine) %}``: its steps with titles and times, and its total."""
    return sequence(context["handbook"], routine)


# The language of the handbook being rendered, for the filters: macros imported
# by a template do not see its context.
_LANGUAGE: ContextVar[str] = ContextVar("language")


def _markdown(text: str) -> Markup:
    """``{{ text | markdown }}``: light Markdown, with the language's quotation marks."""
    return Markup(markup.to_html(text, language.quotes(_LANGUAGE.get())))


def _inline(text: str) -> Markup:
    """``{{ text | inline }}``: one line of light Markdown, as ``markdown`` does it."""
    return Markup(markup.to_inline_html(text, language.quotes(_LANGUAGE.get())))


def _long_date(day: datetime.date) -> str:
    """``{{ date | long_date }}``: a date in the language's long form ("1. März 2026")."""
    return language.long_date(day, _LANGUAGE.get())
