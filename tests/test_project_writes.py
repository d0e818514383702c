"""What the tool writes into a project (translation entries, editor schemas) never goes
through a link a project came with, and reading for it is bounded and limited."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from handbook.cli import cli
from handbook.content.schema import SCHEMA_DIR, write_schemas
from tests.hostile import mini_project, sentinel_tree, tree_state

LINKED = "this is a link; handbook never writes the files it keeps in a project through links"


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return mini_project(tmp_path / "mini")


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_translate_never_writes_through_a_linked_translation_folder(mini, tmp_path):
    documents = sentinel_tree(tmp_path / "documents")
    before = tree_state(documents)
    (mini / "translations").mkdir()
    (mini / "translations" / "de").symlink_to(documents, target_is_directory=True)
    result = _run("translate", "de", "--project", str(mini))
    assert result.exit_code == 1
    assert result.output.startswith(f"translations/de: {LINKED}\n    hint: replace the link")
    assert tree_state(documents) == before


def test_translate_never_reads_or_replaces_a_linked_entry_file(mini, tmp_path):
    outside = tmp_path / "secret.yaml"
    outside.write_text("# the user's own file\n")
    folder = mini / "translations" / "de"
    folder.mkdir(parents=True)
    (folder / "handbook.yaml").symlink_to(outside)
    result = _run("translate", "de", "--project", str(mini))
    assert result.exit_code == 1
    assert "translations/de/handbook.yaml" in result.output
    assert (folder / "handbook.yaml").is_symlink()
    assert outside.read_text() == "# the user's own file\n"


def test_translate_reads_the_project_under_the_time_limit(mini):
    result = _run("translate", "de", "--project", str(mini), "--time-limit", "0.001")
    assert result.exit_code == 1
    assert "took longer than the time limit of 0.001 s" in result.output
    assert not (mini / "translations").exists()


def test_a_build_never_refreshes_schemas_through_a_linked_folder(mini, tmp_path):
    documents = sentinel_tree(tmp_path / "documents")
    before = tree_state(documents)
    (mini / SCHEMA_DIR).symlink_to(documents, target_is_directory=True)
    result = _run("build", "--project", str(mini))
    assert result.exit_code == 0  # said, and the handbook built anyway
    assert result.output.startswith(f"{SCHEMA_DIR}: {LINKED}\n")
    assert (mini / "build" / "handbook.pdf").is_file()
    assert tree_state(documents) == before


def test_a_schema_file_linked_to_an_endless_device_is_not_read_whole(mini):
    write_schemas(mini / SCHEMA_DIR)
    os.unlink(mini / SCHEMA_DIR / "content.schema.json")
    (mini / SCHEMA_DIR / "content.schema.json").symlink_to("/dev/zero")
    checked = _run("check", "--no-cards", "--project", str(mini))
    assert checked.exit_code == 0
    assert checked.output.startswith(f"{SCHEMA_DIR}: written by another version of handbook")
    built = _run("build", "--project", str(mini))
    assert built.exit_code == 0
    assert f"{SCHEMA_DIR}/content.schema.json: {LINKED}" in built.output
    assert (mini / SCHEMA_DIR / "content.schema.json").is_symlink()


@pytest.mark.slow
def test_a_huge_settings_file_is_read_under_the_limits_even_with_language(mini):
    """The build's own process finds the theme and language without composing the
    file; composing it (seconds for this one, a tenth of that allowed) happens in a worker."""
    numbers = ",".join(["1"] * 450_000)  # just under the size a content file may have
    (mini / "handbook.yaml").write_text(
        f"title: Mini\noutline: [techniques]\nlabels: {{x: [{numbers}]}}\nlanguage: en\n"
    )
    started = time.monotonic()
    result = _run("build", "--project", str(mini), "--language", "en", "--time-limit", "0.3")
    assert result.exit_code == 1
    assert result.output.startswith(
        "handbook.yaml: reading the project and its templates took longer than the time "
        "limit of 0.3 s\n"
    )
    assert time.monotonic() - started < 20
