"""Stage 2b: turn parsed YAML into a checked :class:`Handbook`.

Pydantic checks each file on its own; :func:`check_references` then checks
what spans files (unique ids, references that resolve, minutes that add up).
Every problem is located through the file's recorded positions, and all of
them are collected before anything is raised.
"""

from __future__ import annotations

import os
import re
import stat
import types
import typing
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from handbook.content import markup
from handbook.content.coverage import coverage_problems, font_problems, printed_texts
from handbook.content.drawings import LoadedDrawing, builtin_drawing, read_drawing
from handbook.content.labels import catalogue_language, languages
from handbook.content.load import MAX_FILE_BYTES, Location, SourceFile, read_yaml
from handbook.content.model import (
    CONTENT_KINDS,
    GENERATED_PARTS,
    Chapter,
    ContentFile,
    Drawing,
    Labels,
    Routine,
    SafetyTopic,
    Settings,
    Technique,
    Zone,
    ZoneList,
)
from handbook.content.pictures import PictureFile, check_pictures
from handbook.design import COLOUR_PATTERN, FONT_FAMILY_PATTERN, Design, ThemeFile, combined
from handbook.errors import HandbookError, Problem, counted, did_you_mean, relative_path, shortened
from handbook.project import BUILTIN_THEMES, DEFAULT_THEME, THEME_FILE, Project

_CONTENT_ADAPTER: TypeAdapter = TypeAdapter(ContentFile)
_KIND_MODELS: dict[str, type[BaseModel]] = {
    "chapter": Chapter,
    "technique": Technique,
    "safety": SafetyTopic,
    "routine": Routine,
    "zones": ZoneList,
}


@dataclass
class Origin:
    source: SourceFile
    location: Location

    def problem(self, sub: Location, message: str, hint: str = "") -> Problem:
        return self.source.problem((*self.location, *sub), message, hint)


@dataclass
class Handbook:
    """The whole validated project, with where each item came from."""

    settings: Settings
    chapters: list[Chapter] = field(default_factory=list)
    techniques: list[Technique] = field(default_factory=list)
    safety: list[SafetyTopic] = field(default_factory=list)
    routines: list[Routine] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)  # each naming its drawing if it has shapes
    drawings: dict[str, LoadedDrawing] = field(default_factory=dict)  # read and cleaned
    declared_drawings: dict[str, tuple[Drawing, Origin]] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    settings_source: SourceFile | None = None
    design: Design | None = None  # the theme's design values with handbook.yaml's changes
    # Ids declared in files that failed their own checks: references to them
    # are not reported again, so one typo does not bury the real problem.
    invalid_ids: set[str] = field(default_factory=set)
    notices: list[Problem] = field(default_factory=list)  # worth knowing, but no mistake
    pictures: dict[str, PictureFile] = field(default_factory=dict)  # by path in the project

    def technique(self, technique_id: str) -> Technique:
        return next(t for t in self.techniques if t.id == technique_id)

    def safety_topic(self, topic_id: str) -> SafetyTopic:
        return next(s for s in self.safety if s.id == topic_id)

    def zone(self, zone_id: str) -> Zone:
        return next(z for z in self.zones if z.id == zone_id)

    def source_path(self, item_id: str) -> str:
        return self.origins[item_id].source.path


def load_handbook(project: Project) -> Handbook:
    """Read and check every file of a project; raise one error listing all problems."""
    problems: list[Problem] = []
    settings_source = _read(project.settings_file, project.root, problems)
    settings = None
    if settings_source is not None:
        settings = _validate(settings_source, TypeAdapter(Settings), Settings, problems)
    handbook = Handbook(settings=settings, settings_source=settings_source)  # type: ignore[arg-type]
    if settings is not None:
        handbook.design = _load_design(project, settings, settings_source, problems)
        handbook.notices += _language_notices(settings, settings_source)
    for path in project.content_files():
        source = _read(path, project.root, problems)
        if source is not None:
            _add_content(handbook, source, problems)
        else:  # references to what it meant to declare are explained by its own problem
            handbook.invalid_ids.update(_ids_written_in(path, project.root))
    _load_drawings(handbook, project, problems)
    problems.extend(_place_zones(handbook))
    for items in (handbook.techniques, handbook.safety, handbook.routines):
        items.sort(key=lambda item: item.order)
    if settings is not None:
        problems.extend(check_references(handbook))
        fonts = project.font_files()
        problems.extend(font_problems(fonts, project.root))
        problems.extend(coverage_problems(printed_texts(handbook), fonts))
    handbook.pictures, bad_pictures = check_pictures(_with_pictures(handbook), project.root)
    problems.extend(bad_pictures)
    if not problems:  # with problems, what failed may be what was meant to print
        problems.extend(_check_something_to_print(handbook))
    if problems:
        raise HandbookError(problems)
    return handbook


