"""Where a handbook project's files are, and the built-in defaults behind them.

A project may override any single template, stylesheet or font by putting a
file of the same name in its own folder; everything else falls back to the
defaults that ship with the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from handbook.errors import HandbookError, Problem

SETTINGS_FILE = "handbook.yaml"
OUTPUT_DIR = "build"  # where a build writes, inside the project, unless told otherwise


@cache
def defaults_root() -> Path:
    """The built-in default project.

    An installed wheel carries it inside the package (``_defaults``); a source
    checkout or editable install uses the repository root, which is itself the
    default project.
    """
    packaged = Path(__file__).parent / "_defaults"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def settings_file(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    def search_dirs(self, kind: str) -> list[Path]:
        """The project's own folder of this kind first, then the built-in one."""
        dirs = [self.root / kind, defaults_root() / kind]
        unique: list[Path] = []
        for folder in dirs:
            if folder.resolve() not in [d.resolve() for d in unique]:
                unique.append(folder)
        return unique

    def find(self, kind: str, name: str) -> Path:
        """The project's file if it has one, else the built-in one."""
        for folder in self.search_dirs(kind):
            candidate = folder / name
            if candidate.is_file():
                return candidate
        raise HandbookError(
            [
                Problem(
                    f"{kind}/{name}",
                    0,
                    0,
                    f"no {kind[:-1]} named '{name}' in the project or the built-in defaults",
                )
            ]
        )

    def content_files(self) -> list[Path]:
        """Every YAML file under ``content/``, in a stable (sorted) order."""
        if not self.content_dir.is_dir():
            return []
        files = [*self.content_dir.rglob("*.yaml"), *self.content_dir.rglob("*.yml")]
        return sorted(files, key=lambda p: p.relative_to(self.content_dir).as_posix())


def open_project(folder: Path) -> Project:
    """A project rooted at ``folder``, which must hold ``handbook.yaml``."""
    root = folder.resolve()
    if not (root / SETTINGS_FILE).is_file():
        raise HandbookError(
            [
                Problem(
                    str(folder / SETTINGS_FILE),
                    0,
                    0,
                    "no handbook project here (handbook.yaml is missing)",
                    "run 'handbook init DIR' to start one, or pass --project DIR",
                )
            ]
        )
    return Project(root)
