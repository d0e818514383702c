"""What the templates print, assembled in Python: parts, contents, glossary, cards.

Templates receive these view objects and only lay them out, so a project that
overrides a template copies markup, not logic: which chapters come in which
order, what the contents list under each part, how the glossary is gathered
and sorted, and which safety reminders the back of a card carries are all
decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handbook.content.model import GENERATED_PARTS, Chapter, Labels, Routine
from handbook.content.validate import Handbook
from handbook.html.language import number_text, sort_key


def title_of(item: Any) -> str:
    """The printed title of any item: a technique's (or zone's) name, anything else's title."""
    return item.name if hasattr(item, "name") else item.title


@dataclass(frozen=True)
class Entry:
    """A line of the contents under a part: an item and its title."""

    id: str
    title: str


@dataclass(frozen=True)
class Part:
    """One entry of the booklet's outline: a written chapter or a generated part."""

    id: str
    title: str
    kind: str  # "chapter" or one of GENERATED_PARTS
    chapter: Chapter | None  # the written chapter, or a generated part's intro
    entries: tuple[Entry, ...] = ()  # the items listed under it in the contents


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    aka: tuple[str, ...] = ()  # other names, printed in brackets
    text: str = ""  # the explanation (light Markdown)
    id: str = ""  # the item the term names, whose page is printed
    see_id: str = ""  # for another name of an item: the item to see instead
    see_title: str = ""


@dataclass(frozen=True)
class Reminder:
    """A safety topic in short, for the back of a card."""

    title: str
    summary: str


@dataclass(frozen=True)
class Card:
    id: str
    kind: str  # "technique", "routine", "safety", "chapter" or "section"
    item: Any
    source_path: str
    title: str
    reminders: tuple[Reminder, ...] = ()  # the safety topics its back recalls


@dataclass(frozen=True)
class Step:
    """A step of a routine as it prints."""

    number: int
    title: str  # the item's title, or the step's own
    link: str  # the id of the item it refers to ("" for a free-text step)
    note: str
    time: str  # such as "2 min" or "30 s"; "" in an untimed routine


@dataclass(frozen=True)
class Sequence:
    steps: tuple[Step, ...]
    total: str  # the routine's time, "" when it has none
    timed: bool  # whether every step has a time (then it gets a timeline)


def sequence(handbook: Handbook, routine: Routine) -> Sequence:
    """A routine's steps with their titles and times, and its total."""
    labels, language = handbook.settings.labels, handbook.settings.language
    titles = {item.id: title_of(item) for item in _items(handbook)}
    steps = tuple(
        Step(
            number,
            titles.get(step.item, step.item) if step.item else step.title or "",
            step.item or "",
            step.note,
            "" if step.seconds is None else time_text(step.seconds, labels, language),
        )
        for number, step in enumerate(routine.steps, start=1)
    )
    timed = all(step.seconds is not None for step in routine.steps)
    total = routine.seconds
    if total is None and timed:
        total = sum(step.seconds or 0 for step in routine.steps)
    shown = "" if total is None else time_text(total, labels, language)
    return Sequence(steps, shown, timed)


def time_text(seconds: float, labels: Labels, language: str) -> str:
    """A time as it prints in the language: "45 s" under a minute, "1.5 min" in half
    minutes (German "1,5 Min."), else "3 min 40 s"."""

    def number(value: float) -> str:
        return number_text(value, language)

    if seconds < 60:
        return f"{number(seconds)} {labels.seconds}"
    if seconds % 30 == 0:
        return f"{number(seconds / 60)} {labels.minutes}"
    whole, rest = divmod(round(seconds), 60)
    return f"{number(whole)} {labels.minutes} {number(rest)} {labels.seconds}"


def _items(handbook: Handbook) -> list[Any]:
    return [*handbook.techniques, *handbook.safety, *handbook.routines]


