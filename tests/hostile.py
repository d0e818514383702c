"""Helpers for hostile-project tests: what a build may not touch, and a private temp folder."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest


def tree_state(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` (links not followed): its kind and content hash or target.

    Two equal states mean nothing there was created, changed or deleted.
    """
    state: dict[str, tuple] = {}
    for folder, subfolders, files in os.walk(root):
        for name in subfolders + files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                state[relative] = ("link", os.readlink(path))
            elif path.is_file():
                state[relative] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                state[relative] = ("folder",)
    return state


def sentinel_tree(root: Path) -> Path:
    """A folder a hostile project may point at: same-named PDFs, a stray temp-looking file."""
    for name in ("gliding.pdf", "cards/gliding.pdf", ".gliding.pdf.abcd.part", "notes.txt"):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"the user's own {name}\n".encode())
    return root


@pytest.fixture
def private_tmpdir(tmp_path: Path, monkeypatch) -> Path:
    """TMPDIR pointed at an empty folder of its own, for this test and the workers it starts."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    return folder


def mini_project(root: Path) -> Path:
    """The smallest project with a booklet and a card (builds in a few seconds)."""
    (root / "content").mkdir(parents=True)
    (root / "handbook.yaml").write_text("title: Mini\noutline: [techniques]\n")
    (root / "content" / "gliding.yaml").write_text(MINI_CARD)
    return root


MINI_CARD = """\
kind: technique
id: gliding
name: Gliding
purpose: Warms up and calms.
steps:
  - Rest both hands flat.
  - Glide slowly downward.
never: Never press hard.
"""
