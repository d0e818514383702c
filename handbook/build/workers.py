"""Worker processes: parallel rendering under a time and a memory limit.

Every render runs in a worker process whose address space is capped
(``RLIMIT_AS``), so a render that needs too much memory fails inside the
worker. A worker that runs past the time limit is killed by the parent.
Either way the parent reports a located problem naming the content file of
that output, the old output stays, and a fresh worker takes the outputs
still waiting.

Workers are forked where that is safe (``spawn`` repeats every import in
each worker), warm, from one process that got ready once (:class:`_Zygote`).
A process that runs other threads (``watch``'s file watcher) has them
forked by a fork server that has imported WeasyPrint once; on Windows and
macOS they are spawned. Where the system cannot cap a
process's memory (Windows, macOS) renders run without a memory limit, and
the build says so once.

The workers start before the tasks are known, so that they import
WeasyPrint while the parent still reads the project. A task may list other
tasks it needs (a combined file needs the files it combines): it starts
once they all succeeded, and is skipped if one failed. A task may also find
that it is better done as several (:class:`RunFirst`): they run on any
worker, and then the task's last step. The time limit counts from when a
task is handed to its worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from handbook.errors import HandbookError, OutOfTime, Problem

try:
    import resource
except ImportError:  # Windows
    resource = None


# The widest limits that mean anything: a week, and more memory than any machine has.
MAX_SECONDS = 7 * 24 * 3600.0
MIN_MEMORY_MB, MAX_MEMORY_MB = 64, 1 << 30
# How long the parent waits for workers at most before it looks again.
_LONGEST_WAIT = 60.0
# A worker stops its task itself at the time limit, to say where it was; the parent
# kills it if it has not said so this many seconds later (stuck in C code, say).
_GRACE_SECONDS = 2.0
# How soon the time-limit alarm rings again if the exception it raised was dropped.
_ALARM_REPEAT_SECONDS = 0.05
# How long a new worker may take to start up before the clock of its first task runs:
# starting is the tool's own work, not the project's.
_STARTING_SECONDS = 60.0
# A worker the zygote forked leaves after a task that left more objects than this for the
# collector to walk (a first build's booklet leaves a million, a card a few thousand, and
# what a worker's caches gain counts too): the collection would take longer than forking
# another worker warm (about 1 s for the million; a fork takes milliseconds), and the
# system frees a process's memory at once.
_MOST_GARBAGE = 100_000
# What tasks read from the environment, passed on with each one: a worker the fork
# server makes has the environment the server started with, not the build's now.
_PASSED_ON = ("SOURCE_DATE_EPOCH",)


@dataclass(frozen=True)
class Limits:
    """How long one output may take to render and how much memory its worker may use."""

    seconds: float = 300.0
    memory_mb: int = 3072

    def __post_init__(self) -> None:
        if not 0 < self.seconds <= MAX_SECONDS:  # also refuses NaN
            raise ValueError(f"a time limit must be over 0 and at most {MAX_SECONDS} s")
        if not MIN_MEMORY_MB <= self.memory_mb <= MAX_MEMORY_MB:
            raise ValueError(f"a memory limit must be {MIN_MEMORY_MB} to {MAX_MEMORY_MB} MB")


@dataclass(frozen=True)
class Task:
    name: str
    origin: str  # the project file named when the task fails
    run: Callable[[], Any]
    needs: tuple[str, ...] = ()
    action: str = ""  # what it does, for messages; default "rendering <name>"
    # For a task made from many content files (the booklet): the largest, named when
    # it runs out of time or memory, as the likeliest cause.
    suspects: tuple[str, ...] = ()
    alarm: float | None = None  # set by the pool: when the worker stops it itself
    environment: tuple[tuple[str, str | None], ...] = ()  # set by the pool: see _PASSED_ON
    may_leave: bool = False  # set by the pool: see _serve

    @property
    def doing(self) -> str:
        return self.action or f"rendering {self.name}"


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


@dataclass(frozen=True)
class RunFirst:
    """What a task returns to have ``runs`` done first, each a task of its own on any
    worker (laying out a booklet's parts side by side): then ``then`` runs, given
    their values in order, and what it returns is the task's. If one of them fails,
    the task fails with their problems. ``action`` says what each does, for messages.
    """

    runs: tuple[Callable[[], Any], ...]
    then: Callable[[list[Any]], Any]
    action: str = ""


@dataclass
class _Ahead:
    """A task that returned :class:`RunFirst`, while its runs are under way."""

    task: Task
    first: RunFirst
    values: dict[int, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    def children(self) -> list[Task]:
        action = self.first.action or self.task.doing
        return [
            replace(
                self.task, name=f"{self.task.name} [{index + 1}]", run=run, needs=(), action=action
            )
            for index, run in enumerate(self.first.runs)
        ]

    def took(self, index: int, outcome: Outcome) -> bool:
        """Note one run's outcome; whether all have ended."""
        self.seconds += outcome.seconds
        if outcome.ok:
            self.values[index] = outcome.value
        else:
            self.values[index] = None
            self.problems.extend(outcome.problems)
        return len(self.values) == len(self.first.runs)

    def last_step(self) -> Task:
        values = [self.values[index] for index in range(len(self.first.runs))]
        return replace(self.task, run=functools.partial(self.first.then, values))


def default_jobs() -> int:
    """One worker per core this process may use (or per core, where that is unknown)."""
    if hasattr(os, "sched_getaffinity"):  # not on macOS or Windows
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def start_method() -> str:
    """``fork`` where it is safe, ``forkserver`` in a process with other threads, else ``spawn``.

    Only Linux can tie a forked worker's life to the build's (see
    :func:`_die_with_parent`); macOS's system libraries are not fork-safe and
    Windows has no fork at all. Forking from a process that runs other
    threads can deadlock the child; the fork server is a process of its own
    with one thread.
    """
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return "spawn"
    return "forkserver" if _runs_other_threads() else "fork"


def _runs_other_threads() -> bool:
    """Whether this process has threads besides this one, also ones Python did not start."""
    try:
        return len(os.listdir("/proc/self/task")) > 1
    except OSError:  # no /proc: only Python's own threads can be counted
        return threading.active_count() > 1


def can_cap_memory() -> bool:
    """Whether workers can cap their address space (Windows has no rlimits; macOS ignores it)."""
    return hasattr(resource, "RLIMIT_AS") and sys.platform != "darwin"


@functools.cache
def _say_memory_is_uncapped() -> None:
    """Tell once per process that ``--memory-limit`` has no effect here."""
    print(
        "note: this system cannot cap the memory of a render, so --memory-limit has no effect",
        file=sys.stderr,
    )


def run_tasks(tasks: Sequence[Task], jobs: int, limits: Limits) -> Iterator[Outcome]:
    """Run every task in up to ``jobs`` workers; yield each outcome as it ends."""
    with WorkerPool(min(jobs, len(tasks)), limits) as pool:
        yield from pool.run(tasks)


class WorkerPool:
    """Worker processes, started at once and then fed tasks.

    Starting them before the tasks are known lets ``warm_up`` (importing
    WeasyPrint) run in the workers while the parent still reads the project;
    no more start at once than there are cores (or than ``ahead``), and more
    (up to ``jobs``) only while tasks wait for one, so a rebuild of one
    output starts one worker. Tasks are pickled to the workers, so they
    must be module-level functions or partials of them. Workers are killed
    on :meth:`close`, also on Ctrl-C.
    """

    def __init__(
        self,
        jobs: int,
        limits: Limits,
        warm_up: Callable[[], Any] | None = None,
        ahead: int | None = None,
        lasting: bool = False,
    ):
        """``ahead``: how many workers to start before the tasks are known, when the
        caller expects little work (a rebuild); by default one per core, at most ``jobs``.
        ``lasting``: for a series of builds, whose workers keep what they learn as they
        render (parsed styles, laid-out words) for the next; otherwise a worker the
        zygote forked leaves after a task that left much garbage (see :func:`_serve`)."""
        self.jobs = max(1, jobs)
        self.limits = limits
        self.warm_up = warm_up
        if not can_cap_memory():
            _say_memory_is_uncapped()
        started = min(self.jobs, default_jobs(), max(1, ahead or self.jobs))
        forks = warm_up is not None and start_method() == "fork"
        self.zygote = _Zygote(limits, warm_up) if forks else None
        self.lasting = lasting
        self.workers = [_Worker(limits, warm_up, self.zygote) for _ in range(started)]
        self.leaving: list[_Worker] = []  # workers that said they leave (see _serve)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def run(
        self, tasks: Sequence[Task], on_start: Callable[[Task], None] | None = None
    ) -> Iterator[Outcome]:
        """Yield each task's outcome as it ends; ``on_start`` hears of each task a
        worker takes.

        Tasks start in the order given (put the longest first); a task waits
        for the tasks it ``needs`` and is skipped if one of them failed. A
        needed task that is not in ``tasks`` counts as done. A task that
        returns :class:`RunFirst` has its runs start before any other waiting
        task, then its last step; only its final outcome is yielded, and
        ``on_start`` hears of it once.
        """
        names = {task.name for task in tasks}
        tasks = [replace(task, needs=tuple(n for n in task.needs if n in names)) for task in tasks]
        waiting = list(tasks)
        done: dict[str, bool] = {}
        ahead: dict[str, tuple[_Ahead, int]] = {}  # a run's name: its task's, its index
        stepped: set[str] = set()  # the tasks that asked for runs first
        started: set[str] = set()
        told = on_start and functools.partial(_first_start, on_start, names, started)
        while waiting or self._busy():
            for task in [t for t in waiting if any(done.get(n) is False for n in t.needs)]:
                waiting.remove(task)
                done[task.name] = False
                yield Outcome(task, skipped=True)
            outcomes = self._dispatch(waiting, done, told)
            if self._busy():
                outcomes += self._collect()
            for outcome in outcomes:
                final = _after(outcome, ahead, waiting, stepped)
                if final is not None:
                    done[final.task.name] = final.ok
                    yield final

    def close(self) -> None:
        """Kill the workers and wait for them to end: they hold what the build holds (the
        output folder's lock, say).

        The workers the zygote has forked end first, reaped by it, so that what they
        used counts in this process's children's (``RUSAGE_CHILDREN``); then the
        zygote, so that it forks no more: a worker it had not said it forked ends
        with it."""
        self._let_leavers_go()
        if self.zygote is not None:
            self.zygote.hear()
            named = [w for w in self.workers if isinstance(w.process, _Forked) and w.process.named]
            for worker in named:
                worker.stop()
                self.workers.remove(worker)
            self.zygote.stop()
        for worker in self.workers:
            worker.stop()
        self.workers.clear()

    def settle(self) -> None:
        """Stop the workers still busy, so that the next :meth:`run` hears only of its own
        tasks (a run its caller stopped reading, as a build that failed does, leaves them
        mid-task), and forget those that died meanwhile: others start as tasks wait."""
        self._let_leavers_go()
        for worker in [w for w in self.workers if w.task or not w.process.is_alive()]:
            self._replace(worker)

    def _let_leavers_go(self, ended_only: bool = False) -> None:
        """Wait for the workers that left to end (``ended_only``: those that have), and
        delete what they left behind."""
        for worker in list(self.leaving):
            if not ended_only or not worker.process.is_alive():
                worker.left()
                self.leaving.remove(worker)

    def _busy(self) -> list[_Worker]:
        return [worker for worker in self.workers if worker.task]

    def _dispatch(
        self, waiting: list[Task], done: dict[str, bool], on_start: Callable[[Task], None] | None
    ) -> list[Outcome]:
        """Give ready tasks to idle workers; the outcomes of those that died meanwhile."""
        dead = []
        for task in list(waiting):
            if not all(done.get(n) for n in task.needs):
                continue
            worker = self._idle_worker()
            if worker is None:
                break
            waiting.remove(task)
            try:
                worker.give(task, may_leave=not self.lasting)
                if on_start:
                    on_start(task)
            except (BrokenPipeError, ConnectionResetError):
                self._replace(worker)
                dead.append(
                    Outcome(task, problems=[_died(task, worker.process.exitcode, self.limits)])
                )
        return dead

    def _idle_worker(self) -> _Worker | None:
        self._let_leavers_go(ended_only=True)  # their pipes and folders gone as they go
        for worker in self.workers:
            if worker.task is None:
                return worker
        if len(self.workers) < self.jobs:  # one was killed, or more may start
            self.workers.append(_Worker(self.limits, self.warm_up, self.zygote))
            return self.workers[-1]
        return None

    def _collect(self) -> list[Outcome]:
        busy = self._busy()
        deadline = min(w.deadline for w in busy)
        timeout = min(_LONGEST_WAIT, max(0.0, deadline - time.monotonic()))
        ready = wait([w.conn for w in busy], timeout=timeout)
        outcomes = []
        now = time.monotonic()
        for worker in busy:
            task = worker.task
            assert task is not None
            if worker.conn in ready:
                outcome = self._receive(worker, task)
                if outcome is None:  # it has begun the task
                    continue
            elif now >= worker.deadline:
                problem = _too_slow(task, self.limits)
                outcome = Outcome(task, problems=[problem], seconds=now - worker.started)
                self._replace(worker)
            else:
                continue
            worker.task = None
            outcomes.append(outcome)
        return outcomes

    def _receive(self, worker: _Worker, task: Task) -> Outcome | None:
        """The task's outcome, or None if the worker only says it has begun it."""
        try:
            kind, payload, seconds, leaving = worker.conn.recv()
        except (EOFError, ConnectionResetError):
            self._replace(worker)
            problem = _died(task, worker.process.exitcode, self.limits)
            return Outcome(task, problems=[problem], seconds=time.monotonic() - worker.started)
        if kind == "began":
            worker.begin()
            return None
        outcome = Outcome(task, seconds=seconds)
        if kind == "value":
            outcome.value = payload
        elif kind == "problems":
            outcome.problems = payload
        elif kind == "memory":  # what is left of it is not to be trusted (see _serve)
            outcome.problems = [_too_big(task, self.limits)]
            self._replace(worker)
        elif kind == "recursion":
            outcome.problems = [_too_deep(task)]
        elif kind == "slow":  # it stopped itself, maybe in the middle of anything
            outcome.problems = [_too_slow(task, self.limits, payload)]
            self._replace(worker)
        else:
            raise RuntimeError(f"{task.doing} failed in a worker process:\n{payload}")
        if leaving and worker in self.workers:  # another starts when a task waits
            self.workers.remove(worker)
            self.leaving.append(worker)
        return outcome

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        self.workers.remove(worker)


