"""``handbook init``: a new project that builds at once.

The full project is the built-in default handbook (its content and
settings); ``bare`` gives a small skeleton with one example of each content
kind. Templates, styles and fonts are not copied: the project uses the
built-in ones (and gets their fixes with each new version) until it puts a
file of the same name in its own ``templates/``, ``styles/`` or ``fonts/``.
Every YAML file gets a first line that points editors at the JSON Schema.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from handbook.content.schema import (
    CONTENT_SCHEMA,
    SCHEMA_DIR,
    SETTINGS_SCHEMA,
    modeline,
    write_schemas,
)
from handbook.errors import HandbookError, Problem
from handbook.project import SETTINGS_FILE, defaults_root

SKELETON = Path(__file__).parent / "skeleton"


def init_project(folder: Path, *, bare: bool = False) -> Path:
    """Create a project in ``folder`` (new or empty); returns its root."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise HandbookError(
            [
                Problem(
                    str(folder),
                    0,
                    0,
                    "this folder already exists and is not empty",
                    "choose a new folder name; init never overwrites files",
                )
            ]
        )
    source = SKELETON if bare else defaults_root()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / SETTINGS_FILE, folder / SETTINGS_FILE)
    shutil.copytree(source / "content", folder / "content")
    schemas = folder / SCHEMA_DIR
    write_schemas(schemas)
    _add_modeline(folder / SETTINGS_FILE, schemas / SETTINGS_SCHEMA)
    for path in sorted((folder / "content").rglob("*.y*ml")):
        _add_modeline(path, schemas / CONTENT_SCHEMA)
    return folder


def _add_modeline(path: Path, schema: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("# yaml-language-server:"):
        path.write_text(modeline(path, schema) + text, encoding="utf-8")
