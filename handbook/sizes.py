"""Paper and card sizes in millimetres (portrait: width, height)."""

from __future__ import annotations

INCH = 25.4

PAPER_SIZES: dict[str, tuple[float, float]] = {
    "a5": (148.0, 210.0),
    "a4": (210.0, 297.0),
    "letter": (8.5 * INCH, 11 * INCH),
    "half-letter": (5.5 * INCH, 8.5 * INCH),
}

# The sheet a booklet of each paper size is imposed on (two pages side by side).
PRINT_SHEETS: dict[str, str] = {"a5": "a4", "a4": "a4", "letter": "letter", "half-letter": "letter"}

CARD_SIZES: dict[str, tuple[float, float]] = {
    "a6": (105.0, 148.0),
    "a5": (148.0, 210.0),
    "4x6": (4 * INCH, 6 * INCH),
    "5x7": (5 * INCH, 7 * INCH),
    "3.5x5": (3.5 * INCH, 5 * INCH),
}

MM_PER_POINT = INCH / 72


def css_size(size: tuple[float, float]) -> str:
    """A ``@page { size: ... }`` value for a (width, height) in millimetres."""
    return f"{size[0]:.2f}mm {size[1]:.2f}mm"


def points(size: tuple[float, float]) -> tuple[float, float]:
    """Millimetres to PDF points."""
    return (size[0] / MM_PER_POINT, size[1] / MM_PER_POINT)


def print_sheet(paper: str) -> tuple[float, float]:
    """The landscape sheet, in points, that a booklet of this paper is imposed on."""
    width, height = points(PAPER_SIZES[PRINT_SHEETS[paper]])
    return (height, width)
