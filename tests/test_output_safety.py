"""Outputs are replaced atomically, one build at a time, and write errors are clear."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from handbook.build import BuildOptions, build, output, workers
from handbook.build.cache import PARTS_DIR
from handbook.build.output import TEMP_SUFFIX, build_lock, write_atomic
from handbook.build.workers import Task
from handbook.cli import cli
from handbook.errors import HandbookError
from tests.conftest import REPO, write
from tests.hostile import mini_project, private_tmpdir, tree_state

__all__ = ["private_tmpdir"]  # a fixture


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(root / "handbook.yaml", "title: Tiny\n")
    write(root / "content" / "intro.yaml", "kind: chapter\nid: intro\ntitle: Intro\n")
    return root


def _outputs(out: Path) -> dict[str, bytes]:
    """Every file in the output folder by relative path."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_write_atomic_replaces_with_normal_permissions(tmp_path):
    target = tmp_path / "out" / "file.pdf"
    write_atomic(target, b"old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert os.listdir(target.parent) == ["file.pdf"]


def test_disk_full_is_a_clear_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "file.pdf"
    target.write_bytes(b"old and good")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output.os, "fsync", disk_full)
    with pytest.raises(HandbookError) as caught:
        write_atomic(target, b"new" * 1000)
    [problem] = caught.value.problems
    assert problem.message == "cannot write the output: No space left on device"
    assert "disk is not full" in problem.hint
    assert target.read_bytes() == b"old and good"
    assert os.listdir(tmp_path) == ["file.pdf"]


@pytest.fixture
def forked_workers(monkeypatch):
    """Workers forked from this process, so a failure patched in here reaches them.

    (A test process that rendered in-process runs GLib's threads, and builds
    then start their workers from a fork server, which sees no patch.)"""
    monkeypatch.setattr(workers, "start_method", lambda: "fork")


@pytest.mark.usefixtures("forked_workers")
def test_disk_full_during_a_build_exits_1_and_keeps_earlier_outputs(project, monkeypatch):
    build(project)
    earlier = _outputs(project / "build")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output.os, "fsync", disk_full)
    result = CliRunner().invoke(cli, ["build", "--force", "--project", str(project)])
    assert result.exit_code == 1
    assert "handbook.pdf: cannot write the output: No space left on device" in result.output
    assert "Traceback" not in result.output
    assert _outputs(project / "build") == earlier


def test_output_folder_that_cannot_be_made_is_a_clear_error(project):
    (project / "blocker").write_text("a file where the folder should be")
    result = CliRunner().invoke(
        cli, ["build", "--project", str(project), "--out", str(project / "blocker" / "out")]
    )
    assert result.exit_code == 1
    assert "cannot write the output: Not a directory" in result.output
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("forked_workers")
def test_unwritable_output_folder_is_a_clear_error(project, monkeypatch):
    build(project)
    earlier = _outputs(project / "build")

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(output, "_new_temporary", denied)
    with pytest.raises(HandbookError) as caught:
        build(project, BuildOptions(force=True))
    [problem] = caught.value.problems
    assert problem.path.endswith("build/handbook.pdf")
    assert problem.message == "cannot write the output: Permission denied"
    assert _outputs(project / "build") == earlier


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_read_only_output_folder_is_a_clear_error(project):
    out = project / "build"
    out.mkdir()
    out.chmod(0o500)
    try:
        with pytest.raises(HandbookError) as caught:
            build(project)
    finally:
        out.chmod(0o700)
    assert "Permission denied" in caught.value.problems[0].message


def test_second_build_into_the_same_folder_is_refused(project):
    out = project / "build"
    with build_lock(out):
        result = CliRunner().invoke(cli, ["build", "--project", str(project)])
    assert result.exit_code == 1
    assert result.output.startswith(f"{out}: a build is already running into this output folder")
    assert "Traceback" not in result.output
    assert _outputs(out) == {}
    build(project)  # the lock is released with the first build
    assert (out / "handbook.pdf").is_file()


HOLD_LOCK = """
import sys, time
from pathlib import Path
from handbook.build.output import build_lock
with build_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_build_in_another_process_holds_the_folder(project):
    out = project / "build"
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out)], stdout=subprocess.PIPE, cwd=REPO, text=True
    ) as holder:
        try:
            assert holder.stdout.readline() == "locked\n"
            with pytest.raises(HandbookError) as caught:
                build(project)
            assert "a build is already running" in caught.value.problems[0].message
        finally:
            holder.kill()
    build(project)  # the kernel released the lock of the killed process


# Builds, but stops for good once the first output's temporary file is complete
# and synced, just before it would be renamed over the earlier output.
KILLED_MID_WRITE = """
import os, sys, time
from pathlib import Path
from handbook.build import BuildOptions, build
real_fsync = os.fsync
def fsync_then_hang(fd):
    real_fsync(fd)
    print("written", flush=True)
    time.sleep(60)
