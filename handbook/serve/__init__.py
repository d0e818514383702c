"""``handbook serve``: build, show the pages and cards in a browser, update them on every save.

The build loop is :func:`handbook.build.watch.watch` (renames count as saves,
rapid saves make one build, a failing build keeps the last good outputs);
after each build the PDFs that changed are drawn again (:mod:`.pictures`)
and the page, waiting on :mod:`.server`'s state endpoint, swaps in the
pictures that changed, or shows the build's problems over the last good ones.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from handbook.build import RENDERED, BuildOptions, BuildReport, OutputResult
from handbook.build.watch import watch
from handbook.errors import HandbookError, Problem
from handbook.project import OUTPUT_DIR, open_project
from handbook.serve.pictures import CARDS_DIR, Pictures
from handbook.serve.server import PreviewServer
from handbook.serve.state import PreviewState

LOOPBACK = "127.0.0.1"

__all__ = ["LOOPBACK", "PreviewServer", "PreviewState", "serve", "start_server"]


def start_server(
    state: PreviewState, host: str = LOOPBACK, port: int = 0, title: str = ""
) -> PreviewServer:
    """The server bound (port 0: a free one) and answering in a thread of its own."""
    try:
        server = PreviewServer(state, host, port, title or "handbook preview")
    except OSError as exc:
        raise HandbookError([_cannot_listen(host, port, exc)]) from None
    threading.Thread(target=server.serve_forever, name="handbook-serve", daemon=True).start()
    return server


def serve(
    project_dir: Path,
    options: BuildOptions,
    *,
    host: str = LOOPBACK,
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
    on_build: Callable[[BuildReport | HandbookError], None] | None = None,
    on_output: Callable[[OutputResult], None] | None = None,
    on_change: Callable[[set[Path]], None] | None = None,
    stop_event: threading.Event | None = None,
    debounce_ms: int = 300,
) -> None:
    """Serve the preview until ``stop_event`` is set (or Ctrl-C); ``on_ready`` hears its URL."""
    project = open_project(project_dir)
    root = project.root
    out_dir = options.out_dir or root / OUTPUT_DIR
    if options.language in project.translation_languages():  # shown: the one built
        out_dir = out_dir / options.language
    state = PreviewState(Pictures(out_dir))
    server = start_server(state, host, port, f"{root.name}: preview")

    def built(result: BuildReport | HandbookError) -> None:
        if isinstance(result, HandbookError):
            state.built(result.problems, None)
        else:
            state.built([], _card_order(result, out_dir))
        if on_build:
            on_build(result)

    def output(result: OutputResult) -> None:
        if result.status == RENDERED:
            state.rendered()
        if on_output:
            on_output(result)

    def changed(paths: set[Path]) -> None:
        state.saving(_saved_at(paths))
        if on_change:
            on_change(paths)

    try:
        if on_ready:
            on_ready(server.url)
        watch(
            root,
            options,
            built,
            on_output=output,
            on_change=changed,
            stop_event=stop_event,
            debounce_ms=debounce_ms,
        )
    finally:
        state.close()
        server.shutdown()
        server.server_close()


def _card_order(report: BuildReport, out_dir: Path) -> list[str]:
    """The cards' ids in the order the build lists them (the handbook's)."""
    cards = (out_dir / CARDS_DIR).resolve()
    return [r.path.stem for r in report.outputs if r.path.resolve().parent == cards]


def _saved_at(paths: set[Path]) -> float:
    """When the newest of the changed files was written (now, if none is left)."""
    times = []
    for path in paths:
        try:
            times.append(os.stat(path).st_mtime)
        except OSError:
            continue
    now = time.time()
    return min(max(times), now) if times else now


def _cannot_listen(host: str, port: int, exc: OSError) -> Problem:
    if exc.errno == errno.EADDRINUSE:
        message = f"port {port} on {host} is in use"
        hint = "choose another with --port, or leave --port out to take a free one"
    else:
        message = f"cannot listen on {host} port {port}: {exc.strerror or exc}"
        hint = "use --host 127.0.0.1 (this machine only) or an address this machine has"
    return Problem("handbook serve", 0, 0, message, hint)
