"""Diagrams drawn from the content: body maps and routine timelines, as inline SVG.

Every function here is pure: it takes model objects and returns an SVG string
wrapped in :class:`markupsafe.Markup`, with all text escaped. The pictures
must survive black-and-white printing, so no meaning rests on colour alone:
zones to keep off are hatched, zones worked are dotted, every highlighted zone
is named beside the figure, and timeline steps carry a pattern and a number.

No colour is written here: the shapes carry classes (``zone work``,
``keep-off stop``, ``shaft``, ``fill-3``...) and each SVG carries the
stylesheet that colours them (:class:`DiagramStyle`, made from the theme's
``styles/diagrams.css``), since WeasyPrint draws an inline SVG with its own
``<style>`` only.

Zone geometry comes from the content (``shapes`` in ``content/zones.yaml``) in
the fixed frame of :data:`handbook.content.model.MAP_WIDTH` x :data:`MAP_HEIGHT`; the
body outline behind the zones is drawn here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from handbook.content.labels import FALLBACK, catalogue
from handbook.content.model import (
    MAP_HEIGHT,
    MAP_WIDTH,
    Labels,
    Routine,
    RoutineStep,
    SafetyTopic,
    Shape,
    Stroke,
    Technique,
    Zone,
)
from handbook.design import TIMELINE_PATTERNS

MIDLINE = MAP_WIDTH / 2
LINE_SPACING = 1.19  # distance between label lines, in label sizes
DEFAULT_LABELS = Labels(**catalogue(FALLBACK))


@dataclass(frozen=True)
class DiagramStyle:
    """How the diagrams look: the stylesheet every SVG carries, and the size of
    its labels in map units (the layout makes room for them)."""

    css: str
    label_size: float

    @property
    def line(self) -> float:
        return self.label_size * LINE_SPACING


# The outline of a torso seen from behind (or in front), in map units: the
# right half, from the top of the neck to the bottom edge; the left is mirrored.
_TORSO_RIGHT = [
    (66, 27), (67, 36), (74, 39), (86, 41), (96, 44), (101, 49), (102, 57),
    (97, 66), (95, 82), (92, 104), (95, 122), (98, 140), (98, 154),
]  # fmt: skip
_ARM_RIGHT = [(103, 50), (107, 58), (109, 80), (111, 104), (112, 126),
              (105, 127), (103, 104), (100, 82), (99, 66)]  # fmt: skip


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


# --- public API ---------------------------------------------------------------


def body_map(
    zones: Sequence[Zone],
    item: Technique | SafetyTopic,
    style: DiagramStyle,
    labels: Labels = DEFAULT_LABELS,
) -> Markup:
    """The body map for a technique (zones worked, strokes, zones to keep off)
    or a safety topic (its zones, marked by severity). Empty if nothing to show."""
    if isinstance(item, Technique):
        work, keep_off, strokes, tone = item.zones, item.avoid_zones, item.strokes, "stop"
        keep_off_label = labels.avoid_zones
    else:
        work, keep_off, strokes = [], item.zones, []
        tone = "caution" if item.severity == "caution" else "stop"
        keep_off_label = labels.safety_zones
    return draw_body_map(
        zones,
        style,
        work=work,
        keep_off=keep_off,
        strokes=strokes,
        labels=labels,
        keep_off_label=keep_off_label,
        tone=tone,
        key=item.id,
        title=item.name if isinstance(item, Technique) else item.title,
    )


def draw_body_map(
    zones: Sequence[Zone],
    style: DiagramStyle,
    *,
    work: Sequence[str] = (),
    keep_off: Sequence[str] = (),
    strokes: Sequence[Stroke] = (),
    labels: Labels = DEFAULT_LABELS,
    keep_off_label: str | None = None,
    tone: str = "stop",
    key: str = "map",
    title: str = "",
) -> Markup:
    """A body map with the zones in ``work`` dotted, those in ``keep_off``
    hatched, an arrow for every stroke, and each highlighted zone named.

    The key names the hatched zones ``keep_off_label`` (by default, a technique's
    word for them)."""
    by_id = {z.id: z for z in zones}
    shown = [by_id[z] for z in dict.fromkeys([*work, *keep_off]) if z in by_id]
    if not shown:
        return Markup("")
    views = [v for v in ("back", "front") if any(z.view == v for z in shown)]
    panel_width = MAP_WIDTH + 6
    figure_width = panel_width * len(views)
    column = figure_width + 14
    keep_off_label = keep_off_label or labels.avoid_zones
    legend = _legend_rows(labels, keep_off_label, bool(work), bool(keep_off), bool(strokes))
    callouts = _callouts(shown, set(keep_off), column, len(legend) * style.line + 6, style)
    widths = [_text_width(line, style) for c in callouts for line in c.lines]
    widths += [15 + _text_width(text, style) for _, text in legend]
    width = column + max(widths) + 2
    height = MAP_HEIGHT
    p = f"m-{key}"
    out = [_svg_open(width, height, title, "body-map", style), _defs(p, tone)]
    for index, view in enumerate(views):
        dx = index * panel_width
        out.append(f'<g class="view view-{view}" transform="translate({dx:g} 0)">')
        out.append(_outline())
        for role, ids in (("work", work), ("keep-off", keep_off)):
            for zone in (by_id[z] for z in ids if z in by_id and by_id[z].view == view):
                out.append(_zone(zone, role, p))
        for stroke in strokes:
            zone = by_id.get(stroke.zone)
            if zone is not None and zone.view == view:
                out.append(_arrows(zone, stroke))
        if len(views) > 1:
            caption = labels.view_back if view == "back" else labels.view_front
            out.append(
                _text(MAP_WIDTH - 4, style.label_size, caption, style, anchor="end", strong=True)
            )
        out.append("</g>")
    for callout in callouts:
        out.append(callout.svg(views, panel_width, style))
    out.append(_legend(legend, column, p, style))
    out.append("</svg>")
    return Markup("".join(out))


def timeline(
    routine: Routine, names: dict[str, str], style: DiagramStyle, order: Sequence[str] = ()
) -> Markup:
    """A bar of a timed routine's steps, each as wide as its time.

    ``names`` maps item ids to the names printed in the key (a free-text step
    is named by its title); ``order`` says which pattern each item prefers, so
    an item looks the same in every routine of the handbook where it can.
    """
    width, bar_h, top = 300.0, 20.0, 2.0
    label = style.label_size
    total = sum(_minutes(step) for step in routine.steps)
    techniques = list(dict.fromkeys(_key(s) for s in routine.steps))
    swatches = _swatches(techniques, [*order, *(t for t in techniques if t not in order)])
    p = f"t-{routine.id}"
    out: list[str] = []
    x = 0.0
    boundaries, elapsed = [0.0], [0.0]
    for number, step in enumerate(routine.steps, start=1):
        w = width * _minutes(step) / total
        pattern = f"{p}-{swatches[_key(step)]}"
        out.append(
            f'<rect class="segment" data-item="{escape(_key(step))}" '
            f'data-minutes="{_minutes(step):g}" x="{x:.2f}" y="{top:g}" width="{w:.2f}" '
            f'height="{bar_h:g}" fill="url(#{pattern})"/>'
        )
        out.append(
            f'<circle class="step-number" cx="{x + w / 2:.2f}" cy="{top + bar_h / 2:g}" r="6"/>'
        )
        out.append(
            _text(
                x + w / 2, top + bar_h / 2 + 3.3, str(number), style, anchor="middle", strong=True
            )
        )
        x += w
        boundaries.append(x)
        elapsed.append(elapsed[-1] + _minutes(step))
    ticks = _tick_texts(elapsed)
    widths = [_text_width(text, style) for text in ticks]
    labelled = _spaced(boundaries, widths, label / 2)
    axis_y = top + bar_h + 2
    out.append(f'<line class="axis" x1="0" y1="{axis_y:g}" x2="{width:g}" y2="{axis_y:g}"/>')
    for i, (bx, tick) in enumerate(zip(boundaries, ticks, strict=True)):
        out.append(
            f'<line class="axis" x1="{bx:.2f}" y1="{axis_y:g}" x2="{bx:.2f}" y2="{axis_y + 3:g}"/>'
        )
        if i in labelled:
            anchor = "start" if i == 0 else ("end" if i == len(boundaries) - 1 else "middle")
            out.append(_text(bx, axis_y + 3 + label, tick, style, anchor=anchor))
    key_y = axis_y + 3 + label + 14
    key, key_h = _timeline_key(techniques, names, swatches, p, key_y, width, style)
    out.extend(key)
    height = key_y + key_h
    defs = "".join(_fill_pattern(f"{p}-{i}", i) for i in sorted(set(swatches.values())))
    head = _svg_open(width, height, routine.title, "timeline", style)
    return Markup(f"{head}<defs>{defs}</defs>{''.join(out)}</svg>")


def _key(step: RoutineStep) -> str:
    """What a step is, for its pattern: the item it refers to, or its own title."""
    return step.item or step.title or ""


def _minutes(step: RoutineStep) -> float:
    return (step.seconds or 0) / 60


def _swatches(keys: list[str], order: list[str]) -> dict[str, int]:
    """A pattern number for each of a routine's items, no two alike.

    Each item takes the pattern of its place in ``order`` (the same in every
    routine), or the next one free when another item of this routine has it.
    """
    taken: dict[str, int] = {}
    for key in keys:
        number = order.index(key)
        while number in taken.values():
            number += 1
        taken[key] = number
    return taken


def _tick_texts(elapsed: list[float]) -> list[str]:
    """The axis labels: whole minutes as numbers, else every label as minutes:seconds."""
    if all(float(minutes).is_integer() for minutes in elapsed):
        return [f"{minutes:g}" for minutes in elapsed]
    seconds = [round(minutes * 60) for minutes in elapsed]
    return [f"{s // 60}:{s % 60:02d}" for s in seconds]


def _spaced(positions: list[float], widths: list[float], gap: float) -> set[int]:
    """Indexes of the positions to label without two labels meeting: the first, the
    last, and those between that leave ``gap`` to their labelled neighbours.

    The first label starts at its position, the last ends at it, the others are
    centred on theirs; ``widths`` are the labels' widths.
    """
    last = len(positions) - 1

    def span(i: int) -> tuple[float, float]:
        if i == 0:
            return positions[0], positions[0] + widths[0]
        if i == last:
            return positions[last] - widths[last], positions[last]
        return positions[i] - widths[i] / 2, positions[i] + widths[i] / 2

    chosen, previous_end = {0, last}, span(0)[1]
    for i in range(1, last):
        start, end = span(i)
        if start - previous_end >= gap and span(last)[0] - end >= gap:
            chosen.add(i)
            previous_end = end
    return chosen


# --- body map parts -------------------------------------------------------------


@dataclass(frozen=True)
class _Callout:
    zone: Zone
    keep_off: bool
    lines: tuple[str, ...]
    x: float
    y: float  # baseline of the first line

    def svg(self, views: list[str], panel_width: float, style: DiagramStyle) -> str:
        anchor = _anchor(self.zone)
        parts = []
        if anchor is not None:
            ax, ay = anchor
            ax += views.index(self.zone.view) * panel_width
            ly = self.y - style.label_size * 0.35
            parts.append(
                f'<polyline class="leader" points="{ax:.1f},{ay:.1f} {self.x - 10:.1f},{ly:.1f} '
                f'{self.x - 3:.1f},{ly:.1f}" fill="none"/>'
                f'<circle class="leader-dot" cx="{ax:.1f}" cy="{ay:.1f}" r="1.6"/>'
            )
        for i, line in enumerate(self.lines):
            parts.append(_text(self.x, self.y + i * style.line, line, style, strong=self.keep_off))
        role = "keep-off" if self.keep_off else "work"
        return f'<g class="callout {role}" data-zone="{escape(self.zone.id)}">{"".join(parts)}</g>'


def _callouts(
    zones: list[Zone], keep_off: set[str], x: float, top: float, style: DiagramStyle
) -> list[_Callout]:
    """Zone names in a column beside the figure, below ``top``, in the order of
    their anchors, pushed apart so they never overlap and kept inside the
    figure's height."""
    size, line = style.label_size, style.line
    items = sorted(zones, key=lambda z: (_anchor(z) or (0, MAP_HEIGHT))[1])
    wrapped = [_wrap(z.name) for z in items]
    heights = [len(lines) * line for lines in wrapped]
    ys: list[float] = []
    cursor = top + size
    for zone, h in zip(items, heights, strict=True):
        wanted = (_anchor(zone) or (0, cursor))[1] + size * 0.35
        ys.append(max(wanted, cursor))
        cursor = ys[-1] + h + 2
    overflow = cursor - 2 - MAP_HEIGHT
    if overflow > 0:  # shift up from the bottom, keeping the gaps
        limit = MAP_HEIGHT - heights[-1] + line
        for i in range(len(ys) - 1, -1, -1):
            ys[i] = min(ys[i], limit)
            if i:
                limit = ys[i] - heights[i - 1] - 2
    return [
        _Callout(zone, zone.id in keep_off, tuple(lines), x, y)
        for zone, lines, y in zip(items, wrapped, ys, strict=True)
    ]


