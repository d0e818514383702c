"""The content model and cross-file checks, as a user meets them through `check`."""

from pathlib import Path

import pytest

from handbook.build import check
from handbook.errors import HandbookError
from tests.conftest import write

SETTINGS = "title: Test handbook\n"
TECHNIQUE = """
kind: technique
id: stroking
name: Stroking
purpose: Calms.
steps: [Glide slowly.]
"""


def short_routine(technique: str) -> str:
    """A two-minute routine of one step using ``technique``."""
    return f"""
    kind: routine
    id: short
    title: Short
    minutes: 2
    steps:
      - item: {technique}
        minutes: 2
    """


def project(tmp_path: Path, files: dict[str, str], settings: str = SETTINGS) -> Path:
    write(tmp_path / "handbook.yaml", settings)
    for name, text in files.items():
        write(tmp_path / "content" / name, text)
    return tmp_path


def problems(tmp_path: Path, files: dict[str, str], settings: str = SETTINGS):
    with pytest.raises(HandbookError) as caught:
        check(project(tmp_path, files, settings))
    return caught.value.problems


def only(found):
    assert len(found) == 1, [p.format() for p in found]
    return found[0]


def test_valid_project_loads(tmp_path):
    handbook = check(project(tmp_path, {"t.yaml": TECHNIQUE}))
    assert [t.name for t in handbook.techniques] == ["Stroking"]


def test_unknown_key_with_suggestion(tmp_path):
    problem = only(problems(tmp_path, {"t.yaml": TECHNIQUE + "stepz: [x]\n"}))
    assert (problem.path, problem.line, problem.column) == ("content/t.yaml", 6, 1)
    assert problem.message == "unknown field 'stepz'"
    assert problem.hint == "did you mean 'steps'?"


def test_unknown_nested_key_suggests_from_the_nested_model(tmp_path):
    text = TECHNIQUE + "zones: [back]\nstrokes:\n  - {zone: back, direktion: up}\n"
    zones = "kind: zones\nzones:\n  - {id: back, name: Back}\n"
    problem = only(problems(tmp_path, {"t.yaml": text, "z.yaml": zones}))
    assert problem.line == 8
    assert problem.hint == "did you mean 'direction'?"


def test_missing_field_points_at_the_mapping(tmp_path):
    problem = only(problems(tmp_path, {"t.yaml": TECHNIQUE.replace("purpose: Calms.\n", "")}))
    assert problem.message == "missing required field 'purpose'"
    assert problem.line == 1


def test_wrong_type_is_explained(tmp_path):
    problem = only(problems(tmp_path, {"t.yaml": TECHNIQUE + "level: strong\n"}))
    assert problem.message == "'strong' is not a whole number"
    assert problem.line == 6


def test_out_of_range_value(tmp_path):
    problem = only(problems(tmp_path, {"t.yaml": TECHNIQUE + "level: 11\n"}))
    assert "level" in problem.message and "11" in problem.message


def test_unknown_kind_suggests(tmp_path):
    problem = only(
        problems(tmp_path, {"t.yaml": TECHNIQUE.replace("kind: technique", "kind: tecnique")})
    )
    assert problem.message == "unknown kind 'tecnique'"
    assert problem.hint == "did you mean 'technique'?"


def test_invalid_literal_lists_choices(tmp_path):
    settings = SETTINGS + "paper: a3\n"
    problem = only(problems(tmp_path, {}, settings))
    assert problem.path == "handbook.yaml"
    assert "'a3' is not a valid value for 'paper'" in problem.message
    assert "'a5'" in problem.hint


def test_bad_id_suggests_a_slug(tmp_path):
    problem = only(
        problems(tmp_path, {"t.yaml": TECHNIQUE.replace("id: stroking", "id: Long Strokes")})
    )
    assert problem.message == "'Long Strokes' is not a valid id"
    assert "'long-strokes'" in problem.hint


def test_duplicate_ids_across_files(tmp_path):
    problem = only(problems(tmp_path, {"a.yaml": TECHNIQUE, "b.yaml": TECHNIQUE}))
    assert problem.path == "content/b.yaml"
    assert "duplicate id 'stroking'" in problem.message
    assert "content/a.yaml:2" in problem.message


def test_unknown_references_suggest(tmp_path):
    routine = short_routine("strokng")
    problem = only(problems(tmp_path, {"t.yaml": TECHNIQUE, "r.yaml": routine}))
    assert (problem.path, problem.line) == ("content/r.yaml", 6)
    assert problem.message == "unknown technique, safety topic or routine 'strokng'"
    assert problem.hint == "did you mean 'stroking'?"


def test_routine_minutes_must_add_up(tmp_path):
    routine = """
    kind: routine
    id: short
    title: Short
    minutes: 15
    steps:
      - {item: stroking, minutes: 5}
      - {item: stroking, minutes: 5}
    """
    problem = only(problems(tmp_path, {"t.yaml": TECHNIQUE, "r.yaml": routine}))
    assert problem.line == 4
    assert "add up to 10 minutes" in problem.message


def test_broken_internal_link(tmp_path):
    chapter = "kind: chapter\nid: intro\ntitle: Intro\nsections:\n  - body: See [it](#strokin).\n"
    problem = only(problems(tmp_path, {"t.yaml": TECHNIQUE, "c.yaml": chapter}))
    assert problem.line == 5
    assert "'#strokin'" in problem.message
    assert problem.hint == "did you mean 'stroking'?"


def test_all_problems_are_reported_at_once(tmp_path):
    found = problems(
        tmp_path,
        {
            "a.yaml": TECHNIQUE + "colour: red\n",
            "b.yaml": "kind: safety\nid: x\ntitle: X\nseverity: urgent\n",
            "c.yaml": "name: [unclosed\n",
        },
        SETTINGS + "languag: en\n",
    )
    assert sorted({p.path for p in found}) == [
        "content/a.yaml",
        "content/b.yaml",
        "content/c.yaml",
        "handbook.yaml",
    ]


def test_missing_settings_file(tmp_path):
    with pytest.raises(HandbookError) as caught:
        check(tmp_path)
    assert "handbook.yaml is missing" in caught.value.problems[0].message


def test_an_invalid_file_does_not_also_break_every_reference_to_it(tmp_path):
    routine = short_routine("stroking")
    broken = TECHNIQUE.replace("purpose: Calms.", "purpose: Calms.\nlevel: strong")
    problem = only(problems(tmp_path, {"t.yaml": broken, "r.yaml": routine}))
    assert problem.path == "content/t.yaml"
    assert problem.message == "'strong' is not a whole number"
