"""The design: every colour, type size, line height and page length of the look.

A theme's ``theme.yaml`` gives these values (the built-in themes are in
``handbook/themes/<name>/``; :mod:`handbook.project` finds them), and
``design:`` in ``handbook.yaml`` may change single ones. They reach the
stylesheets as CSS custom properties (:func:`custom_properties`: the field
``card_margin_mm: 6`` becomes ``--card-margin: 6mm``), and Python reads the
same values where it needs them (the card sheets' bleed), so each number is
written once.

Field names end in their unit (``_mm``, ``_pt``); a colour is ``#rrggbb``.
Every value is checked by type and pattern, so none can break out of the
CSS it is written into.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model
from pydantic.fields import FieldInfo

COLOUR_PATTERN = r"^#[0-9a-fA-F]{6}$"
FONT_FAMILY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 -]{0,39}$"
Colour = Annotated[str, StringConstraints(pattern=COLOUR_PATTERN)]
FontFamily = Annotated[str, StringConstraints(pattern=FONT_FAMILY_PATTERN)]
Points = Annotated[float, Field(ge=4, le=40)]
Millimetres = Annotated[float, Field(ge=0, le=50)]
LineHeight = Annotated[float, Field(ge=1, le=2.5)]
Weight = Annotated[int, Field(ge=100, le=900, multiple_of=100)]
Factor = Annotated[float, Field(gt=0, le=5)]
PictureHeight = Annotated[float, Field(ge=5, le=250)]

# The patterns that tell a routine's techniques apart on its timeline, in
# order; each gets a tint (its ground) and an ink (its marks) from the design.
TIMELINE_PATTERNS = ("dots", "diagonal", "horizontal", "cross", "vertical", "grid", "bricks")
TimelineColours = Annotated[
    tuple[Colour, ...],
    Field(min_length=len(TIMELINE_PATTERNS), max_length=len(TIMELINE_PATTERNS)),
]

_UNITS = {"_mm": "mm", "_pt": "pt"}


class Design(BaseModel):
    """The values of a look; the default theme's ``theme.yaml`` gives every one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Colours
    paper: Colour = Field(description="the page")
    ink: Colour = Field(description="booklet text and the lines of the diagrams")
    muted: Colour = Field(description="booklet secondary text: running heads, folios")
    card_ink: Colour = Field(description="card text and rules")
    card_muted: Colour = Field(description="card secondary text")
    accent: Colour = Field(description="titles, tip boxes, the card's title band")
    accent_ink: Colour = Field(description="text on the accent, stop and caution bands")
    stop: Colour = Field(description="stop warnings: booklet, cards and diagrams")
    caution: Colour = Field(description="caution boxes in the booklet")
    card_caution: Colour = Field(description="the band of a caution card")
    work_tint: Colour = Field(description="ground of a zone worked on a body map")
    stop_tint: Colour = Field(description="ground of a zone to keep off (stop)")
    caution_tint: Colour = Field(description="ground of a zone to keep off (caution)")
    timeline_tints: TimelineColours = Field(description="grounds of the timeline patterns")
    timeline_inks: TimelineColours = Field(description="marks of the timeline patterns")
    # Type
    font_family: FontFamily = Field(description="a family declared with @font-face in base.css")
    booklet_text_pt: Points = Field(description="booklet body text on A5 and smaller pages")
    booklet_large_text_pt: Points = Field(description="booklet text on A4 and Letter pages")
    booklet_line_height: LineHeight = Field(description="booklet line height, times the text size")
    card_text_pt: Points = Field(description="card text on an A6 card, before fitting")
    card_line_height: LineHeight = Field(description="card line height, times the text size")
    card_footer_text_pt: Points = Field(description="the card's footer, not shrunk to fit")
    caption_text_pt: Points = Field(description="captions under the booklet's pictures")
    card_caption_text_pt: Points = Field(
        description="captions under a picture on an A6 card, not shrunk to fit"
    )
    text_weight: Weight = Field(description="body text")
    strong_weight: Weight = Field(description="labels, terms, step numbers")
    heading_weight: Weight = Field(description="headings and titles")
    diagram_label_size: Annotated[float, Field(ge=6, le=16)] = Field(
        description="labels on the diagrams, in diagram units: a map's drawing is 140 high, "
        "a timeline 300 wide (the printed size of map labels is set in the stylesheets)"
    )
    diagram_text_weight: Weight = Field(description="labels on the diagrams")
    # Lines
    rule_weight: Factor = Field(description="times the thickness of every rule and border")
    diagram_line_weight: Factor = Field(description="times the thickness of diagram lines")
    # Page geometry
    booklet_margin_top_mm: Millimetres = Field(description="top of a booklet page")
    booklet_margin_bottom_mm: Millimetres = Field(description="bottom of a booklet page")
    booklet_margin_inner_mm: Millimetres = Field(description="the gutter, at the binding")
    booklet_margin_outer_mm: Millimetres = Field(
        description="the outer edge, away from the binding"
    )
    card_margin_mm: Millimetres = Field(description="top and sides of an A6 card")
    card_margin_bottom_mm: Millimetres = Field(description="bottom of an A6 card (its footer)")
    card_safe_margin_mm: Annotated[float, Field(ge=0, le=10)] = Field(
        description="the least space between a card's text and its cut, on any card size"
    )
    booklet_picture_height_mm: PictureHeight = Field(
        description="the tallest a picture prints in the booklet"
    )
    card_picture_height_mm: PictureHeight = Field(
        description="the tallest a picture prints on an A6 card"
    )
    card_picture_min_height_mm: PictureHeight = Field(
        description="the least a card's picture shrinks to, before its text shrinks"
    )
    bleed_mm: Annotated[float, Field(ge=0, le=6)] = Field(
        description="a card's background printed past its cut"
    )


