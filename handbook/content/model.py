"""Stage 2: the content model. Every content file is one of these kinds.

The kinds are generic on purpose: a *technique* is any practice with steps
(a massage stroke, a yoga pose, a first-aid move), a *safety* topic any
warning, a *routine* a timed sequence of techniques. The words printed for
fields such as "Steps" come from the catalogue of the handbook's language and
``labels`` in ``handbook.yaml``, so a first-aid or yoga handbook needs no code change.
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
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from handbook.content.labels import FALLBACK, catalogue
from handbook.design import DesignChanges
from handbook.press.sizes import CARD_SIZES, PAPER_SIZES
from handbook.project import DEFAULT_LANGUAGE

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Markdown = Annotated[str, StringConstraints(max_length=50_000)]
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
Minutes = Annotated[float, Field(gt=0, le=600)]
MAX_LEVEL = 10  # the longest scale a handbook may set


def _calendar_date(value: object) -> object:
    """Only YYYY-MM-DD: pydantic alone would read ``0`` or ``86400`` as a Unix time."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise PydanticCustomError("date_parsing", "not a YYYY-MM-DD date")
    return value


CalendarDate = Annotated[datetime.date, BeforeValidator(_calendar_date)]

# The names come from the size tables, so a size added there is accepted here.
PaperSize = Literal[tuple(PAPER_SIZES)]  # type: ignore[valid-type]
CardSize = Literal[tuple(CARD_SIZES)]  # type: ignore[valid-type]

# Where a technique, safety topic or routine comes among its kind, in the
# booklet and the cards; items with the same order keep the order of their files.
Order = Annotated[int, Field(ge=0, le=10_000)]

# Chapter ids that stand for a part of the booklet generated from content.
GENERATED_PARTS = ("techniques", "routines", "safety", "glossary")


class Strict(BaseModel):
    """Base for every model: unknown keys are mistakes, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _every_label_optional(schema: dict) -> None:
    """In handbook.yaml each label may be left out: the language's catalogue has it."""
    schema.pop("required", None)


class Labels(Strict):
    """Words printed by the tool itself, so a handbook in any language or of any kind
    prints its own. Each comes from the catalogue of the handbook's language
    (``handbook/content/labels/<language>.yaml``); ``labels`` in handbook.yaml
    changes single words."""

    model_config = ConfigDict(json_schema_extra=_every_label_optional)

    contents: Text
    chapter: Text
    techniques: Text
    routines: Text
    safety: Text
    glossary: Text
    direction: Text  # the key to the arrows on a map
    minutes: Text
    seconds: Text
    steps: Text
    cues: Text
    mistakes: Text
    never: Text
    zones: Text
    avoid_zones: Text  # the key to a technique map's hatched zones
    safety_zones: Text  # the key to a safety topic map's hatched zones
    related: Text  # before the safety topics a technique links to
    card_back: Text  # the heading on the back of a card
    conditions: Text
    actions: Text
    page: Text
    see: Text
    total: Text
    view_back: Text
    view_front: Text
    # The picture's alternative text and key: how a stroke runs, and pressing in.
    press_in: Text
    arrow_up: Text
    arrow_down: Text
    arrow_left: Text
    arrow_right: Text
    arrow_outward: Text
    arrow_inward: Text
    arrow_circular: Text
    # The words that mark a box's tone and a safety topic's severity, so the
    # meaning survives a black-and-white printer.
    tip: Text
    caution: Text
    stop: Text
    note: Text


# A translation's own ``labels``: any single words of :class:`Labels`, each optional.
LabelChanges = create_model(
    "LabelChanges",
    __base__=Strict,
    **{name: (Text | None, None) for name in Labels.model_fields},  # type: ignore[call-overload]
)


class Scale(Strict):
    """How strong, hard or demanding something is, on a scale of this handbook's own."""

    label: Text = Field(description="What the scale measures, as printed: Pressure, Effort ...")
    max: Annotated[int, Field(ge=2, le=MAX_LEVEL)] = Field(
        default=5, description="The highest level; a level runs from 1 to this."
    )


