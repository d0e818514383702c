"""JSON Schemas of the content files and of ``handbook.yaml``, from the pydantic model.

Editors with the YAML language server read them through a first line like
``# yaml-language-server: $schema=../schema/content.schema.json`` (or the
editor settings ``handbook init`` writes) and then complete keys, show each
field's description and flag mistakes while the file is typed.

The schemas accept what ``handbook check`` accepts. The loader keeps every
scalar as the text typed, and the model converts text where a field asks for
a number or a yes/no; an editor types scalars as YAML does. So a text field
also takes a number or boolean (``name: 1234`` is the text "1234"), and a
number or yes/no field also takes the text forms check reads (``level: "4"``).
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any, Union

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from handbook.build.output import read_project_file, write_atomic, write_project_file
from handbook.content.model import (
    CONTENT_KINDS,
    DATE_PATTERN,
    KIND,
    ContentFile,
    Id,
    Settings,
)
from handbook.errors import HandbookError
from handbook.project import SCHEMA_DIR, SETTINGS_FILE, TRANSLATIONS_DIR

CONTENT_SCHEMA = "content.schema.json"
SETTINGS_SCHEMA = "settings.schema.json"
TRANSLATION_SCHEMA = "translation.schema.json"
TRANSLATED_SETTINGS_SCHEMA = "translated-settings.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

# The text forms pydantic reads as a number (digits with optional underscores,
# a sign and surrounding spaces; an integer may end in ".0").
_DIGITS = r"\d+(?:_\d+)*"
INTEGER_TEXT = rf"^\s*[+-]?{_DIGITS}(?:\.0*)?\s*$"
NUMBER_TEXT = rf"^\s*[+-]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?\d+)?\s*$"
# The words pydantic reads as yes or no, in any letter case.
_YES_NO = ("true", "false", "yes", "no", "on", "off", "t", "f", "y", "n", "1", "0")


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


YES_NO_TEXT = f"^(?:{'|'.join(_any_case(word) for word in _YES_NO)})$"


class EditorSchema(GenerateJsonSchema):
    """pydantic's JSON Schema, with scalars typed as an editor's YAML types them."""

    def str_schema(self, schema: core_schema.StringSchema) -> dict[str, Any]:
        json_schema = super().str_schema(schema)
        pattern = json_schema.get("pattern")
        if pattern is None:
            if schema.get("strip_whitespace") and schema.get("min_length"):
                json_schema["pattern"] = r"\S"  # check strips spaces before it counts
            json_schema["type"] = ["string", "number", "boolean"]
        elif re.search(pattern, "0"):  # an id may be all digits, which YAML reads as a number
            json_schema["type"] = ["string", "integer"]
            json_schema["minimum"] = 0
        return json_schema

    def int_schema(self, schema: core_schema.IntSchema) -> dict[str, Any]:
        return _or_text(super().int_schema(schema), INTEGER_TEXT)

    def float_schema(self, schema: core_schema.FloatSchema) -> dict[str, Any]:
        return _or_text(super().float_schema(schema), NUMBER_TEXT)

    def bool_schema(self, schema: core_schema.BoolSchema) -> dict[str, Any]:
        # yes/no written as a word, or as 1 or 0 (which YAML reads as numbers)
        yes_no = {"type": ["boolean", "string", "integer"], "pattern": YES_NO_TEXT}
        return yes_no | {"minimum": 0, "maximum": 1}

    def date_schema(self, schema: core_schema.DateSchema) -> dict[str, Any]:
        return super().date_schema(schema) | {"pattern": DATE_PATTERN}


def _or_text(json_schema: dict[str, Any], pattern: str) -> dict[str, Any]:
    """A number, or text that reads as one (its range is checked by ``handbook check``)."""
    return json_schema | {"type": [json_schema["type"], "string"], "pattern": pattern}


def _model_schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    return model.model_json_schema(schema_generator=EditorSchema) | {"title": title}


def content_schema() -> dict:
    """Any one content file: a chapter, technique, safety topic, routine or zone list.

    ``kind`` picks the one schema the file is checked against (``if``/``then``), so
    a mistake in a technique is reported against the technique's fields only.
    """
    union = TypeAdapter(ContentFile).json_schema(schema_generator=EditorSchema)
    refs = union["discriminator"]["mapping"]
    return {
        "title": "Handbook content file",
        "type": "object",
        "properties": {"kind": {"enum": list(CONTENT_KINDS), "description": KIND}},
        "required": ["kind"],
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {"$ref": refs[kind]},
            }
            for kind in CONTENT_KINDS
        ],
        "$defs": union["$defs"],
    }


def settings_schema() -> dict:
    return _model_schema(Settings, "Handbook settings (handbook.yaml)")


def translation_schema() -> dict:
    """A translation file: ids mapped to the texts of a chapter, technique, safety topic,
    routine or zone (which one, the source item with that id decides)."""
    from handbook.content.translations import ENTRY_MODELS

    kinds = [model for kind, model in ENTRY_MODELS.items() if kind != "settings"]
    entry = TypeAdapter(Union[tuple(kinds)]).json_schema(schema_generator=EditorSchema)  # noqa: UP007 (built at run time)
    return {
        "title": "Handbook translation file",
        "type": "object",
        "propertyNames": {"pattern": Id.__metadata__[0].pattern},
        "additionalProperties": {"$ref": "#/$defs/Entry"},
        "$defs": {**entry.pop("$defs", {}), "Entry": entry},
    }


def translated_settings_schema() -> dict:
    from handbook.content.translations import SettingsText

    return _model_schema(
        SettingsText, "Handbook settings translated (translations/<lang>/handbook.yaml)"
    )


@cache
def schema_texts() -> dict[str, str]:
    """Every schema file's name and text, as ``handbook schema`` writes them (made once:
    they are this version's)."""
    schemas = {
        CONTENT_SCHEMA: content_schema(),
        SETTINGS_SCHEMA: settings_schema(),
        TRANSLATION_SCHEMA: translation_schema(),
        TRANSLATED_SETTINGS_SCHEMA: translated_settings_schema(),
    }
    return {
        name: json.dumps({"$schema": DIALECT, **schema}, indent=2) + "\n"
        for name, schema in schemas.items()
    }


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema into ``folder``; returns their paths."""
    written = []
    for name, text in schema_texts().items():
        target = folder / name
        write_atomic(target, text.encode())
        written.append(target)
    return written


def outdated_schemas(root: Path) -> list[str]:
    """The schema files in the project's schema folder that differ from this version's
    (or are missing), by name in the project; one that is a link counts as outdated.

    A project without the folder has none: it chose not to keep schemas.
    """
    if not (root / SCHEMA_DIR).is_dir():
        return []
    names = [f"{SCHEMA_DIR}/{name}" for name in schema_texts()]
    texts = dict(zip(names, schema_texts().values(), strict=True))
    return [name for name in names if not _holds(root, name, texts[name])]


def refresh_schemas(root: Path) -> list[str]:
    """Rewrite the project's outdated schema files (never through a link); their names."""
    outdated = outdated_schemas(root)
    texts = {f"{SCHEMA_DIR}/{name}": text for name, text in schema_texts().items()}
    for name in outdated:
        write_project_file(root, name, texts[name].encode())
    return outdated


