"""Cheat cards: one page of their size, shrunk only as needed, legible, previewable."""

from __future__ import annotations

import math
import re
from io import BytesIO
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from handbook import engine
from handbook.build import BuildOptions
from handbook.cli import cli
from handbook.content.validate import load_handbook
from handbook.design import root_rule
from handbook.engine import Measure
from handbook.html.render import Renderer
from handbook.html.views import cards
from handbook.press import sheets_pdf
from handbook.press.fit import PX_PER_PT, fit_card, search
from handbook.press.format import FLOOR_PT
from handbook.press.sizes import CARD_SIZES, MM_PER_POINT, PAPER_SIZES, points, sheet_for_paper
from handbook.project import defaults_root, open_project
from tests.conftest import REPO, TINY, assert_size, set_theme, write

A_LITTLE_TOO_LONG = """
kind: technique
id: kneading
name: Kneading
other_names: [Petrissage]
purpose: Works the deeper layers of muscle.
level: 4
facts:
  - label: Hand
    value: Whole hand, fingers and palm
steps:
  - Grasp a large fold of skin and muscle beside the spine between your fingers and the heel
    of your hand, never on the spine itself.
  - Squeeze the fold gently, lift it a little and let it roll out between your fingers, then
    move a hand's width further along.
  - Work with both hands in turn, so one hand always keeps contact while the other one lifts
    and squeezes the next fold.
  - Travel slowly from the lower back up to the shoulders on one side, then come back down on
    the other side of the spine.
  - Ask your partner about the pressure often and lighten it at once at any sign of pain or
    tension in the face.
  - Finish with a few long, light strokes over the whole area you worked, from the neck down
    to the lower back, and rest your hands there for a breath or two.
never: Never knead over the spine, the kidneys or any bruise, and never pinch hard.
zones: [upper, lower]
safety: [gentle]
"""

# The purpose, longest of all, is not printed on the card, so the error must not
# suggest shortening it.
FAR_TOO_LONG = (
    A_LITTLE_TOO_LONG.replace("id: kneading", "id: endless")
    .replace("never: ", "never: " + "This warning goes on and on without an end in sight. " * 30)
    .replace("purpose: ", "purpose: " + "A purpose told at great length. " * 80)
)


@pytest.fixture(scope="module")
def default_cards():
    """The default handbook, its renderer and its cards."""
    project = open_project(REPO)
    handbook = load_handbook(project)
    return handbook, Renderer(project), cards(handbook)


@pytest.mark.slow
@pytest.mark.parametrize("size", list(CARD_SIZES))
def test_every_default_card_is_one_page_of_each_size(default_cards, size):
    """Every card of the default content is laid out as the build does and fits one page
    of each size; the first is also written and read back as a PDF."""
    handbook, renderer, all_cards = default_cards
    width, height = CARD_SIZES[size]
    for index, card in enumerate(all_cards):
        fmt = BuildOptions(card_size=size).format_for(handbook)
        source = renderer.card(handbook, card, fmt)
        fit = fit_card(source, fmt)
        assert fit.fits, card.id
        assert fit.body_pt >= fit.floor_pt - 0.01
        pages = fit.document.pages
        assert len(pages) == 1
        page_mm = (
            pages[0].width / PX_PER_PT * MM_PER_POINT,
            pages[0].height / PX_PER_PT * MM_PER_POINT,
        )
        assert page_mm == pytest.approx((width, height), abs=0.01)
        if index == 0:
            card_pdf = sheets_pdf.trimmed(engine.to_pdf_bytes(fit.document, source.origin))
            reader = PdfReader(BytesIO(card_pdf))
            assert len(reader.pages) == 1
            assert_size(reader.pages[0], points((width, height)))


