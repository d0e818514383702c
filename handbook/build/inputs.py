"""Hashes of what outputs are made from, to tell which are up to date."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable
from functools import cache
from importlib.metadata import version
from typing import TYPE_CHECKING
from urllib.parse import unquote

from handbook import __version__
from handbook.build.cache import digest
from handbook.project import TRANSLATIONS_DIR, Project

if TYPE_CHECKING:
    from handbook.build.pipeline import BuildOptions
    from handbook.content.pictures import PictureFile
    from handbook.content.validate import Handbook

_IMAGE_SOURCE = re.compile(r'<img\b[^>]*?\bsrc="([^"]*)"')


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


def pictures_shown(html: str, pictures: dict[str, PictureFile]) -> list[str]:
    """The hashes of the project's pictures a page's HTML shows, so that changing a
    picture changes exactly the outputs that print it."""
    shown = (unquote(source) for source in _IMAGE_SOURCE.findall(html))
    return [pictures[path].digest for path in shown if path in pictures]


PictureStamp = tuple[str, int, int]  # a picture's path, size and modification time


def with_pictures(sources: str, pictures: Iterable[PictureStamp]) -> str:
    """The source stamp with the pictures' stamps added: pictures may lie anywhere in
    the project, so the ones content names are stamped by name."""
    return digest(sources, *(f"{path} {size} {mtime}" for path, size, mtime in sorted(pictures)))


def picture_stamps(project: Project, paths: Iterable[str]) -> list[PictureStamp]:
    """The pictures' stamps as they are now (a missing one stamps as -1)."""
    stamps = []
    for path in paths:
        try:
            status = (project.root / path).stat()
        except OSError:
            stamps.append((path, -1, -1))
            continue
        stamps.append((path, status.st_size, status.st_mtime_ns))
    return stamps


def read_stamps(pictures: dict[str, PictureFile]) -> list[PictureStamp]:
    """The pictures' stamps as they were when the content stage read them."""
    return [(p.path, p.size, p.mtime_ns) for p in pictures.values()]


@cache
def tool_version() -> str:
    return f"handbook {__version__}, weasyprint {version('weasyprint')}"