def outline(handbook: Handbook) -> list[Part]:
    """The booklet's parts in order: exactly those ``outline`` lists, or, without an
    outline, every chapter in file order and then every generated part.

    A generated part with nothing in it (no routines, say) is left out.
    """
    chapters = {c.id: c for c in handbook.chapters}
    items = {"techniques": handbook.techniques, "routines": handbook.routines}
    items["safety"] = handbook.safety
    present = {kind: bool(found) for kind, found in items.items()}
    present["glossary"] = bool(handbook.techniques)
    order = handbook.settings.outline
    if order is None:
        order = [c.id for c in handbook.chapters if c.id not in GENERATED_PARTS]
        order += list(GENERATED_PARTS)
    labels = handbook.settings.labels
    parts = []
    for part_id in order:
        chapter = chapters.get(part_id)
        if part_id in GENERATED_PARTS:
            if not present[part_id]:
                continue
            title = chapter.title if chapter else getattr(labels, part_id)
            entries = tuple(Entry(item.id, title_of(item)) for item in items.get(part_id, ()))
            parts.append(Part(part_id, title, part_id, chapter, entries))
        elif chapter is not None:
            parts.append(Part(part_id, chapter.title, "chapter", chapter))
    return parts


def anchors(parts: list[Part]) -> frozenset[str]:
    """The ids the booklet has a place for: its parts, their items and their sections.

    A link to anything else (an item of a part left out of the outline) prints
    as its text.
    """
    found = set()
    for part in parts:
        found.add(part.id)
        found.update(entry.id for entry in part.entries)
        if part.chapter:
            found.update(section.id for section in part.chapter.sections if section.id)
    return frozenset(found)


def glossary(handbook: Handbook) -> list[GlossaryEntry]:
    """Every technique, its other names and every described zone, sorted by term as
    the handbook's language sorts words."""
    entries = []
    for technique in handbook.techniques:
        entries.append(
            GlossaryEntry(
                technique.name,
                tuple(technique.other_names),
                technique.purpose,
                id=technique.id,
            )
        )
        entries += [
            GlossaryEntry(name, see_id=technique.id, see_title=technique.name)
            for name in technique.other_names
        ]
    entries += [
        GlossaryEntry(zone.name, text=zone.description)
        for zone in handbook.zones
        if zone.description
    ]
    key = sort_key(handbook.settings.language)
    return sorted(entries, key=lambda entry: key(entry.term))


def cards(handbook: Handbook) -> list[Card]:
    """The cards, in booklet order: chapters and sections that ask for one, then every
    technique, routine and safety topic that does not opt out with ``card: false``."""
    found = []
    for chapter in handbook.chapters:
        path = handbook.source_path(chapter.id)
        if chapter.card:
            found.append(Card(chapter.id, "chapter", chapter, path, chapter.title))
        found += [
            Card(section.id, "section", section, path, section.title or chapter.title)
            for section in chapter.sections
            if section.card and section.id
        ]
    kinds = (
        ("technique", handbook.techniques),
        ("routine", handbook.routines),
        ("safety", handbook.safety),
    )
    found += [
        Card(
            item.id,
            kind,
            item,
            handbook.source_path(item.id),
            title_of(item),
            _reminders(handbook, kind, item),
        )
        for kind, items in kinds
        for item in items
        if item.card
    ]
    return found


def _reminders(handbook: Handbook, kind: str, item: Any) -> tuple[Reminder, ...]:
    """The safety topics a card's back recalls: its own, or its steps' (once each)."""
    if kind == "technique":
        topic_ids = list(item.safety)
    elif kind == "routine":
        techniques = {technique.id: technique for technique in handbook.techniques}
        safety = {topic.id for topic in handbook.safety}
        topic_ids = []
        for step in item.steps:
            if step.item in techniques:
                topic_ids += techniques[step.item].safety
            elif step.item in safety:
                topic_ids.append(step.item)
    else:
        return ()
    topics = (handbook.safety_topic(topic_id) for topic_id in dict.fromkeys(topic_ids))
    return tuple(Reminder(topic.title, topic.summary) for topic in topics)
