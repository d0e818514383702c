"""What each output was last built from, so an unchanged output is not rendered again.

The record lives in the output folder (``.handbook-cache.json``) and maps
each output to the hash of all its inputs plus the size and modification
time the output had when it was written, so an output that was deleted or
replaced by hand is rebuilt too. A missing or unreadable record only means
that everything is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from handbook.output import write_atomic

CACHE_FILE = ".handbook-cache.json"
_FORMAT = 1


def digest(*parts: str | bytes) -> str:
    """A hash of several inputs; each is length-prefixed so no two splits collide."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
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
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(stored, dict) and stored.get("format") == _FORMAT:
            outputs = stored.get("outputs")
            if isinstance(outputs, dict):
                self.entries = {
                    name: entry for name, entry in outputs.items() if _well_formed(entry)
                }
            sources, order = stored.get("sources"), stored.get("order")
            if isinstance(sources, str) and isinstance(order, list):
                self.sources, self.order = sources, [str(name) for name in order]

    def is_fresh(self, name: str, key: str) -> bool:
        """Whether ``name`` exists, unchanged, and was made from inputs hashing to ``key``."""
        entry = self.entries.get(name)
        if not entry or entry.get("key") != key:
            return False
        return entry.get("stamp") == self._stamp(name)

    def unchanged_since(self, sources: str) -> list[str] | None:
        """The outputs, if no source changed since a clean build and no output was touched."""
        if sources != self.sources or not all(name in self.entries for name in self.order):
            return None
        if all(self.entries[name]["stamp"] == self._stamp(name) for name in self.order):
            return self.order
        return None

    def pages(self, name: str) -> int:
        return self.entries[name]["pages"]

    def record(self, name: str, key: str, pages: int) -> None:
        self.entries[name] = {"key": key, "pages": pages, "stamp": self._stamp(name)}

    def prune(self, names: set[str]) -> list[Path]:
        """Delete outputs this cache recorded that the project no longer makes.

        Only PDF files inside the output folder are deleted, whatever the
        record says (it could have been shipped with a project).
        """
        removed = []
        for name in sorted(set(self.entries) - names):
            del self.entries[name]
            target = self.out_dir / name
            inside = target.resolve().is_relative_to(self.out_dir.resolve())
            if inside and target.suffix == ".pdf" and target.is_file():
                target.unlink()
                removed.append(target)
        return removed

    def save(self) -> None:
        record = {
            "format": _FORMAT,
            "outputs": self.entries,
            "sources": self.sources,
            "order": self.order,
        }
        write_atomic(self.path, json.dumps(record, indent=1, sort_keys=True).encode())

    def _stamp(self, name: str) -> list[int] | None:
        try:
            stat = (self.out_dir / name).stat()
        except OSError:
            return None
        return [stat.st_size, stat.st_mtime_ns]


def _well_formed(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("key"), str)
        and isinstance(entry.get("pages"), int)
        and isinstance(entry.get("stamp"), list)
    )
