"""The outputs pass a validator nobody here wrote: page-validation (PDF/UA-1, PDF/A-3b),
their metadata is complete, and the print-shop PDF/X is CMYK with an output intent.

The fast tests render a small booklet-like page or read the tiny project's session
build; the tests that build the tiny project as a variant, or the default project,
are slow.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import page
import pikepdf
import pytest

from handbook import engine
from handbook.build import BuildOptions, build
from handbook.press import pdfx, tagging
from tests.conftest import REPO, TINY, design_css

UA1, A3B = "ua1", "3b"


def failed_rules(pdf: Path | bytes, profile: str) -> dict[str, str]:
    """The rules ``pdf`` fails under ``profile``, each with the validator's first message."""
    report = (
        page.validate_pdf_bytes(pdf, profile=profile)
        if isinstance(pdf, bytes)
        else page.validate_pdf(pdf, profile=profile)
    )
    failed: dict[str, str] = {}
    for failure in report.failures:
        failed.setdefault(failure.rule_id, failure.message)
    return failed


def pdfs_of(out: Path) -> list[Path]:
    """Every PDF a build wrote for readers (the booklet, the cards, the combined files)."""
    return sorted(p for p in out.rglob("*.pdf") if not p.relative_to(out).parts[0].startswith("."))


def structure_types(pdf: pikepdf.Pdf) -> list[str]:
    """The structure types of the tree, depth first."""
    found, stack = [], [pdf.Root.StructTreeRoot.K[0]]
    while stack:
        element = stack.pop()
        if not isinstance(element, pikepdf.Dictionary) or element.get("/Type") == "/OBJR":
            continue
        found.append(str(element.S))
        kids = element.get("/K")
        stack.extend(reversed(list(kids)) if isinstance(kids, pikepdf.Array) else [kids])
    return found


# --- a small tagged page, fast -------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Small handbook</title>
<style>
  @page { size: 148mm 210mm; @bottom-right { content: counter(page); } }
  main a[href^="#"]::after { content: " (see page " target-counter(attr(href), page) ")"; }
</style></head>
<body class="booklet">
<h1>Small handbook</h1>
<nav class="toc"><h2 class="toc-title">Contents</h2><ol class="toc-parts">
  <li class="toc-part"><span class="toc-entry" data-target="#one"><a href="#one">One</a></span>
  <ol class="toc-items"><li><span class="toc-entry" data-target="#glide">
    <a href="#glide">Gliding</a></span></li></ol></li>
