"""PNG previews of the cards: one image per card and a contact sheet of them all.

Rasterised with pypdfium2 from the PDFs the build wrote, so the previews show
exactly what prints. The contact sheet lays the cards out in a grid with a
thin frame around each, so white cards stay visible on white.
"""

from __future__ import annotations

import io
import math

CONTACT_COLUMNS = 4
_GAP_PX = 16
_FRAME = (150, 150, 150)
_BACKGROUND = (235, 235, 235)


def card_images(cards_pdf: bytes, dpi: int) -> list:
    """Each page of ``cards.pdf`` (its bytes) as a PIL image at ``dpi``."""
    import pypdfium2

    document = pypdfium2.PdfDocument(cards_pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("RGB") for page in document]
    finally:
        document.close()


def contact_sheet(images: list, columns: int = CONTACT_COLUMNS):
    """All images in a grid, each framed, on a light grey background."""
    from PIL import Image, ImageDraw

    columns = max(1, min(columns, len(images)))
    rows = math.ceil(len(images) / columns)
    cell_w = max(image.width for image in images)
    cell_h = max(image.height for image in images)
    sheet = Image.new(
        "RGB",
        (columns * (cell_w + _GAP_PX) + _GAP_PX, rows * (cell_h + _GAP_PX) + _GAP_PX),
        _BACKGROUND,
    )
    draw = ImageDraw.Draw(sheet)
    for index, image in enumerate(images):
        x = _GAP_PX + (index % columns) * (cell_w + _GAP_PX)
        y = _GAP_PX + (index // columns) * (cell_h + _GAP_PX)
        sheet.paste(image, (x, y))
        draw.rectangle((x - 1, y - 1, x + image.width, y + image.height), outline=_FRAME)
    return sheet


def preview_pngs(cards_pdf: bytes, card_ids: list[str], dpi: int) -> dict[str, bytes]:
    """PNG bytes by file name: ``<id>.png`` for each card and ``contact-sheet.png``."""
    images = card_images(cards_pdf, dpi)
    pngs = {f"{card_id}.png": _png(image) for card_id, image in zip(card_ids, images, strict=True)}
    pngs["contact-sheet.png"] = _png(contact_sheet(images))
    return pngs


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
