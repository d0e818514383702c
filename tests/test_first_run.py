"""A newcomer's first run: install the wheel into a clean venv, ``handbook init``, build."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from tests.conftest import REPO

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
