"""One embedded program per font face in a PDF merged from several rendered parts."""

from __future__ import annotations

import io
import subprocess
from collections import Counter
from pathlib import Path

import pikepdf
import pypdfium2
import pytest

from handbook import engine
from handbook.engine import fonts
from handbook.press import font_union
from handbook.press.font_union import unify_fonts
from handbook.press.sheets_pdf import save

REPO = Path(__file__).resolve().parent.parent
PAGE_CSS = "@page { size: A6; margin: 1cm } body { font-family: Lato; font-size: 11pt }"
# Every part has all four faces, glyphs of its own, and text in a form XObject (opacity).
PARTS = (
    "<p>Plain words, 123 and <b>bold ones</b>, <i>italic too</i>.</p>"
    "<p style='opacity: .5'>Faded <b><i>emphasis</i></b>.</p>",
    "<p>Café, naïve, déjà vu: <b>Größe 4567!</b> <i>façade?</i> <b><i>both</i></b></p>"
    "<p style='opacity: .5'>Quiet <b>zone</b></p>",
    "<p>Zebra (quiet) \N{EN DASH} 890 % <i>Ümlaut ß</i> <b><i>bold italic ø</i></b></p>"
    "<p>More: <b>[x]</b> <i>{y}</i> #7</p>",
)
LATO_FACES = {"Lato", "Lato-Bold", "Lato-Italic", "Lato-Bold-Italic"}


def render(body: str, css: str = "", **options) -> bytes:
    return render_with(body, (), css, **options)


def render_with(body: str, font_files: tuple[Path, ...], css: str = "", **options) -> bytes:
    """A part's PDF: ``body`` on A6 pages in Lato, with ``font_files`` (or the bundled
    ones), written with WeasyPrint's ``options``."""
    html = f"<html><body>{body}</body></html>"
    source = engine.PageSource(html, (), PAGE_CSS + css, "test", (REPO,), fonts=font_files)
    return engine.to_pdf_bytes(engine.render(source), source.origin, **options)


@pytest.fixture(scope="module")
def parts() -> list[bytes]:
    return [render(body) for body in PARTS]


def merged(parts: list[bytes]) -> pikepdf.Pdf:
    """The parts' pages in one PDF, as a booklet rendered in parts is put together."""
    pdf = pikepdf.open(io.BytesIO(parts[0]))
    for part in parts[1:]:
        pdf.pages.extend(pikepdf.open(io.BytesIO(part)).pages)
    return pdf


def unified(parts: list[bytes], font_files: tuple[Path, ...] | None = None) -> bytes:
    """The parts merged, their fonts united (the bundled fonts' unless told), saved."""
    pdf = merged(parts)
    unify_fonts(pdf, fonts.bundled() if font_files is None else font_files)
    return save(pdf)


def programs(pdf: bytes) -> Counter[str]:
    """How many font programs the PDF embeds, by face (its BaseFont without the tag)."""
    found = {}
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for item in document.objects:
            if isinstance(item, pikepdf.Dictionary) and item.get("/Type") == "/FontDescriptor":
                program = item.get("/FontFile2") or item.get("/FontFile3")
                found[program.objgen] = str(item.FontName).split("+")[-1]
    return Counter(found.values())


