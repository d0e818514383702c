"""Hashes of what outputs are made from, to tell which are up to date."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from handbook import __version__
from handbook.build.cache import digest
from handbook.project import TRANSLATIONS_DIR, Project, defaults_root, entries_under

if TYPE_CHECKING:
    from handbook.build.pipeline import BuildOptions
    from handbook.content.pictures import PictureFile
    from handbook.content.validate import Handbook

_IMAGE_SOURCE = re.compile(r'<img\b[^>]*?\bsrc="([^"]*)"')


def shared_inputs(project: Project, handbook: Handbook) -> str:
    """A hash of what every output depends on besides its own HTML.

    A file is read as a render would read it (:func:`engine.read_allowed`): one
    the renderer refuses (a link out of the project, one over the size limit)
    is not read, and counts by why it was refused.
    """
    from handbook import engine

    parts = [tool_version(), handbook.settings.model_dump_json()]
    roots = project.allowed_roots
    for kind in ("styles", "fonts"):
        for folder in project.search_dirs(kind):
            for path in source_files(folder, roots):
                try:
                    data = engine.read_allowed(path, roots)
                except engine.Refused as refusal:
                    data = f"refused: {refusal.message}".encode(errors="surrogateescape")
                parts += [f"{kind}/{path.relative_to(folder).as_posix()}", data]
    return digest(*parts)


def source_files(folder: Path, roots: tuple[Path, ...]) -> list[Path]:
    """The files under ``folder``, sorted; links to folders are not followed.

    A folder that is itself a link out of ``roots`` holds nothing a render
    may read, and is not looked through at all (it could be the whole disk).
    """
    real = Path(os.path.realpath(folder))
    if not any(real.is_relative_to(os.path.realpath(root)) for root in roots):
        return []
    return sorted(path for path, is_folder in entries_under(folder) if not is_folder)


def source_stamp(project: Project, options: BuildOptions) -> str:
    """A cheap hash of the name, size and modification time of every source file.

    When it matches the last clean build and no output was touched, nothing
    needs reading at all; otherwise the content hashes decide per output.
    Every theme's folder counts, not only the chosen one's: knowing which is
    chosen means parsing handbook.yaml, which is not cheap, nor bounded by
    the limits here, outside the workers.
    """
    folders = [project.content_dir, *project.themes_dirs]
    for kind in ("templates", "styles", "fonts"):
        folders += [project.root / kind, defaults_root() / kind]
    files = [project.settings_file]
    roots = project.allowed_roots
    folders = list(dict.fromkeys(folders))
    for folder in folders:
        files += source_files(folder, roots)
    settings = dataclasses.replace(
        options, out_dir=None, force=False, jobs=None, limits=None, language=None
    )
    parts = [tool_version(), repr(settings), os.environ.get("SOURCE_DATE_EPOCH", "")]
    for path in files:
        parts.append(f"{path} {_stamp(path)}")
    return digest(*parts)


def translation_stamp(project: Project, language: str, sources: str) -> str:
    """:func:`source_stamp` for a translation: the source's stamp and its own files'."""
    folder = project.root / TRANSLATIONS_DIR / language
    parts = [sources, language]
    for path in source_files(folder, project.allowed_roots):
        parts.append(f"{path} {_stamp(path)}")
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


def _stamp(path: Path) -> str:
    """Size and modification time of a file, or of the link itself if it leads nowhere."""
    for status in (os.stat, os.lstat):
        try:
            found = status(path)
        except OSError:  # missing, a loop of links
            continue
        return f"{found.st_size} {found.st_mtime_ns}"
    return "missing"


# What makes the PDFs from the HTML, and so goes into every output's hash: a new version
# of one (a fix in WeasyPrint, another subset from fontTools, another merge from pikepdf)
# makes every output again, as a fresh build would make it.
PDF_MAKERS = (
    "weasyprint",
    "pydyf",
    "tinycss2",
    "cssselect2",
    "pyphen",
    "fonttools",
    "pillow",
    "pikepdf",
    "pypdfium2",
)


@cache
def tool_version() -> str:
    return ", ".join([f"handbook {__version__}", *(f"{n} {version(n)}" for n in PDF_MAKERS)])
