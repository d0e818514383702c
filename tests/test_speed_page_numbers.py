"""The booklet's page numbers from the last build's page map: each page laid out once,
and the same text on every page as WeasyPrint's own target-counter() gives."""

from __future__ import annotations

import json
from pathlib import Path

import pymupdf
import pytest
import weasyprint.layout.page

from handbook import engine
from handbook.build import BuildOptions, makers, page_numbers
from handbook.build.cache import PAGE_MAP
from handbook.content.validate import load_handbook
from handbook.html.render import Renderer
from handbook.project import open_project
from tests.conftest import REPO, TINY


def booklet_source(root: Path) -> engine.PageSource:
    project = open_project(root)
    handbook = load_handbook(project)
    return Renderer(project).booklet(handbook, BuildOptions().format_for(handbook))


@pytest.fixture
def page_layouts(monkeypatch) -> list[int]:
    """One entry for each page WeasyPrint lays out (again)."""
    laid_out: list[int] = []
    original = weasyprint.layout.page.remake_page

    def remake_page(index, *args, **kwargs):
        laid_out.append(index)
        return original(index, *args, **kwargs)

    monkeypatch.setattr(weasyprint.layout.page, "remake_page", remake_page)
    return laid_out


def page_texts(document) -> list[str]:
    with pymupdf.open(stream=engine.to_pdf_bytes(document, "booklet"), filetype="pdf") as pdf:
        return [page.get_text() for page in pdf]


def check_same_text_laid_out_once(root: Path, page_layouts: list[int]) -> None:
    source = booklet_source(root)
    by_target_counter = engine.render(source)  # no data-page: as before the page map
    assert len(page_layouts) > len(by_target_counter.pages)  # WeasyPrint lays out again
    pages = engine.anchor_pages(by_target_counter)
    page_layouts.clear()
    document, layouts = makers.lay_out_booklet(source, pages)
    assert layouts == 1
    assert len(page_layouts) == len(document.pages) == len(by_target_counter.pages)
    assert page_texts(document) == page_texts(by_target_counter)


def test_with_the_map_each_page_is_laid_out_once_with_the_same_text(page_layouts):
    check_same_text_laid_out_once(TINY, page_layouts)


@pytest.mark.slow
def test_the_default_booklet_has_the_same_text_laid_out_once(page_layouts):
    check_same_text_laid_out_once(REPO, page_layouts)


def test_numbers_that_moved_are_laid_out_again_right():
    source = booklet_source(TINY)
    right = engine.render(source)
    stale = {anchor: page + 1 for anchor, page in engine.anchor_pages(right).items()}
    document, layouts = makers.lay_out_booklet(source, stale)
    assert layouts == 2
    assert page_texts(document) == page_texts(right)


def test_a_first_build_leaves_the_numbers_to_weasyprint(page_layouts):
    source = booklet_source(TINY)
    assert 'data-page="' not in page_numbers.numbered(source.html, {})
    document, layouts = makers.lay_out_booklet(source, {})
    assert layouts == 1
    assert len(page_layouts) > len(document.pages)  # target-counter(): its own second pass


def test_a_build_writes_the_first_page_of_every_anchor(tiny_build):
    out, _ = tiny_build
    pages = json.loads((out / PAGE_MAP).read_text())
    assert pages["techniques"] < pages["gliding"] < pages["pressing"]  # a chapter of pages
    with pymupdf.open(out / "handbook.pdf") as pdf:
        assert "Gliding" in pdf[pages["gliding"] - 1].get_text()


def test_a_page_map_holds_only_page_numbers(tmp_path):
    (tmp_path / PAGE_MAP).write_text(
        json.dumps({"a": '"><link rel="attachment" href="x">', "b": 3, "c": True, "d": 1e9})
    )
    assert page_numbers.read_page_map(tmp_path) == {"b": 3}
    (tmp_path / PAGE_MAP).write_text("[1, 2]")
    assert page_numbers.read_page_map(tmp_path) == {}