def _language_notices(settings: Settings, source: SourceFile) -> list[Problem]:
    """A note when the tool's own words cannot be printed in the handbook's language:
    it has no catalogue of labels, and handbook.yaml's ``labels`` lack some."""
    given = (source.data or {}).get("labels") or {}
    missing = [name for name in Labels.model_fields if name not in given]
    if catalogue_language(settings.language) is not None or not missing:
        return []
    example = getattr(settings.labels, missing[0])
    message = (
        f"note: no built-in labels in the language '{settings.language}': the tool's own "
        f"{counted(len(missing), 'word')}, such as '{example}', print in English"
    )
    hint = (
        f"translate them under 'labels:' in handbook.yaml; built-in languages: "
        f"{', '.join(languages())}"
    )
    return [source.problem(("language",), message, hint)]


def _with_pictures(handbook: Handbook) -> list[tuple[Origin, Location, list]]:
    """Every item and section that has pictures: its origin, where it is, its pictures."""
    found: list[tuple[Origin, Location, list]] = [
        (handbook.origins[item.id], (), item.pictures)
        for item in [*handbook.techniques, *handbook.safety, *handbook.routines]
        if item.pictures
    ]
    for chapter in handbook.chapters:
        origin = handbook.origins[chapter.id]
        found += [
            (origin, ("sections", i), section.pictures)
            for i, section in enumerate(chapter.sections)
            if section.pictures
        ]
    return found


def _read(path: Path, root: Path, problems: list[Problem]) -> SourceFile | None:
    try:
        return read_yaml(path, root)
    except HandbookError as exc:
        problems.extend(exc.problems)
        return None


_ID_LINE = re.compile(r"^[ \t-]*id:[ \t]*['\"]?([a-z0-9]+(?:-[a-z0-9]+)*)['\"]?[ \t]*$", re.M)


def _ids_written_in(path: Path, root: Path) -> set[str]:
    """The ids a file that could not be parsed seems to declare, read from its lines.

    Only a regular file inside the project, of a size the loader reads, is
    looked at, and it is opened without waiting (a FIFO would block).
    """
    try:
        if not path.resolve().is_relative_to(root.resolve()):
            return set()
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except (OSError, ValueError, RuntimeError):  # RuntimeError: a loop of links
        return set()
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_FILE_BYTES:
            return set()  # a folder cannot even be wrapped in a file object
        with os.fdopen(handle, "rb", closefd=False) as stream:
            text = stream.read(MAX_FILE_BYTES).decode("utf-8", errors="replace")
    finally:
        os.close(handle)
    return set(_ID_LINE.findall(text))


def _validate(source, adapter: TypeAdapter, model: type[BaseModel] | None, problems):
    try:
        return adapter.validate_python(source.data)
    except ValidationError as exc:
        errors = _drop_missing_explained_by_typos(exc.errors(), model)
        problems.extend(_explain(source, error, model) for error in errors)
        return None


def _load_design(
    project: Project, settings: Settings, settings_source: SourceFile, problems: list[Problem]
) -> Design | None:
    """The default theme's design values, changed by the chosen theme's, then by
    ``design:`` in handbook.yaml."""
    chosen = project.theme_dir(settings.theme)
    if chosen is None:
        names = project.theme_names()
        hint = did_you_mean(settings.theme, names)
        if hint.startswith("did you mean"):
            hint += " The themes are: " + ", ".join(f"'{name}'" for name in names)
        problems.append(
            settings_source.problem(("theme",), f"unknown theme '{settings.theme}'", hint)
        )
        return None
    themes = _themes(project, chosen, problems)
    if themes is None:
        return None
    return _design([*(theme.design for theme in themes), settings.design])


