"""Drawings a project supplies: read safely, zones placed on them, labels readable."""

from __future__ import annotations

import os
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from handbook.build import BuildOptions, build
from handbook.content.drawings import LoadedDrawing, builtin_drawing, parse_drawing
from handbook.content.model import Drawing, Shape, Zone
from handbook.content.validate import load_handbook
from handbook.html import diagrams
from handbook.html.render import Renderer
from handbook.press.sizes import CARD_SIZES
from handbook.project import open_project
from tests.conftest import REPO, problems_of, write

SVG = "{http://www.w3.org/2000/svg}"

BIKE = """<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
     viewBox="0 0 300 200" width="30cm">
  <metadata><inkscape:stuff/></metadata>
  <circle class="wheel" cx="60" cy="140" r="50" style="stroke-width:3;fill:none"/>
  <circle cx="240" cy="140" r="50"/>
  <path class="detail" d="M60 140 L150 140 L240 140"/>
</svg>
"""

ZONES = """
kind: zones
drawings:
  - id: bike
    file: drawings/bike.svg
    title: Bicycle
zones:
  - id: upper
    name: Front wheel
    shapes:
      - ellipse: [240, 140, 50, 50]
  - id: lower
    name: Chain
    shapes:
      - polygon: [[100, 130], [200, 130], [200, 150], [100, 150]]
"""


def with_bike(root: Path, zones: str = ZONES, svg: str = BIKE) -> Path:
    write(root / "content" / "drawings" / "bike.svg", svg)
    write(root / "content" / "zones.yaml", zones)
    return root


def position(path: Path, needle: str) -> tuple[int, int]:
    """Line and column (from 1) where ``needle`` first stands in a file."""
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if needle in text:
            return number, text.index(needle) + 1
    raise AssertionError(needle)


def map_of(root: Path, item_id: str = "gliding") -> ET.Element:
    project = open_project(root)
    handbook = load_handbook(project)
    style = Renderer(project).diagram_style(handbook.design)
    item = handbook.technique(item_id)
    svg = diagrams.body_map(handbook.zones, handbook.drawings, item, style)
    return ET.fromstring(str(svg))


def test_zones_and_arrows_sit_on_the_projects_own_drawing(tiny_copy):
    root = map_of(with_bike(tiny_copy))
    drawing = next(g for g in root.iter(f"{SVG}g") if "drawing" in g.get("class", ""))
    assert drawing.get("class") == "drawing drawing-bike"
    # The drawing is scaled to the panel height: 200 units high become 160.
    scale = diagrams.PANEL_HEIGHT / 200
    assert f"scale({scale:.5f})" in drawing.get("transform")
    # Its shapes are kept, metadata dropped, a style attribute turned into attributes.
    circles = drawing.findall(f"{SVG}circle")
    assert [c.get("cx") for c in circles] == ["60", "240"]
    assert circles[0].get("stroke-width") == "3" and circles[0].get("fill") == "none"
    assert not [e for e in drawing.iter() if "metadata" in e.tag or "inkscape" in e.tag]
    zones = {g.get("data-zone"): g for g in root.iter(f"{SVG}g") if "zone" in g.get("class", "")}
    wheel = zones["upper"].find(f"{SVG}ellipse")
    x0 = float(drawing.get("transform").split("(")[1].split()[0])
    assert float(wheel.get("cx")) == pytest.approx(x0 + 240 * scale, abs=0.01)
    assert float(wheel.get("cy")) == pytest.approx(140 * scale, abs=0.01)
    assert float(wheel.get("rx")) == pytest.approx(50 * scale, abs=0.01)
    chain = [
        tuple(map(float, p.split(",")))
        for p in zones["lower"].find(f"{SVG}polygon").get("points").split()
    ]
    assert chain[0] == pytest.approx((x0 + 100 * scale, 130 * scale), abs=0.01)
    # The stroke on the wheel points down, at the wheel's centre.
    arrow = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "arrow")
    shaft = next(p for p in arrow.iter(f"{SVG}path") if p.get("class") == "shaft")
    start, end = shaft.get("d")[1:].split(" L")
    (sx, sy), (_, ey) = map(float, start.split()), map(float, end.split())
    assert sx == pytest.approx(x0 + 240 * scale, abs=0.1) and ey > sy


