"""Writing card PDFs with pikepdf: cards trimmed to size, and n-up card sheets.

A card is rendered once, with its bleed (WeasyPrint's ``@page { bleed }``:
the media box is larger than the trim box). The single-card PDFs are cut
down to the trim box; the sheets place the full bleed version as a form
XObject at the positions :mod:`handbook.press.sheets` computed.
"""

from __future__ import annotations

import io

from handbook.press.metadata import DocumentInfo, stamp
from handbook.press.sheets import Placement, Segment, SheetLayout
from handbook.press.sizes import MM_PER_POINT

MARK_WIDTH_PT = 0.3
# Crop marks print on every plate (registration). The files are DeviceRGB, where
# that is black: a print shop's RGB-to-CMYK conversion makes it rich black.
REGISTRATION = "0 0 0 RG"


def trimmed(card_pdf: bytes) -> bytes:
    """The card with its media box cut down to its trim box (the card's real size)."""
    import pikepdf

    with pikepdf.Pdf.open(io.BytesIO(card_pdf)) as pdf:
        for page in pdf.pages:
            trim = page.obj.get("/TrimBox", page.mediabox)
            page.obj.MediaBox = trim
            for box in ("/BleedBox", "/TrimBox", "/CropBox", "/ArtBox"):
                if box in page.obj:
                    del page.obj[box]
        return save(pdf)


def combine(pdfs: list[bytes], info: DocumentInfo) -> bytes:
    """One file with the pages of every PDF, in order, saying ``info`` about itself."""
    import pikepdf

    combined = pikepdf.Pdf.new()
    for data in pdfs:
        with pikepdf.Pdf.open(io.BytesIO(data)) as part:
            combined.pages.extend(part.pages)
    stamp(combined, info)
    return save(combined)


def card_sheets(
    layout: SheetLayout, fronts: list[bytes], backs: list[bytes] | None, info: DocumentInfo
) -> bytes:
    """The cards n-up with crop marks; with ``backs``, each sheet is followed by its reverse.
    The file says ``info`` about itself."""
    import pikepdf

    out = pikepdf.Pdf.new()
    per_sheet = layout.per_sheet
    for start in range(0, len(fronts), per_sheet):
        chunk = slice(start, start + per_sheet)
        _add_sheet(out, layout.sheet, layout.placements, fronts[chunk])
        if backs is not None:
            _add_sheet(out, layout.sheet, layout.backs(), backs[chunk])
    stamp(out, info)
    return save(out)


def _add_sheet(out, sheet, placements: tuple[Placement, ...], cards: list[bytes]) -> None:
    import pikepdf

    size = [pt(sheet[0]), pt(sheet[1])]
    page = out.add_blank_page(page_size=size)
    xobjects = pikepdf.Dictionary()
    ops = []
    for index, (placement, data) in enumerate(zip(placements, cards, strict=False)):
        name = f"/Card{index}"
        xobjects[name] = _form(out, data)
        bleed = placement.bleed()
        a, b, c, d, e, f = placement.matrix()
        ops.append(
            f"q {pt(bleed.x):.3f} {pt(bleed.y):.3f} {pt(bleed.width):.3f} "
            f"{pt(bleed.height):.3f} re W n "
            f"{a} {b} {c} {d} {pt(e):.3f} {pt(f):.3f} cm {name} Do Q"
        )
    ops.extend(mark_drawing([mark for p in placements[: len(cards)] for mark in p.crop_marks()]))
    page.obj.Resources = pikepdf.Dictionary(XObject=xobjects)
    page.obj.Contents = out.make_stream("\n".join(ops).encode())


def _form(out, data: bytes):
    """The card's page, bleed included, as a form XObject copied into ``out``."""
    import pikepdf

    with pikepdf.Pdf.open(io.BytesIO(data)) as card:
        page = card.pages[0]
        form = page.as_form_xobject()
        form.BBox = page.mediabox
        return out.copy_foreign(form)


def mark_drawing(marks: list[Segment]) -> list[str]:
    """The content-stream operators that draw crop marks (millimetres, PDF-style).

    Marked as a page artifact (a production aid, not content), so that
    tagged files keep them out of their reading order.
    """
    return [
        f"/Artifact <</Type /Page>> BDC q {REGISTRATION} {MARK_WIDTH_PT} w",
        *(_line(mark) for mark in marks),
        "Q EMC",
    ]


def _line(mark: Segment) -> str:
    return f"{pt(mark.x1):.3f} {pt(mark.y1):.3f} m {pt(mark.x2):.3f} {pt(mark.y2):.3f} l S"


def pt(mm: float) -> float:
    return mm / MM_PER_POINT


def save(pdf) -> bytes:
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True)
    return buffer.getvalue()