def _first_start(
    on_start: Callable[[Task], None], names: set[str], started: set[str], task: Task
) -> None:
    """Tell ``on_start`` of a task of the caller's as it first begins: not of the runs
    it asked for, nor of its last step."""
    if task.name in names and task.name not in started:
        started.add(task.name)
        on_start(task)


def _after(
    outcome: Outcome, ahead: dict[str, tuple[_Ahead, int]], waiting: list[Task], stepped: set[str]
) -> Outcome | None:
    """The outcome to report, or None while the task it belongs to goes on: a task that
    returned :class:`RunFirst` has its runs put first in ``waiting``; once they have
    all ended, its last step is (or it fails with their problems)."""
    if outcome.task.name in ahead:
        pending, index = ahead.pop(outcome.task.name)
        if not pending.took(index, outcome):
            return None
        if pending.problems:
            return Outcome(pending.task, problems=pending.problems, seconds=pending.seconds)
        waiting.insert(0, pending.last_step())
        return None
    if not (outcome.ok and isinstance(outcome.value, RunFirst)):
        return outcome
    if outcome.task.name in stepped:
        raise RuntimeError(f"{outcome.task.doing} asked for runs first in its last step")
    stepped.add(outcome.task.name)
    pending = _Ahead(outcome.task, outcome.value)
    children = pending.children()
    for index, child in enumerate(children):
        ahead[child.name] = (pending, index)
    waiting[:0] = children or [pending.last_step()]
    return None