os.fsync = fsync_then_hang
build(Path(sys.argv[1]), BuildOptions(out_dir=Path(sys.argv[2])))
"""


@pytest.mark.slow
def test_kill_9_mid_build_keeps_earlier_outputs_and_next_build_cleans_up(
    project, tiny_build, tmp_path
):
    out = tmp_path / "out"
    tiny_out, _ = tiny_build
    for name, data in _outputs(tiny_out).items():
        if name.startswith("."):  # the build's own records, not outputs
            continue
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    earlier = _outputs(out)
    write(project / "content" / "intro.yaml", "kind: chapter\nid: intro\ntitle: Changed\n")

    with subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_WRITE, str(project), str(out)],
        stdout=subprocess.PIPE,
        cwd=REPO,
        text=True,
    ) as child:
        try:
            assert child.stdout.readline() == "written\n"
        finally:
            os.kill(child.pid, signal.SIGKILL)
    assert child.returncode == -signal.SIGKILL
    # killed as it wrote the booklet's first part, in the build's own .parts/ folder
    stale = list(out.rglob(f"*{TEMP_SUFFIX}"))
    assert len(stale) == 1 and stale[0].stat().st_size > 0
    assert stale[0].parent == out / PARTS_DIR
    outputs = {k: v for k, v in _outputs(out).items() if not k.startswith(f"{PARTS_DIR}/")}
    assert outputs == earlier
    for name in earlier:
        assert len(PdfReader(out / name).pages) >= 1  # each earlier PDF is whole

    build(project, BuildOptions(out_dir=out))
    assert not list(out.rglob(f"*{TEMP_SUFFIX}"))
    text = "".join(page.extract_text() for page in PdfReader(out / "handbook.pdf").pages)
    assert "Changed" in text
    assert _outputs(out)["cards.pdf"] == earlier["cards.pdf"]


def test_stale_temporaries_are_removed_but_nothing_else(tmp_path):
    out = tmp_path / "out"
    keep = [out / "notes.txt", out / "cards" / "x.pdf", out / "cards" / ".plan.pdf.a1.part"]
    stale = [out / f".handbook.pdf.k2j3{TEMP_SUFFIX}", out / "cards" / f".x.pdf.ab{TEMP_SUFFIX}"]
    for path in keep + stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    with build_lock(out):
        pass
    assert [p for p in keep + stale if p.exists()] == keep


def _leave_a_temporary_file_and_hang(name: str) -> None:
    """What a render killed at the time limit does: it made temporary files, then ran on."""
    Path(tempfile.gettempdir(), name).mkdir()
    Path(tempfile.gettempdir(), name, "font.ttf").write_bytes(b"\0" * 4096)
    time.sleep(60)


def test_a_killed_workers_temporary_files_are_deleted(private_tmpdir):
    tasks = [
        Task("stuck.pdf", "content/stuck.yaml", partial(_leave_a_temporary_file_and_hang, "a")),
        Task("fine.pdf", "content/fine.yaml", partial(abs, -1)),
    ]
    outcomes = {o.task.name: o for o in workers.run_tasks(tasks, 2, workers.Limits(seconds=1))}
    assert outcomes["stuck.pdf"].problems and outcomes["fine.pdf"].ok
    assert os.listdir(private_tmpdir) == []


def test_a_build_leaves_the_temp_folder_as_it_found_it(private_tmpdir, tmp_path):
    """WeasyPrint copies the fonts of each worker into a temporary folder it deletes only
    when the worker ends normally; workers are killed."""
    project = mini_project(tmp_path / "mini")
    (private_tmpdir / "someone-elses.txt").write_text("kept")
    before = tree_state(private_tmpdir)
    build(project, BuildOptions(jobs=2))
    assert tree_state(private_tmpdir) == before


def test_temporary_files_of_a_worker_killed_mid_write_go_when_the_build_ends(tmp_path):
    out = tmp_path / "out"
    with build_lock(out):
        handle, temp = output._new_temporary(out / "handbook.pdf")
        os.close(handle)
        assert temp.exists()
    assert os.listdir(out) == []
