"""Workers forked warm: a pool whose workers warm up (import WeasyPrint, lay out a few
words) warms up once, in a zygote, and forks each worker from it, where workers are
forked (Linux). Its workers are held to the same limits and end the same ways."""

from __future__ import annotations

import os
import resource
import signal
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from handbook.build import workers as worker_module
from handbook.build.workers import Limits, Task, WorkerPool

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux")


@pytest.fixture(autouse=True)
def forked_workers(monkeypatch):
    """Workers forked, as in a build's own process (a test process that rendered in-process
    runs GLib's threads, and its builds start their workers from a fork server)."""
    monkeypatch.setattr(worker_module, "start_method", lambda: "fork")


WARM = {"warm": False}


def _warm_up(notes: Path) -> None:
    """What a worker does as it starts: noted in ``notes``, one line each time."""
    with notes.open("a", encoding="utf-8") as file:
        file.write(f"{os.getpid()}\n")
    WARM["warm"] = True


def _who() -> tuple[int, int, bool]:
    time.sleep(0.2)  # long enough that each task gets a worker of its own
    return os.getpid(), os.getppid(), WARM["warm"]


def _exits(status: int) -> None:
    os._exit(status)


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _sleeps() -> None:
    time.sleep(60)


def _busy() -> None:
    end = time.process_time() + 0.4
    while time.process_time() < end:
        pass


def _task(name: str, run) -> Task:
    return Task(name, f"content/{name}.yaml", run)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_pool_warms_up_once_and_each_worker_starts_warm(tmp_path):
    notes = tmp_path / "warm-ups"
    with WorkerPool(3, Limits(), partial(_warm_up, notes)) as pool:
        outcomes = list(pool.run([_task(f"card-{n}", _who) for n in range(3)]))
        zygote = pool.zygote.process.pid
    assert [o.problems for o in outcomes] == [[], [], []]
    assert len({o.value[0] for o in outcomes}) >= 2  # side by side, each worker forked warm
    assert {o.value[1] for o in outcomes} == {zygote} != {os.getpid()}
    assert all(o.value[2] for o in outcomes)  # what the warm-up did is there in each
    assert notes.read_text(encoding="utf-8").split() == [str(zygote)]


@pytest.mark.parametrize(
    ("run", "how"), [(partial(_exits, 3), "exit status 3"), (_killed, "signal 9")]
)
def test_a_forked_worker_that_dies_is_reported_as_it_ended(tmp_path, run, how):
    with WorkerPool(2, Limits(), partial(_warm_up, tmp_path / "notes")) as pool:
        outcomes = {o.task.name: o for o in pool.run([_task("dies", run), _task("fine", _who)])}
        again = list(pool.run([_task("after", _who)]))  # a fresh worker takes the next task
    [problem] = outcomes["dies"].problems
    assert problem.path == "content/dies.yaml"
    assert f"stopped unexpectedly ({how})" in problem.message
    assert outcomes["fine"].ok and again[0].ok


def test_a_stuck_forked_worker_is_killed_at_the_time_limit_and_the_others_go_on(tmp_path):
    tasks = [_task("stuck", _sleeps), _task("fine", _who), _task("next", _who)]
    with WorkerPool(2, Limits(seconds=0.5), partial(_warm_up, tmp_path / "notes")) as pool:
        outcomes = {o.task.name: o for o in pool.run(tasks)}
    [problem] = outcomes["stuck"].problems
    assert "longer than the time limit of 0.5 s" in problem.message
    assert outcomes["stuck"].seconds < 5
    assert outcomes["fine"].ok and outcomes["next"].ok


def test_a_closed_pool_leaves_no_worker_behind(tmp_path):
    with WorkerPool(2, Limits(), partial(_warm_up, tmp_path / "notes")) as pool:
        outcomes = list(pool.run([_task("one", _who), _task("two", _who)]))
        temp_dirs = [pool.zygote.temp_dir, *(w.temp_dir for w in pool.workers)]
    pids = [o.value[0] for o in outcomes]
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)
    assert not any(Path(folder).exists() for folder in temp_dirs)


def test_a_pool_whose_workers_do_not_warm_up_forks_them_from_the_build():
    """Planning's worker imports nothing more: a zygote would only add a process."""
    with WorkerPool(1, Limits()) as pool:
        [outcome] = pool.run([_task("plan", _who)])
        assert pool.zygote is None
    assert outcome.value[1] == os.getpid()


def test_what_the_workers_used_counts_for_the_build_once_the_pool_is_closed(tmp_path):
    """As for workers of its own: ``time`` and a peak memory in the bench read it."""
    before = _children_cpu()
    with WorkerPool(2, Limits(), partial(_warm_up, tmp_path / "notes")) as pool:
        assert [o.ok for o in pool.run([_task("busy", _busy)])] == [True]
    assert _children_cpu() - before >= 0.35


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


class _Node:
    """An object in a cycle: garbage only the collector finds."""

    def __init__(self) -> None:
        self.me = self


def _litters(objects: int) -> int:
    """Leave ``objects`` cycles behind for the collector, as a booklet's layout does."""
    for _ in range(objects):
        _Node()
    return os.getpid()


@pytest.mark.parametrize(("lasting", "same"), [(False, False), (True, True)])
def test_a_forked_worker_leaves_after_a_task_that_left_much_garbage(tmp_path, lasting, same):
    """Rather than collect it: the next task gets a worker forked warm. A series of
    builds' workers stay, to keep what they learnt."""
    garbage = 2 * worker_module._MOST_GARBAGE
    warm_up = partial(_warm_up, tmp_path / "notes")
    with WorkerPool(1, Limits(), warm_up, lasting=lasting) as pool:
        [first] = pool.run([_task("booklet", partial(_litters, garbage))])
        [second] = pool.run([_task("card", _who)])
        [third] = pool.run([_task("card-2", _who)])
    assert first.ok and second.ok and third.ok
    assert (first.value == second.value[0]) is same
    assert second.value[0] == third.value[0]  # a task that left little: the worker stays
    assert second.value[2]  # forked warm
