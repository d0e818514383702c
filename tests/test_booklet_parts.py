"""The booklet laid out in parts reads as the booklet laid out whole, and an edit lays
out only the part it touched."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pikepdf
import pymupdf
import pytest

from handbook.build import BuildOptions, booklet, build, makers, page_numbers
from handbook.build.booklet import PARTS_DIR, Written, in_parts
from handbook.content.validate import load_handbook
from handbook.html import split
from handbook.html.render import Renderer
from handbook.project import open_project
from tests.conftest import REPO, TINY, write


@pytest.fixture
def technique_per_part(monkeypatch) -> None:
    """Every technique a part of its own: parts that go on with a chapter begun before."""
    monkeypatch.setattr(split, "ITEMS_PER_PART", 1)


@pytest.fixture(scope="module")
def tiny_laid_out(tmp_path_factory):
    """The tiny booklet laid out whole and, a technique to a part, in parts (a first
    build): ((PDF, anchors, pages, layouts), Booklet, the output folder)."""
    out = tmp_path_factory.mktemp("parts")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(split, "ITEMS_PER_PART", 1)
        whole, parts = whole_and_parts(TINY, out)
    return whole, parts, out


def sources(root: Path):
    project = open_project(root)
    handbook = load_handbook(project)
    fmt = BuildOptions().format_for(handbook)
    renderer = Renderer(project)
    return renderer.booklet(handbook, fmt), renderer.notes_pages(handbook, fmt)


def reading(data: bytes) -> dict:
    """What a reader and a viewer get of a PDF: each page's text and size, the outline,
    where every link and named destination leads, and the structure tree's shape."""
    with pymupdf.open(stream=data, filetype="pdf") as pdf:
        links = [
            (number, tuple(round(v, 1) for v in link["from"]), link.get("page"), link.get("uri"))
            for number, page in enumerate(pdf)
            for link in page.get_links()
        ]
        read = {
            "texts": [page.get_text() for page in pdf],
            "sizes": [tuple(round(v, 2) for v in page.rect) for page in pdf],
            "outline": [(level, title, page) for level, title, page, *_ in pdf.get_toc(False)],
            "links": links,
            "names": {name: dest["page"] for name, dest in pdf.resolve_names().items()},
        }
    with pikepdf.open(io.BytesIO(data)) as pdf:
        read["tree"] = tree_shape(pdf.Root.StructTreeRoot.K[0])
    return read


def tree_shape(element, depth: int = 0) -> list[str]:
    kids = element.get("/K")
    kids = list(kids) if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]
    content = sum(1 for kid in kids if not (isinstance(kid, pikepdf.Dictionary) and "/S" in kid))
    shape = [f"{depth} {element.get('/S')} {content}"]
    for kid in kids:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            shape += tree_shape(kid, depth + 1)
    return shape


def whole_and_parts(root: Path, out: Path, known: dict[str, int] | None = None):
    source, notes = sources(root)
    written = Written(source.origin, None, None)
    whole = makers._booklet_whole(source, notes, written, known or {})
    parts = in_parts(source, notes, written, "test", known or {}, out)
    assert parts is not None
    return whole, parts


def test_a_booklet_in_parts_reads_as_the_booklet_laid_out_whole(tiny_laid_out, technique_per_part):
    whole, parts, _ = tiny_laid_out
    assert parts.pages == whole[2]
    assert parts.anchors == whole[1]
    assert len(split.split(sources(TINY)[0].html)) == 6  # one goes on with the techniques
    got, expected = reading(parts.pdf), reading(whole[0])
    for key in expected:
        assert got[key] == expected[key], key
    assert any(target for *_, target, _ in got["links"])  # links between parts land


def test_each_font_face_is_embedded_once(tiny_laid_out):
    _, parts, _ = tiny_laid_out
    with pikepdf.open(io.BytesIO(parts.pdf)) as pdf:
        programs = {
            font.DescendantFonts[0].FontDescriptor.FontFile2.objgen
            for page in pdf.pages
            for font in page.Resources.Font.values()
        }
        faces = {str(font.BaseFont) for page in pdf.pages for font in page.Resources.Font.values()}
    assert len(programs) == len(faces) >= 2