def test_a_narrow_zone_is_drawn_at_a_minimum_width(tiny_copy):
    narrow = ZONES.replace(
        "[[100, 130], [200, 130], [200, 150], [100, 150]]",
        "[[150, 100], [151, 100], [151, 180], [150, 180]]",
    )
    root = map_of(with_bike(tiny_copy, narrow))
    polygon = next(
        g
        for g in root.iter(f"{SVG}g")
        if g.get("data-zone") == "lower" and "zone" in g.get("class")
    ).find(f"{SVG}polygon")
    xs = [float(p.split(",")[0]) for p in polygon.get("points").split()]
    assert max(xs) - min(xs) == pytest.approx(diagrams.MIN_ZONE_WIDTH)


@pytest.mark.parametrize(
    ("svg", "where", "message"),
    [
        ('<svg xmlns="http://www.w3.org/2000/svg">\n</svg>', "1:1", "needs a viewBox"),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 200">\n'
            "  <script>alert(1)</script>\n</svg>",
            "2:3",
            "<script> is not allowed",
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 200">\n'
            '  <path d="M0 0" fill="url(http://x/y)"/>\n</svg>',
            "2:3",
            "value of 'fill' is not allowed",
        ),
        (
            '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<svg>&x;</svg>',
            "1:15",
            "DOCTYPE",
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 3 2">\n  <g>\n</svg>',
            "3:3",
            "not valid SVG",
        ),
    ],
)
def test_a_bad_drawing_is_a_problem_at_its_line_and_column(tiny_copy, svg, where, message):
    problems = problems_of(with_bike(tiny_copy, svg=svg))
    assert any(
        p.startswith(f"content/drawings/bike.svg:{where}: ") and message in p for p in problems
    ), problems


def test_a_shape_off_its_drawing_is_a_problem_at_the_point(tiny_copy):
    zones = ZONES.replace("[200, 150], [100, 150]]", "[200, 250], [100, 150]]")
    problems = problems_of(with_bike(tiny_copy, zones))
    line, column = position(tiny_copy / "content" / "zones.yaml", "[200, 250]")
    assert any(
        p.startswith(f"content/zones.yaml:{line}:{column}: ")
        and "(200, 250) of the zone 'lower' lies outside the drawing 'bike' (viewBox 0 0 300 200)"
        in p
        for p in problems
    ), problems


def test_a_missing_or_outside_drawing_is_a_problem_at_its_file_line(tiny_copy, tmp_path):
    outside = tmp_path / "elsewhere.svg"
    outside.write_text(BIKE)
    (tiny_copy / "content" / "drawings").mkdir(parents=True)
    (tiny_copy / "content" / "drawings" / "bike.svg").symlink_to(outside)
    write(tiny_copy / "content" / "zones.yaml", ZONES)
    file_line, _ = position(tiny_copy / "content" / "zones.yaml", "file:")
    [problem] = problems_of(tiny_copy)
    assert problem.startswith(f"content/zones.yaml:{file_line}:11: refused to read")
    assert "outside the project folder" in problem
    (tiny_copy / "content" / "drawings" / "bike.svg").unlink()
    [problem] = problems_of(tiny_copy)
    assert problem.startswith(f"content/zones.yaml:{file_line}:11: no such drawing file")


def test_an_oversized_or_special_drawing_file_is_refused_at_its_file_line(tiny_copy):
    drawings = tiny_copy / "content" / "drawings"
    huge = BIKE.replace("</svg>", "<!--" + "x" * 600_000 + "--></svg>")
    with_bike(tiny_copy, svg=huge)
    file_line, _ = position(tiny_copy / "content" / "zones.yaml", "file:")
    [problem] = problems_of(tiny_copy)
    assert problem.startswith(f"content/zones.yaml:{file_line}:11: the drawing is over the 512 KiB")
    (drawings / "bike.svg").unlink()
    os.mkfifo(drawings / "bike.svg")  # opening it must not wait for a writer
    [problem] = problems_of(tiny_copy)
    assert problem.startswith(f"content/zones.yaml:{file_line}:11: the drawing is not a regular")


