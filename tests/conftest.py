"""Shared fixtures: sample projects made on the fly, and one build of the default project."""

from __future__ import annotations

import shutil
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
