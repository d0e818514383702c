"""A newcomer's first run: install the wheel into a clean venv, ``handbook init``, build, rerun."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from click.testing import CliRunner

import handbook.build
from handbook import scaffold
from handbook.build import BuildReport
from handbook.cli import cli
from handbook.content.labels import languages
from tests.conftest import REPO, pdf_text
from tests.test_exit_codes import press_ctrl_c

PIP = (sys.executable, "-m", "pip")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from this checkout."""
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [*PIP, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
    )
    [built] = wheels.glob("handbook-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory) -> Path:
    """A venv that sees nothing of this machine's packages, with the wheel installed by pip.

    pip resolves the wheel's dependencies from the configured index, as
    ``pip install handbook`` or ``pipx install`` would for a user.
    """
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, system_site_packages=False, with_pip=False)
    subprocess.run(
        [*PIP, "--python", str(env_dir / "bin/python"), "install", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    return env_dir


def wheel_metadata(wheel: Path) -> tuple[list[str], dict[str, list[str]]]:
    """The wheel's file names and its METADATA fields (each with every value it has)."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        message = Parser().parsestr(archive.read(metadata).decode())
    return names, {key: message.get_all(key) for key in message}


def test_the_wheel_carries_the_license_and_needs_no_test_tools(wheel: Path):
    names, fields = wheel_metadata(wheel)
    assert "handbook-0.1.0.dist-info/licenses/LICENSE" in names
    catalogues = {n.rpartition("/")[2] for n in names if n.startswith("handbook/content/labels/")}
    assert {f"{language}.yaml" for language in languages()} <= catalogues
    assert fields["License-Expression"] == ["MIT"]
    runtime = [r for r in fields["Requires-Dist"] if "extra ==" not in r]
    assert not any(r.startswith("pypdf>") for r in runtime)


@pytest.mark.slow
def test_init_works_from_an_installed_wheel(installed: Path, tmp_path: Path):
    # Run from an unrelated folder so nothing of this checkout is importable.
    result = subprocess.run(
        [str(installed / "bin/handbook"), "init", "project"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    located = subprocess.run(
        [str(installed / "bin/python"), "-c", "import handbook; print(handbook.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(installed) in located.stdout
    isolated = subprocess.run(
        [str(installed / "bin/python"), "-c", "import pypdf"], cwd=tmp_path, capture_output=True
    )
    assert isolated.returncode != 0  # the build above ran without the test tools
    assert (tmp_path / "project/build/handbook.pdf").is_file()
    assert (tmp_path / "project/content/techniques/stroking.yaml").is_file()


@pytest.mark.slow
def test_init_example_works_from_an_installed_wheel(installed: Path, tmp_path: Path):
    result = subprocess.run(
        [str(installed / "bin/handbook"), "init", "--example", "bicycle-care", "my-bike"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "my-bike/content/jobs/puncture.yaml").is_file()
    assert pdf_text(tmp_path / "my-bike/build/handbook.pdf").startswith("Bicycle Care at Home")


def test_the_wheel_carries_the_bundled_examples(wheel: Path):
    names, _ = wheel_metadata(wheel)
    assert "handbook/_examples/bicycle-care/handbook.yaml" in names
    assert "handbook/_examples/bicycle-care/content/jobs/puncture.yaml" in names


def no_build(*args, **kwargs) -> BuildReport:
    """Stands in for the first build where a test is about the files init writes."""
    return BuildReport()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_init_prints_next_steps_that_name_real_outputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["init", "--bare", "my handbook"])
    assert result.exit_code == 0, result.output
    steps = result.output.split("\nNext steps:\n")[1]
    assert steps.startswith("  cd 'my handbook'\n")
    for output in ["handbook.pdf", "handbook-print.pdf", "card-sheets.pdf", "cards/"]:
        assert output in steps
        assert (tmp_path / "my handbook/build" / output).exists()
    for command in ["handbook build", "handbook watch", "handbook check"]:
        assert command in steps
    assert "content/" in steps and "README.md" in steps


def test_init_writes_a_gitignore_for_the_outputs_and_a_readme(tmp_path, monkeypatch):
    monkeypatch.setattr(handbook.build, "build", no_build)
    folder = tmp_path / "first-aid"
    result = CliRunner().invoke(cli, ["init", "--quiet", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / ".gitignore").read_text() == "build/\n"
    readme = (folder / "README.md").read_text()
    assert readme.startswith("# first-aid\n")
    for named in ["handbook.yaml", "content/", "schema/", "build/", "templates/"]:
        assert f"`{named}`" in readme
    for command in ["handbook build", "handbook watch", "handbook check"]:
        assert command in readme


@pytest.mark.skipif(not shutil.which("git"), reason="needs git")
def test_git_ignores_the_outputs_and_keeps_the_sources(tmp_path, monkeypatch):
    monkeypatch.setattr(handbook.build, "build", no_build)
    folder = tmp_path / "project"
    CliRunner().invoke(cli, ["init", "--bare", str(folder)])
    (folder / "build").mkdir()
    (folder / "build/handbook.pdf").write_bytes(b"%PDF")
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    ignored = ["build/handbook.pdf", "handbook.yaml", "README.md", "content/zones.yaml"]
    check = subprocess.run(
        ["git", "check-ignore", *ignored], cwd=folder, capture_output=True, text=True
    )
    assert check.stdout.split() == ["build/handbook.pdf"]


def test_rerunning_init_after_its_first_build_was_interrupted(tmp_path, monkeypatch):
    folder = tmp_path / "project"
    with monkeypatch.context() as patch:
        patch.setattr(handbook.build, "build", press_ctrl_c)
        assert CliRunner().invoke(cli, ["init", str(folder)]).exit_code == 130
    before = snapshot(folder)
    result = CliRunner().invoke(cli, ["init", str(folder)])
    assert result.exit_code == 1
    assert f"{folder}: this folder already holds a handbook project" in result.output
    assert "hint: cd there and run 'handbook build'" in result.output
    assert "choose a new folder name" not in result.output
    assert snapshot(folder) == before


def test_init_interrupted_while_writing_leaves_nothing_and_can_be_rerun(tmp_path, monkeypatch):
    monkeypatch.setattr(handbook.build, "build", no_build)
    folder = tmp_path / "project"
    with monkeypatch.context() as patch:
        patch.setattr(scaffold, "write_schemas", press_ctrl_c)
        assert CliRunner().invoke(cli, ["init", str(folder)]).exit_code == 130
    assert list(tmp_path.iterdir()) == []  # neither the project nor its draft
    assert CliRunner().invoke(cli, ["init", "--quiet", str(folder)]).exit_code == 0
    assert (folder / "handbook.yaml").is_file()


def test_init_fills_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(handbook.build, "build", no_build)
    folder = tmp_path / "empty"
    folder.mkdir()
    result = CliRunner().invoke(cli, ["init", "--quiet", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "handbook.yaml").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["empty"]  # no draft left beside it


def test_init_never_touches_a_users_project(tmp_path):
    (tmp_path / "handbook.yaml").write_text("title: Mine\n")
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "already holds a handbook project" in result.output
    assert snapshot(tmp_path) == {"handbook.yaml": b"title: Mine\n", "notes.txt": b"mine"}


def test_init_where_the_folder_cannot_be_made_is_a_located_error(tmp_path):
    (tmp_path / "a-file").write_text("")
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "a-file/project")])
    assert result.exit_code == 1
    assert result.output.startswith(f"{tmp_path / 'a-file/project'}: cannot create the project:")
    assert "Traceback" not in result.output


def test_init_in_the_current_empty_folder_keeps_that_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(handbook.build, "build", no_build)
    monkeypatch.chdir(tmp_path)
    folder = os.stat(tmp_path)
    result = CliRunner().invoke(cli, ["init", "."])
    assert result.exit_code == 0, result.output
    assert os.stat(tmp_path).st_ino == folder.st_ino  # the shell's folder, not a new one
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".gitignore",
        ".vscode",  # editor settings that map the files to their schemas
        "README.md",
        "content",
        "handbook.yaml",
        "pictures",  # the picture the default content shows
        "schema",
    ]
    assert (tmp_path / "README.md").read_text().startswith(f"# {tmp_path.name}\n")
    assert "  cd " not in result.output
    assert "Next steps:" in result.output


@pytest.mark.parametrize("inside", [False, True])
def test_init_clears_the_draft_of_an_init_that_was_killed(tmp_path, monkeypatch, inside):
    monkeypatch.setattr(handbook.build, "build", no_build)
    folder = tmp_path / "project"
    home = folder if inside else tmp_path
    stale = home / ".project.init-k9x1"
    (stale / "content").mkdir(parents=True)
    (stale / "handbook.yaml").write_text("title: half\n")
    result = CliRunner().invoke(cli, ["init", "--quiet", str(folder)])
    assert result.exit_code == 0, result.output
    assert not stale.exists()
    assert (folder / "handbook.yaml").read_text() != "title: half\n"
    assert [p.name for p in tmp_path.iterdir()] == ["project"]
