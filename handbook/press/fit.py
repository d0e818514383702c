"""Make a card fit one page: shrink its type only as far as WeasyPrint's layout needs.

A card is rendered at full size first; most cards fit and cost one render.
When one overflows, the height its content needs (what each page really
holds, added up) tells how far to shrink: content height grows with the
type scale ``s`` roughly as ``s ** p``, with ``p`` between 1 (short lines,
drawings) and 2 (wrapped paragraphs). The first guess assumes ``p = 1.6``;
every further render refines ``p`` from the two latest measurements. A card
that needs shrinking usually fits on the second or third render; the
fourth aims lower still, and the floor is tried only if that overflows too.
A card too long even at the floor is known after rendering it at the floor.

Pictures give way first: a card that overflows with pictures on it is
rendered again with its pictures capped lower (``--picture-height``), by as
much as the overflow says, down to the format's least picture height; only
a card still too long with its pictures at that height has its type shrunk.

The scale reaches the stylesheet as CSS custom properties (``--card-scale``
for the card size, ``--fit`` for the shrink), which ``card.css`` multiplies
into every font size and spacing.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from handbook import engine
from handbook.engine import Measure, PageSource, measure
from handbook.errors import Problem, counted
from handbook.press.format import Format
from handbook.press.sizes import MM_PER_POINT

PX_PER_PT = 96 / 72  # WeasyPrint lays out in CSS pixels

_FIRST_EXPONENT = 1.6
_MIN_EXPONENT, _MAX_EXPONENT = 0.8, 2.5
_AIM = 0.99  # aim a little below the page height: line breaks move in steps
_WORTH_GROWING = 1.025  # re-render a fitting card larger only for a clear gain
_MAX_RENDERS = 4
_MAX_PICTURE_RENDERS = 3  # the last of them at the least picture height
_PICTURE_SLACK_PX = 0.5  # a picture this close to the least height is at it


@dataclass(frozen=True)
class Fit:
    """The outcome of fitting a card: the last document and how it got there."""

    document: Any  # WeasyPrint Document: fitting, or the overflowing floor render
    scale: float  # 1.0 = full size
    renders: int
    fits: bool
    over_mm: float  # how much content is over at the floor (0 when it fits)
    floor_pt: float  # body text size at the floor, in points
    body_pt: float  # body text size of the document, in points
    line_mm: float  # body line height of the document, in millimetres
    pictures_mm: tuple[float, ...] = ()  # the height of each picture on the card
    width_mm: float = 0.0  # the width of the card's text column
    picture_cap_mm: float | None = None  # the cap the pictures were rendered with, if any


def scaled_source(
    source: PageSource, fmt: Format, scale: float, picture_mm: float | None = None
) -> PageSource:
    """The card's page source with its size scale and shrink set for card.css, and
    its pictures capped at ``picture_mm`` if given."""
    cap = "" if picture_mm is None else f" --picture-height: {picture_mm:.2f}mm;"
    variables = f":root {{ --card-scale: {fmt.card_scale:.4f}; --fit: {scale:.4f};{cap} }}"
    return replace(source, extra_css=f"{source.extra_css}\n{variables}")


def fit_card(source: PageSource, fmt: Format) -> Fit:
    """Render a card at the largest scale (down to the floor) that fits one page,
    its pictures shrunk first (down to the format's least picture height)."""

    def render(scale: float, picture_mm: float | None = None):
        return engine.render(scaled_source(source, fmt, scale, picture_mm))

    document, picture_mm, renders = shrink_pictures(render, fmt.picture_floor_mm)
    fit = search(lambda scale: render(scale, picture_mm), fmt.floor_pt, rendered=document)
    return replace(fit, renders=fit.renders + renders - 1, picture_cap_mm=picture_mm)


def shrink_pictures(
    render: Callable[..., Any], floor_mm: float, measure: Callable[[Any], Measure] = measure
) -> tuple[Any, float | None, int]:
    """The card at full type size with its pictures as tall as fits, but no lower than
    ``floor_mm``: (document, the picture cap or None for none, renders)."""
    document = render(1.0)
    renders, used = 1, None
    while renders <= _MAX_PICTURE_RENDERS:
        result = measure(document)
        cap = _picture_cap(result, floor_mm, last=renders == _MAX_PICTURE_RENDERS)
        if result.fits or cap is None:
            break
        document, used = render(1.0, cap), cap
        renders += 1
    return document, used, renders


def _picture_cap(result: Measure, floor_mm: float, *, last: bool) -> float | None:
    """The height (mm) to cap the pictures at for the overflow to go, assuming they
    stand one above another; None if they are at the least height already."""
    floor = floor_mm / MM_PER_POINT * PX_PER_PT
    heights = sorted(result.pictures, reverse=True)
    if not heights or heights[0] <= floor + _PICTURE_SLACK_PX:
        return None
    excess = result.needed - result.available * _AIM
    cap = floor
    for count in range(1, len(heights) + 1):  # lowering the cap below a picture shrinks it too
        cap = (sum(heights[:count]) - excess) / count
        if count == len(heights) or cap >= heights[count]:
            break
    return _mm(floor if last else max(floor, cap))


def search(
    render: Callable[[float], Any],
    floor_pt: float,
    measure: Callable[[Any], Measure] = measure,
    rendered: Any = None,
) -> Fit:
    """Find a scale that fits in few renders; ``render`` lays out the card at a scale.

    Full size first (``rendered``, if already laid out), then estimates refined by
    each measurement; the fourth aims lower, and only if that overflows too is
    the floor tried. A first estimate that clearly over-shrank is tried once
    more a little larger.
    """
    document = render(1.0) if rendered is None else rendered
    first = measure(document)
    body_pt = first.body_px / PX_PER_PT
    floor = min(1.0, floor_pt / body_pt)
    if first.fits:
        return _fit(document, 1.0, 1, 0.0, floor_pt, body_pt, first)

    available = first.available
    failing = (1.0, first.needed)  # the smallest scale known to overflow, and its height
    exponent = _FIRST_EXPONENT
    renders = 1
    scale, result = 1.0, first
    while True:
        if scale <= floor:
            over = (result.needed - available) / PX_PER_PT * MM_PER_POINT
            return _fit(document, scale, renders, over, floor_pt, body_pt * scale, result)
        aim = _AIM if renders < _MAX_RENDERS - 1 else _AIM**4  # the last tries are cautious
        scale = min(_guess(failing, available, exponent, aim), failing[0] * _AIM)
        scale = floor if renders >= _MAX_RENDERS else max(floor, scale)
        document = render(scale)
        renders += 1
        result = measure(document)
        if result.fits:
            break
        exponent = _exponent((scale, result.needed), failing, exponent)
        failing = (scale, result.needed)

    if renders == 2:
        exponent = _exponent((scale, result.needed), failing, exponent)
        grow = min(_guess((scale, result.needed), available, exponent), failing[0] * _AIM)
        if grow >= scale * _WORTH_GROWING:
            larger = render(grow)
            renders += 1
            grown = measure(larger)
            if grown.fits:
                return _fit(larger, grow, renders, 0.0, floor_pt, body_pt * grow, grown)
    return _fit(document, scale, renders, 0.0, floor_pt, body_pt * scale, result)


def _fit(document, scale, renders, over_mm, floor_pt, body_pt, result: Measure) -> Fit:
    """The outcome of a render measured as ``result``."""
    pictures = tuple(_mm(height) for height in result.pictures)
    line_mm, width_mm = _mm(result.line_px), _mm(result.width)
    return Fit(
        document,
        scale,
        renders,
        result.fits,
        over_mm,
        floor_pt,
        body_pt,
        line_mm,
        pictures,
        width_mm,
    )


def _mm(px: float) -> float:
    return px / PX_PER_PT * MM_PER_POINT


def _guess(
    sample: tuple[float, float], available: float, exponent: float, aim: float = _AIM
) -> float:
    """The scale at which ``needed`` would fill ``aim`` of the page, given one sample."""
    scale, needed = sample
    return scale * (available * aim / needed) ** (1 / exponent)


def _exponent(a: tuple[float, float], b: tuple[float, float], fallback: float) -> float:
    """The ``p`` in ``needed ~ scale ** p`` through two samples (clamped)."""
    (s1, n1), (s2, n2) = a, b
    if math.isclose(s1, s2) or n1 <= 0 or n2 <= 0:
        return fallback
    p = math.log(n2 / n1) / math.log(s2 / s1)
    return max(_MIN_EXPONENT, min(_MAX_EXPONENT, p))


# Fields that hold references or settings, not text a reader can shorten.
_NOT_TEXT = frozenset(
    {"kind", "id", "item", "zones", "avoid_zones", "strokes", "safety", "severity", "card"}
    | {"pictures"}  # measured by the height they take (see _picture_length)
)
_CHARACTER_WIDTH = 0.5  # an average character is about half as wide as the type is high
_MATCH_CHARS = 24  # how much of a text must appear on the card to count as printed there


def overflow_problem(
    handbook, card, fmt: Format, fit: Fit, card_html: str, *, back: bool = False
) -> Problem:
    """A located problem for a card too long even at the floor: how much, and what to cut.

    It names the item's longest text fields that the card prints (found in
    ``card_html``) and points at the longest one in the item's YAML file.
    """
    lines = max(1, math.ceil(fit.over_mm / fit.line_mm))
    parts = _text_lengths(card.item, _plain(card_html))
    if fit.pictures_mm:
        parts = sorted([*parts, ("pictures", _picture_length(fit))], key=lambda pair: -pair[1])
    longest = [name for name, _ in parts[:2]]
    described = " and ".join(_described(name, length, fit) for name, length in parts[:2])
    side = "back of the " if back else ""
    message = (
        f"the {side}{card.kind} card '{card.id}' does not fit on one {fmt.card.upper()} card "
        f"even with its text at the smallest size ({fit.floor_pt:.1f} pt): it is "
        f"{fit.over_mm:.0f} mm (about {counted(lines, 'line')}) too long"
    )
    hint = f"shorten it by about {counted(lines, 'line')}"
    if described:
        hint += f"; the longest parts on the card are {described}"
    origin = handbook.origins.get(card.id)
    if origin is None:
        return Problem(card.source_path, 1, 1, message, hint)
    where = (*origin.location, longest[0]) if longest else origin.location
    return origin.source.problem(where, message, hint, at_key=True)


def _picture_length(fit: Fit) -> int:
    """The characters of text that would fill the height the card's pictures take."""
    characters_per_line = fit.width_mm / (fit.body_pt * MM_PER_POINT * _CHARACTER_WIDTH)
    return round(sum(fit.pictures_mm) / fit.line_mm * characters_per_line)


def _described(name: str, length: int, fit: Fit) -> str:
    if name != "pictures":
        return f"'{name}' ({length} characters)"
    tall = " and ".join(f"{height:.0f}" for height in fit.pictures_mm)
    return f"'pictures' ({counted(len(fit.pictures_mm), 'picture')}, {tall} mm tall)"


def _plain(text: str) -> str:
    """Text without markup, Markdown marks or runs of spaces, to compare content with HTML."""
    text = html.unescape(re.sub(r"<[^>]*>", " ", text))
    return " ".join(re.sub(r"[*_`#\[\]()]", " ", text).split())


def _text_lengths(item, shown: str) -> list[tuple[str, int]]:
    """The item's text fields printed on the card, with their length, longest first."""
    lengths = []
    for name in type(item).model_fields:
        if name in _NOT_TEXT:
            continue
        length = _characters(getattr(item, name), shown)
        if length:
            lengths.append((name, length))
    return sorted(lengths, key=lambda pair: -pair[1])


def _characters(value, shown: str) -> int:
    """Characters of the texts in ``value`` that appear in ``shown``."""
    if isinstance(value, str):
        return len(value) if _plain(value)[:_MATCH_CHARS] in shown else 0
    if isinstance(value, list | tuple):
        return sum(_characters(v, shown) for v in value)
    if isinstance(value, BaseModel):
        return sum(
            _characters(getattr(value, name), shown)
            for name in type(value).model_fields
            if name not in _NOT_TEXT
        )
    return 0


def too_wide_problem(handbook, card, fmt: Format, texts: list[str], *, back: bool = False):
    """A located problem for a card with text wider than the card, such as a long compound.

    It points at the first field of the item that holds the first such text.
    """
    word = texts[0].rstrip("\u2010-")
    shown = ", ".join(f"'{text}'" for text in texts[:3])
    side = "back of the " if back else ""
    message = (
        f"the {side}{card.kind} card '{card.id}' has text wider than the "
        f"{fmt.card.upper()} card: {shown}"
    )
    hint = (
        "break the word where it may be hyphenated, with a soft hyphen (U+00AD) or a "
        "hyphen, or use a shorter word"
    )
    origin = handbook.origins.get(card.id)
    if origin is None:
        return Problem(card.source_path, 1, 1, message, hint)
    field = _field_holding(card.item, word)
    where = (*origin.location, field) if field else origin.location
    return origin.source.problem(where, message, hint, at_key=bool(field))


def _field_holding(item, word: str) -> str | None:
    """The name of the item's first field whose text contains ``word``."""
    if not isinstance(item, BaseModel):
        return None
    for name in type(item).model_fields:
        if name not in _NOT_TEXT and word in str(getattr(item, name)):
            return name
    return None
