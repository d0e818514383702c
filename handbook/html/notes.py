"""The ruled lines of a notes page, drawn to fit the text area of the booklet's pages.

A page the booklet leaves empty (before a chapter that starts on the right,
before the back cover) can hold the reader's notes instead. WeasyPrint places
a page's background image at the top left of its text area; the lines are one
SVG of that area's size, so they keep the margins of every paper size.
"""

from __future__ import annotations

from urllib.parse import quote

from handbook.design import Design

LINE_SPACING_MM = 8.0  # a wide rule: room for handwriting
LINE_WIDTH_MM = 0.2


def ruled_lines(page_mm: tuple[float, float], design: Design) -> str:
    """A data: URL of the lines for a page of ``page_mm`` (width, height) in ``design``."""
    width = page_mm[0] - design.booklet_margin_inner_mm - design.booklet_margin_outer_mm
    height = page_mm[1] - design.booklet_margin_top_mm - design.booklet_margin_bottom_mm
    count = int(height // LINE_SPACING_MM)
    lines = "".join(
        f'<line x1="0" x2="{width:g}" y1="{y:g}" y2="{y:g}"/>'
        for y in (LINE_SPACING_MM * n for n in range(1, count + 1))
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}mm" height="{height:g}mm" '
        f'viewBox="0 0 {width:g} {height:g}"><g stroke="{design.muted}" '
        f'stroke-width="{LINE_WIDTH_MM:g}">{lines}</g></svg>'
    )
    return "data:image/svg+xml," + quote(svg, safe="")
