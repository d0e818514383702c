"""Property: whatever the YAML, ``check`` and ``build`` succeed or raise a located error.

Random YAML documents (in the tiny project) and random edits of the default content
go through the library as a user's files would; the only allowed outcomes are success or a
HandbookError whose every problem names a file (and a line and column where
the file has positions). Any other exception is a bug.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from handbook.build import BuildOptions, build, check
from handbook.build.output import TEMP_SUFFIX
from handbook.content.model import CONTENT_KINDS
from handbook.errors import HandbookError
from handbook.project import defaults_root
from tests.conftest import TINY, write

FIELDS = [
    "kind", "id", "title", "name", "purpose", "steps", "sections", "body", "zones", "minutes",
    "level", "facts", "item", "severity", "safety", "outline", "labels", "date", "strokes",
    "direction", "zone", "avoid_zones", "paper", "card_size", "language", "tone", "summary",
]  # fmt: skip
YAML_CHARS = ":-[]{}#&*!|>'\"%@`,?\t\n \\~0123456789abcxyz\u00e9\u2028\x00\x85\ufeff"

scalars = (
    st.text(max_size=12)
    | st.sampled_from([*CONTENT_KINDS, "no", "1:30", "01234", "2024-02-30", "~", "", "a5"])
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True)
    | st.booleans()
    | st.none()
    | st.dates()
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), inner, max_size=6)
    ),
    max_leaves=24,
)
raw_yaml = st.text(alphabet=YAML_CHARS, max_size=200)


def _assert_located(run: Callable[[], object], yaml_files: set[str]) -> object:
    """Run; return its result, or check that every problem it raised is located."""
    try:
        return run()
    except HandbookError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.path and problem.message, problem
            assert "\n" not in problem.format().split("\n    hint: ")[0], problem
            if problem.path in yaml_files:
                assert problem.line >= 1 and problem.column >= 1, problem
        return None


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """One copy of the default project; each example edits a file and puts it back."""
    root = tmp_path_factory.mktemp("properties") / "project"
    root.mkdir()
    shutil.copy(defaults_root() / "handbook.yaml", root / "handbook.yaml")
    shutil.copytree(defaults_root() / "content", root / "content")
    shutil.copytree(defaults_root() / "pictures", root / "pictures")
    return root


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory) -> Path:
    """One copy of the tiny project; each example replaces a file and puts it back."""
    root = tmp_path_factory.mktemp("properties") / "tiny"
    shutil.copytree(TINY, root)
    return root


@contextmanager
def _replaced(path: Path, data: bytes) -> Iterator[None]:
    before = path.read_bytes() if path.exists() else None
    path.write_bytes(data)
    try:
        yield
    finally:
        if before is None:
            path.unlink()
        else:
            path.write_bytes(before)


def _yaml_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*.yaml")}


@settings(max_examples=40, deadline=None)
@given(
    document=documents | raw_yaml.map(lambda text: ("raw", text)),
    target=st.sampled_from(["handbook.yaml", "content/new.yaml", "content/zones.yaml"]),
)
@example(document={"title": "T", "bad\nkey": "x\ty", "paper": "a\u2028b"}, target="handbook.yaml")
def test_random_yaml_documents_check_or_fail_located(tiny_project, document, target):
    if isinstance(document, tuple) and document[:1] == ("raw",):
        data = document[1].encode("utf-8", "surrogatepass")
    else:
        data = yaml.safe_dump(document, allow_unicode=True).encode("utf-8", "surrogatepass")
    with _replaced(tiny_project / target, data):
        _assert_located(lambda: check(tiny_project), _yaml_files(tiny_project))


@st.composite
def edits(draw) -> tuple[str, list]:
    """A default content file and a few line edits to make to it."""
    files = sorted(p.relative_to(defaults_root()).as_posix() for p in _default_files())
    name = draw(st.sampled_from(files))
    operations = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["delete", "duplicate", "swap", "insert", "replace", "indent"]),
                st.integers(0, 200),
                st.integers(0, 200),
                scalars.map(str) | raw_yaml,
            ),
            min_size=1,
            max_size=3,
        )
    )
    return name, operations


def _default_files() -> list[Path]:
    return [defaults_root() / "handbook.yaml", *(defaults_root() / "content").rglob("*.yaml")]


def _apply(text: str, operations: list) -> str:
    lines = text.split("\n")
    for operation, a, b, value in operations:
        i, j = a % len(lines), b % len(lines)
        if operation == "delete" and len(lines) > 1:
            del lines[i]
        elif operation == "duplicate":
            lines.insert(i, lines[i])
        elif operation == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif operation == "insert":
            column = b % (len(lines[i]) + 1)
            lines[i] = lines[i][:column] + value + lines[i][column:]
        elif operation == "replace" and ":" in lines[i]:
            lines[i] = lines[i].split(":", 1)[0] + ": " + value
        elif operation == "indent":
            lines[i] = " " * (b % 5) + lines[i].lstrip()
    return "\n".join(lines)


@pytest.mark.slow  # a hundred checks of the whole default content
@settings(max_examples=100, deadline=None)
@given(edit=edits())
def test_edited_default_content_checks_or_fails_located(project, edit):
    name, operations = edit
    text = (defaults_root() / name).read_text(encoding="utf-8")
    with _replaced(project / name, _apply(text, operations).encode("utf-8", "surrogatepass")):
        _assert_located(lambda: check(project), _yaml_files(project))


# The smallest project that builds a booklet and a card: a build per example stays cheap.
MINIMAL = {
    "handbook.yaml": "title: Tiny\noutline: [intro, techniques]\n",
    "content/intro.yaml": "kind: chapter\nid: intro\ntitle: Intro\nsections:\n"
    "  - title: Start\n    body: Read [the stroke](#glide) first.\n",
    "content/glide.yaml": "kind: technique\nid: glide\nname: Glide\npurpose: Warm up.\n"
    "facts: [{label: Time, value: 3 min}]\nsteps:\n  - Glide slowly.\n  - Return.\nzones: [back]\n",
    "content/zones.yaml": "kind: zones\nzones:\n  - id: back\n    name: Back\n",
}


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from(sorted(MINIMAL)),
    operations=st.lists(
        st.tuples(
            st.sampled_from(["delete", "duplicate", "insert", "replace"]),
            st.integers(0, 50),
            st.integers(0, 50),
            scalars.map(str),
        ),
        min_size=1,
        max_size=2,
    ),
)
@pytest.mark.slow
@example(name="content/intro.yaml", operations=[("replace", 2, 0, "<b>Intro</b> & 1:30")])
@example(name="content/glide.yaml", operations=[("insert", 7, 0, "  - 01234\n")])
def test_edited_project_builds_or_fails_located(name, operations):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "project"
        for file, text in MINIMAL.items():
            write(root / file, text)
        edited = _apply(MINIMAL[name], operations)
        (root / name).write_bytes(edited.encode("utf-8", "surrogatepass"))
        out = root / "build"
        report = _assert_located(lambda: build(root, BuildOptions(out_dir=out)), _yaml_files(root))
        if report is not None:
            assert (out / "handbook.pdf").is_file()
        assert not list(out.rglob(f"*{TEMP_SUFFIX}"))
