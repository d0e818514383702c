"""What a PDF may be asked to be: a PDF/A, /UA or /X variant, a print shop's bleed and marks.

Known without importing WeasyPrint, so the command line offers them at once.
"""

from __future__ import annotations

import re

from handbook.errors import HandbookError, Problem

# WeasyPrint 70's PDF variants (``weasyprint.pdf.VARIANTS`` without its
# "debug"), listed here so the command line does not import WeasyPrint to
# offer them; a test keeps the two in step.
PDF_VARIANTS = (
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
    "pdf/x-1a",
    "pdf/x-3",
    "pdf/x-4",
    "pdf/x-5g",
)

_LENGTH = re.compile(r"^\d{1,2}(\.\d+)?(mm|cm|in|pt)$")


def print_shop_css(bleed: str | None, marks: bool) -> str:
    """``@page`` rules for a print shop: bleed beyond the trim box, crop marks."""
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
    rules = [f"bleed: {bleed};" if bleed else "", "marks: crop;" if marks else ""]
    return f"@page {{ {' '.join(r for r in rules if r)} }}" if any(rules) else ""
