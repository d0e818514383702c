"""Reading a laid-out document: how much of its pages its content uses, and what sticks out.

WeasyPrint's ``Document`` exposes pages, not how full they are, so this reads
its box tree (``Page._page_box`` and the boxes below it).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_OVERFLOW = 1.015  # a document over one page needs at least this much of a page
_NORMAL_LINE_HEIGHT = 1.2  # what 'line-height: normal' comes to in most fonts


@dataclass(frozen=True)
class Measure:
    """How a rendered document used its pages, in CSS pixels."""

    pages: int
    available: float  # content height of one page
    needed: float  # content height the document needs (all pages)
    body_px: float  # computed font size of the body text
    line_px: float  # computed line height of the body text
    width: float = 0.0  # content width of one page
    pictures: tuple[float, ...] = ()  # the height of every <img> laid out, in order

    @property
    def fits(self) -> bool:
        return self.pages == 1


def measure(document) -> Measure:
    """Read page count, page content height and needed height from the layout.

    The needed height adds up what each page really holds: a block pushed to
    the next page leaves a gap that the page count alone would count as used.
    """
    pages = [page._page_box for page in document.pages]
    needed = sum(_used_height(page) for page in pages)
    if len(pages) > 1:
        # A block that cannot split (a drawing, a boxed line) or a margin lost at
        # the page break can overflow a document whose heights add up to less than a page.
        needed = max(needed, pages[0].height * MIN_OVERFLOW)
    body = _body_box(pages[0])
    font_size = body.style["font_size"]
    line = _line_px(body.style, font_size)
    pictures = tuple(box.height for page in pages for box in _picture_boxes(page))
    return Measure(len(pages), pages[0].height, needed, font_size, line, pages[0].width, pictures)


def _picture_boxes(box):
    """The laid-out ``<img>`` elements under a box (pictures; diagrams are inline SVG)."""
    from weasyprint.formatting_structure.boxes import ReplacedBox

    if isinstance(box, ReplacedBox) and box.element_tag == "img":
        yield box
    for child in getattr(box, "children", []):
        yield from _picture_boxes(child)


def _line_px(style, font_size: float) -> float:
    """The computed ``line-height`` in pixels: a factor, a length, or ``normal``."""
    value = style["line_height"]
    if isinstance(value, int | float):
        return value * font_size
    if getattr(value, "unit", None) == "px":
        return value.value
    return font_size * _NORMAL_LINE_HEIGHT


def anchor_pages(document) -> dict[str, int]:
    """The page number (from 1) of every anchor (``id``) in a laid-out document: the
    page its element begins on, as ``target-counter()`` counts (WeasyPrint lists the
    anchor of an element that runs over several pages on each of them)."""
    pages: dict[str, int] = {}
    for number, page in enumerate(document.pages, start=1):
        for anchor in page.anchors:
            pages.setdefault(anchor, number)
    return pages


def too_wide(document) -> list[str]:
    """The texts that run past the right edge of their page, in order, each once.

    A word too long to break (a compound in a narrow column) is laid out
    whole, past its box and off the page; nothing else in the layout says so.
    """
    found: dict[str, None] = {}
    for page in document.pages:
        page_box = page._page_box
        right = page_box.margin_width() - page_box.margin_left  # the trim edge
        for box in _text_boxes(page_box):
            if box.position_x + box.width > right + _TOLERANCE_PX and box.text.strip():
                found[box.text.strip()] = None
    return list(found)


_TOLERANCE_PX = 0.5  # rounding in the layout is not overflow


def _text_boxes(box):
    from weasyprint.formatting_structure.boxes import TextBox

    if isinstance(box, TextBox):
        yield box
    for child in getattr(box, "children", []):
        yield from _text_boxes(child)


def _used_height(page_box) -> float:
    """From the top of the page's content area to the bottom of its last block."""
    return _bottom(_body_box(page_box)) - page_box.content_box_y()


def _bottom(box) -> float:
    """The bottom of a box's content; a block split by a page break is stretched to
    the page's end, so blocks that hold blocks are measured by their children."""
    from weasyprint.formatting_structure.boxes import BlockLevelBox

    children = [
        child
        for child in getattr(box, "children", [])
        if child.is_in_normal_flow() or child.is_floated()
    ]
    if children and all(isinstance(child, BlockLevelBox) for child in children):
        return max(_bottom(child) for child in children)
    return box.position_y + box.margin_height()


def _body_box(page_box):
    root = page_box.children[0]
    for child in getattr(root, "children", []):
        if child.element_tag == "body":
            return child
    return root
