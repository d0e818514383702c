"""Diagrams drawn from the content: maps on drawings and routine timelines, as inline SVG.

Every function here is pure: it takes model objects and returns an SVG string
wrapped in :class:`markupsafe.Markup`, with all text escaped. The pictures
must survive black-and-white printing, so no meaning rests on colour alone:
zones to keep off are hatched, zones worked are dotted, pressing in is a
crossed circle, every highlighted zone is named beside the picture, and
timeline steps carry a pattern and a number.

No colour is written here: the shapes carry classes (``zone work``,
``keep-off stop``, ``shaft``, ``drawing``, ``fill-3``...) and each SVG carries
the stylesheet that colours them (:class:`DiagramStyle`, made from the
theme's ``styles/diagrams.css``), since WeasyPrint draws an inline SVG with
its own ``<style>`` only. Nor is its printed size: the ``<svg>`` says how
many label sizes wide and high it is (``--diagram-width``,
``--diagram-height``), and the page's stylesheet sets how large a label
prints, so every label of every map prints at the size the stylesheet asks.

A map shows one or more of the project's drawings (:mod:`handbook.content.drawings`)
side by side, each scaled to :data:`PANEL_HEIGHT` units, with the zones'
shapes (given in the drawing's own viewBox units) mapped onto it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from handbook.content.drawings import LoadedDrawing
from handbook.content.labels import FALLBACK, catalogue
from handbook.content.model import (
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

LINE_SPACING = 1.19  # distance between label lines, in label sizes
DEFAULT_LABELS = Labels(**catalogue(FALLBACK))

PANEL_HEIGHT = 140.0  # every drawing is scaled to this height, in diagram units
PANEL_GAP = 10.0  # between drawings side by side
COLUMN_GAP = 14.0  # between the drawings and a column of labels (leaders run here)
LABEL_GAP = 2.0  # between two labels of a column
WRAP = 16  # characters on a line of a zone's label
# The narrowest a zone is drawn, in diagram units (a map prints at about 0.7 pt
# a unit): narrower, its dots or hatching would print as a plain line.
MIN_ZONE_WIDTH = 8.0
SWATCH = (12.0, 9.0)  # the key's swatches, width and height


@dataclass(frozen=True)
class DiagramStyle:
    """How the diagrams look: the stylesheet every SVG carries, and the size of
    its labels in diagram units (the layout makes room for them)."""

    css: str
    label_size: float

    @property
    def line(self) -> float:
        return self.label_size * LINE_SPACING


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
    drawings: Mapping[str, LoadedDrawing],
    item: Technique | SafetyTopic,
    style: DiagramStyle,
    labels: Labels = DEFAULT_LABELS,
    *,
    narrow: bool = False,
) -> Markup:
    """The map of a technique (zones worked, strokes, zones to keep off) or a
    safety topic (its zones, marked by severity). Empty if nothing to show.
    ``narrow`` keeps it as narrow as it can be (for a map beside text)."""
    if isinstance(item, Technique):
        work, keep_off, strokes, tone = item.zones, item.avoid_zones, item.strokes, "stop"
        keep_off_label = labels.avoid_zones
    else:
        work, keep_off, strokes = [], item.zones, []
        tone = "caution" if item.severity == "caution" else "stop"
        keep_off_label = labels.safety_zones
    return draw_map(
        zones,
        drawings,
        style,
        work=work,
        keep_off=keep_off,
        strokes=strokes,
        labels=labels,
        keep_off_label=keep_off_label,
        tone=tone,
        key=item.id,
        title=item.name if isinstance(item, Technique) else item.title,
        narrow=narrow,
    )


def draw_map(
    zones: Sequence[Zone],
    drawings: Mapping[str, LoadedDrawing],
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
    narrow: bool = False,
) -> Markup:
    """The drawings the zones in ``work`` and ``keep_off`` are on, side by side,
    with those zones dotted and hatched, a mark for every stroke, each zone
    named in a column beside the drawings, and a key (see :func:`_placed_legend`).

    The key names the hatched zones ``keep_off_label`` (by default, a
    technique's word for them). The SVG's title, which a tagged PDF gives as
    the figure's alternative text, says the same in words.
    """
    keep_off_label = keep_off_label or labels.avoid_zones
    layout = _layout(zones, drawings, work, keep_off, style, labels)
    if layout is None:
        return Markup("")
    p = f"m-{key}"
    into = any(s.direction == "into" for s in strokes)
    along = any(s.direction != "into" for s in strokes)
    rows = _legend_rows(labels, keep_off_label, bool(work), bool(keep_off), along, into)
    legend, shift, width, height = _placed_legend(layout, rows, p, style, narrow)
    alt = describe(layout.by_id, title, work, keep_off, strokes, labels, keep_off_label)
    css_class = "body-map landscape" if _landscape(layout) else "body-map"
    out = [_svg_open(width, height, alt, css_class, style), _defs(p, tone), legend]
    out.append(f'<g class="map" transform="translate({shift:.2f} 0)">')
    for panel in layout.panels:
        out.append(panel.svg(labels, style))
    for role, ids in (("work", work), ("keep-off", keep_off)):
        for zone_id in ids:
            if zone_id in layout.placed:
                out.append(_zone(layout.placed[zone_id], role, p))
    for stroke in strokes:
        if stroke.zone in layout.placed:
            out.append(_marks(layout.placed[stroke.zone], stroke))
    out.extend(callout.svg(style) for callout in layout.callouts)
    out.append("</g></svg>")
    return Markup("".join(out))


def _landscape(layout: Layout) -> bool:
    """Whether the map's drawings together are wider than high (a bicycle, a floor
    plan, a front and a back side by side): floated beside text, such a map would
    leave the text a sliver, so the stylesheet sets it above the text."""
    first, last = layout.panels[0], layout.panels[-1]
    return last.x + last.width - first.x > PANEL_HEIGHT


def describe(
    zones: Mapping[str, Zone],
    title: str,
    work: Sequence[str],
    keep_off: Sequence[str],
    strokes: Sequence[Stroke],
    labels: Labels,
    keep_off_label: str,
) -> str:
    """The map in words, for its alternative text: what is worked, what is kept
    off, which way the strokes run and where to press in."""

    def names(ids: Sequence[str]) -> str:
        return ", ".join(zones[z].name for z in dict.fromkeys(ids) if z in zones)

    ways = [
        f"{zones[s.zone].name} {getattr(labels, f'arrow_{s.direction}')}"
        for s in strokes
        if s.zone in zones and s.direction != "into"
    ]
    pressed = [s.zone for s in strokes if s.direction == "into"]
    parts = [
        (labels.zones, names(work)),
        (keep_off_label, names(keep_off)),
        (labels.direction, "; ".join(ways)),
        (labels.press_in, names(pressed)),
    ]
    said = ". ".join(f"{label}: {text}" for label, text in parts if text)
    return f"{title}. {said}." if title else f"{said}."


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


# --- map parts ------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """A zone's shapes mapped into the diagram, with its drawing's midline there."""

    zone: Zone
    shapes: tuple[Shape, ...]
    midline: float


@dataclass(frozen=True)
class Panel:
    """One drawing in the diagram: where it stands and how it is scaled."""

    picture: LoadedDrawing
    x: float
    y: float
    scale: float
    caption: str

    @property
    def width(self) -> float:
        return self.picture.view_box.width * self.scale

    def point(self, x: float, y: float) -> tuple[float, float]:
        box = self.picture.view_box
        return (self.x + (x - box.x) * self.scale, self.y + (y - box.y) * self.scale)

    def svg(self, labels: Labels, style: DiagramStyle) -> str:
        box = self.picture.view_box
        move = f"translate({self.x:.2f} {self.y:.2f}) scale({self.scale:.5f})"
        if box.x or box.y:
            move += f" translate({-box.x:g} {-box.y:g})"
        out = (
            f'<g class="drawing drawing-{escape(self.picture.id)}" transform="{move}">'
            f"{self.picture.artwork.markup}</g>"
        )
        if self.caption:
            out += _text(
                self.x + self.width / 2,
                style.label_size,
                self.caption,
                style,
                anchor="middle",
                strong=True,
            )
        return out


@dataclass(frozen=True)
class Callout:
    """A zone's name in a label column, and the leader from the zone to it."""

    zone: Zone
    keep_off: bool
    lines: tuple[str, ...]
    side: str  # "left" (text ends at x) or "right" (text starts at x)
    x: float
    y: float  # baseline of the first line
    anchor: tuple[float, float]  # where the leader starts, inside the zone
    size: float  # the label size

    @property
    def leader(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The leader as a straight segment, from the zone to the label's first line."""
        end_x = self.x - 2 if self.side == "right" else self.x + 2
        return self.anchor, (end_x, self.y - self.size * 0.35)

    def box(self, line: float) -> Box:
        """The space the label's text takes (by the generous width estimate)."""
        width = max(len(text) for text in self.lines) * self.size * 0.52
        x0 = self.x if self.side == "right" else self.x - width
        top = self.y - self.size
        return Box(x0, top, x0 + width, top + (len(self.lines) - 1) * line + self.size * 1.25)

    def svg(self, style: DiagramStyle) -> str:
        (ax, ay), (lx, ly) = self.leader
        parts = [
            f'<line class="leader" x1="{ax:.2f}" y1="{ay:.2f}" x2="{lx:.2f}" y2="{ly:.2f}"/>'
            f'<circle class="leader-dot" cx="{ax:.2f}" cy="{ay:.2f}" r="1.6"/>'
        ]
        anchor = "start" if self.side == "right" else "end"
        for i, line in enumerate(self.lines):
            parts.append(
                _text(self.x, self.y + i * style.line, line, style, anchor, strong=self.keep_off)
            )
        role = "keep-off" if self.keep_off else "work"
        return f'<g class="callout {role}" data-zone="{escape(self.zone.id)}">{"".join(parts)}</g>'


@dataclass(frozen=True)
class Layout:
    panels: tuple[Panel, ...]
    placed: dict[str, Placed]
    by_id: dict[str, Zone]
    callouts: tuple[Callout, ...]
    width: float
    bottom: float  # where the drawings and labels end


def _layout(
    zones: Sequence[Zone],
    drawings: Mapping[str, LoadedDrawing],
    work: Sequence[str],
    keep_off: Sequence[str],
    style: DiagramStyle,
    labels: Labels,
) -> Layout | None:
    """Where the drawings, zones and labels of a map go; None if nothing to show."""
    by_id = {z.id: z for z in zones}
    shown = [by_id[z] for z in dict.fromkeys([*work, *keep_off]) if z in by_id]
    shown = [z for z in shown if z.shapes and z.drawing in drawings]
    if not shown:
        return None
    pictures = [drawings[d] for d in dict.fromkeys(z.drawing for z in shown)]  # type: ignore[index]
    wrapped = {z.id: _wrap(z.name) for z in shown}
    top = style.line if len(pictures) > 1 else 0.0

    def arranged(x: float) -> tuple[list[Panel], dict[str, Placed], float]:
        """The panels from ``x`` on, the zones placed on them, and the middle."""
        panels = []
        for picture in pictures:
            scale = PANEL_HEIGHT / picture.view_box.height
            caption = _caption(picture, labels) if len(pictures) > 1 else ""
            panels.append(Panel(picture, x, top, scale, caption))
            x = panels[-1].x + panels[-1].width + PANEL_GAP
        panel_of = {p.picture.id: p for p in panels}
        placed = {z.id: _place(z, panel_of[z.drawing]) for z in shown}  # type: ignore[index]
        return panels, placed, (panels[0].x + x - PANEL_GAP) / 2

    sides = _sides(shown, *arranged(0.0)[1:], wrapped, style)
    column = {
        side: max([_text_width(line, style) for z in shown if sides[z.id] == side
                   for line in wrapped[z.id]], default=0.0)
        for side in ("left", "right")
    }  # fmt: skip
    panels, placed, middle = arranged(column["left"] + COLUMN_GAP if column["left"] else 0.0)
    figure = (panels[0].x, panels[-1].x + panels[-1].width)
    width = figure[1] + (COLUMN_GAP + column["right"] if column["right"] else 0.0)
    callouts = []
    if not column["left"]:
        middle = None  # one column: no leader comes near another column's
    for side in ("left", "right"):
        ids = [z.id for z in shown if sides[z.id] == side]
        edge = figure[0] - COLUMN_GAP if side == "left" else figure[1] + COLUMN_GAP
        callouts += _column(ids, placed, wrapped, set(keep_off), side, edge, middle, top, style)
    return Layout(tuple(panels), placed, by_id, tuple(callouts), width, top + PANEL_HEIGHT)


def _caption(picture: LoadedDrawing, labels: Labels) -> str:
    drawing = picture.drawing
    if drawing.title:
        return drawing.title
    if drawing.view:
        return labels.view_front if drawing.view == "front" else labels.view_back
    return ""


def _sides(
    zones: list[Zone],
    placed: dict[str, Placed],
    middle: float,
    wrapped: dict[str, list[str]],
    style: DiagramStyle,
) -> dict[str, str]:
    """Which column each zone's label goes in: all on the right while they fit the
    drawings' height; else a zone left of the middle of the drawings on the
    left, one right of it on the right, and one across it on the side with
    fewer lines so far. A leader then never crosses the middle, so leaders of
    the two columns never meet."""
    needed = sum(len(wrapped[z.id]) * style.line + LABEL_GAP for z in zones)
    if needed <= PANEL_HEIGHT:
        return {z.id: "right" for z in zones}
    sides: dict[str, str] = {}
    lines = {"left": 0, "right": 0}
    for zone in sorted(zones, key=lambda z: min(_box(s).cy for s in placed[z.id].shapes)):
        boxes = [_box(s) for s in placed[zone.id].shapes]
        if max(b.x1 for b in boxes) <= middle:
            side = "left"
        elif min(b.x0 for b in boxes) >= middle:
            side = "right"
        else:
            side = "left" if lines["left"] < lines["right"] else "right"
        sides[zone.id] = side
        lines[side] += len(wrapped[zone.id])
    return sides


def _column(
    ids: list[str],
    placed: dict[str, Placed],
    wrapped: dict[str, list[str]],
    keep_off: set[str],
    side: str,
    edge: float,
    middle: float | None,
    top: float,
    style: DiagramStyle,
) -> list[Callout]:
    """The labels of one column, in the order of their anchors' height, pushed apart
    so none overlaps another, kept within the drawings' height, and reordered
    where two leaders would cross until none does."""
    anchors = {i: _anchor(placed[i], side, middle) for i in ids}
    order = sorted(ids, key=lambda i: anchors[i][1])
    for _ in range(len(order) ** 2 + 1):
        callouts = _stack(order, placed, anchors, wrapped, keep_off, side, edge, top, style)
        crossing = _first_crossing(callouts)
        if crossing is None:
            return callouts
        a, b = crossing
        order[a], order[b] = order[b], order[a]
    return callouts


def _stack(
    order: list[str],
    placed: dict[str, Placed],
    anchors: dict[str, tuple[float, float]],
    wrapped: dict[str, list[str]],
    keep_off: set[str],
    side: str,
    edge: float,
    top: float,
    style: DiagramStyle,
) -> list[Callout]:
    """The labels in ``order`` down the column, each as near its anchor's height
    as the labels above it allow, shifted up together if they run past the bottom."""
    size, line = style.label_size, style.line
    heights = [len(wrapped[i]) * line for i in order]
    ys: list[float] = []
    cursor = top + size
    for zone_id, h in zip(order, heights, strict=True):
        ys.append(max(anchors[zone_id][1] + size * 0.35, cursor))
        cursor = ys[-1] + h + LABEL_GAP
    limit = top + PANEL_HEIGHT - size * 0.25  # the lowest a last line's baseline may sit
    for i in range(len(ys) - 1, -1, -1):
        ys[i] -= max(0.0, ys[i] + heights[i] - line - limit)
        limit = ys[i] - LABEL_GAP - line
    return [
        Callout(
            placed[zone_id].zone,
            zone_id in keep_off,
            tuple(wrapped[zone_id]),
            side,
            edge,
            y,
            anchors[zone_id],
            size,
        )
        for zone_id, y in zip(order, ys, strict=True)
    ]


def _first_crossing(callouts: list[Callout]) -> tuple[int, int] | None:
    """The first two labels of a column whose leaders cross, by their places."""
    for i, first in enumerate(callouts):
        for j in range(i + 1, len(callouts)):
            if segments_cross(*first.leader, *callouts[j].leader):
                return i, j
    return None


def segments_cross(
    a: tuple[float, float], b: tuple[float, float], c: tuple[float, float], d: tuple[float, float]
) -> bool:
    """Whether the segments ab and cd meet (touching counts)."""

    def turn(p, q, r) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    def between(p, q, r) -> bool:
        return min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and min(p[1], q[1]) <= r[1] <= max(
            p[1], q[1]
        )

    d1, d2, d3, d4 = turn(c, d, a), turn(c, d, b), turn(a, b, c), turn(a, b, d)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4):
        return True
    return any(
        value == 0 and between(*segment, point)
        for value, segment, point in (
            (d1, (c, d), a),
            (d2, (c, d), b),
            (d3, (a, b), c),
            (d4, (a, b), d),
        )
    )


