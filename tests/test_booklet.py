"""The printed booklet: dates, paper, print-shop files, PDF variants, line breaking."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from handbook import engine
from handbook.build import BuildOptions, build
from handbook.cli import cli
from handbook.engine import PDF_VARIANTS, PRINT_SHOP_VARIANT, WEASYPRINT_VARIANTS
from handbook.press.sheets import SLUG
from handbook.press.sizes import PAPER_SIZES, points, print_sheet
from tests.conftest import REPO, assert_size, design_css, write


def one_chapter_project(root: Path, date: str = "date: 2026-01-15") -> Path:
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


@pytest.mark.slow
def test_date_comes_from_source_date_epoch_never_the_clock(tmp_path, monkeypatch):
    root = one_chapter_project(tmp_path / "project", date="")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    build(root, BuildOptions(out_dir=tmp_path / "plain"))
    assert "/CreationDate" not in PdfReader(tmp_path / "plain" / "handbook.pdf").metadata
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(root, BuildOptions(out_dir=tmp_path / "epoch"))
    metadata = PdfReader(tmp_path / "epoch" / "handbook.pdf").metadata
    assert metadata["/CreationDate"].startswith("D:20231114221320")


def test_pdf_x_without_a_date_is_refused_rather_than_dated_by_the_clock(tmp_path, monkeypatch):
    root = one_chapter_project(tmp_path / "project", date="")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    result = CliRunner().invoke(cli, ["build", "--project", str(root), "--pdf-variant", "pdf/x-3"])
    assert result.exit_code == 1
    assert "pdf/x-3 needs a date" in result.output and "SOURCE_DATE_EPOCH" in result.output


@pytest.mark.parametrize("paper", ["letter", "half-letter"])
def test_paper_option_sets_booklet_and_sheet_size(paper, tmp_path):
    root = one_chapter_project(tmp_path / "project")
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
    root = one_chapter_project(tmp_path / "project")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["build", "--project", str(root), "--out", str(out), "--bleed", "3mm", "--marks"]
    )
    assert result.exit_code == 0, result.output
    page = PdfReader(out / "handbook.pdf").pages[0]
    assert_size(page, points(PAPER_SIZES["a5"]), box="trimbox")
    trim, bleed_box, media = page.trimbox, page.bleedbox, page.mediabox
    bleed, slug = points((3, SLUG))
    assert float(bleed_box.width) == pytest.approx(float(trim.width) + 2 * bleed, abs=0.5)
    assert float(trim.left) - float(media.left) == pytest.approx(bleed + slug, abs=0.1)
    # The imposed sheets hold the trimmed pages: still A4 landscape.
    for sheet in PdfReader(out / "handbook-print.pdf").pages:
        assert_size(sheet, print_sheet("a5"))


def test_a_bleed_without_a_unit_is_refused(tmp_path):
    root = one_chapter_project(tmp_path / "project")
    result = CliRunner().invoke(cli, ["build", "--project", str(root), "--bleed", "3"])
    assert result.exit_code == 2  # a usage error, found before any work
    assert "--bleed" in result.output and "3mm" in result.output
    assert not (root / "build" / "handbook.pdf").exists()


def test_pdf_variants_are_weasyprints_but_its_pdf_x():
    from weasyprint.pdf import VARIANTS

    theirs = {name for name in VARIANTS if name != "debug" and not name.startswith("pdf/x")}
    assert set(WEASYPRINT_VARIANTS) == theirs
    assert set(PDF_VARIANTS) == theirs | {PRINT_SHOP_VARIANT}


# WeasyPrint leaves its sRGB colour profile file open after writing PDF/A.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_pdf_a_variant_for_archiving(tmp_path):
    root = one_chapter_project(tmp_path / "project")
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