class _Worker:
    def __init__(
        self, limits: Limits, warm_up: Callable[[], Any] | None, zygote: _Zygote | None = None
    ):
        """A worker warmed up by ``warm_up``: forked warm by ``zygote`` where there is one
        (that has run it), else started to run it itself."""
        self.temp_dir = tempfile.mkdtemp(prefix=_TEMP_PREFIX)
        if zygote is not None and zygote.serves():
            self.conn, self.process = zygote.fork(self.temp_dir)
        else:
            self.conn, self.process = _started(limits, warm_up, self.temp_dir)
        self.task: Task | None = None
        self.started = 0.0
        self.deadline = 0.0  # when the parent kills it, if the task has not ended
        self.seconds = limits.seconds

    def give(self, task: Task, may_leave: bool = False) -> None:
        """Hand it the task; ``may_leave``: it may leave after it, if the zygote forked it."""
        environment = tuple((name, os.environ.get(name)) for name in _PASSED_ON)
        leave = may_leave and isinstance(self.process, _Forked)
        self.conn.send(replace(task, alarm=self.seconds, environment=environment, may_leave=leave))
        self.task, self.started = task, time.monotonic()
        self.deadline = self.started + _STARTING_SECONDS + self.seconds + _GRACE_SECONDS

    def begin(self) -> None:
        """The worker has begun its task: from now on the time limit counts."""
        self.started = time.monotonic()
        self.deadline = self.started + self.seconds + _GRACE_SECONDS

    def left(self) -> None:
        """Wait for a worker that said it leaves to end (it is not killed: its process id
        may be another's once it has ended), and delete what it left behind."""
        self.process.join()
        self._forget()

    def stop(self) -> None:
        """Kill the worker, and delete what it left in its temporary folder.

        Between tasks it holds nothing worth a graceful end; in the middle of
        one (past the time limit) it gets none.
        """
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self._forget()

    def _forget(self) -> None:
        self.conn.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _started(limits: Limits, warm_up: Callable[[], Any] | None, temp_dir: str):
    """A worker process of its own (forked, from the fork server, or spawned: see
    :func:`start_method`) and the build's end of its pipe."""
    method = start_method()
    context = multiprocessing.get_context(method)
    if method == "forkserver":  # takes effect when the server starts, with the first worker
        context.set_forkserver_preload(list(FORK_SERVER_PRELOAD))
    conn, child_conn = context.Pipe()
    memory_mb = limits.memory_mb if can_cap_memory() else None
    parent = None if method == "forkserver" else os.getpid()
    process = context.Process(
        target=_worker_main,
        args=(child_conn, memory_mb, warm_up, parent, temp_dir),
        daemon=True,
    )
    with _ctrl_c_ignored_by_new_workers():
        process.start()
    child_conn.close()
    return conn, process