def font_rows(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    """poppler's pdffonts table: name, type ..., encoding, emb, sub, uni, object, generation."""
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    table = subprocess.run(["pdffonts", path], capture_output=True, text=True, check=True)
    return [line.split() for line in table.stdout.splitlines()[2:]]


def page_texts(pdfs: list[bytes], tmp_path: Path) -> list[str]:
    texts = []
    for number, pdf in enumerate(pdfs):
        path = tmp_path / f"text-{number}.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True, check=True)
        texts += text.stdout.split("\f")[:-1]  # each page ends with a form feed
    return texts


def page_pixels(pdfs: list[bytes]) -> list[bytes]:
    """Every page at 72 dpi, as raw pixels."""
    return [
        bytes(page.render(scale=1).to_pil().tobytes())
        for pdf in pdfs
        for page in pypdfium2.PdfDocument(pdf)
    ]


def widths(part: bytes) -> dict[int, int]:
    """The widths of a one-font part's font, by glyph id."""
    with pikepdf.open(io.BytesIO(part)) as pdf:
        (font,) = pdf.pages[0].Resources.Font.values()
        return width_map(font)


def width_map(font: pikepdf.Dictionary) -> dict[int, int]:
    """A Type 0 font's widths by glyph id (WeasyPrint writes /W as ``c [w ...]``)."""
    array = list(font.DescendantFonts[0].W)
    return {
        first + offset: int(width)
        for first, run in zip(array[::2], array[1::2], strict=True)
        for offset, width in enumerate(run)
    }


def check_problems(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "check.pdf"
    path.write_bytes(pdf)
    check = subprocess.run(["qpdf", "--check", path], capture_output=True, text=True)
    return "" if check.returncode == 0 else check.stdout + check.stderr


def test_each_face_is_embedded_once_and_every_page_prints_and_reads_as_its_part(parts, tmp_path):
    before = save(merged(parts))
    after = unified(parts)
    assert programs(before) == dict.fromkeys(LATO_FACES, 3)
    assert programs(after) == dict.fromkeys(LATO_FACES, 1)
    rows = font_rows(after, tmp_path)
    assert sorted(row[0].split("+")[-1] for row in rows) == sorted(LATO_FACES)
    assert all(row[-5:-2] == ["yes", "yes", "yes"] for row in rows)  # embedded, subset, mapped
    assert page_texts([after], tmp_path) == page_texts(parts, tmp_path)
    assert page_pixels([after]) == page_pixels(parts)
    assert len(after) < len(before) * 0.75
    assert check_problems(after, tmp_path) == ""


def test_the_same_parts_give_the_same_bytes(parts):
    assert unified(parts) == unified(parts)


def test_a_face_without_its_file_stays_as_it_is(parts, tmp_path):
    plain = save(merged(parts))
    alone = unified(parts, font_files=())
    assert alone == plain
    assert page_pixels([alone]) == page_pixels(parts)


def test_a_face_two_different_files_claim_stays_as_it_is(parts, tmp_path):
    """Two files with the same names but different contents: which one was embedded
    cannot be told, so Lato Regular keeps its copies; the other faces are united."""
    regular = fonts.bundled()[[path.name for path in fonts.bundled()].index("Lato-Regular.ttf")]
    other = tmp_path / "Lato-Regular.ttf"
    other.write_bytes(regular.read_bytes() + bytes(4))
    after = unified(parts, font_files=(*fonts.bundled(), other))
    assert programs(after) == {**dict.fromkeys(LATO_FACES, 1), "Lato": 3}
    assert page_pixels([after]) == page_pixels(parts)


def test_parts_that_disagree_on_widths_share_one_program(tmp_path):
    """Glyphs first laid out at 8pt in one part and at 11pt in the other are recorded
    with widths one unit apart: each part keeps its own font dictionary, and both
    embed the one program."""
    disagreeing = [render("<p>wavy fluff</p>", "p { font-size: 8pt }"), render("<p>wavy fluff</p>")]
    small, large = (widths(part) for part in disagreeing)
    assert small.keys() == large.keys() and small != large
    after = unified(disagreeing)
    assert programs(after) == {"Lato": 1}
    assert len(font_rows(after, tmp_path)) == 2
    assert page_texts([after], tmp_path) == page_texts(disagreeing, tmp_path)
    assert page_pixels([after]) == page_pixels(disagreeing)
    assert check_problems(after, tmp_path) == ""


def with_forms_fonts_of_their_own(part: bytes) -> bytes:
    """The part with each form XObject naming its fonts in a /Font dictionary of its own
    (WeasyPrint shares the page's), as other PDF writers do."""
    with pikepdf.open(io.BytesIO(part)) as pdf:
        for page in pdf.pages:
            for form in page.Resources.get("/XObject", {}).values():
                own = pikepdf.Dictionary(dict(form.Resources.Font.items()))
                form.Resources = pikepdf.Dictionary({**form.Resources, "/Font": own})
        return save(pdf)


def test_fonts_named_by_forms_are_united_too(parts):
    own_fonts = [with_forms_fonts_of_their_own(part) for part in parts[:2]]
    after = unified(own_fonts)
    assert programs(after) == dict.fromkeys(LATO_FACES, 1)
    assert page_pixels([after]) == page_pixels(own_fonts)


CJK_FONT = REPO / "tests" / "fixtures" / "fonts" / "NotoSansCJKsc-Regular-subset.otf"


def test_a_cff_face_is_embedded_once(tmp_path):
    """An OpenType font with CFF outlines (FontFile3) is subset and shared the same way."""
    font_files = (CJK_FONT, *fonts.bundled())
    cjk = [
        render_with(f"<p>Hands <span lang='zh'>{text}</span></p>", font_files)
        for text in ("双手轻", "向下滑动。")
    ]
    assert programs(save(merged(cjk))) == {"Lato": 2, "Noto-Sans-CJK-SC": 2}
    after = unified(cjk, font_files)
    assert programs(after) == {"Lato": 1, "Noto-Sans-CJK-SC": 1}
    assert page_texts([after], tmp_path) == page_texts(cjk, tmp_path)
    assert page_pixels([after]) == page_pixels(cjk)
    assert check_problems(after, tmp_path) == ""


def cid_sets(pdf: bytes) -> dict[str, set[int]]:
    """The glyph ids each face's CIDSet lists (PDF 1.4 and PDF/A-1 have them), by face."""
    found = {}
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            for font in page.Resources.Font.values():
                descriptor = font.DescendantFonts[0].FontDescriptor
                bits = int.from_bytes(descriptor.CIDSet.read_bytes())
                length = len(descriptor.CIDSet.read_bytes()) * 8
                cids = {cid for cid in range(length) if bits >> (length - 1 - cid) & 1}
                found.setdefault(str(font.BaseFont).split("+")[-1], set()).update(cids)
    return found


def test_a_cid_set_lists_the_glyphs_of_all_parts():
    """The one program holds every part's glyphs: its CIDSet says so."""
    old = [render(body, pdf_version="1.4") for body in PARTS[:2]]
    after = unified(old)
    wanted = {}
    for part in old:
        with pikepdf.open(io.BytesIO(part)) as pdf:
            for font in pdf.pages[0].Resources.Font.values():
                face = str(font.BaseFont).split("+")[-1]
                wanted.setdefault(face, set()).update(width_map(font))
    assert cid_sets(after) == wanted
    assert all(cid_sets(part)[face] < wanted[face] for part in old for face in cid_sets(part))
    assert page_pixels([after]) == page_pixels(old)


def _embedded_programs(pdf: bytes) -> list[tuple[str, bytes]]:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return [
            (str(item.FontName).split("+")[-1], item.FontFile2.read_bytes())
            for item in document.objects
            if isinstance(item, pikepdf.Dictionary) and item.get("/Type") == "/FontDescriptor"
        ]


def test_the_subsets_of_one_face_are_read_as_one_face_and_others_not(parts, monkeypatch):
    """Each part's subset of a face differs, but what decides the face (see _face_key)
    does not: one read with fontTools per face, with the facts each subset gives."""
    subsets = [program for part in parts for program in _embedded_programs(part)]
    assert len({program for _, program in subsets}) == len(subsets) == 3 * len(LATO_FACES)
    keys: dict[str, set] = {}
    for face, program in subsets:
        keys.setdefault(face, set()).add(font_union._face_key(program))
    assert all(len(found) == 1 for found in keys.values())
    assert len(set().union(*keys.values())) == len(LATO_FACES)
    assert font_union._face_key(b"not a font") is None

    monkeypatch.setattr(font_union, "_FACES", {})
    remembered = [font_union._face(program) for _, program in subsets]
    assert len(font_union._FACES) == len(LATO_FACES)
    each_read = []
    for _, program in subsets:
        monkeypatch.setattr(font_union, "_FACES", {})
        each_read.append(font_union._face(program))
    assert remembered == each_read
