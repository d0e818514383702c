"""Shared fixtures: sample projects made on the fly, and one build of the default project."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest

from handbook.build import BuildOptions, BuildReport, build
from handbook.project import defaults_root

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "tests" / "fixtures" / "tiny"


def write(path: Path, text: str) -> Path:
    """Write dedented text to ``path``, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def design_css(theme: str = "default") -> str:
    """A built-in theme's design values as the :root rule the build puts before the
    stylesheets, for tests that render HTML with the stylesheets by hand."""
    from handbook.content.validate import load_handbook
    from handbook.design import root_rule
    from handbook.project import open_project

    with tempfile.TemporaryDirectory() as folder:
        root = set_theme(Path(shutil.copytree(TINY, Path(folder) / "tiny")), theme)
        return root_rule(load_handbook(open_project(root)).design)


def set_theme(root: Path, theme: str) -> Path:
    """Choose ``theme`` in the project at ``root`` (appends to its handbook.yaml)."""
    settings = root / "handbook.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + f"theme: {theme}\n")
    return root


@pytest.fixture
def default_copy(tmp_path: Path) -> Path:
    """A private copy of the default project (content and settings only)."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(defaults_root() / "handbook.yaml", root / "handbook.yaml")
    shutil.copytree(defaults_root() / "content", root / "content")
    return root


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A private copy of the small test project in tests/fixtures/tiny (builds in a moment)."""
    root = tmp_path / "tiny"
    shutil.copytree(TINY, root)
    return root


@pytest.fixture(scope="session")
def default_build(tmp_path_factory) -> tuple[Path, BuildReport]:
    """The default project built once for the whole session: (output folder, report)."""
    out = tmp_path_factory.mktemp("default-build")
    report = build(REPO, BuildOptions(out_dir=out))
    return out, report
