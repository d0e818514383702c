"""What a PDF may be asked to be: a PDF/A, /UA or /X variant, a print shop's bleed and marks.

Known without importing WeasyPrint, so the command line offers them at once.
"""

from __future__ import annotations

import re

from handbook.errors import HandbookError, Problem

# The PDF/A and /UA variants of WeasyPrint 70 (``weasyprint.pdf.VARIANTS``), listed
# here so the command line does not import WeasyPrint to offer them; a test keeps the
# two in step. WeasyPrint's PDF/X variants are left out: they label the file PDF/X but
# keep its colours DeviceRGB, with no output intent.
WEASYPRINT_VARIANTS = (
    "pdf/a-1b",
    "pdf/a-2b",
    "pdf/a-3b",
    "pdf/a-2u",
    "pdf/a-3u",
    "pdf/a-4u",
    "pdf/a-1a",
    "pdf/a-2a",
    "pdf/a-3a",
    "pdf/a-4e",
    "pdf/a-4f",
    "pdf/ua-1",
    "pdf/ua-2",
)
# For a print shop: the booklet in CMYK with an output intent, converted by Ghostscript
# (handbook/press/pdfx.py). The cards stay as they are.
PRINT_SHOP_VARIANT = "pdf/x-3"
PDF_VARIANTS = (*WEASYPRINT_VARIANTS, PRINT_SHOP_VARIANT)


def weasyprint_variant(variant: str | None) -> str | None:
    """The variant WeasyPrint writes for ``variant`` (None: a plain PDF, which
    PDF/X is converted from)."""
    return None if variant == PRINT_SHOP_VARIANT else variant


_LENGTH = re.compile(r"^\d{1,2}(\.\d+)?(mm|cm|in|pt)$")


def print_shop_css(bleed: str | None) -> str:
    """The ``@page`` rule of a print shop's bleed beyond the trim box (its crop marks are
    drawn afterwards, outside the bleed: see :mod:`handbook.press.marks`)."""
    if bleed is not None and not _LENGTH.match(bleed):
        raise HandbookError(
            [
                Problem(
                    "--bleed",
                    0,
                    0,
                    f"'{bleed}' is not a bleed length",
                    "give a number and a unit, such as 3mm, 0.125in or 9pt",
                )
            ]
        )
    return f"@page {{ bleed: {bleed}; }}" if bleed else ""
