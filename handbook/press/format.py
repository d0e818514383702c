"""The print format of one build, resolved once from the settings and the options.

Every later stage takes this object instead of size names, so a size is looked
up in one place and each derived number (the card's type scale, the smallest
text a card may shrink to, the pouch margin, the sheets' paper) is worked out
once.
"""

from __future__ import annotations

from dataclasses import dataclass

from handbook.press.sizes import (
    CARD_SIZES,
    PAPER_SIZES,
    card_scale,
    pouch_margin,
    print_paper,
    print_sheet,
    sheet_for_paper,
)

READABLE_PT = 8.0  # the smallest body text a reader holding the paper should get
FLOOR_PT = READABLE_PT  # smallest body text on an A6 card; scaled with the card size


@dataclass(frozen=True)
class Format:
    """Paper and card sizes of a build, with what follows from them (millimetres)."""

    paper: str  # the booklet's paper, a key of PAPER_SIZES
    card: str  # the card size, a key of CARD_SIZES
    sheet: str  # the paper card-sheets.pdf is printed on, a key of PAPER_SIZES
    bleed_mm: float  # the cards' background printed past the cut (the theme's design)
    picture_min_mm: float  # the least a picture on an A6 card shrinks to (the theme's design)

    @property
    def page_mm(self) -> tuple[float, float]:
        return PAPER_SIZES[self.paper]

    @property
    def card_mm(self) -> tuple[float, float]:
        return CARD_SIZES[self.card]

    @property
    def sheet_mm(self) -> tuple[float, float]:
        return PAPER_SIZES[self.sheet]

    @property
    def card_scale(self) -> float:
        """How much larger than A6 the card is; its type grows by as much."""
        return card_scale(self.card)

    @property
    def floor_pt(self) -> float:
        """The smallest body text a card's fitting may shrink to, in points."""
        return FLOOR_PT * self.card_scale

    @property
    def picture_floor_mm(self) -> float:
        """The least height a card's picture may shrink to, before the text shrinks."""
        return self.picture_min_mm * self.card_scale

    @property
    def pouch_mm(self) -> float:
        """The seal margin a laminating pouch of this card size leaves around it."""
        return pouch_margin(self.card)

    @property
    def print_paper(self) -> str:
        """The page size the print file's booklet is laid out at (half its sheet)."""
        return print_paper(self.paper)

    @property
    def print_sheet_pt(self) -> tuple[float, float]:
        """The landscape sheet, in points, that the booklet is imposed on."""
        return print_sheet(self.paper)


def resolve_format(
    paper: str,
    card: str,
    bleed_mm: float,
    sheet: str | None = None,
    *,
    picture_min_mm: float,
) -> Format:
    """The format for a booklet paper and card size; card sheets follow the paper by default."""
    return Format(paper, card, sheet or sheet_for_paper(paper), bleed_mm, picture_min_mm)