def test_the_sheets_get_the_card_with_its_bleed():
    project = open_project(TINY)
    handbook = load_handbook(project)
    fmt = BuildOptions().format_for(handbook)
    source = Renderer(project).card(handbook, cards(handbook)[0], fmt)
    page = PdfReader(BytesIO(engine.to_pdf_bytes(fit_card(source, fmt).document, ""))).pages[0]
    bleed_mm = (float(page.trimbox[0]) - float(page.mediabox[0])) * MM_PER_POINT
    assert bleed_mm == pytest.approx(2, abs=0.01)


FIVE_FACTS = """\
kind: technique
id: gliding
name: Gliding
purpose: Warms up and calms.
level: 1
facts:
  - {label: Hand, value: "Open palms, then the fingertips, then the whole hand again"}
  - {label: Time, value: 2 min}
  - {label: Place, value: Lying}
  - {label: Oil, value: A little}
steps: [Rest both hands flat., Glide slowly downward.]
zones: [upper]
safety: [gentle]
"""


def test_a_technique_cards_facts_stand_in_two_columns_each_stacked_on_its_own(tiny_copy):
    """The first column takes the extra fact; a tall fact in it does not push the one
    beside it down, as a grid's shared rows would."""
    import pymupdf

    write(tiny_copy / "content" / "gliding.yaml", FIVE_FACTS)
    project = open_project(tiny_copy)
    handbook = load_handbook(project)
    fmt = BuildOptions().format_for(handbook)
    card = next(card for card in cards(handbook) if card.id == "gliding")
    source = Renderer(project).card(handbook, card, fmt)
    data = engine.to_pdf_bytes(fit_card(source, fmt).document, "")
    with pymupdf.open(stream=data) as pdf:
        words = {w[4]: w[:2] for w in pdf[0].get_text("words")}
    first, second = ["PRESSURE", "HAND", "TIME"], ["PLACE", "OIL"]
    assert len({words[label][0] for label in first}) == 1
    assert len({words[label][0] for label in second}) == 1
    assert words["PLACE"][0] > words["PRESSURE"][0]
    assert words["PLACE"][1] == pytest.approx(words["PRESSURE"][1])  # both columns at the top
    assert words["PRESSURE"][1] < words["HAND"][1] < words["TIME"][1]
    assert words["OIL"][1] < words["HAND"][1] + 20  # beside the long fact, not below it


def _technique_card_html(project_dir: Path, card_id: str = "gliding") -> str:
    project = open_project(project_dir)
    handbook = load_handbook(project)
    fmt = BuildOptions().format_for(handbook)
    card = next(card for card in cards(handbook) if card.id == card_id)
    return Renderer(project).card(handbook, card, fmt).html


def test_a_project_macros_file_made_before_the_fact_columns_leaves_the_card_working(tiny_copy):
    """A project's own _macros.html.j2 whose facts macro takes no columns: the built-in
    technique card takes its facts from _facts.html.j2, not from it."""
    built_in = (REPO / "templates" / "_macros.html.j2").read_text(encoding="utf-8")
    old_macro = (
        "{% macro facts(item, scale, meter=False) -%}"
        '<ul class="facts"><li>own facts</li></ul>{%- endmacro %}\n'
    )
    start = built_in.index("{% macro facts(")
    end = built_in.index("{%- endmacro %}", start) + len("{%- endmacro %}")
    own = built_in[:start] + old_macro + built_in[end:]
    write(tiny_copy / "templates" / "_macros.html.j2", own)
    html = _technique_card_html(tiny_copy)
    assert html.count('<ul class="facts">') == 2 and "own facts" not in html


def test_a_technique_with_one_fact_has_one_list_not_an_empty_one(tiny_copy):
    """An empty list would be an empty L element in a tagged card: "list, 0 items"."""
    level_only = FIVE_FACTS.split("facts:")[0] + "steps:" + FIVE_FACTS.split("steps:")[1]
    write(tiny_copy / "content" / "gliding.yaml", level_only)
    html = _technique_card_html(tiny_copy)
    assert html.count('<ul class="facts">') == 1
    facts = html.split('<ul class="facts">')[1].split("</ul>")[0]
    assert facts.count("<li>") == 1


