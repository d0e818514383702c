"""Hand-edited and hostile YAML: each case is one located problem from ``check`` and the
CLI (exit 1, no traceback), and a failing build leaves the earlier outputs alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from handbook.build import build, check
from handbook.cli import cli
from handbook.content.load import MAX_DEPTH, MAX_FILE_BYTES
from handbook.errors import HandbookError
from tests.conftest import write

EARLIER = b"%PDF-1.7 earlier output\n"
CHAPTER = "kind: chapter\nid: intro\ntitle: Intro\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(root / "handbook.yaml", "title: Tiny\n")
    write(root / "content" / "intro.yaml", CHAPTER)
    (root / "build").mkdir()
    (root / "build" / "handbook.pdf").write_bytes(EARLIER)
    return root


def _bomb() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


def _deep_block(levels: int) -> str:
    return CHAPTER + "".join("  " * i + f"k{i}:\n" for i in range(levels)) + "  " * levels + "x\n"


# name: (file, bytes, line, column, message)
CASES: dict[str, tuple[str, bytes, int, int, str]] = {
    "duplicate-key": (
        "content/intro.yaml",
        b"kind: chapter\nid: intro\ntitle: A\nsummary: s\ntitle: B\n",
        5,
        1,
        "duplicate key 'title' (first used on line 3)",
    ),
    "alias-bomb": ("content/intro.yaml", _bomb().encode(), 2, 8, "aliases are not allowed (*a)"),
    "python-tag": (
        "content/intro.yaml",
        b"kind: chapter\nid: !!python/object/apply:os.system ['touch pwned']\ntitle: T\n",
        2,
        5,
        "the tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
    ),
    "python-name-tag": (
        "handbook.yaml",
        b"title: !!python/name:os.system\n",
        1,
        8,
        "is not allowed",
    ),
    "local-tag": ("handbook.yaml", b"title: !secret x\n", 1, 8, "the tag '!secret' is not allowed"),
    "latin-1": (
        "content/intro.yaml",
        b"kind: chapter\nid: intro\ntitle: Caf\xe9 au lait\n",
        3,
        11,
        "the file is not valid UTF-8 (byte 0xe9)",
    ),
    "utf-16": ("handbook.yaml", "title: T\n".encode("utf-16"), 1, 1, "not valid UTF-8"),
    "empty": ("content/intro.yaml", b"", 1, 1, "the file is empty"),
    "only-comments": ("content/intro.yaml", b"# nothing yet\n\n", 1, 1, "the file is empty"),
    "top-level-list": (
        "content/intro.yaml",
        b"- kind: chapter\n- id: intro\n",
        1,
        1,
        "the file must be a mapping of 'key: value' lines",
    ),
    "settings-list": ("handbook.yaml", b"- title: T\n", 1, 1, "the file must be a mapping"),
    "settings-scalar": ("handbook.yaml", b"just a title\n", 1, 1, "the file must be a mapping"),
    "list-for-mapping": (
        "handbook.yaml",
        b"title: T\nlabels: [Steps, Never]\n",
        2,
        9,
        "'labels' must be a mapping of 'key: value' lines",
    ),
    "mapping-for-list": (
        "content/intro.yaml",
        CHAPTER.encode() + b"sections:\n  title: x\n",
        5,
        3,
        "'sections' must be a list",
    ),
    "deep-flow": (
        "content/intro.yaml",
        CHAPTER.encode() + b"deep: " + b"[" * 500 + b"]" * 500 + b"\n",
        4,
        7 + MAX_DEPTH - 1,
        f"nesting is deeper than {MAX_DEPTH} levels",
    ),
    "deep-block": (
        "content/intro.yaml",
        _deep_block(500).encode(),
        3 + MAX_DEPTH,
        2 * MAX_DEPTH - 1,
        f"nesting is deeper than {MAX_DEPTH} levels",
    ),
    "impossible-date": (
        "handbook.yaml",
        b"title: T\ndate: 2024-02-30\n",
        2,
        7,
        "'2024-02-30' is not a valid date",
    ),
    "unix-time-date": ("handbook.yaml", b"title: T\ndate: 0\n", 2, 7, "'0' is not a valid date"),
    "two-documents": (
        "content/intro.yaml",
        CHAPTER.encode() + b"---\n" + CHAPTER.encode(),
        4,
        1,
        "the file holds more than one YAML document",
    ),
    "tab-indent": (
        "content/intro.yaml",
        CHAPTER.encode() + b"sections:\n\t- body: x\n",
        5,
        1,
        "YAML syntax error",
    ),
    "merge-key": (
        "handbook.yaml",
        b"title: T\nlabels:\n  <<: {steps: S}\n",
        3,
        3,
        "merge keys ('<<') are not allowed",
    ),
    "line-break-in-key": (
        "handbook.yaml",
        b'title: T\n"bad\\nkey": 1\n',
        2,
        1,
        "unknown field 'bad\nkey'",
    ),
    "null-byte": (
        "handbook.yaml",
        b"title: T\x00\n",
        1,
        9,
        "a character YAML does not allow (U+0000)",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_yaml_is_one_located_problem(project, case, monkeypatch):
    name, data, line, column, message = CASES[case]
    (project / name).write_bytes(data)
    monkeypatch.chdir(project)  # a python tag that ran would create ./pwned
    with pytest.raises(HandbookError) as caught:
        check(project)
    problems = caught.value.problems
    assert [(p.path, p.line, p.column) for p in problems] == [(name, line, column)], problems
    assert message in problems[0].message
    assert not (project / "pwned").exists()

    result = CliRunner().invoke(cli, ["build", "--project", str(project)])
    assert result.exit_code == 1
    assert result.output.startswith(f"{name}:{line}:{column}: ")
    assert result.output.split("\n")[1].startswith(("    hint: ", "1 problem found."))
    assert "Traceback" not in result.output
    assert (project / "build" / "handbook.pdf").read_bytes() == EARLIER
    assert os.listdir(project / "build") == ["handbook.pdf"]


def test_file_over_the_size_cap_is_refused_before_parsing(project):
    text = CHAPTER + "summary: " + "x" * MAX_FILE_BYTES + "\n"
    (project / "content" / "intro.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(HandbookError) as caught:
        build(project)
    [problem] = caught.value.problems
    assert problem.path == "content/intro.yaml"
    assert f"over the {MAX_FILE_BYTES // 1024} KiB limit" in problem.message
    assert (project / "build" / "handbook.pdf").read_bytes() == EARLIER


def test_fifo_content_file_is_refused_without_waiting(project):
    os.mkfifo(project / "content" / "pipe.yaml")
    with pytest.raises(HandbookError) as caught:
        check(project)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("content/pipe.yaml", "not a regular file (a folder, a device or a pipe)")
    ]


def test_yaml_1_1_surprises_stay_text(project):
    write(
        project / "handbook.yaml",
        """
        title: no
        subtitle: 1:30
        edition: 01234
        authors: [yes, off, 0x1F, 1e3, .inf, 2024-02-30]
        labels:
          steps: on
          minutes: 1_000
        """,
    )
    write(project / "content" / "intro.yaml", "kind: chapter\nid: '01234'\ntitle: NO\n")
    write(
        project / "content" / "stroke.yaml",
        "kind: technique\nid: stroke\nname: no\npurpose: P\nsteps: ['1:30', 01234, yes]\n",
    )
    handbook = check(project)
    settings = handbook.settings
    assert (settings.title, settings.subtitle, settings.edition) == ("no", "1:30", "01234")
    assert settings.authors == ["yes", "off", "0x1F", "1e3", ".inf", "2024-02-30"]
    assert (settings.labels.steps, settings.labels.minutes) == ("on", "1_000")
    assert [(c.id, c.title) for c in handbook.chapters] == [("01234", "NO")]
    [technique] = handbook.techniques
    assert (technique.name, technique.steps) == ("no", ["1:30", "01234", "yes"])


@pytest.mark.parametrize(
    ("value", "message"),
    [("1:30", "'1:30' is not a whole number"), ("01234", "'level' can be at most 10, not 01234")],
)
def test_yaml_1_1_numbers_in_number_fields_are_located_errors(project, value, message):
    write(
        project / "content" / "stroke.yaml",
        f"kind: technique\nid: stroke\nname: S\npurpose: P\nlevel: {value}\nsteps: [a]\n",
    )
    with pytest.raises(HandbookError) as caught:
        check(project)
    [problem] = caught.value.problems
    assert (problem.path, problem.line) == ("content/stroke.yaml", 5)
    assert message in problem.message