def _shapes(zone: Zone) -> list[Shape]:
    """The zone's shapes, with their mirror images if the zone is mirrored."""
    shapes = list(zone.shapes)
    if zone.mirror:
        for shape in zone.shapes:
            if shape.polygon is not None:
                points = [(MAP_WIDTH - x, y) for x, y in shape.polygon]
                shapes.append(Shape(polygon=points))
            else:
                cx, cy, rx, ry = shape.ellipse  # type: ignore[misc]
                shapes.append(Shape(ellipse=(MAP_WIDTH - cx, cy, rx, ry)))
    return shapes


def _box(shape: Shape) -> Box:
    if shape.polygon is not None:
        xs = [x for x, _ in shape.polygon]
        ys = [y for _, y in shape.polygon]
        return Box(min(xs), min(ys), max(xs), max(ys))
    cx, cy, rx, ry = shape.ellipse  # type: ignore[misc]
    return Box(cx - rx, cy - ry, cx + rx, cy + ry)


def _anchor(zone: Zone) -> tuple[float, float] | None:
    """Where a zone's leader line ends: inside its right-most shape."""
    boxes = [_box(s) for s in _shapes(zone)]
    if not boxes:
        return None
    box = max(boxes, key=lambda b: b.cx)
    return (box.cx + box.width / 4, box.cy)


