"""Themes and the design model: chosen in handbook.yaml, read by CSS and Python alike."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pikepdf
import pymupdf
import pypdfium2
import pytest
from conftest import TINY, set_theme, write

from handbook import engine
from handbook.build import RENDERED, BuildOptions, build
from handbook.content.validate import load_handbook
from handbook.errors import HandbookError
from handbook.html.render import Renderer
from handbook.html.views import cards
from handbook.press.fit import fit_card
from handbook.press.sheets import MARK_OFFSET
from handbook.press.sizes import MM_PER_POINT
from handbook.project import defaults_root, open_project

GREEN = (0, 255, 0)
BLUE = (0, 0, 255)


@pytest.fixture(scope="module")
def both_themes(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """The tiny project built in the default theme, then again in high-contrast into
    the same folder: (a copy of the default build, the high-contrast build, the
    statuses of the second build)."""
    root = tmp_path_factory.mktemp("themes") / "tiny"
    shutil.copytree(TINY, root)
    out = root / "build"
    build(root, BuildOptions(out_dir=out))
    default_out = shutil.copytree(out, root / "default-build")
    set_theme(root, "high-contrast")
    report = build(root, BuildOptions(out_dir=out))
    return default_out, out, [result.status for result in report.outputs]


def body_size(path: Path) -> float:
    """The most common text size on the PDF's pages, in points."""
    sizes: Counter[float] = Counter()
    with pymupdf.open(path) as document:
        for page in document:
            for block in page.get_text("dict")["blocks"]:
                for line in block.get("lines", []):
                    for span in line["spans"]:
                        sizes[round(span["size"], 1)] += len(span["text"].strip())
    return sizes.most_common(1)[0][0]


def colours(path: Path) -> set[tuple[int, int, int]]:
    """Every fill and stroke colour drawn and every text colour, as 0-255 RGB."""
    found = set()
    with pymupdf.open(path) as document:
        for page in document:
            for drawing in page.get_drawings():
                for key in ("fill", "color"):
                    if drawing.get(key):
                        found.add(tuple(round(c * 255) for c in drawing[key]))
            for block in page.get_text("dict")["blocks"]:
                for line in block.get("lines", []):
                    for span in line["spans"]:
                        found.add(pymupdf.sRGB_to_rgb(span["color"]))
    return found


def test_high_contrast_builds_with_larger_type_in_pure_black_and_white(both_themes):
    default_out, out, statuses = both_themes
    assert set(statuses) == {RENDERED}  # the cache noticed the change of theme
    for name in ("cards.pdf", "handbook.pdf"):
        assert body_size(out / name) >= body_size(default_out / name) * 1.15, name
        assert colours(out / name) <= {(0, 0, 0), (255, 255, 255)}, name
        assert (0x1D, 0x4E, 0x6B) in colours(default_out / name)  # the default accent


def test_high_contrast_diagrams_have_no_tints(both_themes):
    default_out, out, _ = both_themes
    pixels = rgb_pixels(out / "cards" / "gliding.pdf")
    tinted = [p for p in pixels if max(p) - min(p) > 40]
    assert len(tinted) < len(pixels) / 1000  # only anti-aliasing at most
    default_pixels = rgb_pixels(default_out / "cards" / "gliding.pdf")
    assert share(default_pixels, (0xDB, 0xE8, 0xF1)) > 0.005  # the default work tint


def test_an_unknown_theme_is_located_with_the_themes_to_choose_from(tiny_copy):
    set_theme(tiny_copy, "hi-contrast")
    line = len((tiny_copy / "handbook.yaml").read_text().splitlines())
    with pytest.raises(HandbookError) as caught:
        load_handbook(open_project(tiny_copy))
    [problem] = caught.value.problems
    assert problem.format() == (
        f"handbook.yaml:{line}:8: unknown theme 'hi-contrast'\n"
        "    hint: did you mean 'high-contrast'? The themes are: 'default', 'high-contrast'"
    )


def test_a_wrong_value_in_a_project_theme_is_located_in_its_theme_yaml(tiny_copy):
    write(
        tiny_copy / "themes" / "mine" / "theme.yaml",
        """
        design:
          ink: "#12345"
          card_margn_mm: 5
        """,
    )
    set_theme(tiny_copy, "mine")
    with pytest.raises(HandbookError) as caught:
        load_handbook(open_project(tiny_copy))
    assert [p.format() for p in caught.value.problems] == [
        "themes/mine/theme.yaml:2:8: '#12345' is not a colour\n"
        "    hint: write a colour as # and six hex digits, like #1d4e6b",
        "themes/mine/theme.yaml:3:3: unknown field 'card_margn_mm'\n"
        "    hint: did you mean 'card_margin_mm'?",
    ]


def test_handbook_yaml_changes_single_design_values(tiny_copy):
    settings = tiny_copy / "handbook.yaml"
    settings.write_text(settings.read_text() + "design:\n  card_margin_mm: 9\n  bleed_mm: 3\n")
    design = load_handbook(open_project(tiny_copy)).design
    assert (design.card_margin_mm, design.bleed_mm, design.ink) == (9, 3, "#1a1a1a")
    settings.write_text(settings.read_text() + "  bleeding: 3\n")
    with pytest.raises(HandbookError) as caught:
        load_handbook(open_project(tiny_copy))
    [problem] = caught.value.problems
    assert (problem.message, problem.hint) == (
        "unknown field 'bleeding'",
        "did you mean 'bleed_mm'?",
    )