def test_a_first_build_prints_the_pages_it_learns_into_parts_laid_out(
    tiny_laid_out, technique_per_part, tmp_path
):
    """Parts that cite pages after them (the contents, the techniques' "see" lines) are
    laid out before those pages are known, and get them printed in afterwards: the
    same bytes as a build that knew every page before it began."""
    _, first, _ = tiny_laid_out
    source, notes = sources(TINY)
    count = len(split.split(source.html))
    # The contents come before any part, so their guesses may have too few digits.
    assert count <= first.renders <= count + 1
    written = Written(source.origin, None, None)
    knowing = in_parts(source, notes, written, "test", first.anchors, tmp_path)
    assert knowing.renders == count
    assert knowing.pdf == first.pdf


def test_numbers_that_set_wider_than_guessed_are_laid_out_again(
    tiny_laid_out, technique_per_part, tmp_path, monkeypatch
):
    _, first, _ = tiny_laid_out
    source, notes = sources(TINY)
    monkeypatch.setattr(
        booklet,
        "_guessed_pages",
        lambda parts, index, start: dict.fromkeys((a for part in parts for a in part.ids), 100),
    )
    written = Written(source.origin, None, None)
    guessed_wide = in_parts(source, notes, written, "test", {}, tmp_path)
    assert guessed_wide.renders > first.renders
    assert guessed_wide.pdf == first.pdf


def test_a_style_that_shows_the_page_elsewhere_has_its_parts_laid_out_again(
    technique_per_part, tmp_path
):
    source, notes = sources(TINY)
    count = len(split.split(source.html))
    shown = "main a[data-page] { bookmark-label: attr(data-page); bookmark-level: none }"
    source = dataclasses.replace(source, extra_css=source.extra_css + shown)
    written = Written(source.origin, None, None)
    first = in_parts(source, notes, written, "test", {}, tmp_path / "first")
    assert first.renders > count + 1  # no number is printed into a laid-out part
    knowing = in_parts(source, notes, written, "test", first.anchors, tmp_path / "knowing")
    assert knowing.pdf == first.pdf


@pytest.mark.parametrize(
    ("css", "renumberable"),
    [
        ('a[data-page]::after { content: ", page " attr(data-page); }', True),
        (".toc a[data-page]:after, .see[data-page]::before { content: attr(data-page) }", True),
        ("@media print { a::after { content: attr(data-page) } }", True),
        ("a[data-page] { color: var(--muted) }", True),
        ("a::after { content: attr(data-page); string-set: page attr(data-page) }", False),
        ("a::marker { content: attr(data-page) }", False),
        ('a[data-page="12"] { font-weight: 900 }', False),
        ("a { bookmark-label: attr(data-page) }", False),
        ('@import "more.css";', False),
        ("@page { @bottom-center { content: attr(data-page) } }", False),
        ("h2 { string-set: see content(after) }", False),
        ("h2 { string-set: chapter content(text); bookmark-label: content() }", True),
        ("a::after { content: target-text(attr(href), before) }", False),
        ('A[DATA-PAGE="3"] { color: red }', False),
        ("a { string-set: page attr(data\\-page) }", False),
    ],
)
def test_numbers_are_printed_into_laid_out_parts_only_where_styles_allow(css, renumberable):
    assert page_numbers.renumberable([css]) is renumberable


def test_a_build_that_changes_nothing_lays_out_no_part(tiny_laid_out, technique_per_part):
    _, first, out = tiny_laid_out
    source, notes = sources(TINY)
    written = Written(source.origin, None, None)
    again = in_parts(source, notes, written, "test", first.anchors, out)
    assert again.renders == 0
    assert again.pdf == first.pdf


def edit(root: Path, old: str, new: str) -> None:
    path = root / "content" / "pressing.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def booklet_renders(report, out: Path) -> int:
    (result,) = [r for r in report.outputs if r.path == out / "handbook.pdf"]
    return result.renders