class _Zygote:
    """A process that warms up as a worker does, once, then forks each worker warm.

    Every worker would otherwise import WeasyPrint and lay out its first words
    itself: a second worker, started once planning says there is work for it,
    spent half a second getting ready while the first rendered the booklet,
    both on the two cores there are. The workers are the zygote's children:
    it reaps them and tells the build how each ended, in the order of its
    messages (the pid of each worker it forked, then how each ended). Each
    worker gets its pipe's end over the zygote's own (``SCM_RIGHTS``), so it
    inherits no other worker's. It ends with the build (see
    :func:`_die_with_parent`), and its workers with it.
    """

    def __init__(self, limits: Limits, warm_up: Callable[[], Any]):
        context = multiprocessing.get_context("fork")
        self.conn, child_conn = context.Pipe()
        self.temp_dir = tempfile.mkdtemp(prefix=_TEMP_PREFIX)  # what its warm-up wrote, kept
        memory_mb = limits.memory_mb if can_cap_memory() else None
        self.process = context.Process(
            target=_zygote_main,
            args=(child_conn, memory_mb, warm_up, os.getpid(), self.temp_dir),
            daemon=True,
        )
        with _ctrl_c_ignored_by_new_workers():
            self.process.start()
        child_conn.close()
        self.socket = socket.fromfd(self.conn.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)
        self.unnamed: deque[_Forked] = deque()  # forked, its pid not heard of yet
        self.ended: dict[int, int | None] = {}  # pid: its exit code, as multiprocessing says
        self.gone = False  # it ended (and its workers with it)

    def serves(self) -> bool:
        return not self.gone and self.process.is_alive()

    def fork(self, temp_dir: str) -> tuple[Connection, _Forked]:
        """A new worker (its temporary files in ``temp_dir``): the build's end of its pipe,
        and the worker as far as the build needs to know it."""
        ours, theirs = multiprocessing.Pipe()
        try:
            self.conn.send(temp_dir)
            socket.send_fds(self.socket, [b"w"], [theirs.fileno()])
        except OSError:
            self._end()
        finally:
            theirs.close()
        worker = _Forked(self, ours)
        if self.gone:
            worker.named = 0  # never forked: ``ours`` reads as a worker that died at once
        else:
            self.unnamed.append(worker)
        return ours, worker

    def hear(self, wait_for: Callable[[], bool] | None = None) -> None:
        """Read what the zygote has said; with ``wait_for``, until that is true."""
        while not self.gone and ((wait_for is not None and not wait_for()) or self.conn.poll()):
            try:
                kind, pid, code = self.conn.recv()
            except (EOFError, OSError):
                self._end()
                return
            if kind == "forked":
                self.unnamed.popleft().named = pid
            else:
                self.ended[pid] = code

    def _end(self) -> None:
        """It ended: the workers it had not named were never forked."""
        self.gone = True
        for worker in self.unnamed:
            worker.named = 0
        self.unnamed.clear()

    def stop(self) -> None:
        """End it, so that it forks no more, and learn which workers it forked: those end
        with it (see :func:`_die_with_parent`), and :meth:`_Forked.join` waits for them."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.hear(lambda: False)  # what it said before it ended, to the end of its pipe
        self.socket.close()
        self.conn.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


class _Forked:
    """A worker the zygote forked: as much of a ``multiprocessing.Process`` as the pool
    uses, its end as the zygote says (a worker it never forked has pid 0). Once the
    zygote has ended, a worker has ended when its pipe has (its own end is the only
    other one: the zygote keeps none), which it does at once (see
    :func:`_die_with_parent`)."""

    def __init__(self, zygote: _Zygote, conn: Connection):
        self.zygote, self.conn = zygote, conn
        self.named: int | None = None  # its pid, once the zygote has said it

    @property
    def pid(self) -> int:
        self.zygote.hear(lambda: self.named is not None)
        return self.named or 0

    @property
    def exitcode(self) -> int | None:
        self.zygote.hear()
        return self.zygote.ended.get(self.named) if self.named is not None else None

    def is_alive(self) -> bool:
        self.zygote.hear()
        return not self._ended()

    def _ended(self) -> bool:
        return self.named == 0 or self.named in self.zygote.ended

    def kill(self) -> None:
        if self.pid and not self._ended():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def join(self) -> None:
        self.zygote.hear(lambda: self._ended() or self.zygote.gone)
        if not self._ended():
            self._pipe_ended()

    def _pipe_ended(self) -> None:
        deadline = time.monotonic() + _GRACE_SECONDS
        with contextlib.suppress(EOFError, OSError):
            while self.conn.poll(max(0.0, deadline - time.monotonic())):
                self.conn.recv()  # what it sent before it ended; then EOF
        self.zygote.ended[self.named or 0] = None


def _zygote_main(
    conn: Connection, memory_mb: int | None, warm_up: Callable[[], Any], parent: int, temp_dir: str
) -> None:
    """The zygote's loop (see :class:`_Zygote`): warm up as a worker does, then fork a
    worker for each request, and say how each ended."""
    out_of_memory = _set_up(memory_mb, warm_up, parent, temp_dir)  # its workers' cap too
    with contextlib.suppress(OSError, EOFError):  # the build has ended
        _fork_on_request(conn, memory_mb, out_of_memory)
    os._exit(0)


def _fork_on_request(conn: Connection, memory_mb: int | None, out_of_memory: bool) -> None:
    """Fork a worker for each request, until the build closes the pipe."""
    me = os.getpid()
    channel = socket.fromfd(conn.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)
    woken, wake = os.pipe()  # a byte for each SIGCHLD, so that the wait below ends
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    while True:
        ready = wait([conn, woken])
        if woken in ready:
            os.read(woken, 4096)
        _say_who_ended(conn)
        if conn not in ready:
            continue
        temp_dir = conn.recv()
        _, [fd], _, _ = socket.recv_fds(channel, 1, 1)
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(woken)
            os.close(wake)
            channel.close()
            conn.close()
            _forked_worker_main(Connection(fd), memory_mb, me, temp_dir, out_of_memory)
        os.close(fd)
        conn.send(("forked", pid, None))


def _say_who_ended(conn: Connection) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn.send(("ended", pid, os.waitstatus_to_exitcode(status)))


def _forked_worker_main(
    conn: Connection, memory_mb: int | None, zygote: int, temp_dir: str, out_of_memory: bool
) -> None:
    """A worker the zygote forked: its loop, then its end (never back in the zygote's)."""
    code = 1
    try:
        _worker_main(conn, memory_mb, None, zygote, temp_dir, out_of_memory)
        code = 0
    finally:
        os._exit(code)


@contextlib.contextmanager
def _ctrl_c_ignored_by_new_workers() -> Iterator[None]:
    """Start workers with SIGINT ignored, a setting they keep from their first instruction.

    A terminal sends Ctrl-C to every process of the build, and a spawned
    worker still importing would print a traceback. (A signal mask would
    defer rather than drop a Ctrl-C meant for the build in these few
    milliseconds, but multiprocessing lifts it when it starts its resource
    tracker.) Only the main thread may change signal handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _worker_main(
    conn: Connection,
    memory_mb: int | None,
    warm_up: Callable[[], Any] | None,
    parent: int | None,
    temp_dir: str,
    out_of_memory: bool = False,
) -> None:
    """A worker's loop: run each task that arrives, send back what happened.

    ``memory_mb`` is None where the system cannot cap memory; ``parent`` is
    the build's process id (the zygote's for a worker it forked), None for a
    worker the fork server made. Temporary files (WeasyPrint's copies of
    fonts, say) go into ``temp_dir``, which the build deletes when the worker
    ends, however it ends. ``out_of_memory``: the zygote's warm-up ran out.
    """
    out_of_memory = _set_up(memory_mb, warm_up, parent, temp_dir) or out_of_memory
    try:
        _serve(conn, out_of_memory)
    except MemoryError:  # not even the reply fits: the parent tells the memory limit
        os._exit(1)


def _set_up(
    memory_mb: int | None, warm_up: Callable[[], Any] | None, parent: int | None, temp_dir: str
) -> bool:
    """What a worker (or the zygote) does first: Ctrl-C left to the parent, its life tied
    to the parent's, its temporary files in ``temp_dir``, its memory capped, then its
    warm-up; whether that ran out of memory."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers end
    _die_with_parent(parent)
    os.environ["TMPDIR"] = tempfile.tempdir = temp_dir
    if memory_mb is not None:
        _cap_memory(memory_mb)
    out_of_memory = False
    if warm_up:
        try:
            warm_up()
        except MemoryError:  # half-imported modules fail oddly later: report it as it is
            out_of_memory = True
    # Objects made so far live as long as the process; freezing them keeps the
    # collector from walking them (and copying pages shared with the parent).
    gc.freeze()
    return out_of_memory