def _zone(zone: Zone, role: str, p: str) -> str:
    fill = f"url(#{p}-{role})"
    parts = []
    for shape in _shapes(zone):
        common = f'fill="{fill}"'
        if shape.polygon is not None:
            points = " ".join(f"{x:g},{y:g}" for x, y in shape.polygon)
            parts.append(f'<polygon points="{points}" {common}/>')
        else:
            cx, cy, rx, ry = shape.ellipse  # type: ignore[misc]
            parts.append(f'<ellipse cx="{cx:g}" cy="{cy:g}" rx="{rx:g}" ry="{ry:g}" {common}/>')
    return f'<g class="zone {role}" data-zone="{escape(zone.id)}">{"".join(parts)}</g>'


def _arrows(zone: Zone, stroke: Stroke) -> str:
    """One arrow per shape of the zone, pointing the stroke's way."""
    parts = []
    for box in (_box(s) for s in _shapes(zone)):
        parts.extend(_arrow_paths(box, stroke.direction))
    return (
        f'<g class="arrow" data-zone="{escape(zone.id)}" data-direction="{stroke.direction}">'
        f"{''.join(parts)}</g>"
    )


def _arrow_paths(box: Box, direction: str) -> list[str]:
    if direction == "circular":
        return [_circle_arrow(box)]
    central = abs(box.cx - MIDLINE) < 2
    if direction in ("outward", "inward"):
        sides = [-1, 1] if central else [1 if box.cx > MIDLINE else -1]
        paths = []
        for side in sides:
            half = min(box.width * (0.35 if central else 0.7), 26)
            start = box.cx if central else box.cx - side * half / 2
            a, b = (start, start + side * half)
            if direction == "inward":
                a, b = b, a
            paths.append(_straight(a, box.cy, b, box.cy))
        return paths
    vertical = direction in ("up", "down")
    length = max(min((box.height if vertical else box.width) * 0.8, 30), 16)
    sign = 1 if direction in ("down", "right") else -1
    if vertical:
        y0 = box.cy - sign * length / 2
        return [_straight(box.cx, y0, box.cx, y0 + sign * length)]
    x0 = box.cx - sign * length / 2
    return [_straight(x0, box.cy, x0 + sign * length, box.cy)]


