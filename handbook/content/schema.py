"""JSON Schemas of the content files and of ``handbook.yaml``, from the pydantic model.

Editors with the YAML language server read them through a first line like
``# yaml-language-server: $schema=../schema/content.schema.json`` and then
complete keys and flag mistakes while the file is typed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import TypeAdapter

from handbook.build.output import write_atomic
from handbook.content.model import ContentFile, Settings

SCHEMA_DIR = "schema"
CONTENT_SCHEMA = "content.schema.json"
SETTINGS_SCHEMA = "settings.schema.json"


def content_schema() -> dict:
    """Any one content file: a chapter, technique, safety topic, routine or zone list."""
    schema = TypeAdapter(ContentFile).json_schema()
    schema["title"] = "Handbook content file"
    return schema


def settings_schema() -> dict:
    schema = Settings.model_json_schema()
    schema["title"] = "Handbook settings (handbook.yaml)"
    return schema


def write_schemas(folder: Path) -> list[Path]:
    """Write both schemas into ``folder``; returns their paths."""
    written = []
    for name, schema in ((CONTENT_SCHEMA, content_schema()), (SETTINGS_SCHEMA, settings_schema())):
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
        target = folder / name
        write_atomic(target, (json.dumps(schema, indent=2) + "\n").encode())
        written.append(target)
    return written


def modeline(yaml_file: Path, schema_file: Path) -> str:
    """The comment that points an editor at the schema, by a path relative to the file."""
    relative = Path(os.path.relpath(schema_file.resolve(), yaml_file.parent.resolve()))
    return f"# yaml-language-server: $schema={relative.as_posix()}\n"