_LARGEST_SCHEMA = 1024 * 1024  # far above what any schema of the tool holds


def _holds(root: Path, name: str, text: str) -> bool:
    try:
        return read_project_file(root, name, _LARGEST_SCHEMA) == text.encode()
    except HandbookError:
        return False


def editor_associations() -> dict[str, list[str]]:
    """Which files each schema checks, as the YAML language server's ``yaml.schemas``
    setting maps them (a leading ``/`` is the project folder), so new files are checked
    without a first line. A ``!`` pattern leaves a file out, in servers that read it;
    ``handbook translate`` also gives the files it starts a first line."""
    settings = f"/{TRANSLATIONS_DIR}/*/{SETTINGS_FILE}"
    return {
        f"./{SCHEMA_DIR}/{CONTENT_SCHEMA}": ["/content/**/*.yaml", "/content/**/*.yml"],
        f"./{SCHEMA_DIR}/{SETTINGS_SCHEMA}": [f"/{SETTINGS_FILE}"],
        f"./{SCHEMA_DIR}/{TRANSLATION_SCHEMA}": [
            f"/{TRANSLATIONS_DIR}/*/**/*.yaml",
            f"/{TRANSLATIONS_DIR}/*/**/*.yml",
            f"!{settings}",
        ],
        f"./{SCHEMA_DIR}/{TRANSLATED_SETTINGS_SCHEMA}": [settings],
    }


def modeline(yaml_file: Path, schema_file: Path) -> str:
    """The comment that points an editor at the schema, by a path relative to the file."""
    relative = Path(os.path.relpath(schema_file.resolve(), yaml_file.parent.resolve()))
    return f"# yaml-language-server: $schema={relative.as_posix()}\n"
