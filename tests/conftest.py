"""Shared fixtures and helpers: sample projects, and one build each of the tiny and the
default project.

Tests marked ``slow`` (full builds of the default project, the long booklet, watch mode,
the wheel install) are left out of a plain ``pytest`` run; ``pytest -m slow`` runs them.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import textwrap
from pathlib import Path

import pytest

from handbook.build import UP_TO_DATE, BuildOptions, BuildReport, build
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


def assert_size(page, size: tuple[float, float], *, box: str = "mediabox") -> None:
    """A pypdf page's box (the media box unless told) is ``size`` points wide and high,
    to a hundredth of a point; the media box also starts at the origin."""
    rect = getattr(page, box)
    if box == "mediabox":
        assert (float(rect.left), float(rect.bottom)) == (0, 0)
    assert (float(rect.width), float(rect.height)) == pytest.approx(size, abs=0.01)


@pytest.fixture
def default_copy(tmp_path: Path) -> Path:
    """A private copy of the default project (content and settings only)."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(defaults_root() / "handbook.yaml", root / "handbook.yaml")
    shutil.copytree(defaults_root() / "content", root / "content")
    shutil.copytree(defaults_root() / "pictures", root / "pictures")
    return root


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A private copy of the small test project in tests/fixtures/tiny (builds in a moment)."""
    root = tmp_path / "tiny"
    shutil.copytree(TINY, root)
    return root


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory) -> tuple[Path, BuildReport]:
    """The tiny project built once for the whole session: (output folder, report)."""
    out = tmp_path_factory.mktemp("tiny-build")
    report = build(TINY, BuildOptions(out_dir=out))
    return out, report


@pytest.fixture
def tiny_built(tiny_copy: Path, tiny_build, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the tiny project and, in ``tmp_path / "out"``, a copy of its session
    build: (project, output folder). The outputs are up to date, as after a first build."""
    out = tmp_path / "out"
    shutil.copytree(tiny_build[0], out)  # keeps the modification times the record notes
    report = build(tiny_copy, BuildOptions(out_dir=out))
    assert {o.status for o in report.outputs} == {UP_TO_DATE}
    return tiny_copy, out


@pytest.fixture(scope="session")
def default_build(tmp_path_factory) -> tuple[Path, BuildReport]:
    """The default project built once for the whole session: (output folder, report).
    A full build of the default content: only for tests marked ``slow``."""
    out = tmp_path_factory.mktemp("default-build")
    report = build(REPO, BuildOptions(out_dir=out))
    return out, report


def pytest_configure(config) -> None:
    """Let Ctrl-C reach the commands the tests start and press it in.

    A shell starts a background job (``pytest &``) with SIGINT ignored, and
    the commands the tests start would inherit that; the tests of Ctrl-C
    then wait for a command that never hears it.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config, items) -> None:
    """A full default build belongs in the slow tier: refuse a fast test that asks for one."""
    for item in items:
        if "default_build" in item.fixturenames and item.get_closest_marker("slow") is None:
            raise pytest.UsageError(f"{item.nodeid} uses default_build but is not marked slow")


def pdf_text(pdf: Path) -> str:
    """A PDF's text, its pages joined, every run of white space one space."""
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages)


def problems_of(project: Path) -> list[str]:
    """The problems ``check`` finds in a project, formatted as printed (it must find some)."""
    from handbook.build import check
    from handbook.errors import HandbookError

    with pytest.raises(HandbookError) as raised:
        check(project)
    return [problem.format() for problem in raised.value.problems]