def _mirrored(zone: Zone, midline: float) -> list[Shape]:
    """The zone's shapes, with their mirror images if the zone is mirrored."""
    shapes = list(zone.shapes)
    if zone.mirror:
        for shape in zone.shapes:
            if shape.polygon is not None:
                shapes.append(Shape(polygon=[(2 * midline - x, y) for x, y in shape.polygon]))
            else:
                cx, cy, rx, ry = shape.ellipse  # type: ignore[misc]
                shapes.append(Shape(ellipse=(2 * midline - cx, cy, rx, ry)))
    return shapes


def _place(zone: Zone, panel: Panel) -> Placed:
    """The zone's shapes (and mirror images) in diagram units, none narrower or
    lower than :data:`MIN_ZONE_WIDTH`."""
    shapes = []
    for shape in _mirrored(zone, panel.picture.midline):
        if shape.polygon is not None:
            shapes.append(_at_least(Shape(polygon=[panel.point(x, y) for x, y in shape.polygon])))
        else:
            cx, cy, rx, ry = shape.ellipse  # type: ignore[misc]
            x, y = panel.point(cx, cy)
            half = MIN_ZONE_WIDTH / 2
            shapes.append(
                Shape(ellipse=(x, y, max(rx * panel.scale, half), max(ry * panel.scale, half)))
            )
    midline = panel.point(panel.picture.midline, 0)[0]
    return Placed(zone, tuple(shapes), midline)