def theme_design(project: Project) -> Design | None:
    """The design of the theme ``handbook.yaml`` names (the default theme's if it names
    none it has), without what its ``design:`` changes, read without validating
    handbook.yaml: for a worker's first layout (see ``engine.warm_up``), which needs
    the design's values but not the very ones. None if a theme file has problems."""
    chosen = project.theme_dir(project.theme) or BUILTIN_THEMES / DEFAULT_THEME
    themes = _themes(project, chosen, [])
    return None if themes is None else _design([theme.design for theme in themes])


def _themes(project: Project, chosen: Path, problems: list[Problem]) -> list[ThemeFile] | None:
    """The default theme's theme.yaml, then the chosen theme's; None if one has problems."""
    base_file = BUILTIN_THEMES / DEFAULT_THEME / THEME_FILE
    files = [base_file] if chosen == base_file.parent else [base_file, chosen / THEME_FILE]
    themes = [_read_theme(path, project, problems) for path in files]
    return None if None in themes else themes  # type: ignore[return-value]


def _design(layers: list) -> Design:
    try:
        return Design(**combined(layers))
    except ValidationError as exc:  # the default theme is incomplete: a broken installation
        missing = ", ".join(str(error["loc"][0]) for error in exc.errors())
        base_file = BUILTIN_THEMES / DEFAULT_THEME / THEME_FILE
        raise RuntimeError(f"{base_file} gives no value for {missing}") from None


def _read_theme(path: Path, project: Project, problems: list[Problem]) -> ThemeFile | None:
    """A theme's theme.yaml, checked like every other YAML file of the project."""
    inside = path.is_relative_to(project.root)
    source = _read(path, project.root if inside else BUILTIN_THEMES.parent, problems)
    if source is None:
        return None
    return _validate(source, TypeAdapter(ThemeFile), ThemeFile, problems)


def _drop_missing_explained_by_typos(errors: list[dict], model) -> list[dict]:
    """A misspelt key also shows up as a missing field; report only the typo."""
    typos = set()
    for error in errors:
        if error["type"] == "extra_forbidden" and model is not None:
            parent, key = tuple(error["loc"][:-1]), str(error["loc"][-1])
            fields = _field_names(model, _strip_kind(parent, model))
            typos.update((parent, close) for close in get_close_matches(key, fields, 1, 0.6))
    return [
        e
        for e in errors
        if not (e["type"] == "missing" and (tuple(e["loc"][:-1]), e["loc"][-1]) in typos)
    ]


def _add_content(handbook: Handbook, source: SourceFile, problems: list[Problem]) -> None:
    kind = source.data.get("kind") if isinstance(source.data, dict) else None
    model = _KIND_MODELS.get(kind) if isinstance(kind, str) else None
    item = _validate(source, _CONTENT_ADAPTER, model, problems)
    if item is None:
        handbook.invalid_ids.update(_declared_ids(source.data))
        return
    if isinstance(item, ZoneList):
        for index, drawing in enumerate(item.drawings):
            origin = Origin(source, ("drawings", index))
            if drawing.id in handbook.declared_drawings:
                earlier = handbook.declared_drawings[drawing.id][1]
                line, _ = earlier.source.locate((*earlier.location, "id"))
                problems.append(
                    origin.problem(
                        ("id",),
                        f"duplicate drawing id '{drawing.id}' "
                        f"(already used in {earlier.source.path}:{line})",
                    )
                )
                continue
            handbook.declared_drawings[drawing.id] = (drawing, origin)
        for index, zone in enumerate(item.zones):
            _register(handbook, zone.id, Origin(source, ("zones", index)), problems)
            handbook.zones.append(zone)
        return
    _register(handbook, item.id, Origin(source, ()), problems)
    {
        "chapter": handbook.chapters,
        "technique": handbook.techniques,
        "safety": handbook.safety,
        "routine": handbook.routines,
    }[item.kind].append(item)