def test_a_zone_naming_an_unknown_drawing(tiny_copy):
    zones = ZONES.replace("    name: Chain\n", "    name: Chain\n    drawing: bkie\n")
    problems = problems_of(with_bike(tiny_copy, zones))
    line, _ = position(tiny_copy / "content" / "zones.yaml", "drawing: bkie")
    assert any(
        p.startswith(f"content/zones.yaml:{line}:14: unknown drawing 'bkie'") and "bike" in p
        for p in problems
    ), problems


def default_maps() -> list[ET.Element]:
    project = open_project(REPO)
    handbook = load_handbook(project)
    style = Renderer(project).diagram_style(handbook.design)
    svgs = [
        diagrams.body_map(handbook.zones, handbook.drawings, item, style, handbook.settings.labels)
        for item in [*handbook.techniques, *handbook.safety]
    ]
    return [ET.fromstring(str(svg)) for svg in svgs if svg]


def callout_geometry(root: ET.Element) -> list[tuple[tuple, tuple]]:
    """(leader, label box) of every zone label of a map, read from its SVG."""
    found = []
    for callout in root.iter(f"{SVG}g"):
        if "callout" not in callout.get("class", "").split():
            continue
        line = callout.find(f"{SVG}line")
        leader = tuple((float(line.get(f"x{i}")), float(line.get(f"y{i}"))) for i in (1, 2))
        texts = callout.findall(f"{SVG}text")
        size = float(texts[0].get("font-size"))
        width = max(len(t.text) for t in texts) * size * 0.52  # the layout's own estimate
        x = float(texts[0].get("x"))
        x0 = x if texts[0].get("text-anchor") == "start" else x - width
        ys = [float(t.get("y")) for t in texts]
        found.append((leader, (x0, min(ys) - size, x0 + width, max(ys) + size * 0.25)))
    return found


def assert_readable(root: ET.Element) -> None:
    """No two leaders cross, no two labels overlap, no leader runs into a label."""
    geometry = callout_geometry(root)
    title = root.find(f"{SVG}title").text
    for i, (leader, box) in enumerate(geometry):
        for j, (other_leader, other_box) in enumerate(geometry):
            if j <= i:
                continue
            assert not diagrams.segments_cross(*leader, *other_leader), title
            apart = box[2] <= other_box[0] or other_box[2] <= box[0]
            assert apart or box[3] <= other_box[1] or other_box[3] <= box[1], title
        for j, (_, other_box) in enumerate(geometry):
            x0, y0, x1, y1 = other_box
            edges = [
                ((x0, y0), (x1, y0)),
                ((x1, y0), (x1, y1)),
                ((x1, y1), (x0, y1)),
                ((x0, y1), (x0, y0)),
            ]
            assert not any(diagrams.segments_cross(*leader, *edge) for edge in edges), (title, j)


def test_leaders_never_cross_and_labels_never_overlap_on_the_default_maps():
    maps = default_maps()
    assert len(maps) >= 8
    for root in maps:
        assert_readable(root)


def test_leaders_never_cross_on_many_made_up_maps():
    """Zones of every size anywhere on one drawing or two, in one column or two."""
    rng = random.Random(7)
    style = diagrams.DiagramStyle("", 10.5)
    front = LoadedDrawing(
        Drawing(id="front", file="front.svg", view="front"), parse_drawing(BIKE.encode(), "x")
    )
    drawings = {"back": builtin_drawing(), "front": front}
    for _ in range(200):
        zones = []
        for k in range(rng.randint(2, 11)):
            drawing = rng.choice(["back", "back", "front"])
            x, y = rng.uniform(5, 100), rng.uniform(5, 140)
            w, h = rng.uniform(1, 15), rng.uniform(1, 20)
            polygon = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
            name = " ".join(
                rng.choice(["Upper", "back", "shoulder", "blades", "of", "the"])
                for _ in range(rng.randint(1, 6))
            )
            zones.append(
                Zone(
                    id=f"z{k}",
                    name=name,
                    drawing=drawing,
                    mirror=rng.random() < 0.4,
                    shapes=[Shape(polygon=polygon)],
                )
            )
        ids = [z.id for z in zones]
        root = ET.fromstring(
            str(diagrams.draw_map(zones, drawings, style, work=ids[::2], keep_off=ids[1::2]))
        )
        assert_readable(root)