@pytest.mark.slow
def test_an_edit_lays_out_only_its_part_again(tiny_copy, tmp_path, technique_per_part):
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    edit(tiny_copy, "Release just as slowly.", "Release it just as slowly.")
    report = build(tiny_copy, BuildOptions(out_dir=out))
    assert booklet_renders(report, out) == 1
    fresh = tmp_path / "fresh"
    build(tiny_copy, BuildOptions(out_dir=fresh))
    assert reading((out / "handbook.pdf").read_bytes()) == reading(
        (fresh / "handbook.pdf").read_bytes()
    )


@pytest.mark.slow
def test_a_part_that_grows_moves_the_numbers_after_it(tmp_path, technique_per_part):
    _, first = whole_and_parts(TINY, tmp_path)
    source, notes = sources(TINY)
    paragraph = "<p>" + "Keep the pressure even and calm all the way. " * 300 + "</p>"
    marker = "<h3"
    at = source.html.index(marker, source.html.index('id="intro"'))
    longer = dataclasses.replace(source, html=source.html[:at] + paragraph + source.html[at:])
    written = Written(source.origin, None, None)
    grown = in_parts(longer, notes, written, "test", first.anchors, tmp_path)
    assert grown.anchors["routines"] > first.anchors["routines"]
    whole = makers._booklet_whole(longer, notes, written, grown.anchors)
    assert grown.anchors == whole[1]
    assert reading(grown.pdf) == reading(whole[0])


@pytest.mark.slow
def test_parts_kept_by_an_earlier_build_that_are_broken_are_laid_out_again(tmp_path):
    _, first = whole_and_parts(TINY, tmp_path)
    records = sorted(p for p in (tmp_path / PARTS_DIR).glob("*.json") if p.name != "leads.json")
    records[0].write_text('{"start": "one"}')  # not a record
    pages_wrong = json.loads(records[1].read_text())
    pages_wrong["pages"] += 5  # says other pages than its PDF has
    records[1].write_text(json.dumps(pages_wrong))
    anchors_out = json.loads(records[2].read_text())
    anchors_out["anchors"] = {anchor: 99 for anchor in anchors_out["anchors"]} or {"x": 99}
    records[2].write_text(json.dumps(anchors_out))
    records[3].with_suffix(".pdf").write_bytes(b"%PDF-1.7 not a PDF")
    for program in (tmp_path / PARTS_DIR / "fonts").iterdir():
        program.write_bytes(program.read_bytes()[:-100] + bytes(100))  # a kept font spoilt
    source, notes = sources(TINY)
    written = Written(source.origin, None, None)
    again = in_parts(source, notes, written, "test", first.anchors, tmp_path)
    assert again.renders == 4
    assert again.pdf == first.pdf


@pytest.mark.slow
def test_parts_no_longer_used_are_deleted(tiny_copy, tmp_path):
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    kept = set((out / PARTS_DIR).iterdir())
    edit(tiny_copy, "Release just as slowly.", "Release it just as slowly.")
    build(tiny_copy, BuildOptions(out_dir=out))
    now = set((out / PARTS_DIR).iterdir())
    assert len(now) == len(kept)
    assert len(now - kept) == 2  # the edited part's PDF and record


@pytest.mark.slow
def test_building_twice_gives_the_same_bytes(tiny_copy, tmp_path, technique_per_part):
    build(tiny_copy, BuildOptions(out_dir=tmp_path / "a"))
    build(tiny_copy, BuildOptions(out_dir=tmp_path / "b"))
    assert (tmp_path / "a/handbook.pdf").read_bytes() == (tmp_path / "b/handbook.pdf").read_bytes()


def test_a_booklet_whose_templates_mark_no_parts_is_laid_out_whole(tmp_path):
    source, notes = sources(TINY)
    unmarked = dataclasses.replace(source, html=source.html.replace(" data-split", ""))
    written = Written(source.origin, None, None)
    assert in_parts(unmarked, notes, written, "test", {}, tmp_path) is None
    assert not (tmp_path / PARTS_DIR).exists()