</ol></nav>
<main><section class="chapter" id="one"><h2 class="chapter-title">One</h2>
<article class="technique" id="glide"><h3>Gliding</h3>
<ul class="facts">
<li><span class="fact-label">Pressure</span> <span class="fact-value">1 / 5</span></li>
<li><span class="fact-label">Hand</span> <span class="fact-value">Open palms, then the
fingertips, lightly and slowly all along the back</span></li></ul>
<p>Calm strokes; the most gentle of them all, as in <a href="#glide">Gliding</a>.</p>
</article></section></main>
</body></html>
"""


def rendered_ua1(html: str):
    """``html`` in the booklet's styles, as WeasyPrint 70 writes it as PDF/UA-1 (before
    :func:`tagging.finish`), and its laid-out document."""
    source = engine.PageSource(
        html=html,
        stylesheets=(REPO / "styles" / "base.css", REPO / "styles" / "booklet.css"),
        extra_css=design_css(),
        origin="test",
        allowed_roots=(REPO,),
    )
    document = engine.render(source)
    return engine.to_pdf_bytes(document, "test", pdf_tags=True, pdf_variant="pdf/ua-1"), document


@pytest.fixture(scope="module")
def small_ua1() -> bytes:
    return rendered_ua1(PAGE)[0]


def test_a_finished_tagged_page_passes_pdf_ua_1(small_ua1):
    assert failed_rules(tagging.finish(small_ua1), UA1) == {}


def test_weasyprint_alone_leaves_the_folio_outside_the_tree(small_ua1):
    """What finish() is for: without it, the folio is marked content that no element of
    the tree holds (WeasyPrint issue 1836); with it, the folio is an artifact."""
    after = tagging.finish(small_ua1)
    assert _orphans(small_ua1) > 0
    assert _orphans(after) == 0
    with pikepdf.open(io.BytesIO(after)) as pdf:
        artifacts = [
            op
            for op in pikepdf.parse_content_stream(pdf.pages[0])
            if str(op.operator) == "BMC" and op.operands == [pikepdf.Name.Artifact]
        ]
        assert artifacts


def test_the_margins_made_artifacts_without_a_parse_read_as_with_one(small_ua1, monkeypatch):
    """Marked content begun as WeasyPrint writes it is made an artifact in the page's
    bytes; the operators and operands are those a rewrite of the parsed page gives."""
    quick = tagging.finish(small_ua1)
    monkeypatch.setattr(tagging, "_marked_as_weasyprint_writes", lambda data: None)
    parsed = tagging.finish(small_ua1)
    assert _instructions(quick) == _instructions(parsed)


@pytest.mark.parametrize(
    ("content", "marked"),
    [
        (b"q\n/Span\n<</MCID 0>>\nBDC\nEMC\n/P\n<</MCID 12>>\nBDC\nEMC\nQ\n", 2),
        (b"BT\n(/Span\n<</MCID 0>>\nBDC\n) Tj\nET\n", None),  # a string that looks like one
        (b"q\nBI\n/W 1 /H 1\nID\nx\nEI\nQ\n", None),  # an inline image's bytes
        (b"/Span <</MCID 0>> BDC\nEMC\n", None),  # not on lines of their own
        (b"/Span\n<</MCID 0 /ActualText (x)>>\nBDC\nEMC\n", None),
    ],
)
def test_only_content_as_weasyprint_writes_it_is_changed_without_a_parse(content, marked):
    assert tagging._marked_as_weasyprint_writes(content) == marked


def _instructions(data: bytes) -> list[list[tuple[str, str]]]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [
            [
                (str(op.operator), repr(list(op.operands)))
                for op in pikepdf.parse_content_stream(page)
            ]
            for page in pdf.pages
        ]


def _orphans(data: bytes) -> int:
    """Marked content on the first page whose element the tree does not reach."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        reachable = {e.objgen for e in _elements(pdf)}
        marks = pdf.Root.StructTreeRoot.ParentTree.Nums[1]
        return sum(
            1 for e in marks if isinstance(e, pikepdf.Dictionary) and e.objgen not in reachable
        )


def _elements(pdf) -> list:
    found, stack = [], [pdf.Root.StructTreeRoot.K[0]]
    while stack:
        element = stack.pop()
        if isinstance(element, pikepdf.Dictionary) and element.get("/Type") != "/OBJR":
            found.append(element)
            kids = element.get("/K")
            stack.extend(list(kids) if isinstance(kids, pikepdf.Array) else [kids])
    return found


def test_the_contents_are_a_toc_with_one_link_per_entry(small_ua1):
    with pikepdf.open(io.BytesIO(tagging.finish(small_ua1))) as pdf:
        types = structure_types(pdf)
        assert types.count("/TOC") == 2 and types.count("/TOCI") == 2  # a part, an entry
        assert "/LBody" not in types[types.index("/TOC") : types.index("/Part")]
        annotations = next(p.obj.Annots for p in pdf.pages if "/Annots" in p.obj)
        assert len(annotations) == 2  # the contents page: one per entry


def test_the_facts_are_a_list_of_one_item_per_fact(small_ua1):
    with pikepdf.open(io.BytesIO(tagging.finish(small_ua1))) as pdf:
        types = structure_types(pdf)
        facts = types[types.index("/L", types.index("/H3")) :]
        # the list, then per fact: LI, LBody and what the body holds; no bare Span
        assert facts[1] == "/LI" and facts.count("/LI") == 2