_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _load_drawings(handbook: Handbook, project: Project, problems: list[Problem]) -> None:
    """Read every declared drawing's SVG, relative to the YAML file that names it.

    A problem with the file as a whole (missing, outside the project) is
    located at its ``file:`` line; one inside the SVG at the SVG's own line.
    """
    for drawing_id, (drawing, origin) in handbook.declared_drawings.items():
        if _URL_SCHEME.match(drawing.file) or Path(drawing.file).is_absolute():
            problems.append(
                origin.problem(
                    ("file",),
                    f"'{drawing.file}' is not a file in the project",
                    "name the SVG file by a path relative to this YAML file",
                )
            )
            continue
        path = (project.root / origin.source.path).parent / drawing.file
        shown = relative_path(path, project.root)
        try:
            artwork = read_drawing(path, project.root, shown)
        except HandbookError as exc:
            problems.extend(
                p if p.line else origin.problem(("file",), f"{p.message} ({shown})", p.hint)
                for p in exc.problems
            )
            continue
        handbook.drawings[drawing_id] = LoadedDrawing(drawing, artwork)


def _place_zones(handbook: Handbook) -> list[Problem]:
    """Give every zone with shapes its drawing, and check its shapes lie on it.

    A zone may leave out ``drawing`` when the project has one drawing (or
    none: then the built-in back-of-body drawing is used).
    """
    problems: list[Problem] = []
    declared = list(handbook.declared_drawings)
    if not declared and any(zone.shapes for zone in handbook.zones):
        builtin = builtin_drawing()
        handbook.drawings[builtin.id] = builtin
    placed = []
    for zone in handbook.zones:
        origin = handbook.origins[zone.id]
        chosen = zone.drawing
        if chosen is None and zone.shapes:
            if len(declared) > 1:
                problems.append(
                    origin.problem(
                        ("shapes",),
                        f"the zone '{zone.id}' has shapes but names no drawing, and this "
                        "handbook has several",
                        "add 'drawing: ' and one of: " + ", ".join(declared),
                        at_key=True,
                    )
                )
            chosen = declared[0] if declared else next(iter(handbook.drawings), None)
        elif chosen is not None and chosen not in handbook.declared_drawings:
            problems.append(
                origin.problem(
                    ("drawing",), f"unknown drawing '{chosen}'", did_you_mean(chosen, declared)
                )
            )
        picture = handbook.drawings.get(chosen) if chosen else None
        if picture is not None:
            problems.extend(_shapes_outside(zone, picture, origin))
        placed.append(
            zone if zone.drawing == chosen else zone.model_copy(update={"drawing": chosen})
        )
    handbook.zones[:] = placed
    return problems


def _shapes_outside(zone: Zone, picture: LoadedDrawing, origin: Origin) -> list[Problem]:
    """A problem for the first point of each shape (or mirror image) off the drawing."""
    box = picture.view_box
    problems = []
    for i, shape in enumerate(zone.shapes):
        if shape.polygon is not None:
            points = [((i, "polygon", k), p) for k, p in enumerate(shape.polygon)]
        else:
            cx, cy, rx, ry = shape.ellipse  # type: ignore[misc]
            corners = [(cx - rx, cy - ry), (cx + rx, cy + ry)]
            points = [((i, "ellipse"), p) for p in corners]
        for where, (x, y) in points:
            mirrored = 2 * picture.midline - x
            if not box.contains(x, y) or (zone.mirror and not box.contains(mirrored, y)):
                what = "its mirror image" if box.contains(x, y) else "the point"
                problems.append(
                    origin.problem(
                        ("shapes", *where),
                        f"{what} ({mirrored if what != 'the point' else x:g}, {y:g}) of the "
                        f"zone '{zone.id}' lies outside the drawing '{picture.id}' "
                        f"(viewBox {box})",
                        "shapes use the units of the drawing's viewBox",
                    )
                )
                break
    return problems


