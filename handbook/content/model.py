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
    WithJsonSchema,
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


DATE_PATTERN = r"^\s*\d{4}-\d{2}-\d{2}\s*$"


def _calendar_date(value: object) -> object:
    """Only YYYY-MM-DD: pydantic alone would read ``0`` or ``86400`` as a Unix time."""
    if isinstance(value, str) and not re.fullmatch(DATE_PATTERN, value):
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

    contents: Text = Field(description="The heading of the table of contents.")
    chapter: Text = Field(description="The word for a chapter.")
    techniques: Text = Field(description="The heading of the part with the techniques.")
    routines: Text = Field(description="The heading of the part with the routines.")
    safety: Text = Field(description="The heading of the part with the safety topics.")
    glossary: Text = Field(description="The heading of the glossary of zones.")
    direction: Text = Field(description="The key to the arrows on a map.")
    minutes: Text = Field(description="The short unit after a time in minutes (min).")
    seconds: Text = Field(description="The short unit after a time in seconds (s).")
    steps: Text = Field(description="The heading of a technique's steps.")
    cues: Text = Field(description="The heading of a technique's cues: what it should feel like.")
    mistakes: Text = Field(description="The heading of a technique's common mistakes.")
    never: Text = Field(description="The word before a technique's 'never' line.")
    zones: Text = Field(description="The key to the zones a technique works on.")
    avoid_zones: Text = Field(
        description="The key to a technique map's hatched zones, to keep off."
    )
    safety_zones: Text = Field(description="The key to a safety topic map's hatched zones.")
    related: Text = Field(description="The heading before the safety topics a technique links to.")
    card_back: Text = Field(description="The heading on the back of a card.")
    conditions: Text = Field(
        description="The heading of a safety topic's conditions: when it applies."
    )
    actions: Text = Field(description="The heading of a safety topic's actions: what to do.")
    page: Text = Field(description="The word before a page number.")
    see: Text = Field(description="The word before a cross-reference (see page 12).")
    total: Text = Field(description="The word before a routine's total time.")
    view_back: Text = Field(description="The caption of a drawing seen from the back.")
    view_front: Text = Field(description="The caption of a drawing seen from the front.")
    # The picture's alternative text and key: how a stroke runs, and pressing in.
    press_in: Text = Field(description="A map's words for pressing in, in its key and alt text.")
    arrow_up: Text = Field(description="A map's words for a stroke upward.")
    arrow_down: Text = Field(description="A map's words for a stroke downward.")
    arrow_left: Text = Field(description="A map's words for a stroke to the left.")
    arrow_right: Text = Field(description="A map's words for a stroke to the right.")
    arrow_outward: Text = Field(description="A map's words for a stroke outward.")
    arrow_inward: Text = Field(description="A map's words for a stroke inward.")
    arrow_circular: Text = Field(description="A map's words for a stroke in circles.")
    # The words that mark a box's tone and a safety topic's severity, so the
    # meaning survives a black-and-white printer.
    tip: Text = Field(description="The word that marks a tip box.")
    caution: Text = Field(description="The word that marks a caution box or topic.")
    stop: Text = Field(description="The word that marks a stop box or topic.")
    note: Text = Field(description="The word that marks a note topic.")
    notes: Text = Field(
        description="The heading of a page left for notes (with 'blank_pages: notes')."
    )


# A translation's own ``labels``: any single words of :class:`Labels`, each optional.
LabelChanges = create_model(
    "LabelChanges",
    __base__=Strict,
    **{  # type: ignore[call-overload]
        name: (Text | None, Field(None, description=field.description))
        for name, field in Labels.model_fields.items()
    },
)


class Scale(Strict):
    """How strong, hard or demanding something is, on a scale of this handbook's own."""

    label: Text = Field(description="What the scale measures, as printed: Pressure, Effort ...")
    max: Annotated[int, Field(ge=2, le=MAX_LEVEL)] = Field(
        default=5, description="The highest level; a level runs from 1 to this."
    )


