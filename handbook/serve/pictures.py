"""The built PDFs as pictures for the preview page, drawn with pypdfium2.

Only a PDF whose bytes changed since the last look is drawn again, and a
picture whose pixels came out the same keeps its version, so the page
reloads only what a save really changed.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from handbook.build.output import read_output
from handbook.errors import HandbookError

BOOKLET = "handbook.pdf"
CARDS_DIR = "cards"
BOOKLET_DPI = 96  # a page of the booklet about as wide as a phone held upright, twice over
CARD_DPI = 144  # cards are small: drawn finer, shown at the same width as a page


@dataclass(frozen=True)
class Picture:
    """One drawn page: its PNG and a short hash that names this version of it."""

    name: str  # "page-3" or "card-kneading": what its address names
    png: bytes
    version: str
    width: int
    height: int


@dataclass(frozen=True)
class Heading:
    """An entry of the booklet's contents, read from the PDF's bookmarks."""

    title: str
    level: int
    page: int  # 1-based


@dataclass(frozen=True)
class Card:
    id: str
    title: str
    picture: Picture


@dataclass
class Pictures:
    """What the page shows of one output folder; :meth:`refresh` brings it up to date."""

    out_dir: Path
    pages: list[Picture] = field(default_factory=list)
    contents: list[Heading] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    title: str = ""  # the booklet's, from its PDF
    _seen: dict[str, str] = field(default_factory=dict)  # PDF -> hash of its bytes

    def refresh(self, card_order: list[str] | None = None) -> bool:
        """Draw the PDFs that changed; True if any picture did. ``card_order`` lists the
        cards' ids as the build ordered them (without it, the order stays as it was)."""
        changed = self._refresh_booklet()
        changed |= self._refresh_cards(card_order)
        return changed

    def find(self, name: str) -> Picture | None:
        """The picture of that name, if the page shows one (names only: never a path)."""
        for picture in self.pages:
            if picture.name == name:
                return picture
        for card in self.cards:
            if card.picture.name == name:
                return card.picture
        return None

    def _refresh_booklet(self) -> bool:
        data = self._changed(self.out_dir / BOOKLET)
        if data is None:
            return False
        import pypdfium2

        document = pypdfium2.PdfDocument(data)
        try:
            pages = [
                _picture(f"page-{index + 1}", page, BOOKLET_DPI)
                for index, page in enumerate(document)
            ]
            contents = [_heading(bookmark) for bookmark in document.get_toc()]
            self.title = document.get_metadata_dict().get("Title", "")
        finally:
            document.close()
        changed = [p.version for p in pages] != [p.version for p in self.pages]
        self.pages, self.contents = pages, contents
        return changed

    def _refresh_cards(self, card_order: list[str] | None) -> bool:
        folder = self.out_dir / CARDS_DIR
        files = (
            {path.stem: path for path in folder.glob("*.pdf") if not path.is_symlink()}
            if folder.is_dir() and not folder.is_symlink()
            else {}
        )
        known = {card.id: card for card in self.cards}
        if card_order is None:  # a failed build: the order shown so far, new cards after it
            card_order = [i for i in known if i in files] + sorted(set(files) - set(known))
        order = [i for i in card_order if i in files]
        cards, changed = [], False
        for card_id in order:
            data = self._changed(files[card_id])
            if data is None and card_id in known:
                cards.append(known[card_id])
                continue
            if data is None:  # unchanged since a look that could not draw it
                data = self._read(files[card_id])
                if data is None:
                    continue
            card = _card(card_id, data)
            changed |= (
                card_id not in known or known[card_id].picture.version != card.picture.version
            )
            cards.append(card)
        changed |= [c.id for c in cards] != [c.id for c in self.cards]
        self.cards = cards
        return changed

    def _read(self, pdf: Path) -> bytes | None:
        """An output PDF as the build wrote it, never read through a link (an output
        folder may have come with a project); None if it cannot be read so."""
        try:
            return read_output(self.out_dir, pdf.relative_to(self.out_dir).as_posix())
        except HandbookError:
            return None

    def _changed(self, pdf: Path) -> bytes | None:
        """The PDF's bytes if they differ from the last look, else None."""
        data = self._read(pdf)
        if data is None:
            return None
        digest = hashlib.sha256(data).hexdigest()
        if self._seen.get(str(pdf)) == digest:
            return None
        self._seen[str(pdf)] = digest
        return data


def _heading(bookmark) -> Heading:
    destination = bookmark.get_dest()
    page = destination.get_index() if destination else None
    return Heading(bookmark.get_title(), bookmark.level + 1, (page or 0) + 1)


def _card(card_id: str, data: bytes) -> Card:
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        # A card's document title is its own, then the handbook's ("Kneading | Back care").
        title = (document.get_metadata_dict().get("Title") or card_id).rsplit(" | ", 1)[0]
        return Card(card_id, title, _picture(f"card-{card_id}", document[0], CARD_DPI))
    finally:
        document.close()


def _picture(name: str, page, dpi: int) -> Picture:
    image = page.render(scale=dpi / 72).to_pil().convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False, compress_level=1)
    png = buffer.getvalue()
    version = hashlib.sha256(png).hexdigest()[:12]
    return Picture(name, png, version, image.width, image.height)
