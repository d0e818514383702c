"""The WeasyPrint workarounds: each upstream bug still there, each worked around, only in a render.

The canaries lay out a small case with plain WeasyPrint and assert that the
bug still shows; once an upgrade fixes it, the canary fails and asks for the
workaround to go. Layout is read back from WeasyPrint's line boxes, in the
bundled Lato, whose metrics do not depend on the machine.
"""

from __future__ import annotations

import importlib
import io
import os
import pkgutil
import sys

import fontTools.subset
import pikepdf
import pytest
import weasyprint
from fontTools.misc.timeTools import timestampSinceEpoch
from fontTools.ttLib import TTFont
from weasyprint.formatting_structure import boxes
from weasyprint.text.ffi import harfbuzz_subset
from weasyprint.text.fonts import FontConfiguration

from handbook import engine
from handbook.engine import workarounds
from handbook.engine.workarounds import (
    FONT_TIMESTAMPS,
    LEAN_SUBSETTING,
    LINE_BREAKING,
    OutdatedWorkaround,
)
from tests.conftest import REPO, design_css

FONTS = REPO / "fonts"
STYLE = f"""
@font-face {{ font-family: Lato; src: url({(FONTS / "Lato-Regular.ttf").as_uri()}); }}
@font-face {{
  font-family: Lato; font-weight: 700; src: url({(FONTS / "Lato-Bold.ttf").as_uri()});
}}
@page {{ size: 200mm 100mm; margin: 0 }}
html {{ font-family: Lato; font-size: 10pt }}
body {{ margin: 0 }}
"""

# Upstream #1614: the text before <strong> fits this width but for its trailing
# space, and is cut after its first word.
TRAILING_SPACE = '<p style="width: 86.5px">Hold the back. <strong>Dotted</strong> areas</p>'
TRAILING_SPACE_BROKEN = ["Hold", "the back.", "Dotted areas"]
TRAILING_SPACE_RIGHT = ["Hold the back.", "Dotted areas"]

# Upstream #1051: at this width Pango measures ", and vary ... massage" a
# fraction of a pixel wider than the room it said it fits in.
ROUNDING = (
    '<p style="width: 403.5px"><strong>Keep a steady rhythm</strong>, '
    "and vary the techniques so the massage never becomes monotonous.</p>"
)
ROUNDING_BROKEN = "Keep a steady"
ROUNDING_RIGHT = "Keep a steady rhythm, and vary the techniques so the massage"


def laid_out_lines(html: str) -> list[str]:
    """The text of each line of the first page, laid out by WeasyPrint."""
    config = FontConfiguration()
    document = weasyprint.HTML(string=html).render(
        stylesheets=[weasyprint.CSS(string=STYLE, font_config=config)], font_config=config
    )
    return [
        "".join(text.text for text in line.descendants() if isinstance(text, boxes.TextBox))
        for line in document.pages[0]._page_box.descendants()
        if isinstance(line, boxes.LineBox)
    ]


def split_first_line_bindings() -> list[object]:
    return [importlib.import_module(name).split_first_line for name in LINE_BREAKING.modules]


def test_upstream_1614_still_cuts_a_line_before_an_inline_element():
    assert laid_out_lines(TRAILING_SPACE) == TRAILING_SPACE_BROKEN, (
        f"WeasyPrint {weasyprint.__version__} lays this line out right: upstream #1614 "
        "looks fixed, remove the workaround in handbook/engine/workarounds.py"
    )


def test_upstream_1051_still_breaks_early_on_pango_rounding():
    assert laid_out_lines(ROUNDING)[0] == ROUNDING_BROKEN, (
        f"WeasyPrint {weasyprint.__version__} lays this line out right: upstream #1051 "
        "looks fixed, remove the workaround in handbook/engine/workarounds.py"
    )


def test_the_workaround_lays_both_cases_out_right():
    with workarounds.line_breaking_fixed():
        assert laid_out_lines(TRAILING_SPACE) == TRAILING_SPACE_RIGHT
        assert laid_out_lines(ROUNDING)[0] == ROUNDING_RIGHT


