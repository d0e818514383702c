"""Saddle-stitch imposition: the pure page order, then real imposed PDFs read back."""

from __future__ import annotations

import math
from io import BytesIO
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
from pypdf import PdfReader

from handbook import engine
from handbook.press.impose import Sheet, impose, padded_order, saddle_order
from handbook.press.metadata import DocumentInfo
from handbook.press.sizes import PAPER_SIZES, points, print_sheet
from tests.conftest import assert_size, design_css

INFO = DocumentInfo("Nummeriert", ("Anna Muster",), "de")


def reading_order(sheets: list[Sheet]) -> list[int | None]:
    """The pages a reader meets, page by page, in a folded stack of these sheets.

    Going in, each sheet shows the right half of its front, then the left half
    of its back; coming out again (innermost sheet first), the right half of
    its back, then the left half of its front.
    """
    going_in = [page for sheet in sheets for page in (sheet.front[1], sheet.back[0])]
    coming_out = [page for sheet in reversed(sheets) for page in (sheet.back[1], sheet.front[0])]
    return going_in + coming_out


@pytest.mark.parametrize("n_pages", range(1, 18))
def test_folded_sheets_give_the_booklet_in_page_order(n_pages):
    sheets = saddle_order(n_pages)
    assert len(sheets) == math.ceil(n_pages / 4)
    pages = reading_order(sheets)
    printed = [page for page in pages if page is not None]
    assert printed == list(range(n_pages))
    assert len(pages) % 4 == 0 and len(pages) - n_pages < 4


@pytest.mark.parametrize("n_pages", range(2, 18))
def test_blanks_go_before_the_back_cover(n_pages):
    pages = reading_order(saddle_order(n_pages))
    blanks = -n_pages % 4
    assert pages[-1] == n_pages - 1
    assert pages[: n_pages - 1] == list(range(n_pages - 1))
    assert pages[n_pages - 1 : n_pages - 1 + blanks] == [None] * blanks
    # The covers share the outside of the first sheet.
    assert saddle_order(n_pages)[0].front == (n_pages - 1, 0)


def test_known_orders():
    assert saddle_order(1) == [Sheet(front=(None, 0), back=(None, None))]
    assert saddle_order(4) == [Sheet(front=(3, 0), back=(1, 2))]
    assert saddle_order(6) == [
        Sheet(front=(5, 0), back=(1, None)),
        Sheet(front=(None, 2), back=(3, 4)),
    ]
    assert saddle_order(8) == [Sheet(front=(7, 0), back=(1, 6)), Sheet(front=(5, 2), back=(3, 4))]
    assert padded_order(5) == [0, 1, 2, 3, None, None, None, 4]


def test_an_empty_booklet_is_refused():
    with pytest.raises(ValueError):
        saddle_order(0)


def numbered_booklet(n_pages: int, paper: str = "a5") -> bytes:
    """A booklet whose pages say only 'Page 1', 'Page 2', ... in large type."""
    pages = "".join(
        f'<p style="break-after: page; font: 40pt Lato; margin: 0">Page {n}</p>'
        for n in range(1, n_pages + 1)
    )
    width, height = PAPER_SIZES[paper]
    source = engine.PageSource(
        html=f"<html><head><title>Numbered</title></head><body>{pages}</body></html>",
        stylesheets=(Path(__file__).parent.parent / "styles" / "base.css",),
        extra_css=design_css() + f"@page {{ size: {width}mm {height}mm; margin: 20mm }}",
        origin="test",
        allowed_roots=(Path(__file__).parent.parent,),
    )
    return engine.to_pdf_bytes(engine.render(source), "test")


def halves(data: bytes) -> list[tuple[str, str]]:
    """The text on the left and the right half of every page of a PDF."""
    document = pypdfium2.PdfDocument(data)
    found = []
    for page in document:
        width, height = page.get_size()
        text = page.get_textpage()
        left = text.get_text_bounded(0, 0, width / 2, height).strip()
        right = text.get_text_bounded(width / 2, 0, width, height).strip()
        found.append((left, right))
    document.close()
    return found


def label(page: int | None) -> str:
    return "" if page is None else f"Page {page + 1}"


@pytest.mark.parametrize(("n_pages", "paper"), [(7, "a5"), (9, "a5"), (6, "half-letter")])
def test_imposed_sides_carry_the_right_pair_of_pages(n_pages, paper):
    imposed = impose(numbered_booklet(n_pages, paper), print_sheet(paper), INFO)
    sheets = PdfReader(BytesIO(imposed.pdf)).pages
    sheet_width, sheet_height = print_sheet(paper)
    assert sheet_width > sheet_height
    assert imposed.sides == len(sheets) == 2 * math.ceil(n_pages / 4)
    for page in sheets:
        assert_size(page, (sheet_width, sheet_height))
    expected = [
        (label(left), label(right))
        for sheet in saddle_order(n_pages)
        for left, right in (sheet.front, sheet.back)
    ]
    assert halves(imposed.pdf) == expected


def test_larger_pages_are_scaled_into_their_half():
    """An A4 booklet on an A4 sheet: each page shrinks to fit beside the fold."""
    imposed = impose(numbered_booklet(2, "a4"), print_sheet("a4"), INFO)
    assert halves(imposed.pdf) == [("Page 2", "Page 1"), ("", "")]
    document = pypdfium2.PdfDocument(imposed.pdf)
    text = document[0].get_textpage()
    width, height = print_sheet("a4")
    # The page's 20 mm margin shrinks with it: no text within 10 mm of the sheet's top.
    top_band = text.get_text_bounded(0, height - points((10, 10))[1], width, height)
    assert top_band.strip() == ""
    document.close()


def test_the_imposed_file_says_its_title_authors_and_language():
    imposed = impose(numbered_booklet(3), print_sheet("a5"), INFO)
    metadata = pypdfium2.PdfDocument(imposed.pdf).get_metadata_dict()
    assert (metadata["Title"], metadata["Author"]) == ("Nummeriert", "Anna Muster")
    assert PdfReader(BytesIO(imposed.pdf)).trailer["/Root"]["/Lang"] == "de"


def test_each_side_draws_the_booklet_pages_content_as_it_was_compressed():
    booklet = numbered_booklet(4)
    imposed = impose(booklet, print_sheet("a5"), INFO)
    with pikepdf.open(BytesIO(booklet)) as source, pikepdf.open(BytesIO(imposed.pdf)) as out:
        contents = {page.obj.Contents.read_raw_bytes() for page in source.pages}
        forms = [
            form.read_raw_bytes()
            for page in out.pages
            for form in page.obj.Resources.XObject.values()
        ]
    assert sorted(forms) == sorted(contents)


def test_pages_written_otherwise_than_weasyprint_writes_them_are_imposed_too():
    """A page whose content is several streams, and one whose resources are written in it
    rather than referred to, are made forms by qpdf: they print as they show."""
    with pikepdf.open(BytesIO(numbered_booklet(4))) as pdf:
        first = pdf.pages[0].obj
        first.Contents = pikepdf.Array([pdf.make_stream(b"q Q"), first.Contents])
        last = pdf.pages[3].obj
        last.Resources = pikepdf.Dictionary(last.Resources)
        buffer = BytesIO()
        pdf.save(buffer)
    with pikepdf.open(BytesIO(buffer.getvalue())) as written:
        assert not written.pages[3].obj.Resources.is_indirect
    imposed = impose(buffer.getvalue(), print_sheet("a5"), INFO)
    assert halves(imposed.pdf) == [("Page 4", "Page 1"), ("Page 2", "Page 3")]
