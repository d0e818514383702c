"""``handbook init``: a new project that builds at once.

The full project is the built-in default handbook (its content and
settings); ``example`` names another complete handbook bundled with the
package (see :func:`handbook.project.example_names`); ``bare`` gives a small
skeleton with one example of each content kind. Templates, styles and
fonts are not copied: the project uses the built-in ones (and gets their
fixes with each new version) until it puts a file of the same name in its
own ``templates/``, ``styles/`` or ``fonts/``.
Every YAML file gets a first line that points editors at the JSON Schema, and
``.vscode/settings.json`` maps the project's folders to the schemas, so a new
file is checked too.

The project is written into a hidden draft folder and moved into place
when complete, so an interrupted init leaves either nothing or a whole
project (whose first build then simply did not finish).
"""

from __future__ import annotations

import glob
import json
import shutil
import tempfile
from pathlib import Path

from handbook.content.schema import (
    CONTENT_SCHEMA,
    SCHEMA_DIR,
    SETTINGS_SCHEMA,
    editor_associations,
    modeline,
    write_schemas,
)
from handbook.errors import HandbookError, Problem
from handbook.project import OUTPUT_DIR, SETTINGS_FILE, defaults_root, examples_root

SKELETON = Path(__file__).parent / "skeleton"

GITIGNORE = f"{OUTPUT_DIR}/\n"
EDITOR_SETTINGS = ".vscode/settings.json"

COMMANDS = """\
    handbook build    # make the booklet and cards (only what changed is rebuilt)
    handbook watch    # build again on every save; stop with Ctrl-C
    handbook check    # find mistakes in the content without building
"""

README = f"""\
# {{name}}

A handbook project: `handbook build` turns the YAML files in `content/` into
a printed booklet and one-page cheat cards.

- `{SETTINGS_FILE}`: the title, paper and card size, and the order of the chapters.
- `content/`: chapters, techniques, routines, safety notes and body zones, in YAML.
- `{SCHEMA_DIR}/`: JSON Schemas that let an editor check and complete those files,
  and show what each field is for. Each file's first line points at its schema;
  `{EDITOR_SETTINGS}` maps `content/`, `{SETTINGS_FILE}` and `translations/` to
  them for editors with the YAML language server (VS Code's YAML extension,
  or any editor that runs `yaml-language-server` with the `yaml.schemas`
  setting), so new files are checked without that line. `handbook build`
  rewrites the schemas when a new version of handbook changes them.
- `{OUTPUT_DIR}/`: what a build makes (the booklet `handbook.pdf`, its print
  version `handbook-print.pdf`, the cards in `cards/` and `card-sheets.pdf`).
  It is rebuilt at will, so it is not kept in git.

Pictures (PNG, JPEG or SVG) can go anywhere in the project, `pictures/` say;
an item names its own in a `pictures:` list, each with `file` and `alt`.
To change a template, stylesheet or font, put a file of the same name in
`templates/`, `styles/` or `fonts/`. The bundled fonts print Latin, Greek
and Cyrillic; for other scripts, put a font that has them into `fonts/`
(`handbook check` names the characters no font has, and where they are).

## Commands

{COMMANDS}"""


def init_project(folder: Path, *, bare: bool = False, example: str | None = None) -> Path:
    """Create a project in ``folder`` (new or empty) from the default handbook, the
    skeleton (``bare``) or the bundled example named ``example``; returns its root."""
    source = _source(bare, example)
    _check_free(folder)
    existed, name = folder.exists(), folder.resolve().name
    try:
        # Beside a new folder; inside an existing one, which may be the shell's
        # current folder and so must stay the same folder.
        home = folder if existed else folder.resolve().parent
        home.mkdir(parents=True, exist_ok=True)
        _remove_stale_drafts(home, name)
        draft = Path(tempfile.mkdtemp(dir=home, prefix=_draft_prefix(name)))
    except OSError as exc:
        raise _cannot_create(folder, exc) from None
    try:
        _write_project(draft, source, name)
        if existed:
            _move_contents(draft, folder)
        else:
            draft.rename(folder)
    except BaseException as exc:  # also Ctrl-C: leave no half project behind
        shutil.rmtree(draft, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _cannot_create(folder, exc) from None
        raise
    return folder


def _source(bare: bool, example: str | None) -> Path:
    """The project init copies; the command line has already refused a wrong choice."""
    if bare and example:
        raise ValueError("choose bare or an example, not both")
    if example is None:
        return SKELETON if bare else defaults_root()
    source = examples_root() / example
    if not (source / SETTINGS_FILE).is_file():
        raise ValueError(f"no bundled example named {example!r}")
    return source


def _move_contents(draft: Path, folder: Path) -> None:
    """Move the draft's files up into ``folder``, handbook.yaml last: then the project is whole."""
    for entry in sorted(draft.iterdir(), key=lambda path: path.name == SETTINGS_FILE):
        entry.rename(folder / entry.name)
    draft.rmdir()


def _draft_prefix(name: str) -> str:
    return f".{name}.init-"


def _remove_stale_drafts(home: Path, name: str) -> None:
    """Remove the drafts of an init that was killed (``kill -9`` leaves no time to clean up)."""
    for stale in home.glob(f"{glob.escape(_draft_prefix(name))}*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale)


def _check_free(folder: Path) -> None:
    """Refuse a folder that is in use; one that holds a project gets a different hint.

    A folder that holds nothing but a killed init's draft counts as empty.
    """
    if (folder / SETTINGS_FILE).is_file():
        raise _refused(
            folder,
            "this folder already holds a handbook project",
            "cd there and run 'handbook build'; init never overwrites files",
        )
    if folder.exists() and (not folder.is_dir() or _in_use(folder)):
        raise _refused(
            folder,
            "this folder already exists and is not empty",
            "choose a new folder name; init never overwrites files",
        )


def _in_use(folder: Path) -> bool:
    draft = _draft_prefix(folder.resolve().name)
    return any(not entry.name.startswith(draft) for entry in folder.iterdir())


def _refused(folder: Path, message: str, hint: str) -> HandbookError:
    return HandbookError([Problem(str(folder), 0, 0, message, hint)])


def _cannot_create(folder: Path, exc: OSError) -> HandbookError:
    return _refused(
        folder,
        f"cannot create the project: {exc.strerror or exc}",
        "check that the folder above it is writable and the disk is not full",
    )


def _write_project(root: Path, source: Path, name: str) -> None:
    shutil.copy(source / SETTINGS_FILE, root / SETTINGS_FILE)
    shutil.copytree(source / "content", root / "content")
    if (source / "pictures").is_dir():  # the pictures the content names
        shutil.copytree(source / "pictures", root / "pictures")
    schemas = root / SCHEMA_DIR
    write_schemas(schemas)
    _add_modeline(root / SETTINGS_FILE, schemas / SETTINGS_SCHEMA)
    for path in sorted((root / "content").rglob("*.y*ml")):
        _add_modeline(path, schemas / CONTENT_SCHEMA)
    (root / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    _write_editor_settings(root / EDITOR_SETTINGS)
    (root / "README.md").write_text(README.format(name=name), encoding="utf-8")


def _write_editor_settings(path: Path) -> None:
    """Map the project's files to their schemas (init writes into a new folder only,
    so there are no settings of the user's to keep)."""
    path.parent.mkdir(parents=True)
    settings = {"yaml.schemas": editor_associations()}
    path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")


def _add_modeline(path: Path, schema: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("# yaml-language-server:"):
        path.write_text(modeline(path, schema) + text, encoding="utf-8")
