"""Where a handbook project's files are, and the theme and built-in defaults behind them.

A project may override any single template, stylesheet or font by putting a
file of the same name in its own folder; else the theme chosen in
``handbook.yaml`` may have one; everything else falls back to the defaults
that ship with the package.

A theme is a folder named after it, holding ``theme.yaml`` (its design
values) and optionally ``templates/`` and ``styles/``. The project's own
``themes/`` folder is looked in first, then the built-in themes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from handbook.errors import HandbookError, Problem

SETTINGS_FILE = "handbook.yaml"
THEME_FILE = "theme.yaml"
DEFAULT_THEME = "default"
DEFAULT_LANGUAGE = "en"
BUILTIN_THEMES = Path(__file__).parent / "themes"
OUTPUT_DIR = "build"  # where a build writes, inside the project, unless told otherwise
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")  # what a fonts/ folder's fonts may be
TRANSLATIONS_DIR = "translations"  # a folder per language, named by its tag
SCHEMA_DIR = "schema"  # the editor schemas a project keeps, if it keeps them


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


def examples_root() -> Path:
    """The folder of bundled example projects, one folder each, that ``init --example`` copies.

    Like the defaults: inside the package in a wheel (``_examples``), else the
    repository's ``examples/``.
    """
    packaged = Path(__file__).parent / "_examples"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "examples"


def example_names() -> list[str]:
    """The bundled examples by name (their folder names), sorted."""
    root = examples_root()
    if not root.is_dir():
        return []
    return sorted(entry.name for entry in root.iterdir() if (entry / SETTINGS_FILE).is_file())


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def settings_file(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def themes_dirs(self) -> tuple[Path, ...]:
        """Where themes are looked for: the project's own first, then the built-in ones."""
        return (self.root / "themes", BUILTIN_THEMES)

    @property
    def allowed_roots(self) -> tuple[Path, ...]:
        """The folders a render may read from, the project's own first."""
        return (self.root, defaults_root(), BUILTIN_THEMES)

    def theme_names(self) -> list[str]:
        """Every theme the project can choose."""
        found = {
            folder.name
            for themes in self.themes_dirs
            if themes.is_dir()
            for folder in themes.iterdir()
            if (folder / THEME_FILE).is_file()
        }
        return sorted(found)

    def theme_dir(self, name: str) -> Path | None:
        """The folder of the theme called ``name``, or None if there is none."""
        if not name or "/" in name or name.startswith("."):
            return None
        for themes in self.themes_dirs:
            if (themes / name / THEME_FILE).is_file():
                return themes / name
        return None

    @cached_property
    def theme(self) -> str:
        """The theme named in ``handbook.yaml``, read on its own so that finding files
        needs no full validation; the validation reports a wrong one."""
        return self._settings_texts.get("theme", DEFAULT_THEME)

    @cached_property
    def source_language(self) -> str:
        """The language ``handbook.yaml`` names, read on its own like :attr:`theme`."""
        return self._settings_texts.get("language", DEFAULT_LANGUAGE)

    @cached_property
    def _settings_texts(self) -> dict[str, str]:
        from handbook.content.load import top_level_texts

        return top_level_texts(self.settings_file, self.root)

    def settings_files(self) -> list[Path]:
        """The files that set how the handbook looks: handbook.yaml and the theme.yaml
        files of its theme and of the default theme that it changes."""
        themes = [BUILTIN_THEMES / DEFAULT_THEME, self.theme_dir(self.theme)]
        return [self.settings_file, *(t / THEME_FILE for t in dict.fromkeys(themes) if t)]

    def search_dirs(self, kind: str) -> list[Path]:
        """The project's own folder of this kind first, then the theme's, then the built-in one."""
        theme = self.theme_dir(self.theme)
        dirs = [self.root / kind, *([theme / kind] if theme else []), defaults_root() / kind]
        unique: list[Path] = []
        for folder in dirs:
            if os.path.realpath(folder) not in [os.path.realpath(d) for d in unique]:
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
                    f"no {kind[:-1]} named '{name}' in the project, its theme "
                    "or the built-in defaults",
                )
            ]
        )

    def font_files(self) -> tuple[Path, ...]:
        """Every font the handbook may print with: the project's fonts/, then the theme's,
        then the bundled ones; a file shadows one of the same name further back.

        These are the only fonts a render sees (:mod:`handbook.engine.fonts`) and the
        ones the coverage check reads (:mod:`handbook.content.coverage`). Hidden files
        and links to files outside the folder's owner (the project, the theme, the
        defaults) are left out, as WeasyPrint may not read them either.
        """
        found: dict[str, Path] = {}
        for folder in self.search_dirs("fonts"):
            owner = os.path.realpath(folder.parent)
            if not Path(os.path.realpath(folder)).is_relative_to(owner):
                continue  # a fonts/ that links out of its owner (to / say) is not walked
            files = sorted(path for path, is_folder in entries_under(folder) if not is_folder)
            for path in files:
                name = path.relative_to(folder).as_posix()
                if (
                    path.suffix.lower() in FONT_SUFFIXES
                    and not any(part.startswith(".") for part in name.split("/"))
                    and Path(os.path.realpath(path)).is_relative_to(owner)  # a loop raises nothing
                    and path.is_file()
                ):
                    found.setdefault(name, path)
        return tuple(found.values())

    def translation_languages(self) -> list[str]:
        """The languages in ``translations/``: a folder each (checked when it is read)."""
        folder = self.root / TRANSLATIONS_DIR
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))

    def content_files(self) -> list[Path]:
        """Every YAML file under ``content/``, in a stable (sorted) order."""
        if not self.content_dir.is_dir():
            return []
        files = [path for path, _ in entries_under(self.content_dir) if path.suffix in YAML]
        return sorted(files, key=lambda p: p.relative_to(self.content_dir).as_posix())


def find_project(start: Path) -> Path:
    """The folder holding ``handbook.yaml``: ``start`` or the nearest folder above it,
    as git finds its repository from a subfolder; ``start`` itself when none has one
    (opening it then explains what is missing)."""
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    return start


YAML = (".yaml", ".yml")


def entries_under(folder: Path) -> list[tuple[Path, bool]]:
    """Everything below ``folder``, each with whether it is a folder (or links to one).

    Links to folders are not looked into. The walk keeps its own list of
    folders to visit rather than recursing, so folders nested thousands deep
    are walked like any other.
    """
    found, waiting = [], [folder]
    while waiting:
        try:
            with os.scandir(waiting.pop()) as entries:
                for entry in entries:
                    try:
                        is_folder = entry.is_dir()
                    except OSError:  # a loop of links
                        is_folder = False
                    found.append((Path(entry.path), is_folder))
                    if is_folder and not entry.is_symlink():
                        waiting.append(Path(entry.path))
        except OSError:  # vanished, or not readable: nothing in it counts
            continue
    return found


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
