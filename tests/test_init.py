"""``handbook init``: a new project that builds at once, also from an installed wheel."""

from __future__ import annotations

import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from handbook.cli import cli
from handbook.project import defaults_root

REPO = Path(__file__).resolve().parent.parent
PIP = (sys.executable, "-m", "pip")
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


@pytest.mark.slow  # builds a wheel, installs it, builds the default project with it
def test_init_works_from_an_installed_wheel(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [*PIP, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
    )
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    # The dependencies come from the environment running the tests: when that is itself
    # a virtual environment, its packages are not "system" packages of the new one.
    env_paths = {"base": str(env_dir), "platbase": str(env_dir)}
    env_site = Path(sysconfig.get_paths(vars=env_paths)["purelib"])
    (env_site / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    [wheel] = wheels.glob("handbook-*.whl")
    subprocess.run(
        [*PIP, "--python", str(env_dir / "bin/python"), "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    # Run from an unrelated folder so nothing of this checkout is importable.
    result = subprocess.run(
        [str(env_dir / "bin/handbook"), "init", "project"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    located = subprocess.run(
        [str(env_dir / "bin/python"), "-c", "import handbook; print(handbook.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(env_dir) in located.stdout
    assert (tmp_path / "project/build/handbook.pdf").is_file()
    assert (tmp_path / "project/content/techniques/stroking.yaml").is_file()
