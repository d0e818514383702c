"""Body maps and timelines are drawn from the content, as well-formed, escaped SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from handbook.build import BuildOptions
from handbook.content.drawings import LoadedDrawing, builtin_drawing, parse_drawing
from handbook.content.model import (
    Drawing,
    Routine,
    RoutineStep,
    SafetyTopic,
    Shape,
    Stroke,
    Technique,
    Zone,
)
from handbook.content.validate import load_handbook
from handbook.errors import HandbookError
from handbook.html.diagrams import DiagramStyle, body_map, draw_map, timeline
from handbook.html.render import Renderer
from handbook.project import open_project
from tests.conftest import REPO, TINY, write

SVG = "{http://www.w3.org/2000/svg}"

LEFT = Zone(
    id="left",
    name="Left side",
    drawing="back",
    shapes=[Shape(polygon=[(20, 60), (50, 60), (50, 100)])],
)
BOTH = Zone(
    id="both",
    name="Both sides",
    drawing="back",
    mirror=True,
    shapes=[Shape(polygon=[(70, 40), (90, 40), (90, 80)])],
)
ROUND = Zone(id="round", name="Round", drawing="back", shapes=[Shape(ellipse=(60, 130, 10, 8))])
ZONES = [LEFT, BOTH, ROUND]
DRAWINGS = {"back": builtin_drawing()}


def default_style() -> DiagramStyle:
    """The diagrams' style in the default theme, as the build makes it."""
    project = open_project(TINY)
    return Renderer(project).diagram_style(load_handbook(project).design)


STYLE = default_style()


def technique(**changes) -> Technique:
    fields = {
        "kind": "technique",
        "id": "demo",
        "name": "Demo",
        "purpose": "Shows arrows.",
        "steps": ["One step."],
        "zones": ["left", "both"],
        "avoid_zones": ["round"],
        "strokes": [
            Stroke(zone="left", direction="down"),
            Stroke(zone="both", direction="outward"),
        ],
    }
    return Technique(**{**fields, **changes})


def parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))


def groups(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if css_class in g.get("class", "").split()]


def shaft_ends(group: ET.Element) -> list[tuple[float, float, float, float]]:
    """(x0, y0, x1, y1) of each straight arrow shaft in an arrow group."""
    ends = []
    for path in group.iter(f"{SVG}path"):
        if path.get("class") == "shaft":
            start, end = path.get("d")[1:].split(" L")
            x0, y0 = map(float, start.split())
            x1, y1 = map(float, end.split())
            ends.append((x0, y0, x1, y1))
    return ends


def test_body_map_is_well_formed_svg_with_a_title():
    root = parse(body_map(ZONES, DRAWINGS, technique(), STYLE))
    assert root.tag == f"{SVG}svg"
    # The title is the figure's alternative text in a tagged PDF: the map in words.
    assert root.find(f"{SVG}title").text == (
        "Demo. Works on: Left side, Both sides. Keep off: Round. "
        "Direction: Left side downward; Both sides outward."
    )


def test_safety_topic_marks_its_no_go_zones():
    topic = SafetyTopic(kind="safety", id="keep-off", title="Keep off", severity="stop")
    topic = topic.model_copy(update={"zones": ["round", "both"]})
    root = parse(body_map(ZONES, DRAWINGS, topic, STYLE))
    marked = {
        g.get("data-zone") for g in groups(root, "keep-off") if g.get("class") == "zone keep-off"
    }
    assert marked == {"round", "both"}
    assert not groups(root, "work")
    names = {t.text for g in groups(root, "callout") for t in g.iter(f"{SVG}text")}
    assert {"Round", "Both sides"} <= names


def test_hatching_is_a_pattern_so_it_survives_black_and_white():
    root = parse(body_map(ZONES, DRAWINGS, technique(), STYLE))
    zone = next(g for g in groups(root, "zone") if g.get("data-zone") == "round")
    fill = next(iter(zone)).get("fill")
    pattern_id = fill.removeprefix("url(#").removesuffix(")")
    pattern = next(p for p in root.iter(f"{SVG}pattern") if p.get("id") == pattern_id)
    assert pattern.find(f"{SVG}line") is not None  # hatch lines, not a flat colour


