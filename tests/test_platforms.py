"""Building where Linux-only APIs are missing (macOS, Windows), simulated on this machine."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
from functools import partial
from pathlib import Path

import pytest

from handbook import engine
from handbook.build import output, workers
from handbook.build.workers import Limits, Task, WorkerPool, default_jobs, start_method
from handbook.errors import HandbookError

NOTICE = "note: this system cannot cap the memory of a render"
SQUARE = Task("square", "content/x.yaml", partial(pow, 7, 2))


def run_one_task(warm_up=None) -> int:
    with WorkerPool(1, Limits(seconds=60), warm_up) as pool:
        [outcome] = pool.run([SQUARE])
    assert outcome.ok, outcome.problems
    return outcome.value


@pytest.fixture
def no_fork(monkeypatch):
    """A system without ``fork``, such as Windows."""
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])


@pytest.fixture
def no_rlimit_as(monkeypatch):
    """A system whose ``resource`` module has no ``RLIMIT_AS``; the notice not yet given."""
    monkeypatch.delattr(workers.resource, "RLIMIT_AS")
    workers._say_memory_is_uncapped.cache_clear()
    yield
    workers._say_memory_is_uncapped.cache_clear()


def test_jobs_fall_back_to_the_core_count_without_sched_getaffinity(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity")
    assert default_jobs() == os.cpu_count()


def test_workers_are_spawned_where_fork_is_missing(no_fork):
    assert start_method() == "spawn"
    pickle.dumps(engine.warm_up)  # spawned workers get it pickled
    assert run_one_task(engine.warm_up) == 49


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_workers_are_spawned_on_macos_and_windows(monkeypatch, platform):
    monkeypatch.setattr(sys, "platform", platform)
    assert start_method() == "spawn"


@pytest.fixture
def another_thread():
    """A thread running beside the test, as watch's file watcher runs beside its builds.

    (Earlier tests may have left threads of their own, such as GLib's after an
    in-process render; one more makes sure there is at least one.)"""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    yield
    stop.set()
    thread.join()


def test_a_fork_server_makes_the_workers_while_another_thread_runs(another_thread):
    assert start_method() == "forkserver"
    assert run_one_task(engine.warm_up) == 49


def test_a_fork_server_worker_sees_the_date_the_build_sees_now(another_thread, monkeypatch):
    """The fork server keeps the environment it started with; the date a build stamps
    must still be the SOURCE_DATE_EPOCH set when the build runs."""
    assert run_one_task() == 49  # the server runs, started without the variable
    read = Task("date", "handbook.yaml", partial(os.getenv, "SOURCE_DATE_EPOCH"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    with WorkerPool(1, Limits(seconds=60)) as pool:
        assert [outcome.value for outcome in pool.run([read])] == ["1700000000"]
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    with WorkerPool(1, Limits(seconds=60)) as pool:
        assert [outcome.value for outcome in pool.run([read])] == [None]


def test_without_a_memory_cap_renders_run_and_the_build_says_so_once(no_rlimit_as, capsys):
    assert run_one_task() == 49
    assert run_one_task() == 49
    err = capsys.readouterr().err
    assert err.count(NOTICE) == 1
    assert "Traceback" not in err


def test_build_lock_without_fcntl_refuses_a_second_build_and_cleans_up(monkeypatch, tmp_path):
    monkeypatch.setattr(output, "fcntl", None)
    with output.build_lock(tmp_path):
        assert (tmp_path / output.LOCK_FILE).is_file()
        with (
            pytest.raises(HandbookError, match="already running") as refused,
            output.build_lock(tmp_path),
        ):
            pass
        assert f"delete {tmp_path / output.LOCK_FILE}" in refused.value.problems[0].hint
    assert not (tmp_path / output.LOCK_FILE).exists()


SIMULATED_PLATFORM = """
import multiprocessing, os, resource, sys

sys.modules["fcntl"] = None  # import fcntl fails, as on Windows
del os.sched_getaffinity, os.O_DIRECTORY
del resource.RLIMIT_AS
multiprocessing.get_all_start_methods = lambda: ["spawn"]

from handbook.cli import main

sys.argv = ["handbook", "build", "--project", sys.argv[1]]
main()
"""


@pytest.mark.slow
def test_a_real_build_without_any_linux_only_api(tiny_copy: Path):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SIMULATED_PLATFORM), str(tiny_copy)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(NOTICE) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert (tiny_copy / "build/handbook.pdf").is_file()
    assert not (tiny_copy / "build" / output.LOCK_FILE).exists()


SPAWNED_BUILD = """
import multiprocessing, sys

from handbook.build import workers

multiprocessing.get_all_start_methods = lambda: ["spawn"]
start = workers._Worker.__init__


def announced(self, *args):
    start(self, *args)
    print(self.process.pid, flush=True)


workers._Worker.__init__ = announced
from handbook.cli import main

sys.argv = ["handbook", "build", "--jobs", "1", "--project", sys.argv[1]]
main()
"""


@pytest.mark.slow
def test_a_spawned_worker_ignores_ctrl_c_from_its_first_instruction(tiny_copy: Path):
    """A terminal's Ctrl-C reaches the workers too, also one still importing."""
    build = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SPAWNED_BUILD), str(tiny_copy)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        worker = int(build.stdout.readline())
        os.kill(worker, signal.SIGINT)
        _, err = build.communicate(timeout=300)
    finally:
        build.kill()
    assert build.returncode == 0, err
    assert "Traceback" not in err


ORPHANED_WORKER = """
import tempfile
import time
from functools import partial
from multiprocessing import Pipe

from handbook.build.workers import Task, _worker_main

build_end, worker_end = Pipe()
build_end.send(Task("nap", "content/x.yaml", partial(time.sleep, 0.1)))
build_end.close()  # the build is gone before the render ends
with tempfile.TemporaryDirectory() as temp_dir:
    _worker_main(worker_end, None, None, None, temp_dir)
"""


def test_a_worker_whose_build_died_ends_quietly():
    """A worker no system call ties to the build (spawned, or the fork server's) outlives it."""
    worker = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(ORPHANED_WORKER)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (worker.returncode, worker.stderr) == (0, "")
