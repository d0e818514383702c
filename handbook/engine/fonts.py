"""The fonts a render may use: the project's and the bundled ones, never the machine's.

WeasyPrint lays text out with Pango, which asks fontconfig for fonts, and
fontconfig by default offers every font installed on the machine: text the
handbook's fonts lack would silently print in whatever the machine has, and
two machines would print the same project differently. Here fontconfig gets a
configuration of its own, naming only the given font files (the project's
``fonts/``, its theme's and the bundled ones, see ``Project.font_files``):
no system folder, no user folder, no rule from ``/etc/fonts``. Pango then
falls back only among those fonts, so a font dropped into ``fonts/`` prints
whatever characters the handbook's own font lacks.

fontconfig reads its configuration from ``FONTCONFIG_FILE`` each time one is
loaded, and WeasyPrint loads one for every ``FontConfiguration`` (and once
when it is imported). The variable stays set for the rest of the process:
Pango also initialises fontconfig's default configuration, in a thread of its
own, and that must not scan the machine's fonts either.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Iterable
from html import escape
from pathlib import Path

from handbook.project import FONT_SUFFIXES, defaults_root

CONFIG_VARIABLE = "FONTCONFIG_FILE"
KEEP_UNUSED_DAYS = 7  # a configuration not used for this long is removed


def confine(fonts: Iterable[Path]) -> Path:
    """Make fontconfig configurations loaded from now on offer only ``fonts``.

    Returns the configuration file written for them. Pango cannot do without
    fonts (WeasyPrint crashes on a font map without one), so none is refused.
    """
    files = tuple(Path(os.path.abspath(font)) for font in fonts)
    if not files:
        raise RuntimeError("no font to render with: the bundled fonts are missing")
    text = configuration(files)
    path = _folder() / f"fonts-{hashlib.sha256(text.encode()).hexdigest()[:16]}.conf"
    _write_once(path, text)
    os.environ[CONFIG_VARIABLE] = str(path)
    return path


def bundled() -> tuple[Path, ...]:
    """The fonts that come with handbook."""
    folder = defaults_root() / "fonts"
    return tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() in FONT_SUFFIXES))


def configuration(fonts: tuple[Path, ...]) -> str:
    """A fontconfig configuration offering exactly these font files.

    fontconfig lists folders, not files: the folders holding the fonts are
    listed, every file in them is rejected, and the given files are accepted
    again (an accepting glob wins; one without wildcards names one file, and
    a ``*`` or ``?`` in a path only widens it to other files of these
    folders). The rejection names those folders only, so the fonts WeasyPrint
    adds itself for ``@font-face`` rules stay usable.
    """
    folders = sorted({font.parent for font in fonts})
    lines = ['<?xml version="1.0"?>', '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">']
    lines.append("<fontconfig>")
    lines += [f"  <dir>{_text(folder)}</dir>" for folder in folders]
    lines.append("  <selectfont>")
    accepted = [f"      <glob>{_text(font)}</glob>" for font in fonts]
    lines += ["    <acceptfont>", *accepted, "    </acceptfont>"]
    rejected = [f"      <glob>{_text(folder)}/*</glob>" for folder in folders]
    lines += ["    <rejectfont>", *rejected, "    </rejectfont>"]
    lines += ["  </selectfont>", "</fontconfig>", ""]
    return "\n".join(lines)


def _text(path: Path) -> str:
    return escape(path.as_posix(), quote=False)


def _folder() -> Path:
    """Where configurations are kept: a folder of this user's in the temporary folder.

    Each file is named by a hash of what it says, so every process of every
    build (workers are forked, spawned or forked by a server) finds or writes
    the same one, and nothing needs removing when a worker is killed. A folder
    of that name that is not this user's alone is not used.
    """
    folder = Path(tempfile.gettempdir()) / f"handbook-fontconfig-{_user_id()}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    if not _private(folder.lstat()):
        raise RuntimeError(f"{folder} is not a private folder of this user: remove it")
    return folder


def _user_id() -> str:
    return str(os.getuid()) if hasattr(os, "getuid") else getpass.getuser()


def _private(status: os.stat_result) -> bool:
    """A folder (not a link to one) that, where there are owners, only this user may use."""
    if not stat.S_ISDIR(status.st_mode):
        return False
    return not hasattr(os, "getuid") or (
        status.st_uid == os.getuid() and not status.st_mode & 0o077
    )


def _write_once(path: Path, text: str) -> None:
    """Write a file whole or not at all (other processes may read it at any moment),
    or mark it used; configurations unused for a while are removed meanwhile."""
    try:
        os.utime(path)
        return
    except FileNotFoundError:
        pass
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as f:
        f.write(text)
    os.replace(f.name, path)
    _remove_unused(path.parent)


def _remove_unused(folder: Path) -> None:
    """Every project folder a build renders gets a configuration: keep the recent ones."""
    oldest = time.time() - KEEP_UNUSED_DAYS * 24 * 3600
    for old in folder.glob("fonts-*.conf"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < oldest:
                old.unlink()
