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
)
from handbook.project import defaults_root, examples_root
from handbook.scaffold import SKELETON


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
