"""Worker processes: parallel rendering under a time and a memory limit.

Every render runs in a forked worker process. Forking after WeasyPrint is
imported shares the import between workers (``spawn`` would repeat it), and
a worker that runs too long or too big can be killed without harming the
build: the parent kills it, reports a located problem for the output it
was making, and forks a fresh worker for the outputs still waiting.

Tasks are plain callables known before the workers start; a worker
receives only a task's index, so nothing but results crosses the pipe.
A task may list other tasks it needs (a combined file needs the files it
combines): it starts once they all succeeded, and is skipped if one failed.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import resource
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from typing import Any

from handbook.errors import HandbookError, Problem


@dataclass(frozen=True)
class Limits:
    """How long one output may take to render and how much memory its worker may use."""

    seconds: float = 300.0
    memory_mb: int = 3072


@dataclass(frozen=True)
class Task:
    name: str
    origin: str  # the project file named when the task fails
    run: Callable[[], Any]
    needs: tuple[str, ...] = ()


@dataclass
class Outcome:
    task: Task
    value: Any = None
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    skipped: bool = False  # not run because a task it needs failed

    @property
    def ok(self) -> bool:
        return not self.problems and not self.skipped


def default_jobs() -> int:
    """One worker per core this process may use."""
    return len(os.sched_getaffinity(0))


def run_tasks(tasks: Sequence[Task], jobs: int, limits: Limits) -> Iterator[Outcome]:
    """Run every task in up to ``jobs`` workers; yield each outcome as it ends.

    Tasks start in the order given (put the longest first); a task waits for
    the tasks it ``needs``. Workers are killed when the iteration stops,
    also on Ctrl-C.
    """
    pool = _Pool(tasks, max(1, jobs), limits)
    try:
        yield from pool.run()
    finally:
        pool.close()


class _Worker:
    def __init__(self, tasks: Sequence[Task], limits: Limits):
        context = multiprocessing.get_context("fork")
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child_conn, tasks, limits.memory_mb), daemon=True
        )
        self.process.start()
        child_conn.close()
        self.task: Task | None = None
        self.started = 0.0

    def give(self, index: int, task: Task) -> None:
        self.task, self.started = task, time.monotonic()
        self.conn.send(index)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


class _Pool:
    def __init__(self, tasks: Sequence[Task], jobs: int, limits: Limits):
        names = {task.name for task in tasks}
        # A needed output that is not rebuilt now is already there and good.
        self.tasks = [
            replace(task, needs=tuple(n for n in task.needs if n in names)) for task in tasks
        ]
        self.jobs = min(jobs, len(self.tasks)) or 1
        self.limits = limits
        self.workers: list[_Worker] = []

    def run(self) -> Iterator[Outcome]:
        waiting = list(range(len(self.tasks)))
        done: dict[str, bool] = {}
        while waiting or any(w.task for w in self.workers):
            for outcome in self._skip_blocked(waiting, done):
                done[outcome.task.name] = False
                yield outcome
            self._dispatch(waiting, done)
            if not any(w.task for w in self.workers):
                continue
            for outcome in self._collect():
                done[outcome.task.name] = outcome.ok
                yield outcome

    def _skip_blocked(self, waiting: list[int], done: dict[str, bool]) -> list[Outcome]:
        blocked = [i for i in waiting if any(done.get(n) is False for n in self.tasks[i].needs)]
        for index in blocked:
            waiting.remove(index)
        return [Outcome(self.tasks[i], skipped=True) for i in blocked]

    def _dispatch(self, waiting: list[int], done: dict[str, bool]) -> None:
        for index in list(waiting):
            task = self.tasks[index]
            if not all(done.get(n) for n in task.needs):
                continue
            worker = self._idle_worker()
            if worker is None:
                return
            waiting.remove(index)
            worker.give(index, task)

    def _idle_worker(self) -> _Worker | None:
        for worker in self.workers:
            if worker.task is None:
                return worker
        if len(self.workers) < self.jobs:
            self.workers.append(_Worker(self.tasks, self.limits))
            return self.workers[-1]
        return None

    def _collect(self) -> list[Outcome]:
        busy = [w for w in self.workers if w.task]
        deadline = min(w.started for w in busy) + self.limits.seconds
        ready = wait([w.conn for w in busy], timeout=max(0.0, deadline - time.monotonic()))
        outcomes = []
        now = time.monotonic()
        for worker in busy:
            task = worker.task
            assert task is not None
            if worker.conn in ready:
                outcome = self._receive(worker, task)
            elif now - worker.started >= self.limits.seconds:
                outcome = Outcome(task, problems=[_too_slow(task, self.limits)])
                self._replace(worker)
            else:
                continue
            outcome.seconds = now - worker.started
            worker.task = None
            outcomes.append(outcome)
        return outcomes

    def _receive(self, worker: _Worker, task: Task) -> Outcome:
        try:
            kind, payload = worker.conn.recv()
        except EOFError:
            self._replace(worker)
            return Outcome(task, problems=[_died(task, worker.process.exitcode, self.limits)])
        if kind == "value":
            return Outcome(task, value=payload)
        if kind == "problems":
            return Outcome(task, problems=payload)
        if kind == "memory":
            return Outcome(task, problems=[_too_big(task, self.limits)])
        if kind == "recursion":
            return Outcome(task, problems=[_too_deep(task)])
        raise RuntimeError(f"rendering {task.name} failed in a worker process:\n{payload}")

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        self.workers.remove(worker)

    def close(self) -> None:
        for worker in self.workers:
            if worker.task is None:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
        for worker in self.workers:
            if worker.task is None:
                worker.process.join(timeout=1.0)
            worker.stop()
        self.workers.clear()


def _worker_main(conn: Connection, tasks: Sequence[Task], memory_mb: int) -> None:
    """A worker's loop: run the task whose index arrives, send back what happened."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers end
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # Objects inherited from the parent are never garbage; freezing them keeps
    # the collector from walking (and so copying) the shared pages.
    gc.freeze()
    while True:
        try:
            index = conn.recv()
        except EOFError:
            return
        if index is None:
            return
        conn.send(_attempt(tasks[index]))