def _optional(field: FieldInfo) -> Any:
    """The field's type with its constraints (pydantic keeps them apart), or None."""
    constrained = (
        Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    )
    return constrained | None


# The same fields, each optional: what a theme or handbook.yaml may change.
DesignChanges: type[BaseModel] = create_model(
    "DesignChanges",
    __config__=ConfigDict(extra="forbid", frozen=True),
    **{
        name: (_optional(field), Field(None, description=field.description))
        for name, field in Design.model_fields.items()
    },
)


class ThemeFile(BaseModel):
    """A theme's ``theme.yaml``: what the theme is for, and the design values it
    changes from the default theme (the default theme gives them all)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    design: DesignChanges = DesignChanges()  # type: ignore[valid-type]


def custom_properties(design: Design) -> dict[str, str]:
    """The design as CSS custom properties: ``{"--card-margin": "6mm", ...}``."""
    properties = {}
    for name, value in design.model_dump().items():
        unit = next((u for suffix, u in _UNITS.items() if name.endswith(suffix)), "")
        base = name.removesuffix(f"_{unit}") if unit else name
        prop = "--" + base.replace("_", "-")
        if isinstance(value, tuple):
            for index, item in enumerate(value):
                properties[f"{prop.removesuffix('s')}-{index}"] = str(item)
        elif name == "font_family":
            properties[prop] = f'"{value}"'
        else:
            properties[prop] = f"{value:g}{unit}" if isinstance(value, float) else str(value)
    return properties


def root_rule(design: Design) -> str:
    """A ``:root`` rule declaring every design value, for the page's stylesheets."""
    lines = "".join(f"  {name}: {value};\n" for name, value in custom_properties(design).items())
    return f":root {{\n{lines}}}\n"


_VAR = re.compile(r"var\(\s*(--[\w-]+)\s*(?:,\s*([^()]*?))?\s*\)")
_PRODUCT = re.compile(r"calc\(\s*(-?[\d.]+)\s*\*\s*(-?[\d.]+)\s*\)")


def resolved(css: str, design: Design) -> str:
    """``css`` with every ``var(--name)`` replaced by its design value.

    WeasyPrint's SVG renderer reads a diagram's own ``<style>`` only and
    knows neither custom properties nor ``calc()``; this writes the values in,
    and works out ``calc(a * b)`` of two plain numbers (``calc(0.7 *
    var(--diagram-line-weight))``). An unknown name without a fallback is
    left as it is, which the renderer ignores like any invalid value.
    """
    properties = custom_properties(design)

    def value(match: re.Match[str]) -> str:
        return properties.get(match.group(1), match.group(2) or match.group(0))

    def product(match: re.Match[str]) -> str:
        return f"{float(match.group(1)) * float(match.group(2)):g}"

    return _PRODUCT.sub(product, _VAR.sub(value, css))


def combined(layers: list[BaseModel]) -> dict[str, Any]:
    """The values that several layers of design changes give; a later layer wins."""
    values: dict[str, Any] = {}
    for layer in layers:
        values.update(layer.model_dump(exclude_none=True))
    return values
