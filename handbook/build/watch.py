"""``handbook watch``: build, then build again whenever a source file changes.

Watched: ``handbook.yaml``, everything under ``content/``, ``translations/``,
``templates/``, ``styles/``, ``fonts/`` and ``themes/`` (also when such a folder is
created later), and picture files anywhere in the project (content may name any);
the output folder is ignored. Rapid saves are gathered into one rebuild. A build
that fails reports its problems and leaves the last good outputs in place;
the next change simply builds again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from threading import Event

import watchfiles

from handbook import engine
from handbook.build import BuildOptions, BuildReport, OutputResult, build, session_workers
from handbook.errors import HandbookError
from handbook.images import PICTURE_TYPES
from handbook.project import OUTPUT_DIR, SETTINGS_FILE, open_project

WATCHED_FOLDERS = ("content", "translations", "templates", "styles", "fonts", "themes")


class SourceFilter(watchfiles.DefaultFilter):
    """Only the project's sources; never the output folder or editors' temporary files."""

    def __init__(self, root: Path, out_dir: Path):
        super().__init__()
        self.root, self.out_dir = root, out_dir

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        changed = Path(path)
        if not changed.is_relative_to(self.root):
            return False
        # An output folder holding the project (--out .) holds its sources too; what the
        # build writes there is none of the folders watched below.
        if changed.is_relative_to(self.out_dir) and not self.root.is_relative_to(self.out_dir):
            return False
        parts = changed.relative_to(self.root).parts
        picture = changed.suffix.lower() in PICTURE_TYPES
        if parts == (SETTINGS_FILE,) or picture or (parts and parts[0] in WATCHED_FOLDERS):
            return super().__call__(change, path)
        return False


def watch(
    project_dir: Path,
    options: BuildOptions,
    on_build: Callable[[BuildReport | HandbookError], None],
    *,
    on_output: Callable[[OutputResult], None] | None = None,
    on_change: Callable[[set[Path]], None] | None = None,
    stop_event: Event | None = None,
    debounce_ms: int = 300,
) -> None:
    """Build now and after every change until ``stop_event`` is set (or Ctrl-C)."""
    root = open_project(project_dir).root
    out_dir = (options.out_dir or root / OUTPUT_DIR).resolve()
    # The workers fork with WeasyPrint loaded; one that replaces a worker once the file
    # watcher's threads run is made by a fork server that has loaded it (see
    # workers.start_method). They serve every build, ready when a file is saved.
    engine.warm_up()
    with session_workers(root, options) as workers:

        def build_once() -> None:
            try:
                on_build(build(root, options, on_output, workers=workers))
            except HandbookError as exc:
                on_build(exc)

        build_once()
        for changes in watchfiles.watch(
            root,
            watch_filter=SourceFilter(root, out_dir),
            debounce=debounce_ms,
            stop_event=stop_event,
            raise_interrupt=False,
        ):
            if on_change:
                on_change({Path(path) for _, path in changes})
            build_once()
