"""One part of the booklet laid out as a document of its own (see :mod:`handbook.html.split`).

A part is laid out from its lead: its first page is given the side and the
page number that make its own first page come out where the whole booklet
has it, and the lead's pages are then left out. What the merged PDF needs
of a part's layout (where its ids and bookmarks are, which elements go on
across its pages and from the part before) is read here, from the laid-out
pages, and kept as plain data.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from handbook.engine.layout import anchor_pages
from handbook.engine.render import PageSource, completed_sheets, render
from handbook.engine.structure import Chain, continued_chains
from handbook.html.split import LEAD_END, Part

Bookmark = tuple[int, str, tuple[float, float], str]  # level, label, (x, y), state
_PDF_UNITS_PER_PX = 0.75  # as WeasyPrint writes a page at zoom 1


@dataclass
class LaidOutPart:
    """A part's pages (its lead left out) and what the merge needs of them."""

    document: Any  # a WeasyPrint Document of the part's own pages
    lead: int  # how many pages the lead took
    anchors: dict[str, int]  # the page (from 0, in the part) of each id that begins in it
    bookmarks: list[list[Bookmark]]  # each page's
    heights: list[float]  # each page's height, in CSS pixels
    chains: list[Chain]  # the elements its page breaks split, as continued_chains says
    # The elements its first page goes on with from the part before: the page (from 0)
    # they go on on, and their structure types, outermost first (none: nothing goes on).
    boundary: tuple[int, tuple[str, ...]] | None


def numbering_css(start: int, lead: int) -> str:
    """The page number and side of a part's first page (its lead's first page): those
    that bring its own first page to page ``start``, on the side that number has."""
    first = start - lead
    side = "right" if first % 2 else "left"
    return f"html {{ break-before: {side} }} @page :first {{ counter-reset: page {first} }}"


def lay_out_part(
    source: PageSource, part: Part, start: int, lead: int, notes: Any = None
) -> LaidOutPart | int | None:
    """The part laid out with a lead of ``lead`` pages, to begin on page ``start``.

    Returns the number of pages the lead really took if that is not ``lead``
    (lay it out again with that), and None if the part does not begin on a
    page of its own after its lead: then the booklet cannot be laid out in
    parts. ``notes`` (the booklet's notes pages, laid out) complete the last
    folded sheet of the booklet, for its last part.
    """
    css = numbering_css(start, lead) if part.first_id else ""
    document = render(dataclasses.replace(source, extra_css=source.extra_css + css))
    pages = anchor_pages(document)
    taken = pages.get(LEAD_END, 0)
    if part.first_id is not None:
        if taken == 0 or pages.get(part.first_id, 0) <= taken:
            return None
        if taken != lead:
            return taken
    kept = document.copy(document.pages[taken:])
    if notes is not None:
        kept = completed_sheets(kept, notes, pages_before=start - 1)
    _missing_anchors_kept(kept)
    chains = continued_chains(document)
    return LaidOutPart(
        document=kept,
        lead=taken,
        anchors={anchor: page - 1 - taken for anchor, page in pages.items() if anchor in part.ids},
        bookmarks=[list(page.bookmarks) for page in kept.pages],
        heights=[page.height for page in kept.pages],
        chains=[(a - taken, b - taken, chain) for a, b, chain in chains if a >= taken],
        boundary=next(((b - taken, chain) for a, b, chain in chains if a < taken <= b), None),
    )


def renumbered(part: LaidOutPart, numbers: Mapping[str, tuple[int, int]]) -> bool:
    """Print other page numbers in a laid-out part, without laying it out again.

    ``numbers`` maps an id to the page the part prints for it and the page to
    print instead. The number of a link (or contents entry) is the text its
    ``::before`` or ``::after`` generates from ``data-page`` (the caller has
    checked that the styles print it nowhere else). It is changed only if
    each link prints it once and the new number is exactly as wide in the
    same font (Lato's figures all are), so that no line, and no page, would
    break otherwise; else nothing is changed and False is returned: lay the
    part out again.
    """
    edits = []
    printed: dict[int, int] = {}  # how many numbers each link's generated text holds
    for box in _generated_text(part.document):
        element = box.element
        target = element.get("href") or element.get("data-target") or ""
        change = numbers.get(target[1:]) if target.startswith("#") else None
        if change is None or element.get("data-page") != str(change[0]):
            continue
        number = re.compile(rf"(?<!\d){change[0]}(?!\d)")
        text, found = number.subn(str(change[1]), box.text)
        drawn, found_drawn = number.subn(str(change[1]), box.pango_layout.text)
        printed[id(element)] = printed.get(id(element), 0) + found
        if found != found_drawn or (found and not _as_wide(box, text)):
            return False
        if found:
            edits.append((box, text, drawn))
    if any(found != 1 for found in printed.values()):
        return False
    for box, text, drawn in edits:
        box.text, box.pango_layout.text = text, drawn  # drawn from this text, shaped anew
    return True


def _generated_text(document) -> Iterator[Any]:
    """The text boxes of every ``::before`` and ``::after`` on the document's pages."""
    from weasyprint.formatting_structure.boxes import TextBox

    stack = [page._page_box for page in document.pages]
    while stack:
        box = stack.pop()
        if isinstance(box, TextBox):
            if box.element is not None and box.element_tag.endswith(("::before", "::after")):
                yield box
        else:
            stack.extend(getattr(box, "children", ()))


def _as_wide(box, text: str) -> bool:
    """Whether ``text`` sets exactly as wide as the box's own text, in its style."""
    from weasyprint.text.line_break import Layout, line_size

    widths = []
    for each in (box.text, text):
        layout = Layout(box.style, box.justification_spacing)
        layout.set_text(each, justify=True)
        widths.append(line_size(layout.get_first_line()[0], box.style)[0])
    return widths[0] == widths[1]


def _missing_anchors_kept(document) -> None:
    """Links to ids in other parts stay links: WeasyPrint drops (and warns of) a link
    whose id is not in the document, so each such id is given a place on the part's
    first page. The merged PDF points those links at the id's real place."""
    present = {anchor for page in document.pages for anchor in page.anchors}
    wanted = {
        target
        for page in document.pages
        for kind, target, _, _ in page.links
        if kind == "internal" and target not in present
    }
    if wanted and document.pages:
        document.pages[0].anchors.update({anchor: (0, 0, 0, 0) for anchor in sorted(wanted)})


def outline(pages: list[tuple[list[Bookmark], float]]) -> list:
    """The outline of pages given by their bookmarks and heights, as WeasyPrint nests it
    (``Document.make_bookmark_tree``): subtrees ``(label, (page, x, y), children,
    state)``, with points in PDF units from the bottom left."""
    from weasyprint import Document

    stub = _Pages([_Page(bookmarks, height) for bookmarks, height in pages])
    return Document.make_bookmark_tree(stub, scale=_PDF_UNITS_PER_PX, transform_pages=True)


@dataclass
class _Page:
    bookmarks: list[Bookmark]
    height: float


@dataclass
class _Pages:
    pages: list[_Page]
