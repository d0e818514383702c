"""Light Markdown for prose fields: emphasis, lists, paragraphs and links.

Raw HTML in content is shown as text, images are not supported (content
cannot make the renderer fetch anything), and a link to ``#id`` points at a
chapter, technique, routine or safety topic of the handbook.
"""

from __future__ import annotations

from functools import cache, lru_cache

from markdown_it import MarkdownIt

ENGLISH_QUOTES = ("\u201c", "\u201d", "\u2018", "\u2019")  # what "smartquotes" makes of ' and "
# How many texts keep their HTML: a build renders each one for the booklet and again for
# its card, and a handbook's often repeat (a caution, a step).
KEPT_RENDERINGS = 4096


@cache
def _parser(quotes: tuple[str, str, str, str] = ENGLISH_QUOTES) -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "typographer": True, "quotes": quotes})
    parser.enable(["replacements", "smartquotes"])
    parser.disable(["image", "heading", "lheading", "code", "fence", "html_block", "html_inline"])
    return parser


@lru_cache(maxsize=KEPT_RENDERINGS)
def to_html(text: str, quotes: tuple[str, str, str, str] = ENGLISH_QUOTES) -> str:
    """Render Markdown to safe HTML (content HTML is escaped, never passed through);
    straight quotes become ``quotes`` (outer open, close, inner open, close)."""
    return _parser(quotes).render(text)


@lru_cache(maxsize=KEPT_RENDERINGS)
def to_inline_html(text: str, quotes: tuple[str, str, str, str] = ENGLISH_QUOTES) -> str:
    """Render one line of Markdown without wrapping it in a paragraph."""
    return _parser(quotes).renderInline(text)


def internal_links(text: str) -> list[str]:
    """The ids that ``[text](#id)`` links in this Markdown point at."""
    return [href[1:] for href in links(text) if href.startswith("#")]


def links(text: str) -> list[str]:
    """Where every link in this Markdown points, as written."""
    hrefs = []
    for token in _parser().parse(text):
        for child in token.children or []:
            href = child.attrGet("href") if child.type == "link_open" else None
            if isinstance(href, str):
                hrefs.append(href)
    return hrefs


# What a link in print may point at besides a part of the handbook (#id). A path is
# not one: the PDF would link to the file on the building machine by its full path.
WEB_SCHEMES = ("http", "https", "mailto", "tel")


def is_web_address(href: str) -> bool:
    scheme, colon, rest = href.partition(":")
    return bool(colon) and scheme.lower() in WEB_SCHEMES and bool(rest)
