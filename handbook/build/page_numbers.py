"""The booklet's page numbers printed from a page map, so that its pages are laid out once.

The contents and every "see ..., page N" print the page of a link's target.
CSS's ``target-counter()`` does that, but WeasyPrint then lays out every
page holding such a link again once the targets' pages are known: every
page twice, for the default handbook. Instead each internal link carries
the page its target had in the last build (``data-page``, kept in the
output folder as the page map), and the style prints that; the numbers are
checked against the real pages after layout, and the booklet is laid out
again only if one of them moved. A link whose target the map lacks (a
first build, a new section) keeps ``target-counter()``, which the style
falls back to for a link without ``data-page``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from html import unescape
from pathlib import Path

from handbook.build.cache import PAGE_MAP
from handbook.build.output import read_output
from handbook.errors import HandbookError

# The start tag of an internal link, or of a contents entry (whose page follows its
# link, outside it), up to where the page goes; and the id it points to.
_INTERNAL_LINK = re.compile(
    r'<a\b(?=[^>]*?\shref="#([^"]*)")|<span\b(?=[^>]*?\sdata-target="#([^"]*)")'
)
_MOST_PAGES = 1_000_000  # far more than any booklet: a larger number in a map is no page


def read_page_map(out_dir: Path) -> dict[str, int]:
    """The last build's page map; empty if it is missing or not one (the file lies in a
    folder the user or a project may have filled, so only ids and page numbers count)."""
    try:
        stored = json.loads(read_output(out_dir, PAGE_MAP))
    except (HandbookError, ValueError, RecursionError):
        return {}
    if not isinstance(stored, dict):
        return {}
    return {
        anchor: page
        for anchor, page in stored.items()
        if type(page) is int and 0 < page < _MOST_PAGES
    }


def page_map_bytes(pages: Mapping[str, int]) -> bytes:
    return json.dumps(dict(pages), sort_keys=True).encode()


def cited(html: str) -> set[str]:
    """The ids the HTML's internal links point to."""
    return {unescape(link or entry) for link, entry in _INTERNAL_LINK.findall(html)}


def numbered(html: str, pages: Mapping[str, int]) -> str:
    """Each internal link whose target has a page in ``pages`` carries it as ``data-page``."""

    def number(match: re.Match) -> str:
        page = pages.get(unescape(match[1] or match[2]))
        return match[0] if page is None else f'{match[0]} data-page="{page:d}"'

    return _INTERNAL_LINK.sub(number, html)


def moved(printed: Mapping[str, int], real: Mapping[str, int]) -> bool:
    """Whether a printed page number differs from where its target was laid out."""
    return any(real.get(anchor) != page for anchor, page in printed.items())
