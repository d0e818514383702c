"""Translations: the source handbook with its texts replaced, one language at a time.

A project's translations live in ``translations/<language>/``. Every YAML file
there (any folder layout) maps item ids to their translated texts::

    kneading:
      translated_from: {name: "3f1a09c2", steps: "8d2e71b0"}
      name: Kneten
      steps:
        - Fasse eine große Falte ...

and ``translations/<language>/handbook.yaml`` translates the texts of
``handbook.yaml`` (title, subtitle ...). Only text is translated: ids, zones,
levels, order, references and timings always come from the source, so a
translation cannot break the handbook's structure.

``translated_from`` records a short hash of each source field as it was when
the entry was translated; when a source field changes, the entry is reported
out of date, naming the fields. A source item without an entry prints in the
source language. Both are *notices*: reported by ``handbook check`` and
summed up by a build, never a failure. A translation file that is itself
wrong (an unknown field, a wrong type) is a problem like any content file's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from handbook.content.labels import catalogue
from handbook.content.load import Location, SourceFile, read_yaml
from handbook.content.model import (
    Chapter,
    Fact,
    LabelChanges,
    Labels,
    LanguageTag,
    Markdown,
    Picture,
    Routine,
    RoutineStep,
    SafetyTopic,
    Scale,
    Section,
    Settings,
    Strict,
    Technique,
    Text,
    Zone,
)
from handbook.content.validate import Handbook, Origin, _check_links, _validate
from handbook.errors import HandbookError, Notice, Problem, did_you_mean
from handbook.project import SETTINGS_FILE, TRANSLATIONS_DIR, Project

SETTINGS_ID = SETTINGS_FILE  # how commands name the entry of handbook.yaml's texts
HASH_LENGTH = 8
_HASH = Annotated[str, Field(pattern=r"^[0-9a-f]{8}$")]
SourceHashes = dict[str, _HASH]
# Output folders a language's folder must not be named after.
RESERVED_NAMES = ("cards", "png")

# The kinds of notice a translation gets.
MISSING, STALE, UNKNOWN, UNTRANSLATED, PARTIAL = (
    "missing",
    "stale",
    "unknown",
    "untranslated",
    "partial",
)


# --- what a translation file may hold ----------------------------------------


class _Texts(BaseModel):
    """As strict as the content model: unknown keys are mistakes."""

    model_config = Strict.model_config


def _like(source: type[BaseModel], name: str, *default: Any) -> Any:
    """A translated field, described as the source field it translates."""
    return Field(*default, description=source.model_fields[name].description)


class FactText(_Texts):
    label: Text = _like(Fact, "label")
    value: Text = _like(Fact, "value")


class PictureText(_Texts):
    """A picture's words, matched to the source's picture by its place in the list."""

    alt: Text = _like(Picture, "alt", "")
    caption: str = _like(Picture, "caption", "")


class SectionText(_Texts):
    """A chapter's section, matched to the source's by its place in the list."""

    title: str = _like(Section, "title", "")
    body: Markdown = _like(Section, "body", "")
    pictures: list[PictureText] = _like(Section, "pictures", [])


class StepText(_Texts):
    """A routine's step, matched to the source's by its place in the list."""

    title: Text = Field(default="", description="Only for a step with a title in the source.")
    note: str = _like(RoutineStep, "note", "")


class Entry(_Texts):
    translated_from: SourceHashes = Field(
        default={},
        description="Written by 'handbook translate': a hash of each source field this "
        "entry was translated from. Do not edit it by hand.",
    )


class ChapterText(Entry):
    title: Text = _like(Chapter, "title", "")
    summary: str = _like(Chapter, "summary", "")
    sections: list[SectionText] = _like(Chapter, "sections", [])


class TechniqueText(Entry):
    name: Text = _like(Technique, "name", "")
    other_names: list[Text] = _like(Technique, "other_names", [])
    purpose: Text = _like(Technique, "purpose", "")
    facts: list[FactText] = _like(Technique, "facts", [])
    steps: Annotated[list[Text], Field(min_length=1)] = _like(Technique, "steps", [])
    cues: list[Text] = _like(Technique, "cues", [])
    mistakes: list[Text] = _like(Technique, "mistakes", [])
    never: str = _like(Technique, "never", "")
    pictures: list[PictureText] = _like(Technique, "pictures", [])


class SafetyText(Entry):
    title: Text = _like(SafetyTopic, "title", "")
    summary: str = _like(SafetyTopic, "summary", "")
    facts: list[FactText] = _like(SafetyTopic, "facts", [])
    conditions: list[Text] = _like(SafetyTopic, "conditions", [])
    actions: list[Text] = _like(SafetyTopic, "actions", [])
    pictures: list[PictureText] = _like(SafetyTopic, "pictures", [])


class RoutineText(Entry):
    title: Text = _like(Routine, "title", "")
    purpose: str = _like(Routine, "purpose", "")
    steps: list[StepText] = _like(Routine, "steps", [])
    pictures: list[PictureText] = _like(Routine, "pictures", [])


class ZoneText(Entry):
    name: Text = _like(Zone, "name", "")
    description: str = _like(Zone, "description", "")


class ScaleText(_Texts):
    label: Text = _like(Scale, "label")


class SettingsText(Entry):
    """``translations/<language>/handbook.yaml``: the texts of ``handbook.yaml``."""

    title: Text = _like(Settings, "title", "")
    subtitle: str = _like(Settings, "subtitle", "")
    authors: list[Text] = _like(Settings, "authors", [])
    edition: str = _like(Settings, "edition", "")
    scale: ScaleText | None = _like(Settings, "scale", None)
    labels: LabelChanges = _like(Settings, "labels", LabelChanges())


ENTRY_MODELS: dict[str, type[Entry]] = {
    "chapter": ChapterText,
    "technique": TechniqueText,
    "safety": SafetyText,
    "routine": RoutineText,
    "zone": ZoneText,
    "settings": SettingsText,
}
# Lists whose entries pair with the source's own (a section's tone, a step's
# item and time) and so must have as many entries as the source's.
PAIRED_LISTS = {("chapter", "sections"), ("routine", "steps")}
PAIRED_LISTS |= {(kind, "pictures") for kind in ("technique", "safety", "routine")}


def text_fields(kind: str) -> tuple[str, ...]:
    """The translatable fields of a kind, in the order they are written."""
    return tuple(name for name in ENTRY_MODELS[kind].model_fields if name != "translated_from")


# --- the source's texts and their hashes -------------------------------------


def kind_of(item: Any) -> str:
    return getattr(item, "kind", None) or ("zone" if hasattr(item, "shapes") else "settings")


def source_texts(item: Any) -> dict[str, Any]:
    """The texts of a source item (or the settings) a translation replaces, by field;
    fields without any text are left out."""
    kind = kind_of(item)
    texts = {}
    for name in text_fields(kind):
        value = _text_of(item, kind, name)
        if _has_text(value):
            texts[name] = value
    return texts


def _text_of(item: Any, kind: str, name: str) -> Any:
    value = getattr(item, name, None)
    if kind == "settings" and name == "scale":
        return {"label": value.label} if value else None
    if kind == "settings" and name == "labels":  # the words handbook.yaml changes
        built_in = catalogue(item.language)
        return {key: word for key, word in value.model_dump().items() if word != built_in[key]}
    if kind == "routine" and name == "steps":
        return [{"title": step.title or "", "note": step.note} for step in value]
    if kind == "chapter" and name == "sections":
        return [_section_text(section) for section in value]
    if name == "pictures":
        return [_picture_text(picture) for picture in value]
    if name == "facts":
        return [{"label": fact.label, "value": fact.value} for fact in value]
    return value


def _section_text(section: Section) -> dict[str, Any]:
    """A section's words; its pictures' only when it has pictures, so that adding
    pictures to the model left the sections without any as they were translated."""
    text: dict[str, Any] = {"title": section.title, "body": section.body}
    if section.pictures:
        text["pictures"] = [_picture_text(picture) for picture in section.pictures]
    return text


def _picture_text(picture: Picture) -> dict[str, str]:
    return {"alt": picture.alt, "caption": picture.caption}


def _has_text(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_text(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_text(v) for v in value)
    return bool(value)


def source_hashes(item: Any) -> dict[str, str]:
    """A short hash of each translatable field of a source item, as ``translated_from``
    records them."""
    return {name: _hash(value) for name, value in source_texts(item).items()}


def _hash(value: Any) -> str:
    canonical = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:HASH_LENGTH]


# --- reading a language's files ----------------------------------------------


@dataclass
class Translation:
    """A language's handbook: the source's structure with the translated texts."""

    language: str
    handbook: Handbook
    notices: list[Notice] = field(default_factory=list)


@dataclass
class _Found:
    """One entry of a translation file."""

    source: SourceFile  # the entry's own data, positions relative to it
    file: SourceFile  # the whole file, for locating it
    location: Location  # where the entry stands in the file

    def problem(self, sub: Location, message: str, hint: str = "", at_key=False) -> Problem:
        return self.file.problem((*self.location, *sub), message, hint, at_key=at_key)


def language_dir(project: Project, language: str) -> Path:
    return project.root / TRANSLATIONS_DIR / language


def translation_files(project: Project, language: str) -> list[Path]:
    """Every YAML file of a language, in a stable (sorted) order."""
    folder = language_dir(project, language)
    files = [*folder.rglob("*.yaml"), *folder.rglob("*.yml")]
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def translate(project: Project, handbook: Handbook, language: str) -> Translation:
    """The handbook in ``language``; raises HandbookError for problems in its files."""
    problems = _check_language_name(handbook, language)
    entries, settings_entry, unknown = _read_entries(project, handbook, language, problems)
    if problems:
        raise HandbookError(problems)
    translator = _Translator(handbook, language)
    result = translator.apply(entries, settings_entry)
    result.notices += unknown
    problems += [
        problem
        for problem in _check_links(result.handbook)
        if problem.path.startswith(f"{TRANSLATIONS_DIR}/")
    ]
    if problems:
        raise HandbookError(problems)
    return result


def _check_language_name(handbook: Handbook, language: str) -> list[Problem]:
    shown = f"{TRANSLATIONS_DIR}/{language}"
    try:
        TypeAdapter(LanguageTag).validate_python(language)
    except ValidationError:
        return [
            Problem(
                shown,
                0,
                0,
                f"'{language}' is not a language tag",
                "name the folder after its language with a BCP 47 tag such as 'de' or 'pt-BR'",
            )
        ]
    if language in RESERVED_NAMES:
        return [Problem(shown, 0, 0, f"'{language}' is the name of an output folder")]
    if language == handbook.settings.language:
        return [
            Problem(
                shown,
                0,
                0,
                f"'{language}' is the language of the source (handbook.yaml says so)",
                "the source needs no translation; delete the folder, or change 'language'",
            )
        ]
    return []


def _read_entries(project, handbook, language, problems):
    """Every entry of a language's files, by id, checked against its source item's kind."""
    entries: dict[str, _Found] = {}
    settings_entry: _Found | None = None
    unknown: list[Notice] = []
    kinds = _kinds(handbook)
    settings_path = language_dir(project, language) / SETTINGS_FILE
    for path in translation_files(project, language):
        try:
            file = read_yaml(path, project.root)
        except HandbookError as exc:
            problems.extend(exc.problems)
            continue
        if path == settings_path:
            settings_entry = _entry(file, (), "settings", problems)
            continue
        if not isinstance(file.data, dict):
            problems.append(
                file.problem(
                    (),
                    "a translation file must be a mapping of ids to their texts",
                    "start each entry with the id of what it translates, like 'kneading:'",
                )
            )
            continue
        for item_id in file.data:
            if item_id in entries:
                first = entries[item_id]
                line, _ = first.file.locate(first.location, at_key=True)
                problems.append(
                    file.problem(
                        (item_id,),
                        f"a second entry for '{item_id}' "
                        f"(the first is in {first.file.path}:{line})",
                        "keep one of them",
                        at_key=True,
                    )
                )
            elif item_id in kinds:
                found = _entry(file, (item_id,), kinds[item_id], problems)
                if found is not None:
                    entries[item_id] = found
            else:
                unknown.append(_unknown(file, item_id, kinds, handbook))
    return entries, settings_entry, unknown


def _kinds(handbook: Handbook) -> dict[str, str]:
    items = [*handbook.chapters, *handbook.techniques, *handbook.safety, *handbook.routines]
    found = {item.id: item.kind for item in items}
    found.update({zone.id: "zone" for zone in handbook.zones})
    return found


def _unknown(file: SourceFile, item_id: str, kinds: dict[str, str], handbook) -> Notice:
    source = handbook.settings.language
    return Notice(
        UNKNOWN,
        file.problem(
            (item_id,),
            f"there is no '{item_id}' in the source ({source}), so this entry is not used",
            did_you_mean(item_id, kinds) + " If the item was removed, remove the entry too.",
            at_key=True,
        ),
    )


def _entry(file: SourceFile, location: Location, kind: str, problems) -> _Found | None:
    """One entry checked against its kind's model, its problems located in the file."""
    data = file.data
    for part in location:
        data = data[part]
    model = ENTRY_MODELS[kind]
    entry = SourceFile(
        file.path,
        data,
        _relative(file.positions, location),
        _relative(file.key_positions, location),
    )
    if _validate(entry, TypeAdapter(model), model, problems) is None:
        return None
    return _Found(entry, file, location)