def _straight(x0: float, y0: float, x1: float, y1: float) -> str:
    angle = math.atan2(y1 - y0, x1 - x0)
    shaft_end = (x1 - 4.5 * math.cos(angle), y1 - 4.5 * math.sin(angle))
    return (
        f'<path class="halo" d="M{x0:.1f} {y0:.1f} L{shaft_end[0]:.1f} {shaft_end[1]:.1f}" '
        'fill="none"/>'
        f'<path class="shaft" d="M{x0:.1f} {y0:.1f} L{shaft_end[0]:.1f} {shaft_end[1]:.1f}" '
        'fill="none"/>' + _head(x1, y1, angle)
    )


def _circle_arrow(box: Box) -> str:
    """Three quarters of a circle, clockwise, with a head at the end."""
    r = max(min(box.width, box.height) * 0.3, 3.5)
    cx, cy = box.cx, box.cy
    start, end = math.radians(-90), math.radians(180)
    sx, sy = cx + r * math.cos(start), cy + r * math.sin(start)
    ex, ey = cx + r * math.cos(end - 0.35), cy + r * math.sin(end - 0.35)
    arc = f"M{sx:.1f} {sy:.1f} A{r:.1f} {r:.1f} 0 1 1 {ex:.1f} {ey:.1f}"
    tangent = end + math.pi / 2  # clockwise in SVG's y-down frame
    hx, hy = cx + r * math.cos(end), cy + r * math.sin(end)
    return (
        f'<path class="halo" d="{arc}" fill="none"/>'
        f'<path class="shaft" d="{arc}" fill="none"/>' + _head(hx, hy, tangent)
    )


