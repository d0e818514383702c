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

import tinycss2

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


# Where a style may read the page a link carries and still let the number be printed
# anew into a laid-out part (see :func:`handbook.engine.parts.renumbered`): only as the
# generated text before or after the link.
_GENERATED = re.compile(r"::?(?:before|after)\s*$")
_ONE_VALUE = re.compile(r"data-page\s*[~|^$*]?=")  # [data-page="12"]: a rule for one page
_GROUPING = ("media", "supports", "layer")
# What a stylesheet that may show a link's page holds (a backslash: an escaped name).
_SIGNS = ("data-page", "@import", "\\", "content(", "target-text")
# Copies of generated text elsewhere (a running head, the outline), which keep the number
# the part was laid out with.
_COPIED = re.compile(r"\bcontent\(\s*(?:before|after)|\btarget-text\([^;}]*\b(?:before|after)\b")


def renumberable(css_texts: list[str]) -> bool:
    """Whether every use of ``data-page`` in these stylesheets lets a part's printed
    numbers be changed after layout: ``attr(data-page)`` in the ``content`` of a
    ``::before`` or ``::after`` rule, or ``[data-page]`` matching any value. A
    stylesheet that imports another (not among these) cannot be told."""
    texts = [text.lower() for text in css_texts]  # names in CSS are case-insensitive
    return all(
        _rules_renumberable(tinycss2.parse_stylesheet(text, True, True))
        for text in texts
        if any(sign in text for sign in _SIGNS)
    )


def _rules_renumberable(rules) -> bool:
    for rule in rules:
        if rule.type == "at-rule":
            if rule.lower_at_keyword == "import":
                return False
            if rule.content is None or "data-page" not in _css(rule.content):
                continue
            if rule.lower_at_keyword not in _GROUPING:
                return False
            if not _rules_renumberable(tinycss2.parse_rule_list(rule.content, True, True)):
                return False
        elif rule.type == "error" or (
            rule.type == "qualified-rule" and not _rule_renumberable(rule)
        ):
            return False
    return True


def _rule_renumberable(rule) -> bool:
    selectors = _css(rule.prelude)
    if _ONE_VALUE.search(selectors) or _COPIED.search(_css(rule.content)):
        return False
    if "data-page" not in _css(rule.content):
        return True
    generated = all(_GENERATED.search(selector) for selector in selectors.split(","))
    for item in tinycss2.parse_blocks_contents(rule.content, True, True):
        if "data-page" not in _css([item]):
            continue
        if item.type != "declaration" or not generated or item.lower_name != "content":
            return False
    return True


def _css(nodes) -> str:
    return tinycss2.serialize(nodes)