def _relative(positions: dict, location: Location) -> dict:
    size = len(location)
    return {key[size:]: value for key, value in positions.items() if key[:size] == location}


# --- putting the translated texts in -----------------------------------------


@dataclass
class _Translator:
    handbook: Handbook
    language: str
    notices: list[Notice] = field(default_factory=list)

    def apply(self, entries: dict[str, _Found], settings_entry: _Found | None) -> Translation:
        handbook = self.handbook
        origins = dict(handbook.origins)
        for item_id, found in entries.items():
            origins[item_id] = Origin(found.file, found.location)
        settings = self._settings(settings_entry)
        translated = dataclasses.replace(
            handbook,
            settings=settings,
            chapters=[self._item(c, entries) for c in handbook.chapters],
            techniques=[self._item(t, entries) for t in handbook.techniques],
            safety=[self._item(s, entries) for s in handbook.safety],
            routines=[self._item(r, entries) for r in handbook.routines],
            zones=[self._item(z, entries) for z in handbook.zones],
            origins=origins,
        )
        return Translation(self.language, translated, self.notices)

    def _settings(self, found: _Found | None):
        """handbook.yaml's texts translated, in the translation's language.

        Labels the source sets are words of the source language: the translation
        uses its own, or the defaults.
        """
        source = self.handbook.settings
        translated = self._translated(source, found, None)
        given = found.source.data if found and isinstance(found.source.data, dict) else {}
        changes = translated.labels.model_dump(exclude_none=True) if "labels" in given else {}
        labels = Labels(**{**catalogue(self.language), **changes})
        return translated.model_copy(update={"language": self.language, "labels": labels})

    def _item(self, item: Any, entries: dict[str, _Found]) -> Any:
        return self._translated(item, entries.get(item.id), self.handbook.origins[item.id])

    def _translated(self, item: Any, found: _Found | None, origin: Origin | None) -> Any:
        kind = kind_of(item)
        texts = source_texts(item)
        if found is None:
            if texts:
                self._missing(item, kind, origin)
            return item
        entry = ENTRY_MODELS[kind].model_validate(found.source.data)
        given = entry.model_fields_set - {"translated_from"}
        self._check_freshness(item, found, entry, given)
        update = {}
        for name in text_fields(kind):
            if name in given and (name in texts or name == "labels"):
                value = self._value(item, kind, name, getattr(entry, name), found)
                if value is not None:
                    update[name] = value
            elif name in given and name != "labels":  # labels need no source words
                self._note(
                    PARTIAL,
                    found.problem(
                        (name,),
                        f"the source has no {name} to translate, so this text is not used",
                        "remove it, or add the field to the source first",
                        at_key=True,
                    ),
                )
            elif name in texts:
                self._note(
                    PARTIAL,
                    found.problem(
                        (),
                        f"'{found.location[-1] if found.location else SETTINGS_ID}' has no "
                        f"translation of its {name}; it prints in "
                        f"{self.handbook.settings.language}",
                        f"add '{name}:' with the translated text",
                        at_key=True,
                    ),
                )
        return item.model_copy(update=update)

    def _value(self, item, kind: str, name: str, value: Any, found: _Found) -> Any:
        """The field's new value, built on the source's where its entries carry structure."""
        if kind == "settings" and name == "scale":
            return item.scale.model_copy(update={"label": value.label})
        if (kind, name) not in PAIRED_LISTS:
            return value
        originals = getattr(item, name)
        if len(value) != len(originals):
            self._note(
                STALE,
                found.problem(
                    (name,),
                    f"{len(value)} {name} here, but the source has {len(originals)}; "
                    f"the {name} print in {self.handbook.settings.language}",
                    f"give one entry for each of the source's {name}, in the same order",
                ),
            )
            return None
        return [
            original.model_copy(update=_paired(original, text))
            for original, text in zip(originals, value, strict=True)
        ]

    def _check_freshness(self, item: Any, found: _Found, entry: Entry, given: set[str]) -> None:
        item_id = found.location[-1] if found.location else SETTINGS_ID
        current = source_hashes(item)
        mark = f"handbook translate {self.language} --mark-current {item_id}"
        if not entry.translated_from:
            self._note(
                STALE,
                found.problem(
                    (),
                    f"'{item_id}' has no record of the source text it was translated from",
                    f"once it is translated, run '{mark}'",
                    at_key=True,
                ),
            )
        elif entry.translated_from != current:
            recorded = entry.translated_from
            fields = sorted({*current, *recorded})
            changed = [name for name in fields if current.get(name) != recorded.get(name)]
            self._note(
                STALE,
                found.problem(
                    (),
                    f"'{item_id}' changed in the source after it was translated: "
                    f"{', '.join(changed)}",
                    f"revise the translation, then run '{mark}'",
                    at_key=True,
                ),
            )
        texts, kind = source_texts(item), kind_of(item)
        if given and all(_text_of(entry, kind, name) == texts.get(name) for name in given):
            self._note(
                UNTRANSLATED,
                found.problem(
                    (),
                    f"'{item_id}' still holds the source text ({self.handbook.settings.language})",
                    "replace it with the translation",
                    at_key=True,
                ),
            )

    def _missing(self, item: Any, kind: str, origin: Origin | None) -> None:
        source = self.handbook.settings.language
        if origin is None:  # the settings
            problem = self.handbook.settings_source.problem(
                ("title",),
                f"handbook.yaml has no {self.language} translation "
                f"({TRANSLATIONS_DIR}/{self.language}/{SETTINGS_FILE}); "
                f"its texts print in {source}",
                f"run 'handbook translate {self.language}' to add it",
            )
        else:
            problem = origin.problem(
                ("id",),
                f"{_KIND_WORDS[kind]} '{item.id}' has no {self.language} translation; "
                f"it prints in {source}",
                f"run 'handbook translate {self.language}' to add it to "
                f"{TRANSLATIONS_DIR}/{self.language}/",
            )
        self._note(MISSING, problem)

    def _note(self, kind: str, problem: Problem) -> None:
        self.notices.append(Notice(kind, problem))


_KIND_WORDS = {
    "chapter": "the chapter",
    "technique": "the technique",
    "safety": "the safety topic",
    "routine": "the routine",
    "zone": "the zone",
}


def _paired(original: BaseModel, text: BaseModel) -> dict[str, Any]:
    """A section's, step's or picture's translated texts, where the source one has text
    there; a section's pictures pair one by one (if their numbers differ, they keep the
    source's words)."""
    update = {}
    for name in text.model_fields_set:
        source = getattr(original, name, None)
        if not source:
            continue
        translated = getattr(text, name)
        if name == "pictures":
            if len(translated) != len(source):
                continue
            translated = [
                picture.model_copy(update=_paired(picture, words))
                for picture, words in zip(source, translated, strict=True)
            ]
        update[name] = translated
    return update
