"""``handbook translate``: start a language, add what it lacks, mark entries up to date.

Skeleton entries carry the source text (to be written over in the new
language) and ``translated_from``, the hashes of the source fields they
start from. Files mirror the source's layout: ``content/techniques/kneading.yaml``
is translated in ``translations/de/techniques/kneading.yaml``. Existing files are
only ever added to, and ``--mark-current`` rewrites nothing but the
``translated_from`` line of one entry, so a translator's comments and
layout survive.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from handbook.build.output import read_project_file, write_project_file
from handbook.build.pipeline import under_limits
from handbook.build.workers import Limits
from handbook.content import translations
from handbook.content.load import MAX_FILE_BYTES, Location, read_yaml
from handbook.content.schema import (
    SCHEMA_DIR,
    TRANSLATED_SETTINGS_SCHEMA,
    TRANSLATION_SCHEMA,
    modeline,
)
from handbook.content.validate import Handbook, load_handbook
from handbook.errors import HandbookError, Problem, did_you_mean
from handbook.project import SETTINGS_FILE, TRANSLATIONS_DIR, Project, open_project

LINE_WIDTH = 88


@dataclass(frozen=True)
class Written:
    path: Path
    ids: tuple[str, ...]  # the entries added to it


def add_missing(project_dir: Path, language: str, limits: Limits | None = None) -> list[Written]:
    """Write a skeleton entry for every source text ``language`` has no entry for, in a
    worker under ``limits``, as a build reads the project."""
    project = open_project(project_dir)
    return under_limits(project, limits or Limits(), partial(_add_missing, project, language))


def _add_missing(project: Project, language: str) -> list[Written]:
    handbook = load_handbook(project)
    _refuse_source_language(handbook, language)
    present = _present_ids(project, language)
    planned: dict[Path, list[tuple[str, Any]]] = {}
    folder = translations.language_dir(project, language)
    if translations.SETTINGS_ID not in present:
        planned[folder / SETTINGS_FILE] = [("", handbook.settings)]
    for item in _items(handbook):
        if item.id not in present and translations.source_texts(item):
            target = folder / _mirrored(project, handbook.source_path(item.id))
            planned.setdefault(target, []).append((item.id, item))
    written = []
    for target, items in planned.items():
        _append(project, target, [_skeleton(item_id, item) for item_id, item in items])
        written.append(Written(target, tuple(item_id or SETTINGS_FILE for item_id, _ in items)))
    return written


def mark_current(
    project_dir: Path, language: str, item_id: str, limits: Limits | None = None
) -> tuple[Problem, bool]:
    """Record that the entry for ``item_id`` is translated from the current source (in a
    worker under ``limits``).

    Returns where the entry is (as a located line to print) and whether anything
    changed. Raises HandbookError if the language's files have problems or hold
    no entry for it.
    """
    project = open_project(project_dir)
    run = partial(_mark_current, project, language, item_id)
    return under_limits(project, limits or Limits(), run)


def _mark_current(project: Project, language: str, item_id: str) -> tuple[Problem, bool]:
    handbook = load_handbook(project)
    _refuse_source_language(handbook, language)
    translation = translations.translate(project, handbook, language)
    item = _source_item(handbook, item_id)
    if item_id == translations.SETTINGS_ID:
        path = translations.language_dir(project, language) / SETTINGS_FILE
        location: Location = ()
        found = path.is_file()
    else:
        origin = translation.handbook.origins[item_id]
        path, location = project.root / origin.source.path, origin.location
        found = origin.source.path.startswith(f"{TRANSLATIONS_DIR}/")
    if not found:
        raise HandbookError(
            [
                Problem(
                    f"{TRANSLATIONS_DIR}/{language}",
                    0,
                    0,
                    f"there is no {language} entry for '{item_id}' to mark",
                    f"run 'handbook translate {language}' to add one",
                )
            ]
        )
    name = path.relative_to(project.root).as_posix()
    text = (read_project_file(project.root, name, MAX_FILE_BYTES) or b"").decode("utf-8-sig")
    updated = _with_hashes(text, location, translations.source_hashes(item))
    if updated != text:
        write_project_file(project.root, name, updated.encode())
    line, column = read_yaml(path, project.root).locate(location, at_key=bool(location))
    shown = path.relative_to(project.root).as_posix()
    return Problem(shown, line, column, f"'{item_id}'"), updated != text


def _refuse_source_language(handbook: Handbook, language: str) -> None:
    if language == handbook.settings.language:
        raise HandbookError(
            [
                handbook.settings_source.problem(
                    ("language",),
                    f"'{language}' is the language of the source; there is nothing to translate",
                    "name the language to translate into, such as 'handbook translate de'",
                )
            ]
        )


def _items(handbook: Handbook) -> list[Any]:
    return [
        *handbook.chapters,
        *handbook.techniques,
        *handbook.safety,
        *handbook.routines,
        *handbook.zones,
    ]


def _source_item(handbook: Handbook, item_id: str) -> Any:
    if item_id == translations.SETTINGS_ID:
        return handbook.settings
    for item in _items(handbook):
        if item.id == item_id:
            return item
    known = [item.id for item in _items(handbook)]
    raise HandbookError(
        [
            Problem(
                "content",
                0,
                0,
                f"there is no '{item_id}' in the source",
                did_you_mean(item_id, [*known, translations.SETTINGS_ID]),
            )
        ]
    )


def _present_ids(project: Project, language: str) -> set[str]:
    """The ids the language's files have entries for (their files must be readable)."""
    present, problems = set(), []
    settings = translations.language_dir(project, language) / SETTINGS_FILE
    for path in translations.translation_files(project, language):
        try:
            data = read_yaml(path, project.root).data
        except HandbookError as exc:
            problems += exc.problems
            continue
        if path == settings:
            present.add(translations.SETTINGS_ID)
        elif isinstance(data, dict):
            present.update(data)
    if problems:
        raise HandbookError(problems)
    return present


