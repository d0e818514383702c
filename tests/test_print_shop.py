"""What a print shop and a reader holding paper get: marks, boxes, true sizes, fonts."""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
import pymupdf
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from handbook.build import BuildOptions, build
from handbook.cli import cli
from handbook.errors import HandbookError
from handbook.press.format import READABLE_PT
from handbook.press.sheets import SLUG
from handbook.press.sizes import MM_PER_POINT, PAPER_SIZES, points
from tests.conftest import REPO, TINY, assert_size, write

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


def font_programs(pdf: Path) -> list[str]:
    """The font name (with its subset tag) of each embedded font program of the file
    (font dictionaries that differ in their widths alone share one program)."""
    with pikepdf.open(pdf) as document:
        programs = {
            obj[key].objgen: str(obj.FontName).lstrip("/")
            for obj in document.objects
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor"
            for key in ("/FontFile", "/FontFile2", "/FontFile3")
            if key in obj
        }
        return list(programs.values())


def faces_used(pdf: Path) -> set[str]:
    """The fonts the pages show text in, without their subset tags."""
    return {
        font[3].split("+")[-1] for page in pymupdf.open(pdf) for font in page.get_fonts(full=True)
    }


def check_problems(pdf: Path) -> list[str]:
    """What qpdf's check (``qpdf --check``, through pikepdf) finds wrong with the file."""
    with pikepdf.open(pdf) as document:
        return document.check_pdf_syntax()


@pytest.mark.parametrize("name", ["cards.pdf", "card-sheets.pdf"])
def test_combined_card_files_embed_one_font_program_per_face(tiny_build, name):
    out, _ = tiny_build
    programs = font_programs(out / name)
    assert len(programs) == len(faces_used(out / name)) >= 2
    assert len(set(programs)) == len(programs)  # each subset has its own tag
    assert all(re.fullmatch(r"[A-Z]{6}\+\S+", program) for program in programs)
    assert check_problems(out / name) == []


def test_cards_pdf_is_the_cards_at_their_fitted_sizes_in_less_space(tiny_build):
    out, _ = tiny_build
    singles = sorted((out / "cards").glob("*.pdf"))
    combined = pymupdf.open(out / "cards.pdf")
    assert len(combined) == len(singles)
    by_text = {page.get_text(): page for page in combined}
    for single in singles:
        page = pymupdf.open(single)[0]
        assert page.get_text() in by_text, single.name
        assert span_sizes(by_text[page.get_text()]) == span_sizes(page)
        assert by_text[page.get_text()].rect == page.rect  # trimmed to the card
        assert len(font_programs(single)) == len(faces_used(single))  # self-contained
    # The single cards put together carry a set of fonts each (what cards.pdf was).
    assert (out / "cards.pdf").stat().st_size < 0.75 * sum(s.stat().st_size for s in singles)
    with pikepdf.open(out / "cards.pdf") as document:
        streams = [o for o in document.objects if isinstance(o, pikepdf.Stream)]
        assert any(o.get("/Type") == "/ObjStm" for o in streams)  # compressed object streams


def span_sizes(page: pymupdf.Page) -> list[float]:
    return [
        round(span["size"], 2)
        for block in page.get_text("dict")["blocks"]
        for line in block.get("lines", [])
        for span in line["spans"]
    ]


@pytest.mark.slow
def test_duplex_sheets_share_the_fonts_of_fronts_and_backs(tiny_copy, tmp_path):
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out, duplex=True))
    programs = font_programs(out / "card-sheets.pdf")
    assert len(programs) == len(set(programs)) == len(faces_used(out / "card-sheets.pdf"))
    assert check_problems(out / "card-sheets.pdf") == []
    for back in (out / "cards" / "backs").glob("*.pdf"):
        assert nearest_text_to_the_cut_mm(back) >= safe_margin_mm()


def safe_margin_mm() -> float:
    from handbook.content.validate import load_handbook
    from handbook.project import open_project

    return load_handbook(open_project(TINY)).design.card_safe_margin_mm


def nearest_text_to_the_cut_mm(pdf: Path) -> float:
    """How near any text of the file's (trimmed) pages comes to their edges."""
    distances = [
        min(x0 - page.rect.x0, y0 - page.rect.y0, page.rect.x1 - x1, page.rect.y1 - y1)
        for page in pymupdf.open(pdf)
        for block in page.get_text("dict")["blocks"]
        for line in block.get("lines", [])
        for span in line["spans"]
        if span["text"].strip()
        for x0, y0, x1, y1 in [span["bbox"]]
    ]
    assert distances
    return min(distances) * MM_PER_POINT


def test_no_card_text_comes_nearer_the_cut_than_the_safe_margin(tiny_build):
    out, _ = tiny_build
    assert safe_margin_mm() == 3
    assert nearest_text_to_the_cut_mm(out / "cards.pdf") >= safe_margin_mm()
    footer = pymupdf.open(out / "cards.pdf")[0].search_for("Tiny handbook")[-1]
    assert footer.y1 > pymupdf.open(out / "cards.pdf")[0].rect.y1 - 8 / MM_PER_POINT  # still low


@pytest.mark.slow
def test_a_card_record_changed_in_the_build_folder_makes_its_card_again(tiny_built):
    project, out = tiny_built
    record = out / ".bleed" / "gliding.boxes.json"
    kept = record.read_text()
    record.write_text('{"/MediaBox": "wide"}')
    pressing = project / "content" / "pressing.yaml"
    pressing.write_text(pressing.read_text().replace("Release just", "Then release just"))
    report = build(project, BuildOptions(out_dir=out))
    remade = {r.path.name for r in report.outputs if r.status == "rendered"}
    assert {"gliding.pdf", "pressing.pdf", "cards.pdf", "card-sheets.pdf"} <= remade
    assert record.read_text() == kept


def test_a_card_record_that_is_not_one_is_a_located_problem(tmp_path):
    from handbook.build import makers

    record = tmp_path / ".bleed" / "gliding.boxes.json"
    record.parent.mkdir()
    for text in ('{"/MediaBox": "wide"}', "[1, 2]", '{"/TrimBox": [0, 0, 1e9, 1]}', "{"):
        record.write_text(text)
        with pytest.raises(HandbookError) as caught:
            makers._bleed_boxes(tmp_path, ".bleed/gliding.boxes.json")
        [problem] = caught.value.problems
        assert problem.path == str(record)
        assert problem.message == "this file of the build was changed since the build wrote it"
        assert problem.hint == "build again with --force"