def test_the_default_maps_say_what_they_show():
    titles = [root.find(f"{SVG}title").text for root in default_maps()]
    assert (
        "Acupressure beside the spine. Works on: Beside the spine. Keep off: Spine. "
        "Press in: Beside the spine." in titles
    )


def diagram_label_sizes(pdf: Path, names: set[str]) -> list[float]:
    import pymupdf

    sizes = []
    with pymupdf.open(pdf) as document:
        for page in document:
            for block in page.get_text("dict")["blocks"]:
                for line in block.get("lines", []):
                    sizes += [s["size"] for s in line["spans"] if s["text"].strip() in names]
    return sizes


NARROW = """
kind: zones
zones:
  - id: upper
    name: Upper back
    shapes:
      - polygon: [[40, 40], [80, 40], [80, 80], [40, 80]]
  - id: lower
    name: Lower back
    shapes:
      - polygon: [[60, 80], [60.5, 80], [60.5, 130], [60, 130]]
"""


def narrowest_zone_mm(pdf: Path) -> float:
    """The width of the narrowest tall outline drawn on a PDF's first page, in mm."""
    import pymupdf

    with pymupdf.open(pdf) as document:
        rects = [d["rect"] for d in document[0].get_drawings() if d["type"] == "s"]
    widths = [r.width for r in rects if r.height > 20 and r.width > 0.01]
    return min(widths) * 25.4 / 72


@pytest.mark.slow
@pytest.mark.parametrize("card_size", sorted(CARD_SIZES))
def test_map_labels_and_zones_are_readable_at_arms_length_on_every_card_size(
    tiny_copy, tmp_path, card_size
):
    write(tiny_copy / "content" / "zones.yaml", NARROW)  # 'lower' half a unit wide
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out, card_size=card_size, jobs=1))
    names = {"Upper back", "Lower back", "Works on", "Direction"}
    card = diagram_label_sizes(out / "cards" / "gliding.pdf", names)
    assert card and min(card) >= 7.0, card
    booklet = diagram_label_sizes(out / "handbook.pdf", names)
    assert booklet and min(booklet) >= 8.0, booklet
    # Drawn at the minimum width, the narrow zone still shows its dots (at 7 pt
    # labels a unit is 0.67 pt, so 8 units are 1.9 mm).
    assert narrowest_zone_mm(out / "cards" / "gliding.pdf") >= 1.8


def test_map_labels_are_readable_on_an_a6_card_and_in_the_booklet(tiny_build):
    out, _ = tiny_build
    names = {"Upper back", "Lower back", "Works on", "Direction"}
    card = diagram_label_sizes(out / "cards" / "gliding.pdf", names)
    assert card and min(card) >= 7.0, card
    booklet = diagram_label_sizes(out / "handbook.pdf", names)
    assert booklet and min(booklet) >= 8.0, booklet


def figure_alternatives(pdf: Path) -> list[str]:
    """The /Alt text of every Figure in a tagged PDF's structure tree."""
    import pikepdf

    found = []
    with pikepdf.open(pdf) as document:
        for obj in document.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/S") == "/Figure" and "/Alt" in obj:
                found.append(str(obj["/Alt"]))
    return found


@pytest.mark.slow
def test_a_tagged_booklet_gives_each_map_its_words_as_alternative_text(tiny_copy, tmp_path):
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out, pdf_variant="pdf/ua-1", jobs=1))
    alternatives = figure_alternatives(out / "handbook.pdf")
    assert "Gliding. Works on: Upper back, Lower back. Direction: Upper back downward." in (
        alternatives
    ), alternatives
