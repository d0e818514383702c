"""The HTML edition: the booklet's content as one web page, for screens.

The page is made from the same view objects and part templates as the
booklet (``edition.html.j2`` includes them), with screen styles instead of
print ones: ``base.css`` (the fonts, the pictures' rules) and ``screen.css``
written into the page, the design's values as custom properties. Diagrams
are inline SVG already; the pictures and fonts the page names are copied
beside it (``html/pictures/...``, ``html/fonts/...``), so the folder works
offline, opened from disk or served, and asks nothing of the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from markupsafe import Markup

from handbook.content.validate import Handbook
from handbook.design import root_rule
from handbook.errors import HandbookError
from handbook.project import Project

EDITION_DIR = "html"
EDITION_PAGE = f"{EDITION_DIR}/index.html"
EDITION_TEMPLATE = "edition.html.j2"
EDITION_STYLES = ("base.css", "screen.css")

_FONT_URL = re.compile(r"""url\(\s*(['"]?)\.\./fonts/([^'")/]+)\1\s*\)""")
_IMAGE_SOURCE = re.compile(r'<img\b[^>]*?\bsrc="([^"]+)"')


@dataclass(frozen=True)
class Edition:
    """The page's HTML and the files it names, by their place in ``html/``."""

    html: str
    files: dict[str, Path]


def edition_styles(project: Project, handbook: Handbook) -> tuple[str, dict[str, Path]]:
    """The page's CSS (the design's values, then the stylesheets), safe inside ``<style>``,
    and the font files it names, by their place in ``html/``."""
    fonts: dict[str, Path] = {}

    def local_font(match: re.Match[str]) -> str:
        name = match[2]
        try:
            fonts[f"fonts/{name}"] = project.find("fonts", name)
        except HandbookError:  # a face the project lacks falls back, as in print
            return "url(missing)"
        return f'url("fonts/{name}")'

    sheets = [project.find("styles", name).read_text(encoding="utf-8") for name in EDITION_STYLES]
    css = root_rule(handbook.design) + "\n".join(_FONT_URL.sub(local_font, s) for s in sheets)
    # Text from a project's stylesheet never ends the element it is written into.
    return css.replace("</", "<\\/"), fonts


def pictures_named(html: str, handbook: Handbook, project: Project) -> dict[str, Path]:
    """The project's pictures the page shows, by the address it gives them."""
    shown = {unquote(source) for source in _IMAGE_SOURCE.findall(html)}
    return {path: project.root / path for path in sorted(shown) if path in handbook.pictures}


def edition(renderer, handbook: Handbook) -> Edition:
    """The HTML edition of ``handbook`` through ``renderer`` (a :class:`Renderer`)."""
    css, fonts = edition_styles(renderer.project, handbook)
    html = renderer.edition_html(handbook, Markup(css))
    return Edition(html, {**fonts, **pictures_named(html, handbook, renderer.project)})