def _at_least(shape: Shape) -> Shape:
    """A polygon stretched about its centre to be at least MIN_ZONE_WIDTH each way."""
    box = _box(shape)
    fx = MIN_ZONE_WIDTH / box.width if box.width < MIN_ZONE_WIDTH else 1.0
    fy = MIN_ZONE_WIDTH / box.height if box.height < MIN_ZONE_WIDTH else 1.0
    if fx == fy == 1.0:
        return shape
    points = [(box.cx + (x - box.cx) * fx, box.cy + (y - box.cy) * fy) for x, y in shape.polygon]  # type: ignore[union-attr]
    return Shape(polygon=points)


def _box(shape: Shape) -> Box:
    if shape.polygon is not None:
        xs = [x for x, _ in shape.polygon]
        ys = [y for _, y in shape.polygon]
        return Box(min(xs), min(ys), max(xs), max(ys))
    cx, cy, rx, ry = shape.ellipse  # type: ignore[misc]
    return Box(cx - rx, cy - ry, cx + rx, cy + ry)


def _anchor(placed: Placed, side: str, middle: float | None) -> tuple[float, float]:
    """Where a zone's leader starts: inside its shape nearest the label's column,
    and (with two columns) on that column's side of the middle of the drawings."""
    boxes = [_box(s) for s in placed.shapes]
    if side == "right":
        box = max(boxes, key=lambda b: b.cx)
        x = box.cx + box.width / 4
        return (x if middle is None else min(max(x, middle), box.x1), box.cy)
    box = min(boxes, key=lambda b: b.cx)
    x = box.cx - box.width / 4
    return (x if middle is None else max(min(x, middle), box.x0), box.cy)


