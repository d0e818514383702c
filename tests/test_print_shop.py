"""What a print shop and a reader holding paper get: marks, boxes, true sizes, fonts."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pymupdf
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from handbook.build import BuildOptions, build
from handbook.cli import cli
from handbook.press.format import READABLE_PT
from handbook.press.sheets import SLUG
from handbook.press.sizes import MM_PER_POINT, PAPER_SIZES, points
from tests.conftest import REPO, assert_size, write

BLEED_MM = 3.0
EPSILON = 0.01  # points


def one_chapter_project(root: Path) -> Path:
    """A booklet of a few pages and no cards: it builds in a moment."""
    write(root / "handbook.yaml", "title: Print shop\nauthors: [Ada Example]\ndate: 2026-01-15\n")
    write(
        root / "content" / "hello.yaml",
        """
        kind: chapter
        id: hello
        title: Hello
        sections: [{body: A page of text for the print shop.}]
        """,
    )
    return root


@pytest.fixture(scope="module")
def marked_booklet(tmp_path_factory) -> Path:
    """The booklet built with a 3 mm bleed and crop marks."""
    root = one_chapter_project(tmp_path_factory.mktemp("marked") / "project")
    out = root.parent / "out"
    build(root, BuildOptions(out_dir=out, bleed=f"{BLEED_MM:g}mm", marks=True))
    return out / "handbook.pdf"


def boxes(page: pikepdf.Page) -> dict[str, pymupdf.Rect]:
    """The page's boxes in PDF points (y upwards)."""
    return {name: pymupdf.Rect(*(float(v) for v in page.obj[f"/{name}"])) for name in BOXES}


BOXES = ("MediaBox", "BleedBox", "TrimBox")


def lines_in_pdf_space(page: pymupdf.Page, media: pymupdf.Rect) -> list[tuple[pymupdf.Rect, tuple]]:
    """The bounds of every stroked line on the page in PDF points (y upwards), and its colour."""
    found = []
    for drawing in page.get_drawings():
        for item in drawing["items"]:
            if item[0] != "l":
                continue
            (x1, y1), (x2, y2) = (item[1].x, item[1].y), (item[2].x, item[2].y)
            x1, x2 = x1 + media.x0, x2 + media.x0
            y1, y2 = media.y1 - y1, media.y1 - y2
            bounds = pymupdf.Rect(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
            found.append((bounds, drawing["color"]))
    return found


def test_booklet_boxes_are_trim_bleed_and_slug(marked_booklet):
    with pikepdf.open(marked_booklet) as pdf:
        assert len(pdf.pages) >= 2
        for page in pdf.pages:
            box = boxes(page)
            trim, bleed, media = box["TrimBox"], box["BleedBox"], box["MediaBox"]
            for grown, inner, by in ((bleed, trim, BLEED_MM), (media, bleed, SLUG)):
                points = by / MM_PER_POINT
                assert grown.x0 == pytest.approx(inner.x0 - points, abs=EPSILON)
                assert grown.y0 == pytest.approx(inner.y0 - points, abs=EPSILON)
                assert grown.x1 == pytest.approx(inner.x1 + points, abs=EPSILON)
                assert grown.y1 == pytest.approx(inner.y1 + points, abs=EPSILON)
            assert trim.width == pytest.approx(148 / MM_PER_POINT, abs=EPSILON)  # A5


def test_booklet_crop_marks_lie_in_the_slug_and_point_at_the_trim(marked_booklet):
    with pikepdf.open(marked_booklet) as pdf:
        pages_boxes = [boxes(page) for page in pdf.pages]
    document = pymupdf.open(marked_booklet)
    for page, box in zip(document, pages_boxes, strict=True):
        trim, bleed, media = box["TrimBox"], box["BleedBox"], box["MediaBox"]
        lines = lines_in_pdf_space(page, media)
        marks = [line for line, _ in lines if not bleed.contains(line)]
        assert len(marks) == 8, page.number  # two at each corner
        for mark in marks:
            assert media.contains(mark)
            assert mark.width < EPSILON or mark.height < EPSILON  # straight
            if mark.width < EPSILON:  # vertical: on a left or right trim line
                assert min(abs(mark.x0 - trim.x0), abs(mark.x0 - trim.x1)) < EPSILON
                assert mark.y1 < bleed.y0 or mark.y0 > bleed.y1
            else:
                assert min(abs(mark.y0 - trim.y0), abs(mark.y0 - trim.y1)) < EPSILON
                assert mark.x1 < bleed.x0 or mark.x0 > bleed.x1
        colours = {colour for line, colour in lines if not bleed.contains(line)}
        assert colours == {(0.0, 0.0, 0.0)}  # registration black


def text_sizes(pdf: Path) -> list[float]:
    """The size of every span of text as printed, its page's transformation included."""
    sizes = [
        span["size"]
        for page in pymupdf.open(pdf)
        for block in page.get_text("dict")["blocks"]
        for line in block.get("lines", [])
        for span in line["spans"]
        if span["text"].strip()
    ]
    assert sizes
    return sizes


def test_letter_booklets_print_at_true_size_on_letter_sheets(tmp_path):
    root = one_chapter_project(tmp_path / "project")
    out = tmp_path / "out"
    build(root, BuildOptions(out_dir=out, paper="letter"))
    assert_size(PdfReader(out / "handbook.pdf").pages[0], points(PAPER_SIZES["letter"]))
    letter_width, letter_height = points(PAPER_SIZES["letter"])
    for sheet in PdfReader(out / "handbook-print.pdf").pages:
        assert_size(sheet, (letter_height, letter_width))  # landscape Letter
    sizes = text_sizes(out / "handbook-print.pdf")
    assert min(sizes) >= READABLE_PT
    body = max(set(sizes), key=sizes.count)
    assert body == pytest.approx(10, abs=0.01)  # the theme's body text, at true size


def test_pages_that_would_print_too_small_are_refused_and_the_print_file_kept(tmp_path):
    root = one_chapter_project(tmp_path / "project")
    out = tmp_path / "out"
    build(root, BuildOptions(out_dir=out))
    before = (out / "handbook-print.pdf").read_bytes()
    css = (REPO / "styles" / "booklet.css").read_text()
    write(root / "styles" / "booklet.css", css + "\n@page { size: 210mm 297mm; }\n")
    result = CliRunner().invoke(cli, ["build", "--project", str(root), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert (
        "handbook.yaml: the booklet's 210 x 297 mm pages would print at 71% on the A4 sheets "
        "of handbook-print.pdf, its 10 pt body text at 7.1 pt, below the 8 pt a reader can "
        "read on paper"
    ) in result.output
    assert "hint: give the booklet pages half the size of a sheet" in result.output
    assert "Traceback" not in result.output
    assert (out / "handbook-print.pdf").read_bytes() == before
