"""Crop marks around the booklet's pages, for a print shop (``--marks``).

The booklet is rendered with its bleed (WeasyPrint's ``@page { bleed }``),
which gives each page a trim box inside a bleed box. Here every page grows
by a slug around its bleed, and the crop marks the card sheets use are drawn
in it: outside the bleed, pointing at the trim lines. What the page itself
draws stays clipped to its bleed box, so nothing of it reaches the slug.
"""

from __future__ import annotations

import io

from handbook.press.sheets import SLUG, Rect, crop_marks
from handbook.press.sheets_pdf import mark_drawing, pt, save
from handbook.press.sizes import MM_PER_POINT


def with_marks(pdf_bytes: bytes) -> bytes:
    """The PDF with a slug and crop marks around every page's bleed.

    Afterwards TrimBox is the trimmed page, BleedBox the trim plus the bleed,
    and MediaBox (and CropBox) the bleed plus the slug.
    """
    import pikepdf

    with pikepdf.Pdf.open(io.BytesIO(pdf_bytes)) as pdf:
        for page in pdf.pages:
            _mark(pdf, page)
        return save(pdf, object_streams=pdf.pdf_version >= "1.5")


def _mark(pdf, page) -> None:
    trim = _rect_mm(page.trimbox)
    bleed = _rect_mm(page.bleedbox)
    media = bleed.grown(SLUG)
    page.obj.TrimBox = _box_pt(trim)
    page.obj.BleedBox = _box_pt(bleed)
    page.obj.MediaBox = page.obj.CropBox = _box_pt(media)
    corner, size = (
        f"{pt(bleed.x):.3f} {pt(bleed.y):.3f}",
        f"{pt(bleed.width):.3f} {pt(bleed.height):.3f}",
    )
    clip = f"q {corner} {size} re W n"
    page.contents_add(pdf.make_stream(clip.encode()), prepend=True)
    drawing = ["Q", *mark_drawing(list(crop_marks(trim, trim.x - bleed.x)))]
    page.contents_add(pdf.make_stream("\n".join(drawing).encode()))


def _rect_mm(box) -> Rect:
    x0, y0, x1, y1 = (float(v) * MM_PER_POINT for v in box)
    return Rect(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))


def _box_pt(rect: Rect) -> list[float]:
    return [round(pt(v), 4) for v in (rect.x, rect.y, rect.right, rect.top)]