def test_every_link_has_text_and_nested_links_are_merged(small_ua1):
    with pikepdf.open(io.BytesIO(tagging.finish(small_ua1))) as pdf:
        links = [e for e in _elements(pdf) if e.S == "/Link"]
        assert links
        for link in links:
            kids = list(link.K) if isinstance(link.K, pikepdf.Array) else [link.K]
            assert any(isinstance(k, int) for k in kids), "a link without text"
            assert not any(
                isinstance(k, pikepdf.Dictionary) and k.get("/S") == "/Link" for k in kids
            )


def _marks(pdf) -> list[tuple[tuple[int, int], int]]:
    """Each marked content the tree holds, in reading order: (its page, its MCID)."""
    found = []

    def visit(element, page):
        page = element.get("/Pg", page)
        kids = element.get("/K")
        for kid in list(kids) if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, int):
                found.append((page.objgen, kid))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                found.append((kid.get("/Pg", page).objgen, int(kid.MCID)))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/OBJR":
                visit(kid, page)

    visit(pdf.Root.StructTreeRoot.K[0], None)
    return found


# PDF 1.7's grouping elements (14.8.4.2), which hold no content directly.
GROUPING = {"Document", "Part", "Art", "Sect", "Div", "BlockQuote", "Caption", "TOC", "TOCI"}
GROUPING |= {"Index", "NonStruct", "Private"}


def _bare_spans(pdf, in_grouping: bool = False) -> int:
    """The Spans with nothing of their own, in elements that may hold content (or, with
    ``in_grouping``, in grouping elements)."""
    return sum(
        1
        for element in _elements(pdf)
        if element.S == "/Span"
        and set(element.keys()) <= {"/K", "/P", "/Pg", "/S", "/Type"}
        and (str(element.P.S)[1:] in GROUPING) == in_grouping
    )


def test_runs_of_text_read_as_the_element_they_sit_in(small_ua1):
    """WeasyPrint makes each run of text a Span of its own; finished, the text belongs to
    the element the Span sat in (unless that is a grouping element, which holds no
    content), in the same order, and the parent tree says so."""
    with pikepdf.open(io.BytesIO(small_ua1)) as pdf:
        assert _bare_spans(pdf) > 10
        assert _bare_spans(pdf, in_grouping=True) > 0
        pages = {page.objgen: index for index, page in enumerate(pdf.pages)}
        before = [(pages[page], mark) for page, mark in _marks(pdf)]
    with pikepdf.open(io.BytesIO(tagging.finish(small_ua1))) as pdf:
        assert _bare_spans(pdf) == 0
        assert _bare_spans(pdf, in_grouping=True) > 0
        assert not any(
            isinstance(kid, int) or kid.get("/Type") == "/MCR"
            for element in _elements(pdf)
            if str(element.S)[1:] in GROUPING
            for kid in (element.K if isinstance(element.K, pikepdf.Array) else [element.K])
        )
        pages = {page.objgen: index for index, page in enumerate(pdf.pages)}
        assert [(pages[page], mark) for page, mark in _marks(pdf)] == before
        tree = dict(zip(*[iter(pdf.Root.StructTreeRoot.ParentTree.Nums)] * 2, strict=True))
        for page in pdf.pages:
            holders = tree[int(page.obj.StructParents)]
            for mark, element in enumerate(holders):
                if isinstance(element, pikepdf.Dictionary):
                    assert (page.objgen, mark) in _marks_of(element)


def _marks_of(element) -> set[tuple[tuple[int, int], int]]:
    page = element.get("/Pg")
    kids = element.get("/K")
    found = set()
    for kid in list(kids) if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, int):
            found.add((page.objgen, kid))
        elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
            found.add((kid.get("/Pg", page).objgen, int(kid.MCID)))
    return found