def test_card_text_is_large_and_selectable(tiny_build):
    out, _ = tiny_build
    text = PdfReader(out / "cards" / "gliding.pdf").pages[0].extract_text()
    assert "Gliding" in text
    assert "Never" in text or "NEVER" in text


def _project_with(tiny_copy: Path, name: str, text: str) -> Path:
    write(tiny_copy / "content" / f"{name}.yaml", text)
    return tiny_copy


@pytest.mark.slow
def test_a_card_a_little_too_long_is_shrunk_to_one_page(tiny_built):
    project, out = tiny_built
    _project_with(project, "kneading", A_LITTLE_TOO_LONG)
    where = ["--project", str(project), "--out", str(out)]
    result = CliRunner().invoke(cli, ["build", *where, "--duplex", "--png", "--sheet", "letter"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "kneading.pdf" in line)
    shrunk = int(re.search(r"text shrunk to (\d+)%", line).group(1))
    assert 70 <= shrunk < 100
    assert len(PdfReader(out / "cards" / "kneading.pdf").pages) == 1
    # five cards, two to a Letter sheet, each sheet followed by its back
    sheets = PdfReader(out / "card-sheets.pdf").pages
    assert len(sheets) == 2 * math.ceil(5 / 2)
    assert_size(sheets[0], points(PAPER_SIZES["letter"]))
    previews = sorted(p.name for p in (out / "png").iterdir())
    assert "contact-sheet.png" in previews
    assert "kneading.png" in previews
    assert len(previews) == 6
    checked = CliRunner().invoke(cli, ["check", "--project", str(project)])
    assert checked.exit_code == 0, checked.output
    assert f"text shrunk on kneading ({shrunk}%)" in checked.output


def test_letter_paper_booklets_print_their_cards_on_letter():
    assert sheet_for_paper("letter") == sheet_for_paper("half-letter") == "letter"
    assert sheet_for_paper("a5") == sheet_for_paper("a4") == "a4"


@pytest.mark.slow
def test_a_card_far_too_long_fails_alone_with_a_located_error(tiny_copy):
    project = _project_with(tiny_copy, "endless", FAR_TOO_LONG)
    out = project / "build"
    write(out / "cards.pdf", "the last good cards")
    result = CliRunner().invoke(cli, ["build", "--project", str(project)])
    assert result.exit_code == 1
    message = result.output
    assert "content/endless.yaml:" in message
    assert re.search(r"it is \d+ mm \(about \d+ lines?\) too long", message)
    assert "hint: shorten it by about" in message
    assert "'never'" in message  # the longest part, where the error points
    assert "'purpose'" not in message  # not printed on the card
    assert "Traceback" not in message
    assert not (out / "cards" / "endless.pdf").exists()
    assert len(PdfReader(out / "cards" / "gliding.pdf").pages) == 1
    assert (out / "cards.pdf").read_text() == "the last good cards"


def test_check_reports_a_card_that_cannot_fit(tiny_copy):
    project = _project_with(tiny_copy, "endless", FAR_TOO_LONG)
    result = CliRunner().invoke(cli, ["check", "--project", str(project)])
    assert result.exit_code == 1
    assert "content/endless.yaml:" in result.output
    assert "too long" in result.output
    quick = CliRunner().invoke(cli, ["check", "--project", str(project), "--no-cards"])
    assert quick.exit_code == 0, quick.output
    assert not (project / "build").exists()


# --- the search, on a model of a card: needed height = a * scale ** p ------------------

AVAILABLE = 500.0
BODY_PX = 11.5 * PX_PER_PT


class _Model:
    def __init__(self, overflow: float, exponent: float, body_px: float = BODY_PX):
        self.overflow, self.exponent, self.body_px, self.scales = overflow, exponent, body_px, []

    def needed(self, scale: float) -> float:
        return AVAILABLE * self.overflow * scale**self.exponent

    def render(self, scale: float) -> float:
        self.scales.append(scale)
        return scale

    def measure(self, scale: float) -> Measure:
        needed = self.needed(scale)
        line_px = self.body_px * 1.3
        return Measure(math.ceil(needed / AVAILABLE), AVAILABLE, needed, self.body_px, line_px)


@settings(max_examples=300, deadline=None)
@given(
    overflow=st.floats(min_value=0.5, max_value=3.0),
    exponent=st.floats(min_value=1.0, max_value=2.2),
)
def test_search_fits_in_at_most_four_renders(overflow, exponent):
    model = _Model(overflow, exponent)
    fit = search(model.render, FLOOR_PT, measure=model.measure)
    floor = FLOOR_PT / 11.5
    assert fit.renders == len(model.scales) <= 4
    assert fit.fits == (model.needed(floor) <= AVAILABLE)
    if overflow <= 1:
        assert fit.renders == 1 and fit.scale == 1
    if fit.fits:
        assert floor - 1e-9 <= fit.scale <= 1
        assert model.needed(fit.scale) <= AVAILABLE
    else:
        expected = (model.needed(floor) - AVAILABLE) / PX_PER_PT * MM_PER_POINT
        assert fit.over_mm == pytest.approx(expected)


def test_search_needs_two_renders_for_a_typical_overflow():
    model = _Model(1.15, 1.5)
    fit = search(model.render, FLOOR_PT, measure=model.measure)
    best = (1 / 1.15) ** (1 / 1.5)
    assert fit.fits and fit.renders == 2
    assert best * 0.97 <= fit.scale <= best


def test_text_already_at_the_floor_is_not_shrunk_further():
    model = _Model(1.2, 1.5, body_px=7.5 * PX_PER_PT)
    fit = search(model.render, FLOOR_PT, measure=model.measure)
    assert not fit.fits and fit.renders == 1 and fit.scale == 1
    assert fit.over_mm == pytest.approx(0.2 * AVAILABLE / PX_PER_PT * MM_PER_POINT)


# --- legibility ---------------------------------------------------------------------------


def _contrast(one: str, other: str) -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _colour_pairs(css: str) -> list[tuple[str, str, str]]:
    """(selector, text colour, background) for every rule of the stylesheet that sets a
    text colour; the background is the rule's own, else the card's paper."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    variables = dict(re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{6})", css))

    def resolve(value: str) -> str:
        value = value.strip()
        found = re.fullmatch(r"var\((--[\w-]+)\)", value)
        return variables[found.group(1)] if found else value

    paper = variables["--paper"]
    pairs = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = dict(re.findall(r"([\w-]+)\s*:\s*([^;]+)", body))
        if "color" in declarations:
            background = declarations.get("background", declarations.get("background-color"))
            pairs.append(
                (
                    selector.strip(),
                    resolve(declarations["color"]),
                    resolve(background) if background else paper,
                )
            )
    return pairs


@pytest.mark.parametrize("theme", ["default", "high-contrast"])
def test_card_colours_have_at_least_aaa_contrast(tiny_copy, theme):
    """WCAG AAA (7:1) between every text colour in card.css and its background,
    with the colours of each built-in theme.

    The ratio is computed from luminance, so it also holds when the card is
    printed in black and white (shades of grey keep their luminance).
    """
    design = load_handbook(open_project(set_theme(tiny_copy, theme))).design
    card_css = (defaults_root() / "styles" / "card.css").read_text()
    pairs = _colour_pairs(root_rule(design) + card_css)
    assert len(pairs) >= 6  # the band, steps, never label, muted text, footer...
    for selector, text, background in pairs:
        assert re.fullmatch(r"#[0-9a-fA-F]{6}", text), (selector, text)
        assert _contrast(text, background) >= 7, (selector, text, background)


def test_contrast_check_catches_a_pale_colour():
    css = ":root { --paper: #ffffff; --pale: #999999; } .x { color: var(--pale); }"
    [(_, text, background)] = _colour_pairs(css)
    assert _contrast(text, background) < 7