def _head(x: float, y: float, angle: float) -> str:
    size, spread = 6.0, 0.45
    left = (x - size * math.cos(angle - spread), y - size * math.sin(angle - spread))
    right = (x - size * math.cos(angle + spread), y - size * math.sin(angle + spread))
    points = f"{x:.1f},{y:.1f} {left[0]:.1f},{left[1]:.1f} {right[0]:.1f},{right[1]:.1f}"
    return f'<polygon class="head" points="{points}"/>'


def _outline() -> str:
    torso = _TORSO_RIGHT + [(MAP_WIDTH - x, y) for x, y in reversed(_TORSO_RIGHT)]
    arm_left = [(MAP_WIDTH - x, y) for x, y in _ARM_RIGHT]
    return (
        '<g class="outline">'
        f'<ellipse cx="{MIDLINE:g}" cy="15" rx="10.5" ry="12.5"/>'
        f'<polygon points="{_points(torso)}"/>'
        f'<polygon points="{_points(_ARM_RIGHT)}"/>'
        f'<polygon points="{_points(arm_left)}"/>'
        "</g>"
    )


def _points(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:g},{y:g}" for x, y in points)


def _defs(p: str, tone: str) -> str:
    """The dots of zones worked and the hatching of zones to keep off, in the tone."""
    return (
        "<defs>"
        f'<pattern id="{p}-work" class="work" patternUnits="userSpaceOnUse" width="4" height="4">'
        '<rect class="ground" width="4" height="4"/>'
        '<circle class="mark" cx="2" cy="2" r="0.85"/></pattern>'
        f'<pattern id="{p}-keep-off" class="keep-off {tone}" patternUnits="userSpaceOnUse" '
        'width="3.5" height="3.5" patternTransform="rotate(45)">'
        '<rect class="ground" width="3.5" height="3.5"/>'
        '<line class="mark" x1="0" y1="0" x2="0" y2="3.5" stroke-width="1.5"/></pattern>'
        "</defs>"
    )


def _legend_rows(
    labels: Labels, keep_off_label: str, work: bool, keep_off: bool, arrows: bool
) -> list[tuple[str, str]]:
    """The key to the map, as (kind of swatch, text) rows, only for what is drawn."""
    rows = [("work", labels.zones)] if work else []
    rows += [("keep-off", keep_off_label)] if keep_off else []
    rows += [("arrow", labels.direction)] if arrows else []
    return rows