def _serve(conn: Connection, out_of_memory: bool) -> None:
    """Run each task that arrives and send back what happened, until the build ends.

    Each reply says whether the worker leaves after it: one the task lets go
    (``Task.may_leave``) does, rather than collect the garbage of a large task
    (see ``_MOST_GARBAGE``); the build forks another when a task waits.
    """
    while True:
        try:
            task = conn.recv()
            conn.send(("began", None, 0.0, False))
        except (EOFError, BrokenPipeError, ConnectionResetError):
            return
        except MemoryError:
            # The task's own data did not fit in what the limit leaves, and may be unread
            # in the pipe: the parent replaces a worker that answers so.
            task = None
        started = time.perf_counter()
        kind, payload = ("memory", None) if out_of_memory or task is None else _attempt(task)
        leaving = task is not None and task.may_leave and gc.get_count()[0] > _MOST_GARBAGE
        try:
            try:
                conn.send((kind, payload, time.perf_counter() - started, leaving))
            except MemoryError:
                conn.send(("memory", None, time.perf_counter() - started, False))
        except (BrokenPipeError, ConnectionResetError):  # the build ended meanwhile
            return
        if leaving:
            return
        # A render makes millions of objects and few cycles; collecting once
        # afterwards (the first allocation after enable) is cheaper than during.
        gc.enable()


