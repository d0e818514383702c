"""Light Markdown for prose fields: emphasis, lists, paragraphs and links.

Raw HTML in content is shown as text, images are not supported (content
cannot make the renderer fetch anything), and a link to ``#id`` points at a
chapter, technique, routine or safety topic of the handbook. A card has
nothing to link to, so there links print as their text alone.
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt


@cache
def _parser(links: bool = True) -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "typographer": True})
    parser.enable(["replacements", "smartquotes"])
    parser.disable(["image", "heading", "lheading", "code", "fence", "html_block", "html_inline"])
    if not links:
        parser.add_render_rule("link_open", lambda *_: '<span class="link">')
        parser.add_render_rule("link_close", lambda *_: "</span>")
    return parser


def to_html(text: str, *, links: bool = True) -> str:
    """Render Markdown to safe HTML (content HTML is escaped, never passed through).

    With ``links=False`` a link prints as its text, for documents without its target.
    """
    return _parser(links).render(text)


def to_inline_html(text: str, *, links: bool = True) -> str:
    """Render one line of Markdown without wrapping it in a paragraph."""
    return _parser(links).renderInline(text)


def internal_links(text: str) -> list[str]:
    """The ids that ``[text](#id)`` links in this Markdown point at."""
    targets = []
    for token in _parser().parse(text):
        for child in token.children or []:
            href = child.attrGet("href") if child.type == "link_open" else None
            if isinstance(href, str) and href.startswith("#"):
                targets.append(href[1:])
    return targets