def _zone(placed: Placed, role: str, p: str) -> str:
    fill = f"url(#{p}-{role})"
    parts = []
    for shape in placed.shapes:
        if shape.polygon is not None:
            points = " ".join(f"{x:.2f},{y:.2f}" for x, y in shape.polygon)
            parts.append(f'<polygon points="{points}" fill="{fill}"/>')
        else:
            cx, cy, rx, ry = shape.ellipse  # type: ignore[misc]
            parts.append(
                f'<ellipse cx="{cx:.2f}" cy="{cy:.2f}" rx="{rx:.2f}" ry="{ry:.2f}" fill="{fill}"/>'
            )
    zone = placed.zone
    return f'<g class="zone {role}" data-zone="{escape(zone.id)}">{"".join(parts)}</g>'


def _marks(placed: Placed, stroke: Stroke) -> str:
    """One arrow per shape of the zone, pointing the stroke's way, or a crossed
    circle on each shape for pressing into the surface."""
    parts = []
    for box in (_box(s) for s in placed.shapes):
        if stroke.direction == "into":
            parts.append(_press_mark(box))
        else:
            parts.extend(_arrow_paths(box, stroke.direction, placed.midline))
    kind = "press" if stroke.direction == "into" else "arrow"
    return (
        f'<g class="{kind}" data-zone="{escape(placed.zone.id)}" '
        f'data-direction="{stroke.direction}">{"".join(parts)}</g>'
    )


