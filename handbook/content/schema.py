"""JSON Schemas of the content files and of ``handbook.yaml``, from the pydantic model.

Editors with the YAML language server read them through a first line like
``# yaml-language-server: $schema=../schema/content.schema.json`` and then
complete keys and flag mistakes while the file is typed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Union

from pydantic import TypeAdapter

from handbook.build.output import write_atomic
from handbook.content.model import ContentFile, Id, Settings

SCHEMA_DIR = "schema"
CONTENT_SCHEMA = "content.schema.json"
SETTINGS_SCHEMA = "settings.schema.json"
TRANSLATION_SCHEMA = "translation.schema.json"
TRANSLATED_SETTINGS_SCHEMA = "translated-settings.schema.json"


def content_schema() -> dict:
    """Any one content file: a chapter, technique, safety topic, routine or zone list."""
    schema = TypeAdapter(ContentFile).json_schema()
    schema["title"] = "Handbook content file"
    return schema


def settings_schema() -> dict:
    schema = Settings.model_json_schema()
    schema["title"] = "Handbook settings (handbook.yaml)"
    return schema


def translation_schema() -> dict:
    """A translation file: ids mapped to the texts of a chapter, technique, safety topic,
    routine or zone (which one, the source item with that id decides)."""
    from handbook.content.translations import ENTRY_MODELS

    kinds = [model for kind, model in ENTRY_MODELS.items() if kind != "settings"]
    entry = TypeAdapter(Union[tuple(kinds)]).json_schema()  # noqa: UP007 (built at run time)
    return {
        "title": "Handbook translation file",
        "type": "object",
        "propertyNames": {"pattern": Id.__metadata__[0].pattern},
        "additionalProperties": {"$ref": "#/$defs/Entry"},
        "$defs": {**entry.pop("$defs", {}), "Entry": entry},
    }


def translated_settings_schema() -> dict:
    from handbook.content.translations import SettingsText

    schema = SettingsText.model_json_schema()
    schema["title"] = "Handbook settings translated (translations/<lang>/handbook.yaml)"
    return schema


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema into ``folder``; returns their paths."""
    written = []
    schemas = (
        (CONTENT_SCHEMA, content_schema()),
        (SETTINGS_SCHEMA, settings_schema()),
        (TRANSLATION_SCHEMA, translation_schema()),
        (TRANSLATED_SETTINGS_SCHEMA, translated_settings_schema()),
    )
    for name, schema in schemas:
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
        target = folder / name
        write_atomic(target, (json.dumps(schema, indent=2) + "\n").encode())
        written.append(target)
    return written


def modeline(yaml_file: Path, schema_file: Path) -> str:
    """The comment that points an editor at the schema, by a path relative to the file."""
    relative = Path(os.path.relpath(schema_file.resolve(), yaml_file.parent.resolve()))
    return f"# yaml-language-server: $schema={relative.as_posix()}\n"