@pytest.mark.slow
def test_the_theme_bleed_reaches_the_cards_and_the_card_sheets(tiny_copy):
    set_theme(tiny_copy, "wide-bleed")
    out = tiny_copy / "build"
    for bleed in (3.5, 2.5):  # the second build also sees that the theme.yaml changed
        write(tiny_copy / "themes" / "wide-bleed" / "theme.yaml", f"design:\n  bleed_mm: {bleed}\n")
        build(tiny_copy, BuildOptions(out_dir=out))
        with pymupdf.open(out / ".bleed" / "cards.pdf") as every_card:  # CSS: @page { bleed }
            for page in every_card:
                offset = (page.trimbox.x0 - page.mediabox.x0) * MM_PER_POINT
                assert offset == pytest.approx(bleed)
        # Python: where marks start, a little clear of the bleed
        assert mark_offsets(out / "card-sheets.pdf") == {bleed + MARK_OFFSET}


def mark_offsets(sheet_pdf: Path) -> set[float]:
    """How far each crop mark on the first sheet starts from the card edge it extends,
    in millimetres (the marks are the lines the sheet draws itself, not the cards')."""
    with pikepdf.open(sheet_pdf) as document:
        points, segments = [], []
        for operands, operator in pikepdf.parse_content_stream(document.pages[0]):
            if str(operator) in ("m", "l"):
                points.append(tuple(float(v) for v in operands))
            if str(operator) == "l":
                segments.append((points[-2], points[-1]))
    edges = {a[0] for a, b in segments if a[0] == b[0]}  # vertical marks lie on card edges
    horizontal = [(a, b) for a, b in segments if a[1] == b[1]]
    return {
        round(min(abs(x - edge) for x in (a[0], b[0]) for edge in edges) * MM_PER_POINT, 2)
        for a, b in horizontal
    }


def render_card(root: Path, card_id: str) -> bytes:
    """One card rendered as the build renders it."""
    project = open_project(root)
    handbook = load_handbook(project)
    card = next(c for c in cards(handbook) if c.id == card_id)
    fmt = BuildOptions().format_for(handbook)
    source = Renderer(project).card(handbook, card, fmt)
    return engine.to_pdf_bytes(fit_card(source, fmt).document, source.origin)


def rgb_pixels(path_or_data: Path | bytes) -> list[tuple[int, int, int]]:
    data = path_or_data.read_bytes() if isinstance(path_or_data, Path) else path_or_data
    page = pypdfium2.PdfDocument(data)[0]
    raw = page.render(scale=100 / 72).to_pil().convert("RGB").tobytes()
    return [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]


def share(pixels: list[tuple[int, int, int]], colour: tuple[int, int, int]) -> float:
    near = sum(1 for p in pixels if max(abs(a - b) for a, b in zip(p, colour, strict=True)) < 30)
    return near / len(pixels)


@pytest.mark.slow
def test_diagram_stylesheets_restyle_the_maps_project_over_theme(tiny_copy):
    """The theme's styles/diagrams.css colours the maps; the project's wins over it."""
    default_css = (defaults_root() / "styles" / "diagrams.css").read_text()
    assert share(rgb_pixels(render_card(tiny_copy, "gliding")), GREEN) == 0
    theme = tiny_copy / "themes" / "green"
    write(theme / "theme.yaml", "description: Green zones.\n")
    write(theme / "styles" / "diagrams.css", default_css + ".work .ground { fill: #00ff00; }\n")
    set_theme(tiny_copy, "green")
    themed = rgb_pixels(render_card(tiny_copy, "gliding"))
    assert share(themed, GREEN) > 0.005
    own = default_css + ".work .ground { fill: var(--project-blue, #0000ff); }\n"
    write(tiny_copy / "styles" / "diagrams.css", own)
    overridden = rgb_pixels(render_card(tiny_copy, "gliding"))
    assert share(overridden, GREEN) == 0
    assert share(overridden, BLUE) == pytest.approx(share(themed, GREEN), rel=0.2)


@pytest.mark.parametrize("theme", ["default", "high-contrast"])
def test_the_maps_still_read_in_black_and_white(tiny_copy, theme):
    """In grey, the zones worked keep their dots and the zones to keep off their
    hatching: every pattern's marks are clearly darker than its ground."""
    design = load_handbook(open_project(set_theme(tiny_copy, theme))).design
    for ground, mark in (
        (design.work_tint, design.accent),
        (design.stop_tint, design.stop),
        (design.caution_tint, design.caution),
        *zip(design.timeline_tints, design.timeline_inks, strict=True),
    ):
        assert grey(ground) - grey(mark) > 0.45, (ground, mark)


def grey(colour: str) -> float:
    """The lightness a black-and-white printer gives a colour, 0 (black) to 1 (white)."""
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.299 * red + 0.587 * green + 0.114 * blue


def test_a_theme_template_is_used_unless_the_project_has_its_own(tiny_copy):
    theme = tiny_copy / "themes" / "plain"
    write(theme / "theme.yaml", "description: A plain cover.\n")
    write(theme / "templates" / "_cover.html.j2", "<section class=cover>Theme cover</section>\n")
    set_theme(tiny_copy, "plain")

    def booklet_html() -> str:
        project = open_project(tiny_copy)
        handbook = load_handbook(project)
        return Renderer(project).booklet(handbook, BuildOptions().format_for(handbook)).html

    assert "Theme cover" in booklet_html()
    write(tiny_copy / "templates" / "_cover.html.j2", "<section class=cover>Own cover</section>\n")
    assert "Own cover" in booklet_html() and "Theme cover" not in booklet_html()
