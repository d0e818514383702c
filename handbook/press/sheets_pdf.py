"""Writing card PDFs with pikepdf: cards trimmed to size, and n-up card sheets.

A card is rendered with its bleed (WeasyPrint's ``@page { bleed }``: the
media box is larger than the trim box). A single card's PDF is cut down to
its trim box. The cards' PDFs are also put together as one file, each font
embedded once for every card (:mod:`handbook.press.merge`): cards.pdf is
its fronts, and the sheets place its pages, their bleed given back, as form
XObjects at the positions :mod:`handbook.press.sheets` computed, sharing
that one set of fonts.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from handbook.press.metadata import DocumentInfo, stamp
from handbook.press.sheets import Placement, Segment, SheetLayout
from handbook.press.sizes import MM_PER_POINT

if TYPE_CHECKING:
    from pikepdf import Array, Dictionary, Object, Page, Pdf

MARK_WIDTH_PT = 0.3
# Crop marks print on every plate (registration). The files are DeviceRGB, where
# that is black: a print shop's RGB-to-CMYK conversion makes it rich black.
REGISTRATION = "0 0 0 RG"


def trimmed(card_pdf: bytes) -> bytes:
    """The card with its media box cut down to its trim box (the card's real size)."""
    import pikepdf

    with pikepdf.Pdf.open(io.BytesIO(card_pdf)) as pdf:
        for page in pdf.pages:
            _trim(page)
        return save(pdf)


BOXES = ("/MediaBox", "/TrimBox", "/BleedBox")  # a card's, kept before it is trimmed


def bleed_boxes(card_pdf: bytes) -> dict[str, list[float]]:
    """A card's boxes before it is trimmed: what gives it its bleed back on a sheet."""
    import pikepdf

    with pikepdf.Pdf.open(io.BytesIO(card_pdf)) as pdf:
        page = pdf.pages[0].obj
        return {box: [float(v) for v in page[box]] for box in BOXES if box in page}


def with_bleed(cards_pdf: bytes, boxes: list[dict[str, list[float]]]) -> bytes:
    """Trimmed cards, one a page, with the boxes (:func:`bleed_boxes`) they had before."""
    import pikepdf

    with pikepdf.Pdf.open(io.BytesIO(cards_pdf)) as pdf:
        for page, kept in zip(pdf.pages, boxes, strict=True):
            for box, values in kept.items():
                page.obj[box] = pikepdf.Array(values)
        return save(pdf)


def _trim(page) -> None:
    page.obj.MediaBox = page.obj.get("/TrimBox", page.mediabox)
    for box in ("/BleedBox", "/TrimBox", "/CropBox", "/ArtBox"):
        if box in page.obj:
            del page.obj[box]


def card_sheets(
    layout: SheetLayout, cards_pdf: bytes, fronts: int, duplex: bool, info: DocumentInfo
) -> bytes:
    """The cards n-up with crop marks, from the PDF of all cards with their bleed (fronts,
    then as many backs with ``duplex``); each sheet followed by its reverse with ``duplex``.
    The file says ``info`` about itself."""
    import pikepdf

    out = pikepdf.Pdf.new()
    with pikepdf.Pdf.open(io.BytesIO(cards_pdf)) as cards:  # open until saved: see _form
        forms = [_form(out, page) for page in cards.pages]
        per_sheet = layout.per_sheet
        for start in range(0, fronts, per_sheet):
            end = min(start + per_sheet, fronts)
            _add_sheet(out, layout.sheet, layout.placements, forms[start:end])
            if duplex:
                _add_sheet(out, layout.sheet, layout.backs(), forms[fronts + start : fronts + end])
        stamp(out, info)
        return save(out)


def _add_sheet(out, sheet, placements: tuple[Placement, ...], forms: list) -> None:
    import pikepdf

    size = [pt(sheet[0]), pt(sheet[1])]
    page = out.add_blank_page(page_size=size)
    xobjects = pikepdf.Dictionary()
    ops = []
    for index, (placement, form) in enumerate(zip(placements, forms, strict=False)):
        name = f"/Card{index}"
        xobjects[name] = form
        bleed = placement.bleed()
        a, b, c, d, e, f = placement.matrix()
        ops.append(
            f"q {pt(bleed.x):.3f} {pt(bleed.y):.3f} {pt(bleed.width):.3f} "
            f"{pt(bleed.height):.3f} re W n "
            f"{a} {b} {c} {d} {pt(e):.3f} {pt(f):.3f} cm {name} Do Q"
        )
    ops.extend(mark_drawing([mark for p in placements[: len(forms)] for mark in p.crop_marks()]))
    page.obj.Resources = pikepdf.Dictionary(XObject=xobjects)
    page.obj.Contents = out.make_stream("\n".join(ops).encode())


def _form(out: Pdf, page: Page) -> Object:
    """A card's page, bleed included, as a form XObject copied into ``out``."""
    return page_form(out, page, page.mediabox)


# What makes a page's content draw differently from a form's made of the same stream.
_TRANSFORMS = ("/Rotate", "/UserUnit")


def page_form(out: Pdf, page: Page, bbox: Array | None = None) -> Object:
    """``page`` as a form XObject copied into ``out``, clipped to ``bbox`` (by default its
    trim box, as qpdf's ``as_form_xobject``).

    A page as WeasyPrint writes one (see :func:`_as_written`) becomes a form
    made of its content stream itself, whose compressed data is copied as it
    is. A form qpdf makes is given the page's content decoded when ``out`` is
    saved, to compress it again: most of the time of imposing a booklet. Forms
    copied from one file share the fonts and images they use; their streams are
    read from it when ``out`` is saved, so it stays open till then.
    """
    import pikepdf

    own = page.obj
    form = out.copy_foreign(own.Contents) if _as_written(own) else None
    if form is None or "/Subtype" in form:  # made a form already: another page's stream too
        made = page.as_form_xobject()
        if bbox is not None:
            made.BBox = bbox
        return out.copy_foreign(made)
    form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
    form.BBox = pikepdf.Array(page.trimbox if bbox is None else bbox)
    form.Resources = out.copy_foreign(own.Resources)
    if "/Group" in own:
        form.Group = out.copy_foreign(own.Group)
    return form


def _as_written(own: Dictionary) -> bool:
    """Whether a page draws one content stream, untransformed, with its resources (and any
    transparency group) its own and referred to, so that they can be copied as they are."""
    import pikepdf

    return (
        isinstance(own.get("/Contents"), pikepdf.Stream)
        and not any(key in own for key in _TRANSFORMS)
        and "/Resources" in own
        and all(own[key].is_indirect for key in ("/Resources", "/Group") if key in own)
    )


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


def save(pdf, *, object_streams: bool = True) -> bytes:
    """The PDF as bytes, the same for the same content (its ID made from it).

    With ``object_streams`` (the default), objects are packed in compressed
    object streams, which PDF 1.5 allows: smaller files. Without them, the PDF's
    own version is kept (PDF/A-1 is PDF 1.4, which has none).
    """
    import pikepdf

    buffer = io.BytesIO()
    if object_streams:
        pdf.save(
            buffer,
            deterministic_id=True,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            min_version="1.5",
        )
    else:
        pdf.save(buffer, deterministic_id=True)
    return buffer.getvalue()
