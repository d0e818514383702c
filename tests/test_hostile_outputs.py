"""An output folder that came with a project cannot make a build touch anything outside it.

Each case unpacks the tiny project with a hostile ``build/`` folder (links to a
folder of the user's own files, stray files that look temporary, a forged
record) and builds it. The build either succeeds or fails with a located
problem; the user's folder is exactly as it was.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from handbook.build import BuildOptions, build, makers
from handbook.build.cache import CACHE_FILE, BuildCache
from handbook.build.output import build_lock, read_output
from handbook.errors import HandbookError
from handbook.press.metadata import DocumentInfo
from tests.hostile import mini_project, sentinel_tree, tree_state


@pytest.fixture
def user_files(tmp_path: Path) -> Path:
    return sentinel_tree(tmp_path / "documents")


def _build_problems(project: Path, **options) -> list[str]:
    with pytest.raises(HandbookError) as caught:
        build(project, BuildOptions(**options))
    return [problem.format() for problem in caught.value.problems]


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return mini_project(tmp_path / "mini")


def test_output_subfolders_linking_out_are_refused_and_nothing_outside_changes(mini, tmp_path):
    out = mini / "build"
    linked = {
        folder: sentinel_tree(tmp_path / folder) for folder in ("cards", ".bleed/backs", "png")
    }
    for folder, target in linked.items():
        (out / folder).parent.mkdir(parents=True, exist_ok=True)
        (out / folder).symlink_to(target, target_is_directory=True)
    before = {folder: tree_state(target) for folder, target in linked.items()}
    problems = _build_problems(mini, duplex=True, png=True)
    for folder in ("cards", ".bleed/backs"):
        assert any(
            p.startswith(f"{out / folder}: this folder in the output folder is a link")
            for p in problems
        )
    assert "delete the link" in problems[0]
    assert {folder: tree_state(target) for folder, target in linked.items()} == before
    assert (out / "handbook.pdf").is_file()  # the outputs that need no link were made


def test_a_project_whose_output_folder_is_a_link_is_refused(tiny_copy, user_files):
    (tiny_copy / "build").symlink_to(user_files)
    before = tree_state(user_files)
    assert _build_problems(tiny_copy) == [
        "build: the output folder is a link; a build never writes through links\n"
        f"    hint: delete the link {tiny_copy / 'build'}, or choose where to build with --out"
    ]
    assert tree_state(user_files) == before


def test_only_the_tools_own_temporary_files_are_cleaned_up(tmp_path, user_files):
    out = tmp_path / "home"
    lookalikes = [out / ".report.pdf.k2j3.part", out / "Downloads" / ".film.mkv.x1.part"]
    ours = [out / ".handbook.pdf.0a1b2c3d.handbook-tmp", out / "cards" / ".x.pdf.9f.handbook-tmp"]
    for path in lookalikes + ours:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (out / "linked").symlink_to(user_files)
    (user_files / ".notes.txt.1234.handbook-tmp").write_bytes(b"the user's")
    before = tree_state(user_files)
    with build_lock(out):
        pass
    assert [p for p in lookalikes + ours if p.exists()] == lookalikes
    assert tree_state(user_files) == before


def test_links_and_a_forged_record_in_the_output_folder_change_nothing_outside(mini, user_files):
    """Outputs that are links are replaced, not written through; records that are links
    are not read; a record naming files outside does not get them deleted."""
    out = mini / "build"
    (out / "cards").mkdir(parents=True)
    (out / "handbook.pdf").symlink_to(user_files / "gliding.pdf")
    (out / "cards" / "gliding.pdf").symlink_to(user_files / "cards" / "gliding.pdf")
    (out / ".handbook-pages.json").symlink_to("/dev/zero")
    (out / "elsewhere").symlink_to(user_files)
    gone = {"key": "x", "pages": 1, "stamp": [], "files": []}
    forged = {
        "format": 1,
        "outputs": {
            str(user_files / "gliding.pdf"): gone,
            "../documents/gliding.pdf": gone,
            "elsewhere/cards/gliding.pdf": gone,
            "old.pdf": {**gone, "files": ["elsewhere/gliding.pdf", "bad\0name.pdf"]},
        },
        "sources": "",
        "order": ["old.pdf", "bad\0name.pdf"],
    }
    (out / CACHE_FILE).write_text(json.dumps(forged))
    before = tree_state(user_files)
    build(mini)
    assert tree_state(user_files) == before
    for name in ("handbook.pdf", "cards/gliding.pdf", ".handbook-pages.json"):
        assert not (out / name).is_symlink() and (out / name).stat().st_size > 0
    (out / CACHE_FILE).unlink()
    (out / CACHE_FILE).symlink_to("/dev/zero")
    assert BuildCache(out).entries == {}  # not read: everything would be made again


@pytest.mark.parametrize(
    "record",
    [
        b"[" * 100_000,
        b"\xff\xfe not text",
        b'{"format": 1, "outputs": [], "order": 7}',
        b'{"format": 1, "outputs": {"a.pdf": {"key": "k", "pages": true, "stamp": []}}}',
        b" " * 5_000_000,
    ],
    ids=["deeply-nested", "not-utf8", "wrong-shapes", "bool-pages", "oversized"],
)
def test_a_damaged_record_is_ignored(tmp_path, record):
    (tmp_path / CACHE_FILE).write_bytes(record)
    cache = BuildCache(tmp_path)
    assert (cache.entries, cache.sources, cache.order) == ({}, None, [])


@pytest.mark.parametrize("out", [".", "..", "build", "content/out"])
def test_watch_sees_source_changes_wherever_the_output_folder_is(tmp_path, out):
    from watchfiles import Change

    from handbook.build.watch import SourceFilter

    root = tmp_path / "project"
    out_dir = (root / out).resolve()
    watching = SourceFilter(root, out_dir)
    assert watching(Change.modified, str(root / "content" / "gliding.yaml"))
    assert watching(Change.modified, str(root / "handbook.yaml"))
    for written in ("handbook.pdf", "cards/gliding.pdf", ".handbook-cache.json"):
        assert not watching(Change.added, str(out_dir / written))


def test_outputs_read_back_are_never_read_through_links(tmp_path, user_files):
    """Combined and imposed files are made from outputs written before them; one that is
    a link, a pipe or a folder (from a forged output folder) is a problem, not a read."""
    out = tmp_path / "out"
    (out / "cards").mkdir(parents=True)
    (out / "handbook.pdf").symlink_to(user_files / "gliding.pdf")
    (out / "linked").symlink_to(user_files)
    os.mkfifo(out / "cards" / "pipe.pdf")
    (out / "cards" / "folder.pdf").mkdir()
    for name in ("handbook.pdf", "linked/gliding.pdf", "cards/pipe.pdf", "cards/folder.pdf"):
        with pytest.raises(HandbookError) as caught:
            read_output(out, name)
        [problem] = caught.value.problems
        assert problem.path == str(out / name)
        assert problem.message.startswith("cannot read the output made before this one: ")
    with pytest.raises(HandbookError):
        info = DocumentInfo("Handbook", (), "en")
        makers.make_print((595.0, 842.0), info, ("handbook.pdf",), out)


def test_an_old_output_that_cannot_be_deleted_stays(tmp_path, monkeypatch):
    (tmp_path / "old.pdf").write_bytes(b"%PDF")
    cache = BuildCache(tmp_path)
    cache.entries["old.pdf"] = {"key": "k", "pages": 1, "stamp": [], "files": []}

    def refuse(self, missing_ok=False):
        raise PermissionError(13, "Operation not permitted", str(self))

    monkeypatch.setattr(Path, "unlink", refuse)
    assert cache.prune(set()) == []
    assert (tmp_path / "old.pdf").exists()