def _attempt(task: Task) -> tuple[str, Any]:
    # A render makes millions of objects and few cycles; collecting once
    # afterwards (the first allocation after enable) is cheaper than during.
    gc.disable()
    try:
        return ("value", task.run())
    except HandbookError as exc:
        return ("problems", exc.problems)
    except MemoryError:
        return ("memory", None)
    except RecursionError:
        return ("recursion", None)
    except Exception:
        return ("crash", traceback.format_exc())
    finally:
        gc.enable()


_LIMIT_HINT = "shorten this content, or raise the limit with {option} if it is expected"


def _too_slow(task: Task, limits: Limits) -> Problem:
    return Problem(
        task.origin,
        0,
        0,
        f"rendering {task.name} took longer than the time limit of {limits.seconds:g} s",
        _LIMIT_HINT.format(option="--time-limit"),
    )


def _too_big(task: Task, limits: Limits) -> Problem:
    return Problem(
        task.origin,
        0,
        0,
        f"rendering {task.name} needed more than the memory limit of {limits.memory_mb} MB",
        _LIMIT_HINT.format(option="--memory-limit"),
    )


def _too_deep(task: Task) -> Problem:
    return Problem(
        task.origin,
        0,
        0,
        f"rendering {task.name} failed: the content is nested too deeply to lay out",
        "use fewer levels of nested lists",
    )


def _died(task: Task, exitcode: int | None, limits: Limits) -> Problem:
    how = f"signal {-exitcode}" if exitcode and exitcode < 0 else f"exit status {exitcode}"
    return Problem(
        task.origin,
        0,
        0,
        f"rendering {task.name} stopped unexpectedly ({how}), "
        f"most likely at the memory limit of {limits.memory_mb} MB",
        _LIMIT_HINT.format(option="--memory-limit"),
    )