def test_colours_come_from_the_stylesheet_not_the_shapes():
    """Shapes carry classes only; the SVG's own <style> (diagrams.css with the
    design's values written in) colours them, so a theme or project restyles them."""
    root = parse(body_map(ZONES, DRAWINGS, technique(), STYLE))
    painted = [
        (element.tag, name)
        for element in root.iter()
        for name in ("fill", "stroke")
        if element.get(name, "none") != "none" and not element.get(name).startswith("url(")
    ]
    assert painted == []
    keep_off = next(p for p in root.iter(f"{SVG}pattern") if p.get("id").endswith("-keep-off"))
    assert keep_off.get("class") == "keep-off stop"
    assert {e.get("class") for e in keep_off} == {"ground", "mark"}
    style = root.find(f"{SVG}style").text
    assert "var(" not in style and "calc(" not in style
    assert ".keep-off.stop .mark { stroke: #7a0f0f; }" in style  # the default theme's stop


def test_a_caution_topic_hatches_in_the_caution_tone():
    topic = SafetyTopic(kind="safety", id="care", title="Care", severity="caution", zones=["round"])
    root = parse(body_map(ZONES, DRAWINGS, topic, STYLE))
    classes = {p.get("class") for p in root.iter(f"{SVG}pattern")}
    assert "keep-off caution" in classes


def test_safety_topic_without_zones_draws_nothing():
    topic = SafetyTopic(kind="safety", id="fever", title="Fever", severity="stop")
    assert str(body_map(ZONES, DRAWINGS, topic, STYLE)) == ""


def test_arrows_follow_the_strokes():
    root = parse(body_map(ZONES, DRAWINGS, technique(), STYLE))
    arrows = {g.get("data-zone"): g for g in groups(root, "arrow")}
    assert arrows["left"].get("data-direction") == "down"
    (x0, y0, x1, y1) = shaft_ends(arrows["left"])[0]
    assert x0 == x1 and y1 > y0
    # A mirrored zone gets one arrow per side, each pointing away from the midline.
    sides = shaft_ends(arrows["both"])
    assert len(sides) == 2
    for x0, _, x1, _ in sides:
        assert (x1 - x0) * (x0 - 60) > 0


def test_editing_a_stroke_changes_the_picture():
    before = body_map(ZONES, DRAWINGS, technique(), STYLE)
    edited = technique(strokes=[Stroke(zone="left", direction="up")])
    after = body_map(ZONES, DRAWINGS, edited, STYLE)
    assert before != after
    arrows = groups(parse(after), "arrow")
    assert [g.get("data-direction") for g in arrows] == ["up"]
    (_, y0, _, y1) = shaft_ends(arrows[0])[0]
    assert y1 < y0


def test_circular_strokes_draw_an_arc():
    root = parse(
        body_map(
            ZONES, DRAWINGS, technique(strokes=[Stroke(zone="round", direction="circular")]), STYLE
        )
    )
    arrow = groups(root, "arrow")[0]
    assert any(" A" in p.get("d", "") for p in arrow.iter(f"{SVG}path"))


def test_text_is_escaped():
    zone = Zone(
        id="odd",
        name='<b>Hips & "more"</b>',
        drawing="back",
        shapes=[Shape(ellipse=(60, 80, 9, 9))],
    )
    item = technique(name="A <script>", zones=["odd"], strokes=[], avoid_zones=[])
    svg = str(body_map([zone], DRAWINGS, item, STYLE))
    assert "<script>" not in svg and "<b>" not in svg
    root = parse(svg)
    assert root.find(f"{SVG}title").text == 'A <script>. Works on: <b>Hips & "more"</b>.'
    callouts = [" ".join(t.text for t in g.iter(f"{SVG}text")) for g in groups(root, "callout")]
    assert callouts == ['<b>Hips & "more"</b>']


