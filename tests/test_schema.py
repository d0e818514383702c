"""The JSON Schemas editors use: they accept the real content and flag mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from handbook.cli import cli
from handbook.content.schema import (
    content_schema,
    settings_schema,
    translated_settings_schema,
    translation_schema,
    write_schemas,
)
from handbook.project import defaults_root, examples_root
from handbook.scaffold import SKELETON
from tests.conftest import TINY


def as_editor_sees(path: Path):
    """The file as a YAML language server reads it (dates become text, as in JSON)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return json.loads(json.dumps(data, default=lambda v: v.isoformat()))


def content_files() -> list[Path]:
    examples = examples_root()
    example_files = [*examples.glob("*/handbook.yaml"), *examples.glob("*/content/**/*.yaml")]
    return sorted(
        [*(defaults_root() / "content").rglob("*.yaml"), *SKELETON.rglob("*.yaml"), *example_files]
    )


@pytest.fixture(scope="module")
def content_validator() -> Draft202012Validator:
    schema = content_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("path", content_files(), ids=lambda p: p.name)
def test_every_default_skeleton_and_example_file_is_valid(path, content_validator):
    if path.name == "handbook.yaml":
        Draft202012Validator(settings_schema()).validate(as_editor_sees(path))
    else:
        content_validator.validate(as_editor_sees(path))


def translation_files() -> list[Path]:
    return sorted((defaults_root() / "translations").rglob("*.yaml"))


@pytest.mark.parametrize("path", translation_files(), ids=lambda p: p.name)
def test_every_file_of_the_german_edition_is_valid(path):
    schema = translated_settings_schema() if path.name == "handbook.yaml" else translation_schema()
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema).validate(as_editor_sees(path))


def test_the_translation_schema_flags_a_misspelt_field():
    data = {"kneading": {"name": "Kneten", "stepz": ["Greif eine Falte."]}}
    errors = list(Draft202012Validator(translation_schema()).iter_errors(data))
    assert errors, "a misspelt field must not pass"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d.update(level=11), "11 is greater than the maximum of 10"),
        (lambda d: d.update(colour="red"), "'colour' was unexpected"),
        (lambda d: d.pop("steps"), "'steps' is a required property"),
        (lambda d: d.update(kind="recipe"), "'recipe'"),
    ],
    ids=["out-of-range", "unknown-key", "missing-key", "unknown-kind"],
)
def test_a_broken_file_is_flagged(content_validator, change, complaint):
    data = as_editor_sees(defaults_root() / "content/techniques/stroking.yaml")
    change(data)
    errors = all_messages(content_validator.iter_errors(data))
    assert any(complaint in message for message in errors), errors


def all_messages(errors) -> list[str]:
    """Messages of the errors and of the alternatives tried inside oneOf/anyOf."""
    return [m for e in errors for m in [e.message, *all_messages(e.context or [])]]