class Settings(Strict):
    """``handbook.yaml``: what the handbook is and how it is printed."""

    title: Text = Field(description="The handbook's title, printed on the cover.")
    subtitle: str = Field(default="", description="A line under the title on the cover.")
    authors: list[Text] = Field(default=[], description="Who wrote it, as printed on the cover.")
    language: LanguageTag = Field(
        default=DEFAULT_LANGUAGE,
        description="The language of the content, as a tag such as en, de or pt-BR: "
        "it sets the printed words, hyphenation, numbers and dates.",
    )
    edition: str = Field(default="", description="The edition, printed on the cover.")
    date: CalendarDate | None = Field(
        default=None, description="The edition's date, as YYYY-MM-DD: printed and kept in the PDFs."
    )
    paper: PaperSize = Field(default="a5", description="The booklet's page size.")
    card_size: CardSize = Field(default="a6", description="The size of each card.")
    chapter_start: Literal["right", "any"] = Field(
        default="right",
        description="Where each chapter of the booklet starts: 'right' on a right-hand page "
        "(leaving the page before it empty if need be), 'any' on the next page, which "
        "saves paper.",
    )
    blank_pages: Literal["blank", "notes"] = Field(
        default="blank",
        description="What the pages the booklet leaves empty show: 'blank' nothing, "
        "'notes' a heading and ruled lines for the reader's notes.",
    )
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

    id: Id | None = Field(
        default=None, description="Needed only when the section is a card: its file name."
    )
    title: str = Field(default="", description="The section's heading; none if empty.")
    body: Markdown = Field(default="", description="The text, in light Markdown.")
    tone: Literal["plain", "tip", "caution", "stop"] = Field(
        default="plain", description="plain, or a box marked tip, caution or stop."
    )
    pictures: Pictures = []
    card: bool = Field(default=False, description="Also print this section as a card.")


KIND = "What the file holds: chapter, technique, safety, routine or zones."
ITEM_ID = "Its id: lowercase words joined by hyphens, unique in the project."
ORDER = "Its place among its kind (equal orders keep the order of their files)."
ZONES_WORKED = "Zones it works on, by id: dotted on its map."


class Chapter(Strict):
    """Prose, in sections."""

    kind: Literal["chapter"] = Field(description=KIND)
    id: Id = Field(description=ITEM_ID)
    title: Text = Field(description="The chapter's heading.")
    summary: str = Field(default="", description="A line under the heading.")
    sections: list[Section] = Field(default=[], description="Its sections, in order.")
    card: bool = Field(default=False, description="Also print the whole chapter as a card.")


class Stroke(Strict):
    """One arrow on a technique's body map: which zone and which way."""

    zone: Id = Field(description="The zone the arrow is drawn on, by id.")
    direction: Literal["up", "down", "left", "right", "outward", "inward", "circular", "into"] = (
        Field(description="Which way: along the surface, or 'into' it (pressing in).")
    )


class Fact(Strict):
    """A key fact printed with its label: Rate 100-120 a minute, Ratio 30:2."""

    label: Text = Field(description="What the fact is about, such as Rate.")
    value: Text = Field(description="The fact itself, such as 100-120 a minute.")


Level = Annotated[int, Field(ge=1, le=MAX_LEVEL)]


class Technique(Strict):
    """Any practice with steps: a stroke, a pose, a first-aid move."""

    kind: Literal["technique"] = Field(description=KIND)
    id: Id = Field(description=ITEM_ID)
    order: Order = Field(default=0, description=ORDER)
    name: Text = Field(description="Its name, as printed.")
    other_names: list[Text] = Field(default=[], description="Other names it goes by.")
    purpose: Text = Field(description="What it is for, in a sentence.")
    level: Level | None = Field(
        default=None, description="How demanding it is, on handbook.yaml's scale."
    )
    facts: list[Fact] = Field(default=[], description="Key facts, printed as label: value.")
    steps: Annotated[list[Text], Field(min_length=1)] = Field(
        description="What to do, in order; at least one."
    )
    cues: list[Text] = Field(default=[], description="What it should feel like when done well.")
    mistakes: list[Text] = Field(default=[], description="Common mistakes to avoid.")
    never: str = Field(default="", description="The one thing never to do.")
    zones: list[Id] = Field(default=[], description=ZONES_WORKED)
    strokes: list[Stroke] = Field(default=[], description="Arrows on its map: zone and direction.")
    avoid_zones: list[Id] = Field(
        default=[], description="Zones to keep off, by id: hatched on its map."
    )
    safety: list[Id] = Field(default=[], description="Safety topics it links to, by id.")
    pictures: Pictures = []
    card: bool = Field(default=True, description="Print a card of it; false for none.")