class Settings(Strict):
    """``handbook.yaml``: what the handbook is and how it is printed."""

    title: Text
    subtitle: str = ""
    authors: list[Text] = []
    language: LanguageTag = DEFAULT_LANGUAGE
    edition: str = ""
    date: CalendarDate | None = None
    paper: PaperSize = "a5"
    card_size: CardSize = "a6"
    outline: list[Id] | None = Field(
        default=None,
        description="The booklet's parts in order, by id: chapters, and 'techniques', "
        "'routines', 'safety' and 'glossary' for the parts generated from content. Only "
        "what it lists is printed; an empty list makes no booklet (cards only). Without "
        "it, every chapter prints in file order, then every generated part.",
    )
    scale: Scale | None = Field(
        default=None,
        description="The scale items rate themselves on with 'level'; none by default.",
    )
    labels: Labels = Field(
        default_factory=dict,  # type: ignore[arg-type]
        validate_default=True,
        description="Single words changed from the built-in ones of the handbook's language.",
    )
    theme: Id = Field(
        default="default",
        description="The look: a built-in theme ('default', 'high-contrast') or a folder "
        "in the project's themes/.",
    )
    design: DesignChanges = Field(  # type: ignore[valid-type]
        default=DesignChanges(),
        description="Single design values changed from the theme's, such as 'stop: \"#990000\"'.",
    )

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_in_language(cls, value: object, info: ValidationInfo) -> object:
        """The catalogue of the handbook's language, with the words handbook.yaml changes."""
        if not isinstance(value, dict):
            return value  # not a mapping: pydantic reports it
        return {**catalogue(info.data.get("language", FALLBACK)), **value}


MAX_PICTURES = 12  # on one item or section: more is a gallery, not a handbook page


class Picture(Strict):
    """A picture from the project's files, printed with its item or section
    (in the booklet and on the card)."""

    file: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] = (
        Field(
            description="The picture's path inside the project, such as "
            "pictures/hand-position.jpg: a PNG, JPEG or SVG file."
        )
    )
    alt: Text = Field(
        description="What the picture shows, in words, for readers who cannot see it "
        "(screen readers read it from the PDF). Required."
    )
    caption: Annotated[str, StringConstraints(max_length=1000)] = Field(
        default="", description="A short line printed under the picture (light Markdown)."
    )


Pictures = Annotated[
    list[Picture],
    Field(max_length=MAX_PICTURES, description="Pictures printed with it, in order."),
]


class Section(Strict):
    """A titled block of prose in light Markdown; ``tone`` boxes it as a callout."""

    id: Id | None = None
    title: str = ""
    body: Markdown = ""
    tone: Literal["plain", "tip", "caution", "stop"] = "plain"
    pictures: Pictures = []
    card: bool = Field(default=False, description="Also print this section as a card.")


class Chapter(Strict):
    kind: Literal["chapter"]
    id: Id
    title: Text
    summary: str = ""
    sections: list[Section] = []
    card: bool = Field(default=False, description="Also print the whole chapter as a card.")


class Stroke(Strict):
    """One arrow on a technique's body map: which zone and which way."""

    zone: Id
    direction: Literal["up", "down", "left", "right", "outward", "inward", "circular", "into"] = (
        Field(description="along the surface, or 'into' it (pressing in, drawn as a target)")
    )


class Fact(Strict):
    """A key fact printed with its label: Rate 100-120 a minute, Ratio 30:2."""

    label: Text
    value: Text


Level = Annotated[int, Field(ge=1, le=MAX_LEVEL)]


class Technique(Strict):
    kind: Literal["technique"]
    id: Id
    order: Order = 0
    name: Text
    other_names: list[Text] = []
    purpose: Text
    level: Level | None = None
    facts: list[Fact] = []
    steps: Annotated[list[Text], Field(min_length=1)]
    cues: list[Text] = []
    mistakes: list[Text] = []
    never: str = ""
    zones: list[Id] = []
    strokes: list[Stroke] = []
    avoid_zones: list[Id] = []
    safety: list[Id] = []
    pictures: Pictures = []
    card: bool = Field(default=True, description="Print a card of it; false for none.")


class SafetyTopic(Strict):
    kind: Literal["safety"]
    id: Id
    order: Order = 0
    title: Text
    severity: Literal["stop", "caution", "note"]
    summary: str = ""
    facts: list[Fact] = []
    conditions: list[Text] = []
    actions: list[Text] = []
    zones: list[Id] = []
    pictures: Pictures = []
    card: bool = Field(default=True, description="Print a card of it; false for none.")


_DURATION = re.compile(
    r"^\s*(?:(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>s|secs?|seconds?|mins?|minutes?|h|hours?)"
    r"|(?P<m>\d+):(?P<s>[0-5]\d))\s*$"
)
_SECONDS_IN = {"s": 1, "m": 60, "h": 3600}  # by the unit's first letter
MAX_SECONDS = 600 * 60  # ten hours: longer is a typo