def _declared_ids(data: object) -> set[str]:
    """The ids a file that failed validation meant to declare, as far as they can be read."""
    if not isinstance(data, dict):
        return set()
    entries = data.get("zones") if data.get("kind") == "zones" else [data]
    if not isinstance(entries, list):
        return set()
    return {e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)}


def _register(handbook: Handbook, item_id: str, origin: Origin, problems: list[Problem]) -> None:
    earlier = handbook.origins.get(item_id)
    if earlier is not None:
        line, _ = earlier.source.locate((*earlier.location, "id"))
        problems.append(
            origin.problem(
                ("id",),
                f"duplicate id '{item_id}' (already used in {earlier.source.path}:{line})",
                "every chapter, technique, routine, safety topic and zone needs its own id",
            )
        )
        return
    handbook.origins[item_id] = origin


# --- cross-file checks -------------------------------------------------------


def check_references(handbook: Handbook) -> list[Problem]:
    """Problems that only show when all files are read together."""
    ids = {
        "technique": [t.id for t in handbook.techniques],
        "safety": [s.id for s in handbook.safety],
        "zone": [z.id for z in handbook.zones],
    }
    ids["item"] = [*ids["technique"], *ids["safety"], *(r.id for r in handbook.routines)]
    problems: list[Problem] = []

    def expect(origin: Origin, sub: Location, value: str, kind: str) -> None:
        if value not in ids[kind] and value not in handbook.invalid_ids:
            label = {"safety": "safety topic", "item": "technique, safety topic or routine"}.get(
                kind, kind
            )
            problems.append(
                origin.problem(sub, f"unknown {label} '{value}'", did_you_mean(value, ids[kind]))
            )

    for technique in handbook.techniques:
        origin = handbook.origins[technique.id]
        for field_name in ("zones", "avoid_zones"):
            for i, zone in enumerate(getattr(technique, field_name)):
                expect(origin, (field_name, i), zone, "zone")
        for i, stroke in enumerate(technique.strokes):
            expect(origin, ("strokes", i, "zone"), stroke.zone, "zone")
        for i, topic in enumerate(technique.safety):
            expect(origin, ("safety", i), topic, "safety")
    for topic in handbook.safety:
        for i, zone in enumerate(topic.zones):
            expect(handbook.origins[topic.id], ("zones", i), zone, "zone")
    for routine in handbook.routines:
        problems.extend(_check_routine(routine, handbook.origins[routine.id], expect))
    problems.extend(_check_levels(handbook))
    problems.extend(_check_outline(handbook))
    problems.extend(_check_section_cards(handbook))
    problems.extend(_check_links(handbook))
    return problems


def _check_routine(routine: Routine, origin: Origin, expect) -> list[Problem]:
    problems = []
    for i, step in enumerate(routine.steps):
        if step.item == routine.id:
            problems.append(
                origin.problem(("steps", i, "item"), "a routine cannot be a step of itself")
            )
        elif step.item is not None:
            expect(origin, ("steps", i, "item"), step.item, "item")
        for j, zone in enumerate(step.zones):
            expect(origin, ("steps", i, "zones", j), zone, "zone")
    return problems + _check_timing(routine, origin)


def _check_timing(routine: Routine, origin: Origin) -> list[Problem]:
    """Every step has a time or none does; a total given must be what the steps add up to."""
    untimed = [i for i, step in enumerate(routine.steps) if step.seconds is None]
    if untimed and len(untimed) < len(routine.steps):
        return [
            origin.problem(
                ("steps", untimed[0]),
                f"step {untimed[0] + 1} has no time, but other steps of this routine do",
                "give every step 'minutes' or a 'duration', or none of them "
                "(an untimed routine prints as a checklist)",
            )
        ]
    total = sum(step.seconds or 0 for step in routine.steps)
    if untimed or routine.seconds is None or abs(total - routine.seconds) < 1e-6:
        return []
    field = "minutes" if routine.minutes is not None else "duration"
    return [
        origin.problem(
            (field,),
            f"the steps add up to {_as_time(total)}, but the routine says "
            f"{_as_time(routine.seconds)}",
            f"change '{field}' or the times of the steps so they agree, or leave '{field}' out",
        )
    ]