class SafetyTopic(Strict):
    """A warning, with its severity."""

    kind: Literal["safety"] = Field(description=KIND)
    id: Id = Field(description=ITEM_ID)
    order: Order = Field(default=0, description=ORDER)
    title: Text = Field(description="The warning's heading.")
    severity: Literal["stop", "caution", "note"] = Field(
        description="How serious: stop, caution or note (also printed as a word)."
    )
    summary: str = Field(default="", description="The warning in a sentence or two.")
    facts: list[Fact] = Field(default=[], description="Key facts, printed as label: value.")
    conditions: list[Text] = Field(default=[], description="When it applies.")
    actions: list[Text] = Field(default=[], description="What to do then.")
    zones: list[Id] = Field(default=[], description="Zones it concerns, by id: hatched on its map.")
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


# Editors see the text a duration is written as; the pattern is the parser's own.
DURATION_TEXT = {"type": "string", "pattern": re.sub(r"\(\?P<\w+>", "(?:", _DURATION.pattern)}
Duration = Annotated[
    float,
    BeforeValidator(_seconds),
    Field(gt=0, le=MAX_SECONDS),
    WithJsonSchema(DURATION_TEXT),
]


class Timed(Strict):
    """Something that may take a time: ``minutes`` (a number) or ``duration`` (text)."""

    minutes: Minutes | None = Field(default=None, description="How long, in minutes.")
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
    zones: list[Id] = Field(default=[], description="Zones the step works on, by id.")
    note: str = Field(default="", description="A short note printed with the step.")

    @model_validator(mode="after")
    def _item_or_title(self) -> RoutineStep:
        if (self.item is None) == (self.title is None):
            raise ValueError("a step needs 'item' (what it refers to) or 'title', one of them")
        return self


class Routine(Timed):
    """A sequence of steps, timed (each step has a time) or not (a numbered checklist)."""

    kind: Literal["routine"] = Field(description=KIND)
    id: Id = Field(description=ITEM_ID)
    order: Order = Field(default=0, description=ORDER)
    title: Text = Field(description="The routine's name, as printed.")
    purpose: str = Field(default="", description="What it is for, in a sentence.")
    steps: Annotated[list[RoutineStep], Field(min_length=1)] = Field(
        description="Its steps, in order; at least one."
    )
    pictures: Pictures = []
    card: bool = Field(default=True, description="Print a card of it; false for none.")


Coordinate = Annotated[float, Field(allow_inf_nan=False)]
Point = tuple[Coordinate, Coordinate]


class Shape(Strict):
    """One piece of a zone: a polygon or an ellipse, in its drawing's viewBox units."""

    polygon: Annotated[list[Point], Field(min_length=3)] | None = Field(
        default=None, description="Its corners as [x, y] points, at least three."
    )
    ellipse: (
        tuple[
            Coordinate,
            Coordinate,
            Annotated[float, Field(gt=0, allow_inf_nan=False)],
            Annotated[float, Field(gt=0, allow_inf_nan=False)],
        ]
        | None
    ) = Field(default=None, description="[centre x, centre y, radius x, radius y].")

    @model_validator(mode="after")
    def _one_kind(self) -> Shape:
        if (self.polygon is None) == (self.ellipse is None):
            raise ValueError("a shape needs exactly one of 'polygon' or 'ellipse'")
        return self


class Drawing(Strict):
    """A base picture zones are placed on: an SVG file of the project's own."""

    id: Id = Field(description="The drawing's id, which its zones name.")
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

    id: Id = Field(description="The zone's id, which techniques and safety topics name.")
    name: Text = Field(description="Its name, as printed beside the map.")
    drawing: Id | None = Field(
        default=None,
        description="The drawing its shapes are on; needed only when the project has several.",
    )
    description: str = Field(default="", description="What it is, printed in the glossary.")
    shapes: list[Shape] = Field(
        default=[], description="Where it lies on the drawing: polygons and ellipses."
    )
    mirror: bool = Field(
        default=False, description="Repeat every shape across the drawing's midline."
    )


class ZoneList(Strict):
    """The zones that techniques and safety topics name, and the drawings they are on."""

    kind: Literal["zones"] = Field(description=KIND)
    drawings: list[Drawing] = Field(
        default=[], description="The project's own drawings; the built-in back if none."
    )
    zones: Annotated[list[Zone], Field(min_length=1)] = Field(
        description="The zones, at least one."
    )


ContentFile = Annotated[
    Chapter | Technique | SafetyTopic | Routine | ZoneList, Field(discriminator="kind")
]
CONTENT_KINDS = ("chapter", "technique", "safety", "routine", "zones")