LONG_LIST = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Long list</title></head>
<body class="booklet"><main><h1>Many steps</h1>
<p>{filler}</p>
<ul>{items}</ul>
<p>After the list.</p>
</main></body></html>
"""


def test_a_list_over_a_page_break_is_one_list_in_one_part():
    items = "".join(f"<li>Step number {n}, done slowly and with care.</li>" for n in range(60))
    data, document = rendered_ua1(LONG_LIST.format(filler="Warm the oil first. " * 40, items=items))
    assert len(document.pages) >= 2
    with pikepdf.open(io.BytesIO(data)) as pdf:  # WeasyPrint's tree: a Part, a list per page
        assert structure_types(pdf).count("/Part") == len(document.pages)
    finished = tagging.finish(data, engine.continued_chains(document))
    assert failed_rules(finished, UA1) == {}
    with pikepdf.open(io.BytesIO(finished)) as pdf:
        types = structure_types(pdf)
        assert types.count("/Part") == 1 and types.count("/L") == 1
        assert types.count("/LI") == 60 and types.count("/P") == 2
        (listing,) = [e for e in _elements(pdf) if e.S == "/L"]
        first, second = pdf.pages[0].objgen, pdf.pages[1].objgen
        assert {item.Pg.objgen for item in listing.K} == {first, second}


def test_an_untagged_pdf_gets_only_xmp(tiny_build):
    out, _ = tiny_build
    data = (out / "cards" / "gliding.pdf").read_bytes()
    with pikepdf.open(io.BytesIO(tagging.finish(data))) as pdf:
        assert "/StructTreeRoot" not in pdf.Root
        assert pdf.open_metadata()["dc:title"] == "Gliding | Tiny handbook"


def _object_stream_ending_in_a_cr() -> tuple[pikepdf.Pdf, int]:
    """A PDF whose one object stream, as qpdf writes it, has compressed data that ends in
    a CR (a 1 in 256 chance for each), and how many words its objects hold."""
    for value in range(3000):
        pdf = pikepdf.new()
        pdf.add_blank_page()
        note = pikepdf.String("warm " * value)
        items = [pdf.make_indirect(pikepdf.Dictionary(N=n, Note=note)) for n in range(3)]
        pdf.Root.Items = pikepdf.Array(items)
        written = io.BytesIO()
        pdf.save(written, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        if b"\r\nendstream" in written.getvalue():
            return pdf, value
    raise AssertionError("no object stream ending in a CR in 3000 tries")


def test_an_object_stream_that_ends_in_a_cr_keeps_its_length_for_a_pdf_a_checker():
    """qpdf writes a LF before endstream, which after a CR reads as one CR LF: a PDF/A
    checker finds the stream a byte short. The file keeps its object streams (the booklet
    has hundreds, one of which mostly ends so) and reads the same."""
    pdf, value = _object_stream_ending_in_a_cr()
    plain = io.BytesIO()
    pdf.save(plain, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    assert "PDFA3B-STREAM-LENGTH-001" in failed_rules(plain.getvalue(), A3B)

    saved = tagging.saved(pdf, regroup=True)
    assert b"/ObjStm" in saved and b"\r\r\nendstream" in saved
    assert "PDFA3B-STREAM-LENGTH-001" not in failed_rules(saved, A3B)
    with pikepdf.open(io.BytesIO(saved)) as read:
        assert read.check_pdf_syntax() == []
        assert [(int(item.N), str(item.Note)) for item in read.Root.Items] == [
            (n, "warm " * value) for n in range(3)
        ]


# --- metadata on every output ---------------------------------------------------------


def test_every_output_says_its_title_language_and_info_in_xmp_too(tiny_build):
    out, _ = tiny_build
    pdfs = pdfs_of(out)
    assert {p.name for p in pdfs} >= {"handbook.pdf", "handbook-print.pdf", "cards.pdf"}
    for path in pdfs:
        with pikepdf.open(path) as pdf:
            assert str(pdf.Root.Lang) == "en", path
            title = str(pdf.docinfo.get("/Title", ""))
            assert title.endswith("Tiny handbook"), path
            assert "/Metadata" in pdf.Root, path
            xmp = pdf.open_metadata()
            assert xmp["dc:title"] == title, path
            assert "/Filter" not in pdf.Root.Metadata, path


# --- the tiny project built as each variant, slow -------------------------------------


def variant_build(tmp_path_factory, variant: str) -> Path:
    out = tmp_path_factory.mktemp(variant.replace("/", "-"))
    build(TINY, BuildOptions(out_dir=out, pdf_variant=variant, jobs=1))
    return out


@pytest.mark.slow
def test_the_pdf_ua_1_booklet_and_cards_pass(tmp_path_factory):
    out = variant_build(tmp_path_factory, "pdf/ua-1")
    readers = [p for p in pdfs_of(out) if p.name not in ("handbook-print.pdf", "card-sheets.pdf")]
    assert len(readers) == 2 + 4  # the booklet, cards.pdf and each card
    for path in readers:
        assert failed_rules(path, UA1) == {}, path
        with pikepdf.open(path) as pdf:
            assert pdf.open_metadata()["pdfuaid:part"] == "1", path
    with pikepdf.open(out / "cards.pdf") as cards:
        assert len(structure_types(cards)) > 4 * 5  # every card's tree, not an empty one


@pytest.mark.slow
def test_the_pdf_a_3b_booklet_and_cards_pass(tmp_path_factory):
    out = variant_build(tmp_path_factory, "pdf/a-3b")
    for path in (out / "handbook.pdf", out / "cards.pdf", *sorted((out / "cards").glob("*.pdf"))):
        assert failed_rules(path, A3B) == {}, path
        with pikepdf.open(path) as pdf:
            assert pdf.open_metadata()["pdfaid:part"] == "3", path
            assert pdf.Root.OutputIntents, path


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gs") is None, reason="Ghostscript is installed by .ci/install")
def test_the_print_shop_pdf_x_is_cmyk_with_an_output_intent(tmp_path_factory):
    out = variant_build(tmp_path_factory, engine.PRINT_SHOP_VARIANT)
    with pikepdf.open(out / "handbook.pdf") as pdf:
        assert str(pdf.docinfo["/GTS_PDFXVersion"]) == "PDF/X-3:2002"
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFX" and int(intent.DestOutputProfile.N) == 4
        assert str(pdf.docinfo["/Title"]) == "Tiny handbook" and str(pdf.Root.Lang) == "en"
        assert str(pdf.docinfo["/CreationDate"]).startswith("D:20260115")
        assert rgb_uses(pdf) == []


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gs") is None, reason="Ghostscript is installed by .ci/install")
def test_the_pdf_x_is_the_same_bytes_each_time(tiny_build):
    booklet = (tiny_build[0] / "handbook.pdf").read_bytes()
    assert pdfx.convert(booklet) == pdfx.convert(booklet)


def rgb_uses(pdf: pikepdf.Pdf) -> list[str]:
    """Where a PDF paints in RGB: DeviceRGB named anywhere, an RGB ICC profile, or the
    rg/RG operators in a page's or a form's content."""
    found = []
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            if obj.get("/N") == 3 or obj.get("/ColorSpace") == "/DeviceRGB":
                found.append(f"stream {obj.objgen}")
            if obj.get("/Subtype") == "/Form":
                found += [f"form {obj.objgen}" for _ in _rgb_operators(obj)]
        elif isinstance(obj, pikepdf.Dictionary | pikepdf.Array) and "/DeviceRGB" in repr(obj):
            found.append(f"object {obj.objgen}")
    for number, page_ in enumerate(pdf.pages, start=1):
        found += [f"page {number}" for _ in _rgb_operators(page_)]
    return found


def _rgb_operators(content) -> list:
    return [i for i in pikepdf.parse_content_stream(content) if str(i.operator) in ("rg", "RG")]


# --- the default project, slow ------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("variant", "profile"), [("pdf/ua-1", UA1), ("pdf/a-3b", A3B)])
def test_the_default_booklet_and_cards_pass(tmp_path, variant, profile):
    out = tmp_path / "out"
    build(REPO, BuildOptions(out_dir=out, pdf_variant=variant))
    for path in (out / "handbook.pdf", out / "cards.pdf", *sorted((out / "cards").glob("*.pdf"))):
        assert failed_rules(path, profile) == {}, path