def _seconds(value: object) -> object:
    """A duration written as text ("30 s", "2 min", "1.5 min", "1 h", "1:30") in seconds."""
    if not isinstance(value, str):
        return value
    found = _DURATION.match(value)
    if not found:
        raise PydanticCustomError(
            "duration", "'{value}' is not a duration such as 30 s, 2 min or 1:30", {"value": value}
        )
    if found["m"] is not None:
        return int(found["m"]) * 60 + int(found["s"])
    return float(found["number"]) * _SECONDS_IN[found["unit"][0]]


Duration = Annotated[float, BeforeValidator(_seconds), Field(gt=0, le=MAX_SECONDS)]


class Timed(Strict):
    """Something that may take a time: ``minutes`` (a number) or ``duration`` (text)."""

    minutes: Minutes | None = None
    duration: Duration | None = Field(
        default=None, description="How long, as text: 30 s, 2 min, 1.5 min, 1 h or 1:30."
    )

    @model_validator(mode="after")
    def _one_way_of_timing(self) -> Timed:
        if self.minutes is not None and self.duration is not None:
            raise ValueError("give 'minutes' or 'duration', not both")
        return self

    @property
    def seconds(self) -> float | None:
        if self.duration is not None:
            return self.duration
        return None if self.minutes is None else self.minutes * 60


class RoutineStep(Timed):
    """One step: a reference to an item (``item``) or free text (``title``)."""

    item: Id | None = Field(default=None, description="A technique, safety topic or routine.")
    title: Text | None = Field(default=None, description="The step in words, if no item.")
    zones: list[Id] = []
    note: str = ""

    @model_validator(mode="after")
    def _item_or_title(self) -> RoutineStep:
        if (self.item is None) == (self.title is None):
            raise ValueError("a step needs 'item' (what it refers to) or 'title', one of them")
        return self


class Routine(Timed):
    """A sequence of steps, timed (each step has a time) or not (a numbered checklist)."""

    kind: Literal["routine"]
    id: Id
    order: Order = 0
    title: Text
    purpose: str = ""
    steps: Annotated[list[RoutineStep], Field(min_length=1)]
    pictures: Pictures = []
    card: bool = Field(default=True, description="Print a card of it; false for none.")


Coordinate = Annotated[float, Field(allow_inf_nan=False)]
Point = tuple[Coordinate, Coordinate]


class Shape(Strict):
    """One piece of a zone: a polygon or an ellipse, in its drawing's viewBox units."""

    polygon: Annotated[list[Point], Field(min_length=3)] | None = None
    ellipse: (
        tuple[
            Coordinate,
            Coordinate,
            Annotated[float, Field(gt=0, allow_inf_nan=False)],
            Annotated[float, Field(gt=0, allow_inf_nan=False)],
        ]
        | None
    ) = Field(default=None, description="centre x, centre y, radius x, radius y")

    @model_validator(mode="after")
    def _one_kind(self) -> Shape:
        if (self.polygon is None) == (self.ellipse is None):
            raise ValueError("a shape needs exactly one of 'polygon' or 'ellipse'")
        return self


class Drawing(Strict):
    """A base picture zones are placed on: an SVG file of the project's own."""

    id: Id
    file: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="The SVG file, relative to this YAML file; it must lie inside the project."
    )
    title: Text | None = Field(
        default=None, description="Printed above the drawing when a map shows several."
    )
    view: Literal["front", "back"] | None = Field(
        default=None, description="Instead of a title: the labels 'view_front' or 'view_back'."
    )
    midline: Coordinate | None = Field(
        default=None,
        description="The x 'mirror: true' reflects about; the middle of the viewBox if not given.",
    )


class Zone(Strict):
    """A named area of a drawing. ``shapes`` place it on the drawing; ``mirror``
    repeats every shape on the other side of the drawing's midline."""

    id: Id
    name: Text
    drawing: Id | None = Field(
        default=None,
        description="The drawing its shapes are on; needed only when the project has several.",
    )
    description: str = ""
    shapes: list[Shape] = []
    mirror: bool = False


class ZoneList(Strict):
    kind: Literal["zones"]
    drawings: list[Drawing] = []
    zones: Annotated[list[Zone], Field(min_length=1)]


ContentFile = Annotated[
    Chapter | Technique | SafetyTopic | Routine | ZoneList, Field(discriminator="kind")
]
CONTENT_KINDS = ("chapter", "technique", "safety", "routine", "zones")