def _cap_memory(memory_mb: int) -> None:
    limit = min(memory_mb, MAX_MEMORY_MB) * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:  # a limit set outside (ulimit -v) cannot be raised
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _near_memory_limit() -> bool:
    """Whether this process came close to its address-space limit."""
    if not can_cap_memory():
        return False
    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    if limit == resource.RLIM_INFINITY:
        return False
    with contextlib.suppress(OSError, ValueError, StopIteration):
        status = Path("/proc/self/status").read_text().splitlines()
        peak_kb = int(next(line for line in status if line.startswith("VmPeak:")).split()[1])
        return peak_kb * 1024 > 0.9 * limit
    return False


def _die_with_parent(parent: int | None) -> None:
    """Ask Linux to kill this worker when its parent dies, even by ``kill -9``.

    Otherwise an orphaned worker would keep rendering, and keep holding the
    output folder's lock. The parent of a worker the fork server made is the
    server, which ends with the build. Other systems have no such request,
    but there workers are spawned; spawned workers and the fork server's
    hold no copy of the build's end of the pipe, so they end once they find
    it closed (after the render in hand).
    """
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent is not None and os.getppid() != parent:  # it died before the request took hold
        os._exit(1)


def _attempt(task: Task) -> tuple[str, Any]:
    """Run the task with the collector paused (see :func:`_serve`): its outcome."""
    gc.disable()
    for name, value in task.environment:
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        with _alarm(task.alarm):
            return ("value", task.run())
    except OutOfTime as exc:
        return ("slow", exc.where)
    except HandbookError as exc:
        return ("problems", exc.problems)
    except MemoryError:
        return ("memory", None)
    except RecursionError:
        return ("recursion", None)
    except Exception as exc:
        # At the memory limit, C code fails in odd ways (a SystemError, say), and
        # libraries wrap a MemoryError in errors of their own.
        if _near_memory_limit() or _caused_by(exc, MemoryError):
            return ("memory", None)
        return ("crash", traceback.format_exc())


