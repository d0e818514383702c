"""Hashes of what outputs are made from, to tell which are up to date."""

from __future__ import annotations

import dataclasses
import os
from functools import cache
from importlib.metadata import version
from typing import TYPE_CHECKING

from handbook import __version__
from handbook.build.cache import digest
from handbook.project import TRANSLATIONS_DIR, Project

if TYPE_CHECKING:
    from handbook.build.pipeline import BuildOptions
    from handbook.content.validate import Handbook


def shared_inputs(project: Project, handbook: Handbook) -> str:
    """A hash of what every output depends on besides its own HTML."""
    parts = [tool_version(), handbook.settings.model_dump_json()]
    for kind in ("styles", "fonts"):
        for folder in project.search_dirs(kind):
            if folder.is_dir():
                for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                    parts += [f"{kind}/{path.relative_to(folder).as_posix()}", path.read_bytes()]
    return digest(*parts)


def source_stamp(project: Project, options: BuildOptions) -> str:
    """A cheap hash of the name, size and modification time of every source file.

    When it matches the last clean build and no output was touched, nothing
    needs reading at all; otherwise the content hashes decide per output.
    """
    folders = [project.content_dir]
    for kind in ("templates", "styles", "fonts"):
        folders += project.search_dirs(kind)
    files = project.settings_files()
    for folder in folders:
        files += sorted(p for p in folder.rglob("*") if p.is_file())
    settings = dataclasses.replace(
        options, out_dir=None, force=False, jobs=None, limits=None, language=None
    )
    parts = [tool_version(), repr(settings), os.environ.get("SOURCE_DATE_EPOCH", "")]
    for path in files:
        stat = path.stat()
        parts.append(f"{path} {stat.st_size} {stat.st_mtime_ns}")
    return digest(*parts)


def translation_stamp(project: Project, language: str, sources: str) -> str:
    """:func:`source_stamp` for a translation: the source's stamp and its own files'."""
    folder = project.root / TRANSLATIONS_DIR / language
    parts = [sources, language]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        parts.append(f"{path} {stat.st_size} {stat.st_mtime_ns}")
    return digest(*parts)


@cache
def tool_version() -> str:
    return f"handbook {__version__}, weasyprint {version('weasyprint')}"
