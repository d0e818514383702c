"""Stage 2: the content model. Every content file is one of these kinds.

The kinds are generic on purpose: a *technique* is any practice with steps
(a massage stroke, a yoga pose, a first-aid move), a *safety* topic any
warning, a *routine* a timed sequence of techniques. The words printed for
fields such as "Pressure" come from ``labels`` in ``handbook.yaml``, so a
first-aid or yoga handbook needs no code change.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from handbook.design import DesignChanges

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Markdown = Annotated[str, StringConstraints(max_length=50_000)]
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
Minutes = Annotated[float, Field(gt=0, le=600)]


def _calendar_date(value: object) -> object:
    """Only YYYY-MM-DD: pydantic alone would read ``0`` or ``86400`` as a Unix time."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise PydanticCustomError("date_parsing", "not a YYYY-MM-DD date")
    return value


CalendarDate = Annotated[datetime.date, BeforeValidator(_calendar_date)]

PaperSize = Literal["a5", "a4", "letter", "half-letter"]
CardSize = Literal["a6", "a5", "4x6", "5x7", "3.5x5"]

# Where a technique, safety topic or routine comes among its kind, in the
# booklet and the cards; items with the same order keep the order of their files.
Order = Annotated[int, Field(ge=0, le=10_000)]

# Chapter ids that stand for a part of the booklet generated from content.
GENERATED_PARTS = ("techniques", "routines", "safety", "glossary")


class Strict(BaseModel):
    """Base for every model: unknown keys are mistakes, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Labels(Strict):
    """Words printed by the templates, so other kinds of handbook can rename them."""

    contents: Text = "Contents"
    chapter: Text = "Chapter"
    techniques: Text = "Techniques"
    routines: Text = "Routines"
    safety: Text = "Safety"
    glossary: Text = "Glossary"
    intensity: Text = "Pressure"
    hand: Text = "Hand"
    direction: Text = "Direction"
    minutes: Text = "min"
    steps: Text = "Steps"
    cues: Text = "What it should feel like"
    mistakes: Text = "Avoid these mistakes"
    never: Text = "Never"
    zones: Text = "Works on"
    avoid_zones: Text = "Keep off"
    related: Text = "Safety first"
    conditions: Text = "When this applies"
    actions: Text = "What to do"
    page: Text = "page"
    see: Text = "see"
    total: Text = "Total"
    view_back: Text = "Back"
    view_front: Text = "Front"


class Settings(Strict):
    """``handbook.yaml``: what the handbook is and how it is printed."""

    title: Text
    subtitle: str = ""
    authors: list[Text] = []
    language: LanguageTag = "en"
    edition: str = ""
    date: CalendarDate | None = None
    paper: PaperSize = "a5"
    card_size: CardSize = "a6"
    outline: list[Id] = Field(
        default=[],
        description="Order of the booklet's chapters by id; 'techniques', 'routines', "
        "'safety' and 'glossary' place the parts generated from content.",
    )
    labels: Labels = Labels()
    theme: Id = Field(
        default="default",
        description="The look: a built-in theme ('default', 'high-contrast') or a folder "
        "in the project's themes/.",
    )
    design: DesignChanges = Field(  # type: ignore[valid-type]
        default=DesignChanges(),
        description="Single design values changed from the theme's, such as 'stop: \"#990000\"'.",
    )


class Section(Strict):
    """A titled block of prose in light Markdown; ``tone`` boxes it as a callout."""

    id: Id | None = None
    title: str = ""
    body: Markdown = ""
    tone: Literal["plain", "tip", "caution", "stop"] = "plain"


class Chapter(Strict):
    kind: Literal["chapter"]
    id: Id
    title: Text
    summary: str = ""
    sections: list[Section] = []


class Stroke(Strict):
    """One arrow on a technique's body map: which zone and which way."""

    zone: Id
    direction: Literal["up", "down", "left", "right", "outward", "inward", "circular"]


class Technique(Strict):
    kind: Literal["technique"]
    id: Id
    order: Order = 0
    name: Text
    other_names: list[Text] = []
    purpose: Text
    hand: str = ""
    direction: str = ""
    intensity: Annotated[int, Field(ge=1, le=5)] | None = None
    minutes: Minutes | None = None
    steps: Annotated[list[Text], Field(min_length=1)]
    cues: list[Text] = []
    mistakes: list[Text] = []
    never: str = ""
    zones: list[Id] = []
    strokes: list[Stroke] = []
    avoid_zones: list[Id] = []
    safety: list[Id] = []


class SafetyTopic(Strict):
    kind: Literal["safety"]
    id: Id
    order: Order = 0
    title: Text
    severity: Literal["stop", "caution", "note"]
    summary: str = ""
    conditions: list[Text] = []
    actions: list[Text] = []
    zones: list[Id] = []


class RoutineStep(Strict):
    technique: Id
    minutes: Minutes
    zones: list[Id] = []
    note: str = ""


class Routine(Strict):
    kind: Literal["routine"]
    id: Id
    order: Order = 0
    title: Text
    minutes: Minutes
    purpose: str = ""
    steps: Annotated[list[RoutineStep], Field(min_length=1)]


# Body-map geometry lives in a fixed frame, 120 units wide and 160 high, y
# pointing down, with the body's midline at x = 60 (see handbook/diagrams.py).
MAP_WIDTH = 120.0
MAP_HEIGHT = 160.0
X = Annotated[float, Field(ge=0, le=MAP_WIDTH)]
Y = Annotated[float, Field(ge=0, le=MAP_HEIGHT)]
Point = tuple[X, Y]


class Shape(Strict):
    """One piece of a zone on the body map: a polygon or an ellipse, in map units."""

    polygon: Annotated[list[Point], Field(min_length=3)] | None = None
    ellipse: tuple[X, Y, Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)]] | None = (
        Field(default=None, description="centre x, centre y, radius x, radius y")
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Shape:
        if (self.polygon is None) == (self.ellipse is None):
            raise ValueError("a shape needs exactly one of 'polygon' or 'ellipse'")
        return self


class Zone(Strict):
    """A named area of the body. ``shapes`` place it on the body map; ``mirror``
    repeats every shape on the other side of the midline."""

    id: Id
    name: Text
    view: Literal["back", "front"] = "back"
    description: str = ""
    shapes: list[Shape] = []
    mirror: bool = False


class ZoneList(Strict):
    kind: Literal["zones"]
    zones: Annotated[list[Zone], Field(min_length=1)]


ContentFile = Annotated[
    Chapter | Technique | SafetyTopic | Routine | ZoneList, Field(discriminator="kind")
]
CONTENT_KINDS = ("chapter", "technique", "safety", "routine", "zones")
