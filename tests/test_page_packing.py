"""The booklet can pack its pages: chapters on any page, empty pages kept for notes."""

from __future__ import annotations

import itertools
from pathlib import Path

import pymupdf
import pytest

from handbook.build import BuildOptions, build
from handbook.html.notes import LINE_SPACING_MM

MM = 72 / 25.4


def _pages(project: Path, settings: str) -> list[pymupdf.Page]:
    path = project / "handbook.yaml"
    path.write_text(path.read_text(encoding="utf-8") + settings, encoding="utf-8")
    build(project, BuildOptions(out_dir=project / "build"))
    document = pymupdf.open(project / "build" / "handbook.pdf")
    return list(document)


def _first_page_of(pages: list[pymupdf.Page], title: str) -> int:
    """The page number (from 1) whose text starts a chapter called ``title``."""
    return next(n for n, page in enumerate(pages, 1) if title in page.get_text().split("\n")[:3])


def _empty(page: pymupdf.Page) -> bool:
    return not page.get_text().strip()


@pytest.fixture
def right(tiny_copy: Path) -> list[pymupdf.Page]:
    return _pages(tiny_copy, "")


def test_chapters_start_on_right_pages_by_default_with_blank_pages_before(right):
    assert _first_page_of(right, "Introduction") % 2 == 1
    assert _first_page_of(right, "Contents") == 3
    assert any(_empty(page) for page in right[1:-1])


def test_chapter_start_any_leaves_no_page_empty_inside_the_booklet(tiny_copy, right):
    packed = _pages(tiny_copy, "chapter_start: any\n")
    assert _first_page_of(packed, "Contents") == 2  # the inside of the cover
    assert not [n for n, page in enumerate(packed[1:-2], 2) if _empty(page)]
    assert len(packed) < len(right)
    assert len(packed) % 2 == 0  # the back cover is still a left-hand page


@pytest.mark.slow
def test_notes_pages_have_a_heading_in_the_language_and_ruled_lines_in_the_text_area(tiny_copy):
    write_de = tiny_copy / "handbook.yaml"
    write_de.write_text(
        write_de.read_text(encoding="utf-8").replace("language: en", "language: de"),
        encoding="utf-8",
    )
    pages = _pages(tiny_copy, "blank_pages: notes\n")
    notes = [page for page in pages[1:-1] if page.get_text().strip() == "Notizen"]
    assert notes, [page.get_text()[:40] for page in pages]
    for page in notes:
        rules = sorted({round(y, 1) for y in _horizontal_lines(page)})
        top, bottom = 17 * MM, page.rect.height - 17 * MM  # the text area, as themed
        assert len(rules) == round((bottom - top) / MM) // LINE_SPACING_MM
        assert top < rules[0] and rules[-1] <= bottom + 0.5
        gaps = {round((b - a) / MM, 1) for a, b in itertools.pairwise(rules)}
        assert gaps == {LINE_SPACING_MM}
        [heading] = [b for b in page.get_text("blocks")]
        assert heading[3] < top  # in the margin above the lines


def _horizontal_lines(page: pymupdf.Page) -> list[float]:
    """The heights of the horizontal lines drawn across most of the page's width."""
    heights = []
    for drawing in page.get_drawings():
        for item in drawing["items"]:
            flat = item[0] == "l" and abs(item[1].y - item[2].y) < 0.1
            if flat and abs(item[2].x - item[1].x) > page.rect.width / 2:
                heights.append(item[1].y)
    return heights


@pytest.mark.slow
def test_notes_pages_complete_the_last_sheet_so_the_print_file_has_no_blank_side(tiny_copy):
    pages = _pages(tiny_copy, "chapter_start: any\nblank_pages: notes\n")
    assert len(pages) % 4 == 0
    texts = [page.get_text().strip() for page in pages]
    assert "Tiny handbook" in texts[-1]  # the back cover stays last
    assert not [n for n, text in enumerate(texts, 1) if not text]
    printed = pymupdf.open(tiny_copy / "build" / "handbook-print.pdf")
    assert len(printed) * 2 == len(pages)  # two pages a side: nothing added
    assert all(_horizontal_lines(page) for page in pages if page.get_text().strip() == "Notes")


@pytest.mark.slow
def test_notes_pages_have_the_bleed_and_marks_of_the_pages_around_them(tiny_copy):
    path = tiny_copy / "handbook.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "blank_pages: notes\n", encoding="utf-8")
    build(tiny_copy, BuildOptions(out_dir=tiny_copy / "build", bleed="3mm", marks=True))
    with pymupdf.open(tiny_copy / "build" / "handbook.pdf") as document:
        texts = [page.get_text().strip() for page in document]
        assert "Notes" in texts
        boxes = {(tuple(page.mediabox), tuple(page.bleedbox)) for page in document}
    assert len(boxes) == 1