def test_the_schema_command_writes_both_schemas(tmp_path):
    result = CliRunner().invoke(cli, ["schema", "--out", str(tmp_path / "schema")])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "schema/content.schema.json").read_text())
    assert written["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"Technique", "Routine", "SafetyTopic", "Chapter", "ZoneList"} <= set(written["$defs"])
    settings = json.loads((tmp_path / "schema/settings.schema.json").read_text())
    assert "outline" in settings["properties"]


ALL_SCHEMAS = {
    "content": content_schema,
    "settings": settings_schema,
    "translation": translation_schema,
    "translated settings": translated_settings_schema,
}


def undescribed(schema: dict, where: str) -> list[str]:
    """Every property, at any depth, without a description an editor can show on hover."""
    found = []
    for name, prop in schema.get("properties", {}).items():
        if "description" not in prop:
            found.append(f"{where}.{name}")
        found += undescribed(prop, f"{where}.{name}")
    for key in ("items", "additionalProperties", "then"):
        if isinstance(schema.get(key), dict):
            found += undescribed(schema[key], where)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for sub in schema.get(key, []):
            found += undescribed(sub, where)
    for name, sub in schema.get("$defs", {}).items():
        found += undescribed(sub, name)
    return found


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_every_property_has_a_description(name):
    schema = ALL_SCHEMAS[name]()
    Draft202012Validator.check_schema(schema)
    assert undescribed(schema, name) == []


def test_a_typo_in_a_technique_is_reported_against_the_technique_only(content_validator):
    data = as_editor_sees(defaults_root() / "content/techniques/stroking.yaml")
    data["stepz"] = data.pop("steps")
    errors = list(content_validator.iter_errors(data))
    assert sorted(e.message for e in errors) == [
        "'steps' is a required property",
        "Additional properties are not allowed ('stepz' was unexpected)",
    ]
    kind_of_branch = {list(e.absolute_schema_path)[:3] == ["allOf", 1, "then"] for e in errors}
    assert kind_of_branch == {True}  # allOf[1] is the technique's branch
    assert all(not e.context for e in errors)  # no alternatives tried against other kinds


def test_an_unknown_kind_is_one_error_naming_the_kinds(content_validator):
    errors = list(content_validator.iter_errors({"kind": "recipe", "id": "x"}))
    assert [e.message for e in errors] == [
        "'recipe' is not one of ['chapter', 'technique', 'safety', 'routine', 'zones']"
    ]


# --- the editor and `handbook check` agree -------------------------------------
# Each case: a file of the tiny project, a line of it replaced, that value as an
# editor's YAML 1.2 types it, and whether both must accept it.

TECHNIQUE = "content/pressing.yaml"
ROUTINE = "content/short.yaml"
ROUTINE_TEXT = """\
kind: routine
id: short
title: Short routine
steps:
  - item: gliding
    {step}
  - item: pressing
    minutes: 2
"""
AGREEMENT = [
    # text fields take what YAML would read as a number or boolean: it is text to check
    (TECHNIQUE, "name: Pressing", "name: 1234", {"name": 1234}, True),
    (TECHNIQUE, "name: Pressing", "name: true", {"name": True}, True),
    (TECHNIQUE, "name: Pressing", "name: ' '", {"name": " "}, False),
    (TECHNIQUE, "id: pressing", "id: 2024", {"id": 2024}, True),
    (TECHNIQUE, "id: pressing", "id: -3", {"id": -3}, False),
    # number fields take a number written as text
    (TECHNIQUE, "level: 3", 'level: "4"', {"level": "4"}, True),
    (TECHNIQUE, "level: 3", "level: four", {"level": "four"}, False),
    (TECHNIQUE, "level: 3", "level: 11", {"level": 11}, False),
    # yes/no fields take the words check reads as yes or no
    (TECHNIQUE, "level: 3", "card: no", {"card": "no"}, True),
    (TECHNIQUE, "level: 3", "card: 0", {"card": 0}, True),
    (TECHNIQUE, "level: 3", "card: maybe", {"card": "maybe"}, False),
    (TECHNIQUE, "level: 3", "card: 2", {"card": 2}, False),
]
DURATIONS = [
    ("duration: 20 s", "20 s", True),
    ("duration: 2 min", "2 min", True),
    ("duration: 1.5 minutes", "1.5 minutes", True),
    ("duration: 1:30", "1:30", True),
    ("duration: 1 h", "1 h", True),
    ("duration: 30", 30, False),  # no unit
    ("duration: 1:75", "1:75", False),
    ("duration: soon", "soon", False),
]


def check_accepts(root: Path) -> bool:
    from handbook.build import check
    from handbook.errors import HandbookError

    try:
        check(root)
    except HandbookError:
        return False
    return True


def editor_accepts(root: Path, file: str, change: dict) -> bool:
    data = as_editor_sees(root / file) | change
    return Draft202012Validator(content_schema()).is_valid(data)


@pytest.mark.parametrize(("file", "line", "new", "as_typed", "accepted"), AGREEMENT)
def test_the_editor_and_check_agree(tiny_copy, file, line, new, as_typed, accepted):
    path = tiny_copy / file
    text = path.read_text(encoding="utf-8")
    assert line in text
    changed = text.replace(line, f"{line}\n{new}" if "card" in new else new)
    if new.startswith("id:"):  # a new item, so that nothing refers to it
        path = path.with_name("another.yaml")
    path.write_text(changed, encoding="utf-8")
    assert check_accepts(tiny_copy) is accepted
    original = tiny_copy / "original.yaml"
    original.write_text(text, encoding="utf-8")
    assert editor_accepts(tiny_copy, "original.yaml", as_typed) is accepted


SETTINGS = [
    ("date: 2026-01-15", "date: 2026-02-01", {"date": "2026-02-01"}, True),
    ("date: 2026-01-15", "date: 20260201", {"date": 20260201}, False),
    ("date: 2026-01-15", "date: 1 Feb 2026", {"date": "1 Feb 2026"}, False),
    ("title: Tiny handbook", "title: 2026", {"title": 2026}, True),
    ("max: 5}", 'max: "7"}', {"scale": {"label": "Pressure", "max": "7"}}, True),
]


@pytest.mark.parametrize(("line", "new", "as_typed", "accepted"), SETTINGS)
def test_the_editor_and_check_agree_on_settings(tiny_copy, line, new, as_typed, accepted):
    path = tiny_copy / "handbook.yaml"
    text = path.read_text(encoding="utf-8")
    assert line in text
    path.write_text(text.replace(line, new), encoding="utf-8")
    assert check_accepts(tiny_copy) is accepted
    data = as_editor_sees(TINY / "handbook.yaml") | as_typed
    assert Draft202012Validator(settings_schema()).is_valid(data) is accepted


@pytest.mark.parametrize(("step", "as_typed", "accepted"), DURATIONS, ids=lambda v: str(v))
def test_the_editor_and_check_agree_on_durations(tiny_copy, step, as_typed, accepted):
    (tiny_copy / ROUTINE).write_text(ROUTINE_TEXT.format(step=step), encoding="utf-8")
    assert check_accepts(tiny_copy) is accepted
    data = yaml.safe_load(ROUTINE_TEXT.format(step="minutes: 1"))
    data["steps"][0] = {"item": "gliding", "duration": as_typed}
    assert Draft202012Validator(content_schema()).is_valid(data) is accepted


def test_init_maps_the_project_files_to_their_schemas_for_editors(tmp_path):
    from handbook.scaffold import init_project

    root = init_project(tmp_path / "new", bare=True)
    settings = json.loads((root / ".vscode/settings.json").read_text(encoding="utf-8"))
    schemas = settings["yaml.schemas"]
    assert schemas["./schema/content.schema.json"] == ["/content/**/*.yaml", "/content/**/*.yml"]
    assert schemas["./schema/settings.schema.json"] == ["/handbook.yaml"]
    assert "/translations/*/handbook.yaml" in schemas["./schema/translated-settings.schema.json"]
    assert "!/translations/*/handbook.yaml" in schemas["./schema/translation.schema.json"]
    assert all((root / path).is_file() for path in schemas)
    assert ".vscode/settings.json" in (root / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_build_rewrites_schemas_an_older_version_wrote(tiny_copy, monkeypatch, tmp_path):
    from handbook.content.schema import schema_texts

    write_schemas(tiny_copy / "schema")
    old = tiny_copy / "schema/content.schema.json"
    old.write_text('{"title": "from an older handbook"}\n', encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")

    checked = CliRunner().invoke(cli, ["check", "--no-cards", "--project", str(tiny_copy)])
    assert checked.exit_code == 0, checked.output
    assert "schema: written by another version of handbook" in checked.output
    assert f"hint: run 'handbook schema --out {tiny_copy / 'schema'}'" in checked.output
    assert old.read_text(encoding="utf-8") == '{"title": "from an older handbook"}\n'

    built = CliRunner().invoke(cli, ["build", "--project", str(tiny_copy)])
    assert built.exit_code == 0, built.output
    assert f"rewrote the editor schemas in {tiny_copy / 'schema'}/" in built.output
    assert old.read_text(encoding="utf-8") == schema_texts()["content.schema.json"]

    again = CliRunner().invoke(cli, ["check", "--no-cards", "--project", str(tiny_copy)])
    assert "another version" not in again.output


def test_a_project_without_schemas_gets_none(tiny_copy):
    result = CliRunner().invoke(cli, ["check", "--no-cards", "--project", str(tiny_copy)])
    assert result.exit_code == 0, result.output
    assert "schema" not in result.output
    assert not (tiny_copy / "schema").exists()


def test_the_readme_field_reference_is_made_from_the_model():
    from handbook.content.reference import with_field_reference

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert with_field_reference(readme) == readme, (
        "run: python -m handbook.content.reference README.md"
    )


@pytest.mark.slow
def test_a_build_in_json_says_it_rewrote_the_schemas(tiny_copy):
    (tiny_copy / "schema").mkdir()  # an empty schema folder: every schema is missing
    result = CliRunner().invoke(cli, ["build", "--format", "json", "--project", str(tiny_copy)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    [rewritten] = [record for record in records if record["type"] == "schemas"]
    assert rewritten["status"] == "rewritten"
    assert sorted(p.name for p in (tiny_copy / "schema").iterdir()) == [
        "content.schema.json",
        "settings.schema.json",
        "translated-settings.schema.json",
        "translation.schema.json",
    ]
