"""The printed booklet: contents, bookmarks, cross-references, fonts, paper, print files."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pypdfium2
import pytest
import yaml
from click.testing import CliRunner
from pypdf import PdfReader

from handbook import engine
from handbook.build import BuildOptions, build
from handbook.cli import cli
from handbook.engine import PDF_VARIANTS
from handbook.press.sizes import PAPER_SIZES, points, print_sheet
from tests.conftest import REPO, design_css, write

SAFETY = {"hot-skin": "Hot skin", "sharp-pain": "Sharp pain"}
TECHNIQUES = [f"technique-{n:02d}" for n in range(1, 31)]


def technique_name(technique_id: str) -> str:
    return f"Move {int(technique_id.split('-')[1])}"


def dump(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def write_long_project(root: Path) -> Path:
    """A stretching handbook long enough for a two-page contents and many page turns."""
    write(
        root / "handbook.yaml",
        """
        title: Stretching at the Desk
        authors: [Ada Example, Bo Example]
        language: en-GB
        date: 2026-01-15
        outline: [start, techniques, routines, safety, glossary]
        """,
    )
    sentence = "Breathe out slowly and let the shoulders sink while the neck stays long. "
    write(
        root / "content" / "start.yaml",
        f"""
        kind: chapter
        id: start
        title: Before you start
        summary: Read this first.
        sections:
          - title: Warming up
            body: |
              {sentence * 12}
              Begin with [the first move](#technique-01), and stop at [sharp pain](#sharp-pain).
          - title: Going further
            body: |
              {sentence * 30}
              When you are warm, go on with [move 17](#technique-17).
        """,
    )
    for number, technique_id in enumerate(TECHNIQUES, start=1):
        technique = {
            "kind": "technique",
            "id": technique_id,
            "name": technique_name(technique_id),
            "purpose": sentence,
            "facts": [{"label": "Time", "value": f"{number} min"}],
            "steps": [sentence * (1 + (number + i) % 3) for i in range(4)],
            "safety": ["hot-skin" if number % 2 else "sharp-pain"],
        }
        dump(root / "content" / "techniques" / f"{technique_id}.yaml", technique)
    for topic_id, title in SAFETY.items():
        topic = {
            "kind": "safety",
            "id": topic_id,
            "title": title,
            "severity": "stop",
            "conditions": [sentence],
            "actions": [sentence],
        }
        dump(root / "content" / "safety" / f"{topic_id}.yaml", topic)
    steps = [{"item": TECHNIQUES[0], "minutes": 2}, {"item": TECHNIQUES[1], "minutes": 2}]
    routine = {"kind": "routine", "id": "morning", "title": "Morning set", "minutes": 4}
    dump(root / "content" / "routines" / "morning.yaml", {**routine, "steps": steps})
    return root


@pytest.fixture(scope="module")
def long_build(tmp_path_factory) -> Path:
    """The long handbook built once for this module; returns its output folder."""
    root = write_long_project(tmp_path_factory.mktemp("long") / "project")
    build(root, BuildOptions(out_dir=root / "build"))
    return root / "build"


def tiny_project(root: Path, date: str = "date: 2026-01-15") -> Path:
    write(root / "handbook.yaml", f"title: Tiny\nauthors: [Ada Example]\n{date}\n")
    write(
        root / "content" / "hello.yaml",
        """
        kind: chapter
        id: hello
        title: Hello
        sections: [{body: Just one page.}]
        """,
    )
    return root


def outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(level, title, 1-based page number) for every bookmark, in order."""
    found = []

    def walk(items, level):
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                found.append((level, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 0)
    return found


@pytest.fixture(scope="module")
def long_texts(long_build) -> list[str]:
    """The text of every page of the long booklet."""
    return [page.extract_text() for page in PdfReader(long_build / "handbook.pdf").pages]


TOC_LINE = re.compile(r"^(?P<title>\S.*?)\s*(?:\.\s*){3,}(?P<page>\d+)$")


def toc_entries(texts: list[str]) -> dict[str, int]:
    """The contents' entries, read from the pages before the first chapter."""
    entries = {}
    for text in texts:
        lines = text.splitlines()
        matches = [TOC_LINE.match(line.strip()) for line in lines]
        if text.startswith("Contents") or (entries and any(matches)):
            entries |= {m["title"]: int(m["page"]) for m in matches if m}
        elif entries:
            break
    return entries


def test_contents_page_numbers_are_the_pages_of_the_headings(long_build, long_texts):
    reader = PdfReader(long_build / "handbook.pdf")
    texts = long_texts
    entries = toc_entries(texts)
    expected = ["Before you start", "Techniques", "Routines", "Safety", "Glossary", "Morning set"]
    expected += [technique_name(t) for t in TECHNIQUES] + list(SAFETY.values())
    assert sorted(entries) == sorted(expected)
    with_leaders = [n for n, text in enumerate(texts, 1) if re.search(r"(\. ){3,}\d+$", text, re.M)]
    assert with_leaders == [3, 4]  # the contents start on a right-hand page and take two
    bookmarks = {title: page for _, title, page in outline(reader)}
    for title, page in entries.items():
        assert bookmarks[title] == page, title
        # The heading itself is a line on that page (routines add their minutes).
        heading = re.compile(rf"^{re.escape(title)}( \(\d+ min\))?$", re.M)
        assert heading.search(texts[page - 1]), (title, page)


def test_bookmarks_for_every_chapter_technique_routine_and_safety_topic(long_build):
    marks = outline(PdfReader(long_build / "handbook.pdf"))
    top = [title for level, title, _ in marks if level == 0]
    assert top == ["Contents", "Before you start", "Techniques", "Routines", "Safety", "Glossary"]
    second = [title for level, title, _ in marks if level == 1]
    techniques = [technique_name(t) for t in TECHNIQUES]
    assert second == ["Warming up", "Going further", *techniques, "Morning set", *SAFETY.values()]


def test_chapters_start_on_right_hand_pages(long_build):
    marks = outline(PdfReader(long_build / "handbook.pdf"))
    starts = [page for level, _, page in marks if level == 0]
    assert all(page % 2 == 1 for page in starts), starts


def test_back_cover_is_the_last_left_hand_page(long_texts):
    """An even page count: the blanks that fill the last sheet keep every page on its side."""
    texts = long_texts
    assert len(texts) % 2 == 0
    assert texts[-1].split() == ["Stretching", "at", "the", "Desk", "2026-01-15"]


def band(page, x0: float, x1: float, y0: float, y1: float) -> str:
    """The text inside a rectangle given in fractions of the page."""
    width, height = page.get_size()
    return page.get_textpage().get_text_bounded(x0 * width, y0 * height, x1 * width, y1 * height)


def test_running_header_and_folio_on_the_outer_side(long_build):
    marks = outline(PdfReader(long_build / "handbook.pdf"))
    start = next(page for level, title, page in marks if title == "Techniques")
    document = pypdfium2.PdfDocument(long_build / "handbook.pdf")
    assert "Techniques" not in band(document[start - 1], 0, 1, 0.93, 1)  # not on its first page
    for number in (start + 1, start + 2):
        page = document[number - 1]
        outer = (0, 0.5) if number % 2 == 0 else (0.5, 1)
        inner = (0.5, 1) if number % 2 == 0 else (0, 0.5)
        assert band(page, *outer, 0.93, 1).strip() == "Techniques"
        assert band(page, *outer, 0, 0.07).strip() == str(number)
        assert band(page, *inner, 0.93, 1).strip() == ""
        assert band(page, *inner, 0, 0.07).strip() == ""
    document.close()


def test_gutter_is_on_the_inside(long_build):
    """Text keeps 19 mm from the fold and 13 mm from the outer edge, on both sides."""
    document = pypdfium2.PdfDocument(long_build / "handbook.pdf")
    width = document[0].get_size()[0]
    gutter, outside = points((19, 13))
    for number in (8, 9):  # a spread inside the techniques
        text = document[number - 1].get_textpage()
        boxes = [text.get_charbox(i) for i in range(text.count_chars())]
        boxes = [box for box in boxes if box[2] > box[0]]
        left, right = min(box[0] for box in boxes), max(box[2] for box in boxes)
        inner, outer = (width - right, left) if number % 2 == 0 else (left, width - right)
        assert inner >= gutter - 0.5, number
        assert outer == pytest.approx(outside, abs=1), number
    document.close()


def test_cross_references_print_the_page_they_point_to(long_build, long_texts):
    reader = PdfReader(long_build / "handbook.pdf")
    pages = {title: page for _, title, page in outline(reader)}
    text = " ".join(" ".join(long_texts).split())
    prose = re.findall(r"(the first move|sharp pain|move 17) \(see page (\d+)\)", text)
    assert {link: int(page) for link, page in prose} == {
        "the first move": pages["Move 1"],
        "sharp pain": pages["Sharp pain"],
        "move 17": pages["Move 17"],
    }
    related = re.findall(r"see (Hot skin|Sharp pain), page (\d+)", text)
    assert len(related) == len(TECHNIQUES)
    assert all(int(page) == pages[title] for title, page in related)


def test_metadata_tags_and_language(long_build):
    reader = PdfReader(long_build / "handbook.pdf")
    assert reader.metadata.title == "Stretching at the Desk"
    assert reader.metadata.author == "Ada Example, Bo Example"
    assert reader.metadata["/CreationDate"].startswith("D:20260115")
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root


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


def test_every_font_in_every_output_is_embedded_and_bundled(default_build):
    out, _ = default_build
    outputs = sorted(out.rglob("*.pdf"))
    assert out / "handbook-print.pdf" in outputs and out / "cards.pdf" in outputs
    for path in outputs:
        assert_fonts_embedded_and_bundled(path)


def test_two_builds_are_byte_identical(default_build, tmp_path):
    out, _ = default_build
    build(REPO, BuildOptions(out_dir=tmp_path))
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.pdf")}
    second = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*.pdf")}
    assert Path("handbook-print.pdf") in first
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_date_comes_from_source_date_epoch_never_the_clock(tmp_path, monkeypatch):
    root = tiny_project(tmp_path / "project", date="")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    build(root, BuildOptions(out_dir=tmp_path / "plain"))
    assert "/CreationDate" not in PdfReader(tmp_path / "plain" / "handbook.pdf").metadata
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(root, BuildOptions(out_dir=tmp_path / "epoch"))
    metadata = PdfReader(tmp_path / "epoch" / "handbook.pdf").metadata
    assert metadata["/CreationDate"].startswith("D:20231114221320")


def test_pdf_x_without_a_date_is_refused_rather_than_dated_by_the_clock(tmp_path, monkeypatch):
    root = tiny_project(tmp_path / "project", date="")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    result = CliRunner().invoke(cli, ["build", "--project", str(root), "--pdf-variant", "pdf/x-4"])
    assert result.exit_code == 1
    assert "pdf/x-4 needs a date" in result.output and "SOURCE_DATE_EPOCH" in result.output


def assert_size(page, size: tuple[float, float]) -> None:
    box = page.mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(size, abs=0.5)


@pytest.mark.parametrize("paper", ["letter", "half-letter"])
def test_paper_option_sets_booklet_and_sheet_size(paper, tmp_path):
    root = tiny_project(tmp_path / "project")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["build", "--project", str(root), "--out", str(out), "--paper", paper]
    )
    assert result.exit_code == 0, result.output
    booklet = PdfReader(out / "handbook.pdf")
    for page in booklet.pages:
        assert_size(page, points(PAPER_SIZES[paper]))
    imposed = PdfReader(out / "handbook-print.pdf")
    assert len(imposed.pages) == 2 * -(-len(booklet.pages) // 4)
    width, height = points(PAPER_SIZES["letter"])
    for page in imposed.pages:
        assert_size(page, (height, width))


def test_bleed_and_crop_marks_for_a_print_shop(tmp_path):
    root = tiny_project(tmp_path / "project")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["build", "--project", str(root), "--out", str(out), "--bleed", "3mm", "--marks"]
    )
    assert result.exit_code == 0, result.output
    page = PdfReader(out / "handbook.pdf").pages[0]
    trim, media = page.trimbox, page.mediabox
    assert (float(trim.width), float(trim.height)) == pytest.approx(
        points(PAPER_SIZES["a5"]), abs=0.5
    )
    bleed = points((3, 3))[0]
    assert float(media.width) == pytest.approx(float(trim.width) + 2 * bleed, abs=0.5)
    assert float(trim.left) - float(media.left) == pytest.approx(bleed, abs=0.1)
    # The imposed sheets hold the trimmed pages: still A4 landscape.
    for sheet in PdfReader(out / "handbook-print.pdf").pages:
        assert_size(sheet, print_sheet("a5"))


def test_a_bleed_without_a_unit_is_refused(tmp_path):
    root = tiny_project(tmp_path / "project")
    result = CliRunner().invoke(cli, ["build", "--project", str(root), "--bleed", "3"])
    assert result.exit_code == 2  # a usage error, found before any work
    assert "--bleed" in result.output and "3mm" in result.output
    assert not (root / "build" / "handbook.pdf").exists()


def test_pdf_variants_are_weasyprints():
    from weasyprint.pdf import VARIANTS

    assert set(PDF_VARIANTS) == set(VARIANTS) - {"debug"}


# WeasyPrint leaves its sRGB colour profile file open after writing PDF/A.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_pdf_a_variant_for_archiving(tmp_path):
    root = tiny_project(tmp_path / "project")
    build(root, BuildOptions(out_dir=tmp_path / "out", pdf_variant="pdf/a-3b"))
    reader = PdfReader(tmp_path / "out" / "handbook.pdf")
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part[^0-9]*3", xmp)
    assert reader.metadata.title == "Tiny"


def booklet_pages(html: str) -> list[str]:
    """Page texts of a booklet-styled HTML document."""
    source = engine.PageSource(
        html=html,
        stylesheets=(REPO / "styles" / "base.css", REPO / "styles" / "booklet.css"),
        extra_css=design_css() + "@page { size: 148mm 210mm; }",
        origin="test",
        allowed_roots=(REPO,),
    )
    data = engine.to_pdf_bytes(engine.render(source), source.origin)
    return [page.extract_text() for page in PdfReader(BytesIO(data)).pages]


def booklet_with_filler(filler_mm: int) -> list[str]:
    """A booklet page filled to ``filler_mm``, then a heading and a step list."""
    return booklet_pages(
        f"""<html lang="en"><body class="booklet"><main>
        <div style="height: {filler_mm}mm"></div>
        <h4>Steps</h4>
        <ol class="steps"><li>First step.</li><li>Second step.</li><li>Third step.</li></ol>
        </main></body></html>"""
    )


@pytest.mark.parametrize("filler_mm", range(150, 176, 3))
def test_no_heading_or_first_step_alone_at_the_foot_of_a_page(filler_mm):
    texts = booklet_with_filler(filler_mm)
    page = next(text for text in texts if "First step." in text)
    assert "Steps" in page and "Second step." in page, texts


@pytest.mark.parametrize(
    ("language", "broken"), [("en", "repres\u2010"), ("de", "hyphe\u2010"), ("ja", None)]
)
def test_hyphenation_follows_the_handbook_language(language, broken):
    """The same words break by each language's rules (and not at all without a dictionary)."""
    [text] = booklet_pages(
        f'<html lang="{language}"><body class="booklet"><main><p style="width: 40mm">'
        "the characteristically incomprehensible hyphenation of representational words"
        "</p></main></body></html>"
    )
    line_ends = [line.split()[-1] for line in text.splitlines() if line.endswith("\u2010")]
    assert line_ends == ([broken] if broken else [])


@pytest.mark.parametrize(
    ("block", "first_line"),
    [
        (
            "<p>Each technique comes with a simple outline of a back seen from behind. "
            "<strong>Dotted</strong> areas are where the technique works.</p>",
            "Each technique comes with a simple outline of a back seen from behind.",
        ),
        (
            "<ul><li><strong>Keep a steady rhythm</strong>, and vary the techniques so the "
            "massage never becomes monotonous.</li></ul>",
            "Keep a steady rhythm, and vary the techniques so the massage",
        ),
    ],
)
def test_lines_are_not_broken_early(block, first_line):
    """WeasyPrint 70 alone leaves "Each" and "Keep a steady" alone on these first lines."""
    [text] = booklet_pages(
        f'<html lang="en"><body class="booklet"><main>{block}</main></body></html>'
    )
    assert text.splitlines()[0].strip() == first_line