def _legend(rows: list[tuple[str, str]], x: float, p: str, style: DiagramStyle) -> str:
    """The key at the top of the label column, above the zone names."""
    parts = []
    for index, (swatch, text) in enumerate(rows):
        y = style.label_size + index * style.line
        if swatch == "arrow":
            parts.append(_straight(x, y - 3.5, x + 12, y - 3.5))
        else:
            parts.append(
                f'<rect class="swatch" x="{x:g}" y="{y - 8:g}" width="12" height="9" '
                f'fill="url(#{p}-{swatch})"/>'
            )
        parts.append(_text(x + 15, y, text, style, italic=True))
    return f'<g class="legend">{"".join(parts)}</g>'


# --- timeline parts -------------------------------------------------------------


def _fill_pattern(pattern_id: str, index: int) -> str:
    """Timeline pattern ``index``: a ground and marks (coloured by ``.fill-N``).

    Past the last of the TIMELINE_PATTERNS they come round again, each round
    coarser and turned, so no two numbers give the same pattern.
    """
    round_, base = divmod(index, len(TIMELINE_PATTERNS))
    line = '<line class="mark" x1="{}" y1="{}" x2="{}" y2="{}" stroke-width="{}"/>'
    marks = {
        "dots": '<circle class="mark" cx="3" cy="3" r="1"/>',
        "diagonal": line.format(0, 6, 6, 0, 1),
        "horizontal": line.format(0, 3, 6, 3, 1),
        "cross": line.format(0, 0, 6, 6, 0.7) + line.format(0, 6, 6, 0, 0.7),
        "vertical": line.format(3, 0, 3, 6, 1),
        "grid": line.format(3, 0, 3, 6, 0.5) + line.format(0, 3, 6, 3, 0.5),
        "bricks": line.format(0, 1.5, 3.5, 1.5, 0.8) + line.format(3, 4.5, 6, 4.5, 0.8),
    }[TIMELINE_PATTERNS[base]]
    turned = (
        f' patternTransform="rotate({30 * round_}) scale({1 + 0.6 * round_:g})"' if round_ else ""
    )
    return (
        f'<pattern id="{pattern_id}" class="fill-{base}" patternUnits="userSpaceOnUse" '
        f'width="6" height="6"{turned}><rect class="ground" width="6" height="6"/>{marks}</pattern>'
    )


def _timeline_key(
    techniques: list[str],
    names: dict[str, str],
    swatches: dict[str, int],
    p: str,
    y: float,
    width: float,
    style: DiagramStyle,
) -> tuple[list[str], float]:
    """Swatches with technique names, wrapped onto as many rows as needed."""
    parts: list[str] = []
    x, row = 0.0, 0
    for technique in techniques:
        name = names.get(technique, technique)
        item_width = 15 + _text_width(name, style) + 10
        if x > 0 and x + item_width > width:
            x, row = 0.0, row + 1
        base = y + row * (style.line + 2)
        pattern = f"{p}-{swatches[technique]}"
        parts.append(
            f'<rect class="swatch" x="{x:g}" y="{base - 8:g}" width="12" height="9" '
            f'fill="url(#{pattern})"/>'
        )
        parts.append(_text(x + 15, base, name, style))
        x += item_width
    return parts, (row + 1) * (style.line + 2)


# --- text and the svg element -------------------------------------------------------


def _svg_open(width: float, height: float, title: str, css_class: str, style: DiagramStyle) -> str:
    classes = " ".join(c for c in ("diagram", css_class) if c)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(classes)}" '
        f'width="{width:.1f}" height="{height:.1f}" viewBox="0 0 {width:.1f} {height:.1f}" '
        'role="img">'
        f"<title>{escape(title)}</title>"
        f"<style>{escape(style.css)}</style>"
    )


def _text(
    x: float,
    y: float,
    text: str,
    style: DiagramStyle,
    anchor: str = "start",
    strong: bool = False,
    italic: bool = False,
) -> str:
    classes = " ".join(c for c, on in (("strong", strong), ("italic", italic)) if on)
    shown = f' class="{classes}"' if classes else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}"{shown} font-size="{style.label_size:g}" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def _text_width(text: str, style: DiagramStyle) -> float:
    """A generous estimate of a label's width in map units (no font metrics here)."""
    return len(text) * style.label_size * 0.52


def _wrap(text: str, limit: int = 20) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [text]
