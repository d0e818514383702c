"""The YAML reader: positions kept, text stays text, syntax errors located.

Hostile and malformed files (tags, aliases, encodings, nesting, size) are in
test_hostile_yaml.py, through ``check`` and the command line."""

from pathlib import Path

import pytest

from handbook.content.load import read_yaml
from handbook.errors import HandbookError
from tests.conftest import write


def read(tmp_path: Path, text: str):
    return read_yaml(write(tmp_path / "content" / "item.yaml", text), tmp_path)


def problems_of(tmp_path: Path, text: str):
    with pytest.raises(HandbookError) as caught:
        read(tmp_path, text)
    return caught.value.problems


def test_positions_point_at_values_and_keys(tmp_path):
    source = read(tmp_path, "kind: technique\nsteps:\n  - first\n  - second\n")
    assert source.path == "content/item.yaml"
    assert source.locate(("steps", 1)) == (4, 5)
    assert source.locate(("steps",), at_key=True) == (2, 1)
    assert source.locate(("missing", "deeper")) == (1, 1)


@pytest.mark.parametrize("value", ["no", "yes", "1:30", "01234", "3.0", "2026-11-24", "on"])
def test_plain_scalars_stay_text(tmp_path, value):
    assert read(tmp_path, f"name: {value}\n").data == {"name": value}


def test_null_is_none_but_quoted_null_is_text(tmp_path):
    assert read(tmp_path, "a:\nb: ~\nc: 'null'\n").data == {"a": None, "b": None, "c": "null"}


def test_syntax_error_is_located(tmp_path):
    [problem] = problems_of(tmp_path, "name: ok\nsteps: [one, two\nnext: 1\n")
    assert (problem.path, problem.line) == ("content/item.yaml", 3)
    assert problem.message.startswith("YAML syntax error")
    assert problem.hint


def test_every_duplicate_key_is_reported_at_once(tmp_path):
    problems = problems_of(tmp_path, "a: 1\na: 2\nb: 1\nb: 2\n")
    assert [p.line for p in problems] == [2, 4]
