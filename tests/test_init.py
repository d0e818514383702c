"""``handbook init``: a new project that builds at once (from a wheel: test_first_run.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

import handbook.build
from handbook.build import BuildReport
from handbook.cli import cli
from handbook.project import defaults_root, examples_root

MODELINE = "# yaml-language-server: $schema="


def schema_of(path: Path) -> Path:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(MODELINE)
    return (path.parent / first.removeprefix(MODELINE)).resolve()


@pytest.mark.slow  # builds the whole default project
def test_init_copies_the_default_project_and_builds_it(tmp_path):
    folder = tmp_path / "massage"
    result = CliRunner().invoke(cli, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    copied = sorted(p.relative_to(folder / "content") for p in (folder / "content").rglob("*.yaml"))
    defaults = defaults_root() / "content"
    assert copied == sorted(p.relative_to(defaults) for p in defaults.rglob("*.yaml"))
    for path in (folder / "content").rglob("*.yaml"):
        assert schema_of(path) == folder / "schema/content.schema.json"
    assert schema_of(folder / "handbook.yaml") == folder / "schema/settings.schema.json"
    assert not (folder / "templates").exists()  # the built-in templates serve until overridden
    booklet = PdfReader(folder / "build/handbook.pdf")
    assert "Back Massage at Home" in booklet.pages[0].extract_text()
    cards = len(list((folder / "build/cards").glob("*.pdf")))
    assert cards == len(PdfReader(folder / "build/cards.pdf").pages) >= 4


def test_init_bare_gives_one_example_of_each_kind(tmp_path):
    folder = tmp_path / "first-aid"
    result = CliRunner().invoke(cli, ["init", "--bare", "--quiet", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    kinds = [p.read_text().split("kind: ")[1].split()[0] for p in folder.rglob("content/**/*.yaml")]
    assert sorted(kinds) == ["chapter", "routine", "safety", "technique", "zones"]
    text = "".join(page.extract_text() for page in PdfReader(folder / "build/handbook.pdf").pages)
    assert "Example technique" in text and "Massage" not in text
    assert len(PdfReader(folder / "build/cards.pdf").pages) == 3


def test_init_never_writes_into_a_folder_that_is_in_use(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "already exists and is not empty" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_init_help_lists_the_bundled_examples():
    result = CliRunner().invoke(cli, ["init", "--help"])
    assert result.exit_code == 0
    assert "--example [bicycle-care]" in result.output


def test_init_an_unknown_example_is_a_usage_error_naming_the_examples(tmp_path):
    result = CliRunner().invoke(cli, ["init", "--example", "unicycle", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "Invalid value for '--example': 'unicycle' is not 'bicycle-care'" in result.output
    assert list(tmp_path.iterdir()) == []


def test_init_with_an_example_and_bare_is_a_usage_error(tmp_path):
    folder = tmp_path / "x"
    result = CliRunner().invoke(cli, ["init", "--bare", "--example", "bicycle-care", str(folder)])
    assert result.exit_code == 2
    assert "--bare and --example cannot be used together" in result.output
    assert list(tmp_path.iterdir()) == []


def test_init_example_copies_that_example(tmp_path, monkeypatch):
    monkeypatch.setattr(handbook.build, "build", lambda *args, **kwargs: BuildReport())
    folder = tmp_path / "my-bike"
    result = CliRunner().invoke(cli, ["init", "-q", "--example", "bicycle-care", str(folder)])
    assert result.exit_code == 0, result.output
    example = examples_root() / "bicycle-care"
    copied = sorted(p.relative_to(folder) for p in (folder / "content").rglob("*.yaml"))
    assert copied == sorted(p.relative_to(example) for p in (example / "content").rglob("*.yaml"))
    assert schema_of(folder / "content/jobs/puncture.yaml") == folder / "schema/content.schema.json"
    settings = (folder / "handbook.yaml").read_text(encoding="utf-8")
    assert "title: Bicycle Care at Home" in settings
