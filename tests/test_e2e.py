"""End to end: build real PDFs from the default project and read them back."""

from pathlib import Path

import pytest
from pypdf import PdfReader

from handbook.build import BuildOptions, build, check
from handbook.errors import HandbookError
from handbook.press.sizes import CARD_SIZES, PAPER_SIZES, points
from tests.conftest import REPO, TINY, write


def page_size(page) -> tuple[float, float]:
    return (float(page.mediabox.width), float(page.mediabox.height))


def assert_size(page, size_mm: tuple[float, float]) -> None:
    width, height = page_size(page)
    expected = points(size_mm)
    assert width == pytest.approx(expected[0], abs=0.5)
    assert height == pytest.approx(expected[1], abs=0.5)


def booklet_text(out: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(out / "handbook.pdf").pages)


def test_booklet_is_a5_and_names_every_technique(default_build):
    out, _ = default_build
    reader = PdfReader(out / "handbook.pdf")
    assert len(reader.pages) >= 4
    for page in reader.pages:
        assert_size(page, PAPER_SIZES["a5"])
    text = booklet_text(out)
    for technique in check(REPO).techniques:
        assert technique.name in text


def test_every_card_is_one_page_of_card_size(default_build):
    out, _ = default_build
    handbook = check(REPO)
    expected_ids = {t.id for t in handbook.techniques}
    expected_ids |= {r.id for r in handbook.routines} | {s.id for s in handbook.safety}
    card_files = {path.stem: path for path in (out / "cards").glob("*.pdf")}
    assert set(card_files) == expected_ids
    for path in card_files.values():
        reader = PdfReader(path)
        assert len(reader.pages) == 1, path.name
        assert_size(reader.pages[0], CARD_SIZES["a6"])


def test_cards_pdf_has_one_page_per_card(default_build):
    out, _ = default_build
    reader = PdfReader(out / "cards.pdf")
    assert len(reader.pages) == len(list((out / "cards").glob("*.pdf")))
    first_technique = check(REPO).techniques[0]
    assert first_technique.name in reader.pages[0].extract_text()


def test_fonts_are_embedded(default_build):
    out, _ = default_build
    for path in [out / "handbook.pdf", out / "cards.pdf"]:
        for page in PdfReader(path).pages:
            for font in page["/Resources"]["/Font"].values():
                descriptor = (
                    font.get_object().get("/FontDescriptor")
                    or (font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"])
                )
                descriptor = descriptor.get_object()
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                assert "Lato" in str(descriptor["/FontName"])


def test_letter_paper(tmp_path):
    out = tmp_path / "out"
    build(TINY, BuildOptions(out_dir=out, paper="letter"))
    for page in PdfReader(out / "handbook.pdf").pages:
        assert_size(page, PAPER_SIZES["letter"])


def test_failing_build_keeps_the_last_good_pdfs(tiny_copy, tmp_path):
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    before = {p: p.read_bytes() for p in out.rglob("*.pdf")}
    technique = tiny_copy / "content" / "gliding.yaml"
    technique.write_text(technique.read_text() + "\nnot valid: [\n")
    with pytest.raises(HandbookError):
        build(tiny_copy, BuildOptions(out_dir=out))
    assert {p: p.read_bytes() for p in out.rglob("*.pdf")} == before
    assert not [p for p in out.rglob("*") if p.name.startswith(".") and p.suffix == ".part"]


def test_project_templates_override_single_defaults(tiny_copy, tmp_path):
    write(
        tiny_copy / "templates" / "_cover.html.j2",
        '<section class="cover"><h1>Custom cover for {{ handbook.settings.title }}</h1></section>',
    )
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    text = booklet_text(out)
    assert "Custom cover for" in text
    assert check(tiny_copy).techniques[0].name in text


def test_template_typo_is_located(tiny_copy, tmp_path):
    write(tiny_copy / "templates" / "_cover.html.j2", "<h1>\n{{ handbook.settings.titel }}</h1>")
    with pytest.raises(HandbookError) as caught:
        build(tiny_copy, BuildOptions(out_dir=tmp_path / "out"))
    [problem] = caught.value.problems
    assert (problem.path, problem.line) == ("templates/_cover.html.j2", 2)
    assert "titel" in problem.message


def test_content_html_is_escaped(tiny_copy, tmp_path):
    write(
        tiny_copy / "content" / "zz-chapter.yaml",
        """
        kind: chapter
        id: escaped
        title: "<b>Bold</b> & <script>x</script>"
        sections:
          - body: "<img src='/etc/passwd'> *fine*"
        """,
    )
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    text = booklet_text(out)
    assert "<b>Bold</b> & <script>x</script>" in text
    assert "<img src=" in text and "/etc/passwd" in text