def test_zones_on_two_drawings_get_a_panel_each_captioned_from_labels():
    front = LoadedDrawing(
        Drawing(id="front", file="front.svg", view="front"),
        parse_drawing(b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 60 80"/>', "x"),
    )
    chest = Zone(id="chest", name="Chest", drawing="front", shapes=[Shape(ellipse=(30, 30, 8, 5))])
    drawings = {**DRAWINGS, "front": front}
    svg = draw_map([LEFT, chest], drawings, STYLE, work=["left", "chest"])
    root = parse(svg)
    panels = [g.get("class") for g in groups(root, "drawing")]
    assert panels == ["drawing drawing-back", "drawing drawing-front"]
    captions = [t.text for t in groups(root, "map")[0].findall(f"{SVG}text")]
    assert captions == ["Back", "Front"]


def test_timeline_segments_are_proportional_to_minutes():
    routine = Routine(
        kind="routine",
        id="r",
        title="Evening & more",
        minutes=10,
        steps=[
            RoutineStep(item="a", minutes=2),
            RoutineStep(item="b", minutes=5),
            RoutineStep(item="a", minutes=3),
        ],
    )
    root = parse(timeline(routine, {"a": "Alpha <1>", "b": "Beta"}, STYLE))
    segments = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "segment"]
    widths = [float(r.get("width")) for r in segments]
    assert [r.get("data-item") for r in segments] == ["a", "b", "a"]
    ratios = [w / m for w, m in zip(widths, (2, 5, 3), strict=True)]
    assert max(ratios) - min(ratios) < 0.05
    # Same technique, same pattern; different technique, different pattern.
    fills = [r.get("fill") for r in segments]
    assert fills[0] == fills[2] != fills[1]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Alpha <1>" in texts
    assert root.find(f"{SVG}title").text == "Evening & more"


def test_default_booklet_places_a_diagram_for_every_technique_routine_and_mapped_topic():
    project = open_project(REPO)
    handbook = load_handbook(project)
    html = Renderer(project).booklet(handbook, BuildOptions().format_for(handbook)).html
    mapped = [s for s in handbook.safety if s.zones]
    expected = len(handbook.techniques) + len(handbook.routines) + len(mapped)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == expected


def test_zone_shape_needs_exactly_one_kind(tiny_copy):
    write(
        tiny_copy / "content" / "zones.yaml",
        """
        kind: zones
        zones:
          - id: spine
            name: Spine
            shapes:
              - polygon: [[1, 1], [2, 2], [3, 1]]
                ellipse: [60, 60, 5, 5]
        """,
    )
    with pytest.raises(HandbookError) as caught:
        load_handbook(open_project(tiny_copy))
    assert any(
        "exactly one of 'polygon' or 'ellipse'" in p.message and p.path == "content/zones.yaml"
        for p in caught.value.problems
    )


def test_a_narrow_map_puts_its_key_under_the_drawing_not_beside_it():
    wide = parse(body_map(ZONES, DRAWINGS, technique(), STYLE))
    narrow = parse(body_map(ZONES, DRAWINGS, technique(), STYLE, narrow=True))
    assert float(narrow.get("width")) < float(wide.get("width"))
    assert float(narrow.get("height")) > float(wide.get("height"))
    key = groups(narrow, "legend")[0]
    lowest_label = max(
        float(t.get("y")) for g in groups(narrow, "callout") for t in g.iter(f"{SVG}text")
    )
    assert min(float(t.get("y")) for t in key.iter(f"{SVG}text")) > lowest_label


def test_a_map_on_a_wide_drawing_is_landscape_so_the_booklet_sets_it_above_the_steps():
    bike = LoadedDrawing(
        Drawing(id="bike", file="bike.svg"),
        parse_drawing(b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 120"/>', "x"),
    )
    wheel = Zone(id="wheel", name="Wheel", drawing="bike", shapes=[Shape(ellipse=(50, 80, 30, 30))])
    on_bike = technique(zones=["wheel"], avoid_zones=[], strokes=[])
    wide = parse(body_map([wheel], {"bike": bike}, on_bike, STYLE, narrow=True))
    upright = parse(body_map(ZONES, DRAWINGS, technique(), STYLE, narrow=True))
    assert wide.get("class").split() == ["diagram", "body-map", "landscape"]
    assert upright.get("class").split() == ["diagram", "body-map"]
    front = LoadedDrawing(
        Drawing(id="front", file="front.svg", view="front"),
        parse_drawing(b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 160"/>', "x"),
    )
    chest = Zone(id="chest", name="Chest", drawing="front", shapes=[Shape(ellipse=(60, 50, 8, 5))])
    both = technique(zones=["left", "chest"], avoid_zones=[], strokes=[])
    side_by_side = parse(body_map([LEFT, chest], {**DRAWINGS, "front": front}, both, STYLE))
    assert "landscape" in side_by_side.get("class").split()
