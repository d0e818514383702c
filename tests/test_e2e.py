"""End to end: build real PDFs from the tiny project and read them back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from handbook.build import BuildOptions, build, check
from handbook.build.output import TEMP_SUFFIX
from handbook.errors import HandbookError
from handbook.press.sizes import CARD_SIZES, PAPER_SIZES, points
from tests.conftest import TINY, assert_size, write


def booklet_text(out: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(out / "handbook.pdf").pages)


def test_booklet_is_a5_and_names_every_technique(tiny_build):
    out, _ = tiny_build
    reader = PdfReader(out / "handbook.pdf")
    assert len(reader.pages) >= 4
    for page in reader.pages:
        assert_size(page, points(PAPER_SIZES["a5"]))
    text = booklet_text(out)
    for technique in check(TINY).techniques:
        assert technique.name in text


def test_every_card_is_one_page_of_card_size(tiny_build):
    out, report = tiny_build
    handbook = check(TINY)
    expected_ids = {t.id for t in handbook.techniques}
    expected_ids |= {r.id for r in handbook.routines} | {s.id for s in handbook.safety}
    card_files = {path.stem: path for path in (out / "cards").glob("*.pdf")}
    assert set(card_files) == expected_ids
    for path in card_files.values():
        reader = PdfReader(path)
        assert len(reader.pages) == 1, path.name
        assert_size(reader.pages[0], points(CARD_SIZES["a6"]))
    fitted = [o for o in report.outputs if o.path.parent.name == "cards"]
    assert len(fitted) == len(card_files)
    assert all(1 <= o.renders <= 4 and 0 < o.scale <= 1 for o in fitted)


def test_cards_pdf_has_one_page_per_card(tiny_build):
    out, _ = tiny_build
    reader = PdfReader(out / "cards.pdf")
    assert len(reader.pages) == len(list((out / "cards").glob("*.pdf")))
    first_technique = check(TINY).techniques[0]
    assert first_technique.name in reader.pages[0].extract_text()


def fonts_of(resources, seen: set) -> list:
    """Every font reachable from a resource dictionary, through form XObjects too."""
    found = []
    resources = resources.get_object() if resources is not None else {}
    for font in (resources.get("/Font") or {}).values():
        found.append(font.get_object())
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form" and id(xobject) not in seen:
            seen.add(id(xobject))
            found += fonts_of(xobject.get("/Resources"), seen)
    return found


def assert_fonts_embedded_and_bundled(path: Path) -> None:
    reader = PdfReader(path)
    fonts = [font for page in reader.pages for font in fonts_of(page.get("/Resources"), set())]
    assert fonts, path
    for font in fonts:
        descendant = font.get("/DescendantFonts")
        if descendant:
            font = descendant[0].get_object()
        descriptor = font["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), (path, font)
        assert re.fullmatch(r"/[A-Z]{6}\+Lato(-\w+)?", descriptor["/FontName"]), (path, font)


def test_every_font_in_every_output_is_embedded_and_bundled(tiny_build):
    out, _ = tiny_build
    outputs = sorted(out.rglob("*.pdf"))
    assert out / "handbook-print.pdf" in outputs and out / "cards.pdf" in outputs
    assert out / "card-sheets.pdf" in outputs
    for path in outputs:
        assert_fonts_embedded_and_bundled(path)


def test_failing_build_keeps_the_last_good_pdfs(tiny_built):
    project, out = tiny_built
    before = {p: p.read_bytes() for p in out.rglob("*.pdf")}
    technique = project / "content" / "gliding.yaml"
    technique.write_text(technique.read_text() + "\nnot valid: [\n")
    with pytest.raises(HandbookError):
        build(project, BuildOptions(out_dir=out))
    assert {p: p.read_bytes() for p in out.rglob("*.pdf")} == before
    assert not [p for p in out.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


def test_project_templates_override_single_defaults(tiny_built):
    project, out = tiny_built
    write(
        project / "templates" / "_cover.html.j2",
        '<section class="cover"><h1>Custom cover for {{ handbook.settings.title }}</h1></section>',
    )
    build(project, BuildOptions(out_dir=out))
    text = booklet_text(out)
    assert "Custom cover for Tiny handbook" in text
    assert check(project).techniques[0].name in text
