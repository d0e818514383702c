"""What each output was last built from, so an unchanged output is not rendered again.

The record lives in the output folder (``.handbook-cache.json``) and maps
each output to the hash of all its inputs plus the size and modification
time the output had when it was written, so an output that was deleted or
replaced by hand is rebuilt too. A missing or unreadable record only means
that everything is rebuilt.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import stat
from pathlib import Path

from handbook.build.output import read_output, remove_outputs_except, write_output
from handbook.errors import HandbookError, Notice, Problem
from handbook.project import entries_under

CACHE_FILE = ".handbook-cache.json"
PAGE_MAP = ".handbook-pages.json"  # the booklet page of every anchor, for cards that cite it
PARTS_DIR = ".parts"  # the booklet's parts, each laid out and kept (see build/booklet.py)
BLEED_DIR = ".bleed"  # how each card was fitted, and all cards with their bleed (makers.py)
# In .parts/ and .bleed/: the subset font programs of the merged booklet and cards.pdf,
# kept for the next build (an edit seldom brings a glyph no page had).
FONTS_DIR = "fonts"
GROUPS_DIR = f"{BLEED_DIR}/groups"  # cards put together a group at a time (makers.py)
MOST_GROUP_BYTES = 256 * 1024 * 1024
# The folders whose files only the build reads: every one of them goes with a translation.
KEPT_FOLDERS = (PARTS_DIR, f"{PARTS_DIR}/{FONTS_DIR}", f"{BLEED_DIR}/{FONTS_DIR}", GROUPS_DIR)
MOST_FONT_BYTES = 64 * 1024 * 1024
_FORMAT = 1
# Far more than the record of any real project; a larger file (one that came with a
# project, say) is not read, and everything is rebuilt.
_MAX_RECORD_BYTES = 4 * 1024 * 1024


def digest(*parts: str | bytes) -> str:
    """A hash of several inputs; each is length-prefixed so no two splits collide."""
    hasher = hashlib.sha256()
    for part in parts:
        # A file name that is not UTF-8 holds surrogates, which encode as its bytes.
        data = part.encode(errors="surrogateescape") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


class BuildCache:
    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.path = out_dir / CACHE_FILE
        self.entries: dict[str, dict] = {}
        # The stamp of every source file at the last build that succeeded
        # throughout, and the outputs it made, in order.
        self.sources: str | None = None
        self.order: list[str] = []
        self.notices: list[Notice] = []  # what that build noted (a translation's gaps)
        self.language: str | None = None  # set in a translation's folder: its language
        self.pictures: list[str] = []  # the pictures that build's content named
        try:
            stored = json.loads(read_output(out_dir, CACHE_FILE, _MAX_RECORD_BYTES))
        except (HandbookError, ValueError, RecursionError):  # nested too deeply to read
            return
        if isinstance(stored, dict) and stored.get("format") == _FORMAT:
            language = stored.get("language")
            self.language = language if isinstance(language, str) else None
            outputs = stored.get("outputs")
            if isinstance(outputs, dict):
                self.entries = {
                    name: entry for name, entry in outputs.items() if _well_formed(entry)
                }
            sources, order = stored.get("sources"), stored.get("order")
            if isinstance(sources, str) and _names(order):
                self.sources, self.order = sources, order
                self.notices = _notices(stored.get("notices"))
                pictures = stored.get("pictures", [])
                self.pictures = pictures if _names(pictures) else []

    def is_fresh(self, name: str, key: str, files: tuple[str, ...] = ()) -> bool:
        """Whether ``name`` (and the ``files`` made with it) exist, unchanged, from ``key``."""
        entry = self.entries.get(name)
        if not entry or entry.get("key") != key or entry.get("files", []) != list(files):
            return False
        return entry.get("stamp") == self._stamps(name, files)

    def intact(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """The outputs whose files are as the build that made them left them: the key each
        was made from, and the other files made with it (see :meth:`is_fresh`)."""
        found = {}
        for name, entry in self.entries.items():
            files = tuple(entry.get("files", []))
            if entry.get("stamp") == self._stamps(name, files):
                found[name] = (entry.get("key"), files)
        return found

    def unchanged_since(self, sources: str) -> list[str] | None:
        """The outputs, if no source changed since a clean build and no output was touched."""
        if sources != self.sources or not all(name in self.entries for name in self.order):
            return None
        for name in self.order:
            entry = self.entries[name]
            if entry["stamp"] != self._stamps(name, tuple(entry.get("files", []))):
                return None
        return self.order

    def pages(self, name: str) -> int:
        return self.entries[name]["pages"]

    def record(self, name: str, key: str, pages: int, files: tuple[str, ...] = ()) -> None:
        stamp = self._stamps(name, files)
        self.entries[name] = {"key": key, "pages": pages, "files": list(files), "stamp": stamp}

    def prune(self, names: set[str]) -> list[Path]:
        """Delete outputs this cache recorded that the project no longer makes.

        Only PDF, PNG and JSON files (how a card was fitted) inside the output
        folder are deleted, whatever the record says (it could have been shipped
        with a project).
        """
        removed = []
        for name in sorted(set(self.entries) - names):
            entry = self.entries.pop(name)
            for file in [name, *entry.get("files", [])]:
                target = self.out_dir / file
                if target.suffix in (".pdf", ".png", ".json") and self._inside(target):
                    with contextlib.suppress(OSError):  # one it cannot delete stays
                        target.unlink()
                        removed.append(target)
        return removed

    def forget_everything(self) -> list[Path]:
        """Delete every output this record lists, the record itself and the folders
        left empty: for a translation the project no longer has."""
        removed = self.prune(set())
        for name in (CACHE_FILE, PAGE_MAP):
            (self.out_dir / name).unlink(missing_ok=True)
        for folder in KEPT_FOLDERS:
            remove_outputs_except(self.out_dir, folder, set())
        folders = [path for path, is_folder in entries_under(self.out_dir) if is_folder]
        for folder in sorted(folders, key=lambda p: -len(p.parts)):
            with contextlib.suppress(OSError):  # a link, or not empty: it stays
                if not folder.is_symlink() and not any(folder.iterdir()):
                    folder.rmdir()
        with contextlib.suppress(OSError):  # not empty: something of the user's is there
            self.out_dir.rmdir()
        return removed

    def remember_clean_build(
        self,
        sources: str,
        names: list[str],
        pictures: list[str],
        notices: list[Notice] | None = None,
    ) -> None:
        """After a build where every output succeeded: forget (and delete) outputs the
        project no longer makes, and remember the sources' stamp, the outputs in order,
        the pictures the content named (their stamps are part of the sources') and the
        build's notices."""
        self.prune(set(names))
        self.sources, self.order = sources, names
        self.pictures, self.notices = pictures, list(notices or [])

    def save(self) -> None:
        """Write the record; if that fails, the next build only renders everything again."""
        record = {
            "format": _FORMAT,
            "outputs": self.entries,
            "sources": self.sources,
            "order": self.order,
            "notices": [[n.kind, *dataclasses.astuple(n.problem)] for n in self.notices],
            "language": self.language,
            "pictures": self.pictures,
        }
        data = json.dumps(record, indent=1, sort_keys=True).encode()
        with contextlib.suppress(HandbookError):  # the outputs' own errors say why
            write_output(self.out_dir, CACHE_FILE, data)

    def _stamps(self, name: str, files: tuple[str, ...]) -> list[list[int] | None]:
        return [self._stamp(file) for file in (name, *files)]

    def _stamp(self, name: str) -> list[int] | None:
        try:
            status = (self.out_dir / name).stat()
        except (OSError, ValueError):  # a name with a NUL byte is a ValueError
            return None
        return [status.st_size, status.st_mtime_ns]

    def _inside(self, target: Path) -> bool:
        """Whether ``target`` is a regular file inside the output folder, links not followed."""
        try:
            real = target.parent.resolve(strict=True) / target.name
            return real.is_relative_to(self.out_dir.resolve()) and stat.S_ISREG(
                real.lstat().st_mode
            )
        except (OSError, ValueError, RuntimeError):  # RuntimeError: a loop of links
            return False


def _names(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(name, str) for name in value)


def _notices(stored: object) -> list[Notice]:
    """The notices a record keeps; any it cannot read are left out."""
    if not isinstance(stored, list):
        return []
    shapes = (str, str, int, int, str, str)
    return [
        Notice(row[0], Problem(*row[1:]))
        for row in stored
        if isinstance(row, list)
        and len(row) == len(shapes)
        and all(isinstance(v, t) for v, t in zip(row, shapes, strict=True))
    ]


def _well_formed(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("key"), str)
        and type(entry.get("pages")) is int
        and isinstance(entry.get("stamp"), list)
        and _names(entry.get("files", []))
    )
