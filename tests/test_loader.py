"""The YAML reader: positions kept, safe loading, text stays text."""

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


def test_duplicate_key_names_both_lines(tmp_path):
    [problem] = problems_of(tmp_path, "name: A\nid: a\nname: B\n")
    assert (problem.line, problem.column) == (3, 1)
    assert "duplicate key 'name'" in problem.message
    assert "line 1" in problem.message


def test_every_duplicate_key_is_reported_at_once(tmp_path):
    problems = problems_of(tmp_path, "a: 1\na: 2\nb: 1\nb: 2\n")
    assert [p.line for p in problems] == [2, 4]


def test_python_tags_are_refused(tmp_path):
    [problem] = problems_of(tmp_path, "name: !!python/object/apply:os.system ['true']\n")
    assert problem.line == 1
    assert "tag" in problem.message


def test_aliases_are_refused(tmp_path):
    [problem] = problems_of(tmp_path, "a: &x [1, 2]\nb: *x\n")
    assert problem.line == 2
    assert "aliases are not allowed" in problem.message


def test_empty_file(tmp_path):
    [problem] = problems_of(tmp_path, "# only a comment\n")
    assert problem.message == "the file is empty"


def test_two_documents_in_one_file(tmp_path):
    [problem] = problems_of(tmp_path, "a: 1\n---\nb: 2\n")
    assert "more than one YAML document" in problem.message


def test_invalid_utf8_is_located(tmp_path):
    path = tmp_path / "content" / "item.yaml"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"name: ok\ntitle: caf\xe9\n")
    with pytest.raises(HandbookError) as caught:
        read_yaml(path, tmp_path)
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (2, 11)
    assert "UTF-8" in problem.message


def test_deep_nesting_is_refused(tmp_path):
    [problem] = problems_of(tmp_path, "a: " + "[" * 500 + "]" * 500 + "\n")
    assert "nesting is deeper" in problem.message


def test_oversized_file_is_refused(tmp_path):
    [problem] = problems_of(tmp_path, "a: '" + "x" * (1024 * 1024) + "'\n")
    assert "limit" in problem.message