def test_the_workaround_patches_every_binding_and_only_inside_the_block():
    original = weasyprint.text.line_break.split_first_line
    with workarounds.line_breaking_fixed():
        patched = split_first_line_bindings()
        assert len({id(function) for function in patched}) == 1
        assert patched[0] is not original
    assert all(function is original for function in split_first_line_bindings())


@pytest.mark.parametrize(
    ("workaround", "original"),
    [
        (LINE_BREAKING, weasyprint.text.line_break.split_first_line),
        (FONT_TIMESTAMPS, TTFont),
        (LEAN_SUBSETTING, fontTools.subset),
    ],
    ids=["split_first_line", "TTFont", "subset"],
)
def test_each_workaround_knows_every_module_that_binds_what_it_replaces(workaround, original):
    for module in pkgutil.walk_packages(weasyprint.__path__, "weasyprint."):
        if module.name != "weasyprint.__main__":
            importlib.import_module(module.name)
    binding = {
        name
        for name, module in list(sys.modules.items())
        if name.startswith("weasyprint.")
        and getattr(module, workaround.attribute, None) is original
    }
    assert binding == set(workaround.modules)


def test_a_render_puts_the_original_functions_back():
    original = weasyprint.text.line_break.split_first_line
    source = engine.PageSource(
        html=f"<html><body>{ROUNDING}</body></html>",
        stylesheets=(REPO / "styles" / "base.css",),
        extra_css=design_css(),
        origin="test",
        allowed_roots=(REPO,),
    )
    engine.to_pdf_bytes(engine.render(source), source.origin)
    assert all(function is original for function in split_first_line_bindings())
    assert all(importlib.import_module(name).TTFont is TTFont for name in FONT_TIMESTAMPS.modules)


def test_another_weasyprint_series_fails_loudly(monkeypatch):
    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    with pytest.raises(OutdatedWorkaround) as failure, workarounds.line_breaking_fixed():
        pass
    assert str(failure.value) == (
        "workaround for short lines before and after inline elements no longer fits "
        "WeasyPrint 71.0 (it was written for WeasyPrint 70.x): re-check upstream bug "
        "#1614 and #1051, remove or update the workaround"
    )


def test_a_changed_split_first_line_fails_loudly(monkeypatch):
    def split_first_line(text, style, context, max_width, justification_spacing, is_line_start):
        raise AssertionError("not to be called")

    for name in LINE_BREAKING.modules:
        monkeypatch.setattr(importlib.import_module(name), "split_first_line", split_first_line)
    with (
        pytest.raises(OutdatedWorkaround, match=r"has changed.*#1614"),
        workarounds.line_breaking_fixed(),
    ):
        pass


def test_a_module_binding_another_split_first_line_fails_loudly(monkeypatch):
    monkeypatch.setattr(weasyprint.layout.preferred, "split_first_line", len)
    with (
        pytest.raises(OutdatedWorkaround, match="no longer bind one split_first_line"),
        workarounds.line_breaking_fixed(),
    ):
        pass
    assert weasyprint.layout.inline.split_first_line is weasyprint.text.line_break.split_first_line


# --- font timestamps ---------------------------------------------------


@pytest.mark.parametrize("module", FONT_TIMESTAMPS.modules)
def test_fonts_opened_inside_the_block_are_saved_with_its_date(module):
    weasyprint_module = importlib.import_module(module)
    with workarounds.fonts_dated(1_700_000_000):
        font = weasyprint_module.TTFont(FONTS / "Lato-Regular.ttf")
        saved = io.BytesIO()
        font.save(saved)
    assert TTFont(saved)["head"].modified == timestampSinceEpoch(1_700_000_000)
    assert weasyprint_module.TTFont is TTFont


def test_a_changed_ttfont_fails_loudly(monkeypatch):
    for name in FONT_TIMESTAMPS.modules:
        monkeypatch.setattr(importlib.import_module(name), "TTFont", object)
    with (
        pytest.raises(OutdatedWorkaround, match=r"TTFont is not fontTools'.*#1553"),
        workarounds.fonts_dated(0),
    ):
        pass