def _as_time(seconds: float) -> str:
    """A time for a message: minutes when whole minutes, else seconds."""
    return f"{seconds / 60:g} minutes" if seconds % 60 == 0 else f"{seconds:g} seconds"


def _check_levels(handbook: Handbook) -> list[Problem]:
    """A ``level`` needs the handbook's scale, and must lie on it."""
    scale = handbook.settings.scale
    problems = []
    for item in [*handbook.techniques, *handbook.safety]:
        level = getattr(item, "level", None)
        if level is None:
            continue
        origin = handbook.origins[item.id]
        if scale is None:
            problems.append(
                origin.problem(
                    ("level",),
                    "'level' needs a scale, and this handbook has none",
                    "add one to handbook.yaml, such as 'scale: {label: Pressure, max: 5}'",
                )
            )
        elif level > scale.max:
            problems.append(
                origin.problem(
                    ("level",),
                    f"level {level} is above the top of the scale, {scale.max}",
                    f"give a level from 1 to {scale.max}, or raise 'max' of the scale "
                    "in handbook.yaml",
                )
            )
    return problems


def _check_outline(handbook: Handbook) -> list[Problem]:
    """An outline names known parts once each; a chapter it leaves out must be a card."""
    outline = handbook.settings.outline
    if outline is None:
        return []
    source = handbook.settings_source
    known = [c.id for c in handbook.chapters] + list(GENERATED_PARTS)
    problems = []
    seen: set[str] = set()
    for i, entry in enumerate(outline):
        if entry not in known and entry not in handbook.invalid_ids:
            problems.append(
                source.problem(
                    ("outline", i), f"unknown chapter '{entry}'", did_you_mean(entry, known)
                )
            )
        elif entry in seen:
            problems.append(source.problem(("outline", i), f"'{entry}' is listed twice"))
        seen.add(entry)
    for chapter in handbook.chapters:
        on_card = chapter.card or any(section.card for section in chapter.sections)
        if chapter.id not in seen and not on_card:
            problems.append(
                handbook.origins[chapter.id].problem(
                    ("id",),
                    f"the chapter '{chapter.id}' is not in the outline, so it prints nowhere",
                    "add it to 'outline' in handbook.yaml, or give it 'card: true' "
                    "to print it as a card only",
                )
            )
    return problems


def _check_section_cards(handbook: Handbook) -> list[Problem]:
    """A section printed as a card needs an id: it names the card's file."""
    return [
        handbook.origins[chapter.id].problem(
            ("sections", i),
            "a section printed as a card needs an 'id'",
            "add 'id: some-name' to the section; it names the card's file",
        )
        for chapter in handbook.chapters
        for i, section in enumerate(chapter.sections)
        if section.card and not section.id
    ]


def _check_something_to_print(handbook: Handbook) -> list[Problem]:
    """An empty project, or one whose outline and cards leave nothing, is a mistake."""
    items = [*handbook.chapters, *handbook.techniques, *handbook.safety, *handbook.routines]
    cards = [item for item in items if getattr(item, "card", False)]
    cards += [s for c in handbook.chapters for s in c.sections if s.card]
    if items and (cards or handbook.settings.outline != []):
        return []
    if items:
        return [
            handbook.settings_source.problem(
                ("outline",),
                "nothing to print: the outline is empty and no item has a card",
                "list the booklet's chapters in 'outline', or remove 'outline: []'",
            )
        ]
    return [
        Problem(
            "content",
            0,
            0,
            "nothing to print: content/ holds no chapter, technique, routine or safety topic",
            "add YAML files under content/ (run 'handbook init --bare DIR' for examples)",
        )
    ]


