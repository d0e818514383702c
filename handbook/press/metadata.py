"""What a PDF made with pikepdf says about itself: language, title, authors, subject, date.

WeasyPrint writes these into the booklet and the cards from their HTML; the
files put together from them here (cards.pdf, card-sheets.pdf,
handbook-print.pdf) are new documents that get them from :func:`stamp`: the
catalog's ``/Lang`` (which screen readers and hyphenating tools read), the
document info and the same in XMP. Nothing here asks the clock, so the same
build writes the same bytes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

CREATOR = "handbook"


@dataclass(frozen=True)
class DocumentInfo:
    title: str
    authors: tuple[str, ...]
    language: str  # a BCP 47 tag, as handbook.yaml gives it
    subject: str = ""
    date: str | None = None  # W3C date or date and time (handbook/build/dates.py); None: none


def stamp(pdf, info: DocumentInfo) -> None:
    """Write ``info`` into a ``pikepdf.Pdf``: its /Lang, document info and XMP metadata."""
    import pikepdf

    pdf.Root.Lang = pikepdf.String(info.language)
    # Not "edited by pikepdf": that would stamp the clock's time into the file.
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:title"] = info.title
        xmp["dc:language"] = [info.language]
        xmp["xmp:CreatorTool"] = CREATOR
        if info.authors:
            xmp["dc:creator"] = list(info.authors)
        if info.subject:
            xmp["dc:description"] = info.subject
        if info.date:
            xmp["xmp:CreateDate"] = xmp["xmp:ModifyDate"] = info.date


def with_xmp(pdf) -> None:
    """Give a PDF that has none the XMP metadata its document info says (WeasyPrint writes
    XMP only for PDF/A, /UA and /X, and PDF/UA checkers read the title from XMP)."""
    if "/Metadata" in pdf.Root:
        _uncompressed(pdf.Root.Metadata)
        return
    with (
        warnings.catch_warnings(),  # PDF/X's keys in the document info have no XMP twin
        pdf.open_metadata(set_pikepdf_as_editor=False) as xmp,
    ):
        warnings.filterwarnings("ignore", message=".* has no XMP equivalent")
        xmp.load_from_docinfo(pdf.docinfo)


def _uncompressed(stream) -> None:
    """PDF/A forbids a filter on the XMP stream, which WeasyPrint 70 compresses for
    PDF/A-2 and later."""
    if "/Filter" in stream:
        stream.write(stream.read_bytes())