def embedded_font_modified(date: str | None) -> int:
    source = engine.PageSource(
        html="<html><body><p>Warm the oil</p></body></html>",
        stylesheets=(REPO / "styles" / "base.css",),
        extra_css=design_css(),
        origin="test",
        allowed_roots=(REPO,),
    )
    data = engine.to_pdf_bytes(engine.render(source), source.origin, date=date)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        [font] = [
            descriptor.FontFile2.read_bytes()
            for descriptor in pdf.objects
            if isinstance(descriptor, pikepdf.Dictionary) and "/FontFile2" in descriptor
        ]
    return TTFont(io.BytesIO(font))["head"].modified


@pytest.mark.parametrize(
    ("environment", "date", "epoch"),
    [
        (None, "2026-11-24", 1_795_478_400),
        (None, None, 0),
        ("1700000000", "2026-11-24", 1_700_000_000),
    ],
    ids=["the-date", "no-date", "source-date-epoch"],
)
def test_subset_fonts_carry_the_build_date_never_the_clock(monkeypatch, environment, date, epoch):
    if environment is None:
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", environment)
    if harfbuzz_subset is None:  # fontTools subsets, and would stamp the clock
        expected = timestampSinceEpoch(epoch)
    else:  # HarfBuzz keeps the bundled font's own stamp
        expected = TTFont(FONTS / "Lato-Regular.ttf")["head"].modified
    assert embedded_font_modified(date) == expected
    assert os.environ.get("SOURCE_DATE_EPOCH") == environment


def fonttools_subset_pdf(monkeypatch, lean: bool) -> bytes:
    """A small PDF whose fonts fontTools subsets (as without libharfbuzz-subset)."""
    monkeypatch.setattr(weasyprint.pdf.fonts, "harfbuzz_subset", None)
    html = "<html><body><p>Warm the oil, <b>glide</b> and <i>rest</i>.</p></body></html>"
    document = weasyprint.HTML(string=html).render(
        stylesheets=[
            weasyprint.CSS(filename=str(REPO / "styles" / "base.css")),
            weasyprint.CSS(string=design_css()),
        ]
    )
    with workarounds.fonts_dated(0):
        if not lean:
            return document.write_pdf()
        with workarounds.lean_subsetting():
            return document.write_pdf()


def test_lean_subsetting_gives_the_same_bytes_and_the_fonts_still_lack_the_dropped_tables(
    monkeypatch,
):
    lean = fonttools_subset_pdf(monkeypatch, lean=True)
    assert lean == fonttools_subset_pdf(monkeypatch, lean=False)
    with pikepdf.open(io.BytesIO(lean)) as pdf:
        fonts = [
            TTFont(io.BytesIO(descriptor.FontFile2.read_bytes()))
            for descriptor in pdf.objects
            if isinstance(descriptor, pikepdf.Dictionary) and "/FontFile2" in descriptor
        ]
    assert len(fonts) == 3
    assert not any(tag in font for font in fonts for tag in ("GSUB", "GPOS"))
    assert weasyprint.pdf.fonts.subset is fontTools.subset  # put back after the block


def test_a_changed_subsetter_fails_loudly(monkeypatch):
    monkeypatch.setattr(fontTools.subset.Subsetter, "subset", lambda self, font, more: None)
    with (
        pytest.raises(OutdatedWorkaround, match=r"Subsetter.subset has changed"),
        workarounds.lean_subsetting(),
    ):
        pass


@pytest.mark.parametrize(
    ("environment", "date", "modified"),
    [
        (None, "1800-01-01", timestampSinceEpoch(0)),  # before the first date it can carry
        ("9" * 5000, "1800-01-01", timestampSinceEpoch(0)),  # no number: the document's date
        ("\u00b2", None, timestampSinceEpoch(0)),  # a digit, but no number
        (str(10**12), None, 0xFFFFFFFF),  # past 2040, the last date a font can carry
    ],
    ids=["before-1904", "5000-digits", "superscript-two", "far-future"],
)
def test_fonts_subset_by_fonttools_carry_the_nearest_date_they_can(
    monkeypatch, environment, date, modified
):
    monkeypatch.setattr(weasyprint.pdf.fonts, "harfbuzz_subset", None)
    if environment is None:
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", environment)
    assert embedded_font_modified(date) == modified
