"""Stylesheets parsed once in a process, and again only when a file the parse read changed.

Every card and every part of the booklet is laid out with the same
stylesheets, and WeasyPrint parses a stylesheet anew for each document
(``card.css`` with what it imports: about 30 ms, a sixth of a technique
card's whole layout). A parse is kept for the same stylesheet, the same
folders the project may read and the same font configuration, while every
file it read (the stylesheet, what it imports, the fonts of its
``@font-face`` rules) keeps its size and modification time. It is kept only
once a document laid out with it raised no problem, so a stylesheet that
warns or asks for a refused file is parsed, and reported, on every build.
"""

from __future__ import annotations

import atexit
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A file's real path, size, inode and times of its last change and modification (ns).
Stamp = tuple[str, int, int, int, int]
_MOST_KEPT = 32  # far more stylesheets than one project's outputs use


@dataclass(frozen=True)
class _Parse:
    css: Any  # a WeasyPrint CSS
    real: str  # the file the stylesheet's path led to (a link may be pointed elsewhere)
    read: tuple[Stamp, ...]


_kept: OrderedDict[tuple, _Parse] = OrderedDict()
# Let them go while the interpreter still runs, before the font configurations they hold
# (registered before them: see render._font_config_of, made on the first render).
atexit.register(_kept.clear)


def stamp(path: str, status: os.stat_result | None = None) -> Stamp:
    """The file's stamp: as ``status`` says, else as it is now."""
    try:
        status = status or os.stat(path)
    except OSError:
        return (path, -1, -1, -1, -1)
    return (path, status.st_size, status.st_ino, status.st_ctime_ns, status.st_mtime_ns)


def kept(path: Path, allowed_roots: tuple[Path, ...], font_config) -> Any | None:
    """The parse of ``path`` a successful render kept, if no file it read changed since."""
    key = (path.as_uri(), allowed_roots, font_config)
    found = _kept.get(key)
    if found is None:
        return None
    if found.real != os.path.realpath(path) or any(stamp(read[0]) != read for read in found.read):
        del _kept[key]
        return None
    _kept.move_to_end(key)
    return found.css


def keep(path: Path, allowed_roots: tuple[Path, ...], font_config, css, read: list[Stamp]) -> None:
    """Keep a parse for later renders (call once the render it served succeeded)."""
    _kept[(path.as_uri(), allowed_roots, font_config)] = _Parse(
        css, os.path.realpath(path), tuple(read)
    )
    while len(_kept) > _MOST_KEPT:
        _kept.popitem(last=False)