@pytest.mark.slow
def test_a_project_template_that_marks_fewer_parts_reads_the_same(tiny_copy, tmp_path):
    unmarked = (REPO / "templates" / "_techniques.html.j2").read_text()
    write(tiny_copy / "templates" / "_techniques.html.j2", unmarked.replace(" data-split", ""))
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    whole, _ = whole_and_parts(tiny_copy, tmp_path / "check")
    assert reading((out / "handbook.pdf").read_bytes()) == reading(whole[0])


def test_the_parts_hold_every_id_of_the_booklet_once():
    source, _ = sources(TINY)
    parts = split.split(source.html, 1)
    ids = [anchor for part in parts for anchor in part.ids]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(split._ids_in(source.html[source.html.index("<body") :]))
    assert [part.first_id for part in parts] == [
        None,
        "intro",
        "techniques",
        "pressing",
        "routines",
        "safety",
    ]
    for part in parts:
        assert part.html.startswith(source.html[: source.html.index("<body")])
        assert part.html.count("<main") == part.html.count("</main>") == 1
    assert parts[3].html.index(split.LEAD_END) < parts[3].html.index('id="pressing"')


def test_html_not_nested_as_the_templates_write_it_is_not_cut():
    assert split.split("<html><body><main><section data-split id=a></main></body></html>") is None
    assert split.split("<html><body><p>no parts here</p></body></html>") is None


def _structure_read_by_html_parser(html: str) -> split._Structure:
    scanner = split._Scanner(html)
    scanner.feed(html)
    scanner.close()
    return scanner.found


def _as_found(structure: split._Structure) -> tuple:
    found = structure
    return (found.marks, found.stack, found.body, found.failed, found.ended)


QUICKLY_READ = [
    "<!DOCTYPE html><HTML><Body><MAIN><Section DATA-SPLIT id='a&amp;b'><p>x &lt; y</p>"
    "</section></MAIN></body></html>",
    '<html><body><svg viewBox="0 0 1 1"><path d="M0 0"/><style>p > a {}</style></svg>'
    '<section data-split id="b" hidden><br><img src="x.png"></section></body></html>',
    '<html><body><section data-split="" id=""></section><p class="data-split"></p></body></html>',
    "<html><body><main><p></main></body></html>",  # nested otherwise: it fails as it would
]
READ_BY_HTML_PARSER = [
    "<html><body><!-- a comment --><section data-split id=a></section></body></html>",
    "<html><body><section data-split id=a></section></body></html>",  # unquoted value
    "<html><body><style>a < b {}</style><section data-split></section></body></html>",
    "<?xml version='1.0'?><html><body></body></html>",
    "<html><body><p>1 < 2</p></body></html>",
    "<html><body><p a='1'b='2'></p></body></html>",
    '<html><body><section\xa0data-split id="a"></section></body></html>',  # no HTML space
    "<html><body><main><p\x0bclass='x'>t</p></main></body></html>",
]


@pytest.mark.parametrize("html", QUICKLY_READ)
def test_html_as_the_templates_write_it_is_read_quickly_as_html_parser_reads_it(html):
    quick = split._quick_scan(html)
    assert quick is not None
    assert _as_found(quick) == _as_found(_structure_read_by_html_parser(html))


@pytest.mark.parametrize("html", READ_BY_HTML_PARSER)
def test_html_written_otherwise_is_left_to_html_parser(html):
    assert split._quick_scan(html) is None
    assert _as_found(split._scanned(html)) == _as_found(_structure_read_by_html_parser(html))


@pytest.mark.parametrize("root", [TINY, REPO, REPO / "examples" / "bicycle-care"])
def test_a_booklet_is_read_quickly_as_html_parser_reads_it(root):
    html = sources(root)[0].html
    quick = split._quick_scan(html)
    assert quick is not None and quick.marks
    assert _as_found(quick) == _as_found(_structure_read_by_html_parser(html))