def _check_links(handbook: Handbook) -> list[Problem]:
    """Every ``[text](#id)`` in every prose field must point at something the booklet prints."""
    zone_ids = {zone.id for zone in handbook.zones}
    targets = (set(handbook.origins) - zone_ids) | set(GENERATED_PARTS) | handbook.invalid_ids
    targets |= {s.id for c in handbook.chapters for s in c.sections if s.id}
    items = [*handbook.chapters, *handbook.techniques, *handbook.safety, *handbook.routines]
    problems = []
    for item in items:
        origin = handbook.origins[item.id]
        for location, text in _texts(item):
            for href in markup.links(text):
                if not href.startswith("#") and not markup.is_web_address(href):
                    problems.append(origin.problem(location, *_not_a_link_in_print(href)))
            for target in markup.internal_links(text):
                if target not in targets:
                    problems.append(
                        origin.problem(
                            location,
                            f"the link '#{target}' points at no chapter, section, technique, "
                            "routine or safety topic",
                            did_you_mean(target, targets),
                        )
                    )
    return problems


def _not_a_link_in_print(href: str) -> tuple[str, str]:
    """A link a PDF cannot carry: a path would become the file's full path on the building
    machine (and differ from one checkout to the next)."""
    what = "is not a web address" if ":" in href else "points at a file"
    return (
        f"the link '{shortened(href)}' {what}, which a printed handbook cannot link to",
        "link to a part of the handbook ('#id') or to a web address ('https://...')",
    )


def _texts(value: object, location: Location = ()) -> list[tuple[Location, str]]:
    """Every string in an item, with where it stands (links may be in any prose field)."""
    if isinstance(value, str):
        return [(location, value)] if "]" in value or "<" in value else []  # could link
    if isinstance(value, list | tuple):
        return [found for i, v in enumerate(value) for found in _texts(v, (*location, i))]
    if isinstance(value, BaseModel):
        return [
            found
            for name in type(value).model_fields
            for found in _texts(getattr(value, name), (*location, name))
        ]
    return []


# --- pydantic errors in plain words -----------------------------------------


def _labels_hint(name: str, labels: list[str]) -> str:
    """Every label there is, after the closest one: a label cannot be guessed."""
    close = get_close_matches(name, labels, n=1, cutoff=0.6)
    every = "the labels are: " + ", ".join(labels)
    return f"did you mean '{close[0]}'? {every}" if close else every


def _explain(source: SourceFile, error: dict[str, Any], model: type[BaseModel] | None) -> Problem:
    location = _strip_kind(tuple(error["loc"]), model)
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    name = str(location[-1]) if location else ""
    what = _what(location)
    message, hint = error["msg"], ""
    if kind == "missing":
        message, hint = f"missing required field '{name}'", f"add '{name}: ...' here"
        return source.problem(location[:-1], message, hint)
    if kind == "extra_forbidden":
        fields = _field_names(model, location[:-1]) if model else []
        if model is Settings and location[:-1] == ("labels",):
            return source.problem(
                location, f"unknown label '{name}'", _labels_hint(name, fields), at_key=True
            )
        message = f"unknown field '{name}'"
        hint = did_you_mean(name, fields)
        if value is None and not hint.startswith("did you mean"):
            # "{value: Palms, fingertips}" makes "fingertips" a key of its own
            hint = (
                f"if '{name}' belongs to the value before it, a ',' split that value: "
                "put the whole value in quotes"
            )
        return source.problem(location, message, hint, at_key=True)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        shown = ctx.get("tag", "")
        message = f"unknown kind '{shown}'" if shown else "missing 'kind'"
        hint = (
            did_you_mean(shown, CONTENT_KINDS)
            if shown
            else ("start the file with 'kind: ' and one of: " + ", ".join(CONTENT_KINDS))
        )
        return source.problem(("kind",) if shown else (), message, hint)
    if kind in ("literal_error", "enum"):
        choices = [
            c.strip(" '") for c in str(ctx.get("expected", "")).replace(" or ", ",").split(",")
        ]
        message = f"'{value}' is not a valid value for {what}"
        hint = did_you_mean(str(value), [c for c in choices if c])
    elif kind == "string_pattern_mismatch":
        message, hint = _pattern_message(name, value, ctx.get("pattern", ""))
    elif kind in ("int_parsing", "int_from_float"):
        message, hint = f"'{value}' is not a whole number", f"write '{name}' as a number like 3"
    elif kind == "float_parsing":
        message, hint = f"'{value}' is not a number", f"write '{name}' as a number like 2.5"
    elif kind == "bool_parsing":
        message, hint = f"'{value}' is not yes or no", "write true or false"
    elif kind.startswith("date") or kind.startswith("datetime"):
        message, hint = (
            f"'{value}' is not a valid date",
            "write dates as YYYY-MM-DD, e.g. 2026-11-24",
        )
    elif kind == "list_type":
        message = f"{what} must be a list"
        hint = "put each item on its own line starting with '- '"
    elif kind in ("model_type", "dict_type", "model_attributes_type"):
        message = f"{what if name else 'the file'} must be a mapping of 'key: value' lines"
    elif kind == "string_type":
        message = f"{what} must be text"
        hint = "write it on one line, or quote it"
    elif kind == "string_too_short":
        message = f"{what} is empty"
        hint = _EMPTY_HINTS.get(name, f"write the {name} here, or leave '{name}' out")
    elif kind == "too_long" and isinstance(value, list):
        message = f"{what} has {len(value)} items, more than the {ctx.get('max_length')} allowed"
        hint = "keep the ones that help most; split the item if it needs more"
    elif kind == "too_short" and isinstance(value, list | str):
        message = f"{what} needs at least {counted(ctx.get('min_length', 1), 'item')}"
    elif kind in _BOUNDS:
        words, bound = _BOUNDS[kind]
        message = f"{what} {words} {_number(ctx[bound])}, not {value}"
    elif kind == "value_error":  # a model's own rule; its message is written for people
        message = str(ctx.get("error", message))
    elif kind == "duration":
        hint = "write a number and a unit (30 s, 2 min, 1 h) or minutes:seconds (1:30)"
    return source.problem(location, message, hint)