@contextlib.contextmanager
def _alarm(seconds: float | None) -> Iterator[None]:
    """Raise OutOfTime in this process after ``seconds``, so that the task can say where
    it was; the parent still kills it at the limit if it is stuck where Python cannot
    interrupt it (Windows has no such alarm).

    An exception raised while Python runs a weakref callback or a finaliser (the import
    system's module locks have one) is dropped, and the task would go on as if no limit
    had been reached. So the alarm rings again every ``_ALARM_REPEAT_SECONDS`` and, if
    the OutOfTime it raised was dropped (Python's unraisable hook hears of it, and says
    nothing of it), raises another; once one is on its way it raises no more, so that
    the task's own handlers can say where it was."""
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return
    due = [True]  # whether the next ring raises

    def time_is_up(signum, frame):
        if due[0]:
            due[0] = False
            raise OutOfTime

    def dropped(unraisable) -> None:
        if isinstance(unraisable.exc_value, OutOfTime):
            due[0] = True
        else:
            hook(unraisable)

    hook = sys.unraisablehook
    previous = signal.signal(signal.SIGALRM, time_is_up)
    sys.unraisablehook = dropped
    signal.setitimer(signal.ITIMER_REAL, seconds, _ALARM_REPEAT_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = hook


@contextlib.contextmanager
def at_most(seconds: float) -> Iterator[None]:
    """Stop what runs inside after ``seconds``, quietly: for work a worker may give up,
    such as getting ready for its renders."""
    with contextlib.suppress(OutOfTime), _alarm(seconds):
        yield


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``exc`` or an exception it was raised from or while handling is a ``kind``."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_TEMP_PREFIX = "handbook-worker-"
# What reading and templating a project needs, imported before its worker starts.
PLANNING_MODULES = ("handbook.build.jobs", "handbook.content.validate", "handbook.html.render")
# Imported once by the fork server, so the workers it forks start with them loaded.
FORK_SERVER_PRELOAD = ("handbook.build.workers", *PLANNING_MODULES, "handbook.engine.loaded")


def _limit_hint(task: Task, option: str) -> str:
    content = "this content"
    if task.suspects:
        content = f"what it is made from (the largest: {', '.join(task.suspects)})"
    return f"shorten {content}, or raise the limit with {option} if it is expected"


def _too_slow(task: Task, limits: Limits, where: tuple[str, int] | None = None) -> Problem:
    """``where``: the project file and line the task had reached, if it could tell."""
    message = f"{task.doing} took longer than the time limit of {limits.seconds:g} s"
    if where is None:
        return Problem(task.origin, 0, 0, message, _limit_hint(task, "--time-limit"))
    hint = "it was here when time ran out: look for a loop that runs too long"
    return Problem(*where, 1, message, f"{hint}, or raise the limit with --time-limit")


def _too_big(task: Task, limits: Limits) -> Problem:
    return Problem(
        task.origin,
        0,
        0,
        f"{task.doing} needed more than the memory limit of {limits.memory_mb} MB",
        _limit_hint(task, "--memory-limit"),
    )


def _too_deep(task: Task) -> Problem:
    return Problem(
        task.origin,
        0,
        0,
        f"{task.doing} failed: the content is nested too deeply to lay out",
        "use fewer levels of nested lists",
    )


def _died(task: Task, exitcode: int | None, limits: Limits) -> Problem:
    how = f"signal {-exitcode}" if exitcode and exitcode < 0 else f"exit status {exitcode}"
    return Problem(
        task.origin,
        0,
        0,
        f"{task.doing} stopped unexpectedly ({how}), "
        f"most likely at the memory limit of {limits.memory_mb} MB",
        _limit_hint(task, "--memory-limit"),
    )