def _mirrored(project: Project, source_path: str) -> Path:
    """Where a source file's translation goes, inside the language's folder."""
    source = project.root / source_path
    try:
        return source.relative_to(project.content_dir)
    except ValueError:
        return Path(source.name)


# --- writing YAML a translator can read ---------------------------------------


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, as in the content files; prose as ``|`` blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def _hashes_line(hashes: dict[str, str]) -> str:
    """``translated_from`` as one line; the hashes quoted, so that no YAML tool reads
    one of only digits as a number."""
    pairs = ", ".join(f'{name}: "{value}"' for name, value in hashes.items())
    return f"translated_from: {{{pairs}}}"


def _dump(data: Any) -> str:
    return yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=LINE_WIDTH,
    )


def _skeleton(item_id: str, item: Any) -> str:
    """An entry holding the source's texts, to be written over in the new language."""
    texts = {name: _without_empty(v) for name, v in translations.source_texts(item).items()}
    body = _hashes_line(translations.source_hashes(item)) + "\n" + _dump(texts)
    if not item_id:
        return body
    return f"{item_id}:\n" + textwrap.indent(body, "  ", lambda line: line.strip() != "")


def _without_empty(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v}
    return value


def _append(project: Project, target: Path, entries: list[str]) -> None:
    """Add entries at the end of a file; a new file points editors at the schema, if the
    project has one (``init`` writes them)."""
    name = target.relative_to(project.root).as_posix()
    old = (read_project_file(project.root, name, MAX_FILE_BYTES) or b"").decode("utf-8-sig")
    separator = "" if not old else ("\n" if old.endswith("\n") else "\n\n")
    schema = (
        project.root
        / SCHEMA_DIR
        / (TRANSLATED_SETTINGS_SCHEMA if target.name == SETTINGS_FILE else TRANSLATION_SCHEMA)
    )
    if not old and schema.is_file():
        old = modeline(target, schema)
    write_project_file(project.root, name, (old + separator + "\n".join(entries)).encode())


def _with_hashes(text: str, location: Location, hashes: dict[str, str]) -> str:
    """The file's text with the entry at ``location`` recording ``hashes``, as one line."""
    flow = _hashes_line(hashes).removeprefix("translated_from: ")
    node = yaml.compose(text, Loader=yaml.SafeLoader)  # already read safely by read_yaml
    for key in location:
        node = next(value for k, value in node.value if k.value == key)
    for key_node, value_node in node.value:
        if key_node.value == "translated_from":
            start, end = value_node.start_mark.index, value_node.end_mark.index
            tail = "\n" if text[start:end].endswith("\n") else ""
            return text[:start] + flow + tail + text[end:]
    first_key = node.value[0][0]
    line_start = first_key.start_mark.index - first_key.start_mark.column
    line = " " * first_key.start_mark.column + f"translated_from: {flow}\n"
    return text[:line_start] + line + text[line_start:]