# A bound a number broke: how to say it, and where pydantic keeps the bound.
_BOUNDS = {
    "greater_than": ("must be more than", "gt"),
    "greater_than_equal": ("must be at least", "ge"),
    "less_than": ("must be less than", "lt"),
    "less_than_equal": ("can be at most", "le"),
}


def _what(location: Location) -> str:
    """How a message names the value: 'level', or item 2 of 'steps'."""
    if not location:
        return "the value"
    if isinstance(location[-1], int):
        parent = next((str(p) for p in reversed(location) if isinstance(p, str)), "the list")
        return f"item {location[-1] + 1} of '{parent}'"
    return f"'{location[-1]}'"


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


_EMPTY_HINTS = {
    "alt": "say in a few words what the picture shows, for readers who cannot see it",
}


def _strip_kind(location: Location, model) -> Location:
    """Discriminated-union errors start with the kind; the file has no such level."""
    if model is not None and location and location[0] in CONTENT_KINDS:
        return location[1:]
    return location


def _pattern_message(name: str, value: Any, pattern: str) -> tuple[str, str]:
    if pattern == COLOUR_PATTERN:
        return f"'{value}' is not a colour", "write a colour as # and six hex digits, like #1d4e6b"
    if pattern == FONT_FAMILY_PATTERN:
        return (
            f"'{value}' is not a font family name",
            "use letters, digits, spaces and hyphens, like Lato or Atkinson Hyperlegible",
        )
    if name == "language":
        return f"'{value}' is not a language tag", "use a BCP 47 tag such as 'en' or 'en-GB'"
    slug = "-".join("".join(c if c.isalnum() else " " for c in str(value).lower()).split())
    return (
        f"'{value}' is not a valid id",
        f"ids use lowercase letters, digits and single hyphens, like '{slug or 'deep-kneading'}'",
    )


def _field_names(model: type[BaseModel], location: Location) -> list[str]:
    """Field names of the model found by walking ``location`` from ``model``."""
    current: Any = model
    for part in location:
        current = _item_type(current, part)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _item_type(annotation: Any, part: str | int) -> Any:
    annotation = _unwrap(annotation)
    if isinstance(part, int):
        args = typing.get_args(annotation)
        return _unwrap(args[0]) if args else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field_info = annotation.model_fields.get(part)
        return _unwrap(field_info.annotation) if field_info else None
    return None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = options[0]
        else:
            return annotation