def _press_mark(box: Box, r: float = 4.5) -> str:
    """Crossed circles (targets seen from above): pressing into the surface here,
    one at the middle of the shape, or spaced along a long one (point by point)."""
    long, across = max(box.width, box.height), min(box.width, box.height)
    count = max(1, min(4, int(long // (6 * r)))) if long > 3 * across else 1
    marks = []
    for k in range(count):
        t = (k + 0.5) / count
        if box.height >= box.width:
            marks.append(_crossed_circle(box.cx, box.y0 + t * box.height, r))
        else:
            marks.append(_crossed_circle(box.x0 + t * box.width, box.cy, r))
    return "".join(marks)


def _crossed_circle(cx: float, cy: float, r: float) -> str:
    d = r * math.sqrt(0.5)
    cross = (
        f"M{cx - d:.2f} {cy - d:.2f} L{cx + d:.2f} {cy + d:.2f} "
        f"M{cx - d:.2f} {cy + d:.2f} L{cx + d:.2f} {cy - d:.2f}"
    )
    return (
        f'<circle class="halo" cx="{cx:.2f}" cy="{cy:.2f}" r="{r:g}" fill="none"/>'
        f'<circle class="ring" cx="{cx:.2f}" cy="{cy:.2f}" r="{r:g}"/>'
        f'<path class="cross" d="{cross}" fill="none"/>'
    )


def _arrow_paths(box: Box, direction: str, midline: float) -> list[str]:
    if direction == "circular":
        return [_circle_arrow(box)]
    central = abs(box.cx - midline) < 2
    if direction in ("outward", "inward"):
        sides = [-1, 1] if central else [1 if box.cx > midline else -1]
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
        '<line class="mark" x1="0" y1="0" x2="0" y2="3.5"/></pattern>'
        "</defs>"
    )


def _legend_rows(
    labels: Labels, keep_off_label: str, work: bool, keep_off: bool, arrows: bool, press: bool
) -> list[tuple[str, str]]:
    """The key to the map, as (kind of swatch, text) rows, only for what is drawn."""
    rows = [("work", labels.zones)] if work else []
    rows += [("keep-off", keep_off_label)] if keep_off else []
    rows += [("arrow", labels.direction)] if arrows else []
    rows += [("press", labels.press_in)] if press else []
    return rows


def _placed_legend(
    layout: Layout, rows: list[tuple[str, str]], p: str, style: DiagramStyle, narrow: bool
) -> tuple[str, float, float, float]:
    """The key; how far right the rest moves for it; the diagram's width and height.

    The key stands where it costs no height: under the labels of the right-hand
    column if they leave room, else (unless the map is to be ``narrow``) in a
    column of its own left of the drawings when no labels are there, else in a
    row under the drawings.
    """
    right = [c for c in layout.callouts if c.side == "right"]
    last_offset = (len(rows) - 1) * style.line
    lowest = layout.bottom - style.label_size * 0.25  # the lowest baseline in the drawings' height
    if right:
        below = max(c.box(style.line).y1 for c in right) + style.line
        if below + last_offset <= lowest:
            legend, widest = _legend_column(rows, right[0].x, below, p, style)
            return legend, 0.0, max(layout.width, right[0].x + widest), layout.bottom
    if rows and not narrow and not any(c.side == "left" for c in layout.callouts):
        legend, widest = _legend_column(rows, 0.0, lowest - last_offset, p, style)
        shift = widest + COLUMN_GAP
        return legend, shift, layout.width + shift, layout.bottom
    legend, height = _legend(rows, layout.bottom + style.line, layout.width, p, style)
    return legend, 0.0, layout.width, layout.bottom + height


def _legend_column(
    rows: list[tuple[str, str]], x: float, baseline: float, p: str, style: DiagramStyle
) -> tuple[str, float]:
    """The key's entries one under another from ``baseline``, and the widest's width."""
    parts, widest = [], 0.0
    for i, row in enumerate(rows):
        part, entry = _legend_entry(row, x, baseline + i * style.line, p, style)
        parts.append(part)
        widest = max(widest, entry)
    return f'<g class="legend">{"".join(parts)}</g>', widest


def _legend_entry(
    row: tuple[str, str], x: float, baseline: float, p: str, style: DiagramStyle
) -> tuple[str, float]:
    """One entry of the key (a swatch and its words) and its width."""
    swatch, text = row
    mid = baseline - style.label_size * 0.35
    if swatch == "arrow":
        mark = _straight(x, mid, x + SWATCH[0], mid)
    elif swatch == "press":
        mark = _crossed_circle(x + SWATCH[0] / 2, mid, SWATCH[1] / 2)
    else:
        mark = (
            f'<rect class="swatch" x="{x:.2f}" y="{mid - SWATCH[1] / 2:.2f}" '
            f'width="{SWATCH[0]:g}" height="{SWATCH[1]:g}" fill="url(#{p}-{swatch})"/>'
        )
    words = _text(x + SWATCH[0] + 3, baseline, text, style, italic=True)
    return mark + words, SWATCH[0] + 3 + _text_width(text, style)


def _legend(
    rows: list[tuple[str, str]], y: float, width: float, p: str, style: DiagramStyle
) -> tuple[str, float]:
    """The key under the drawings, its entries side by side, wrapped to the width;
    and the height it takes."""
    parts = []
    x, baseline = 0.0, y
    for row in rows:
        entry = SWATCH[0] + 3 + _text_width(row[1], style)
        if x and x + entry > width:
            x, baseline = 0.0, baseline + style.line
        parts.append(_legend_entry(row, x, baseline, p, style)[0])
        x += entry + 10
    height = baseline - y + style.line + style.label_size * 0.4 if rows else 0.0
    return f'<g class="legend">{"".join(parts)}</g>', height


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
    """The ``<svg>`` element, its size also given in label sizes for the stylesheet
    (``--diagram-width``, ``--diagram-height``), its title the alternative text."""
    classes = " ".join(c for c in ("diagram", css_class) if c)
    size = (
        f"--diagram-width: {width / style.label_size:.3f}; "
        f"--diagram-height: {height / style.label_size:.3f}"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(classes)}" '
        f'width="{width:.1f}" height="{height:.1f}" viewBox="0 0 {width:.1f} {height:.1f}" '
        f'style="{size}" role="img">'
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


def _wrap(text: str, limit: int = WRAP) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [text]
