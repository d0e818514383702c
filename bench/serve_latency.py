"""Save-to-picture time of ``handbook serve`` on the default project.

    .venv/bin/python bench/serve_latency.py               # 5 runs of each edit
    .venv/bin/python bench/serve_latency.py --runs 7 --work /tmp/serve-bench

Copies the default project, serves it (as ``handbook serve`` does, on a free
port), waits for the first build, then saves two kinds of edit in turn and
times each from the moment the file is written to the moment a page waiting
on the server's state endpoint has the new state and has fetched the changed
picture:

- one card: a step of a technique (its card changes, and its booklet page);
- booklet text: a chapter's summary (the booklet's pages change).

Prints the median and the range of the runs, and what each build rendered.
It is not a test: keep it out of the pytest suite.
"""

from __future__ import annotations

import argparse
import json
import queue
import shutil
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from handbook.build import RENDERED, BuildOptions, BuildReport
from handbook.project import defaults_root
from handbook.serve import serve

EDITS = {
    # name: (file, text to change, the picture that must change)
    "one card": ("content/techniques/kneading.yaml", "like soft dough", "card-kneading"),
    "booklet text": ("content/chapters/welcome.yaml", "calm, comfortable", None),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="serve-bench-"))
    root = copy_default(work / "project")
    urls: queue.Queue = queue.Queue()
    builds: queue.Queue = queue.Queue()
    stop = threading.Event()
    kwargs = {"on_ready": urls.put, "on_build": builds.put, "stop_event": stop}
    server = threading.Thread(target=serve, args=(root, BuildOptions()), kwargs=kwargs)
    server.start()
    try:
        url = urls.get(timeout=60)
        started = time.perf_counter()
        builds.get(timeout=600)
        print(f"first build and pictures: {time.perf_counter() - started:.2f} s")
        results = {name: [] for name in EDITS}
        for run in range(args.runs):
            for name, edit in EDITS.items():
                seconds, rendered = save_and_wait(root, url, builds, edit, run)
                results[name].append(seconds)
                print(f"  {name:<13} run {run + 1}: {seconds:.2f} s ({', '.join(rendered)})")
        for name, times in results.items():
            print(
                f"{name:<13} median {statistics.median(times):.2f} s "
                f"(min {min(times):.2f}, max {max(times):.2f}, {len(times)} runs)"
            )
    finally:
        stop.set()
        server.join(timeout=60)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def copy_default(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copy(defaults_root() / "handbook.yaml", root / "handbook.yaml")
    for folder in ("content", "pictures"):
        shutil.copytree(defaults_root() / folder, root / folder)
    return root


def save_and_wait(root: Path, url: str, builds: queue.Queue, edit, run: int):
    """Write the edit, then wait as the page does: for the state that shows the picture
    changed (cards and pages are shown as each is written), then fetch that picture."""
    file, text, picture = edit
    path = root / file
    before = state(url)
    source = path.read_text(encoding="utf-8")
    old = text if run == 0 else f"{text} {run}"
    assert old in source, (file, old)
    saved = time.perf_counter()
    path.write_text(source.replace(old, f"{text} {run + 1}"), encoding="utf-8")
    version, wanted = before["version"], None
    while wanted is None:
        now = state(url, since=version)
        version = now["version"]
        changed = changed_pictures(before, now)
        wanted = picture if picture in changed else None
        if picture is None and changed:
            wanted = min(changed)
    source_of = {p["name"]: p["src"] for p in [*now["pages"], *now["cards"]]}
    urllib.request.urlopen(url.rstrip("/") + source_of[wanted]).read()
    seconds = time.perf_counter() - saved
    report = builds.get(timeout=600)
    assert isinstance(report, BuildReport), report
    rendered = [r.path.relative_to(root / "build").as_posix() for r in report.with_status(RENDERED)]
    return seconds, rendered


def changed_pictures(before: dict, after: dict) -> set[str]:
    old = {p["name"]: p["src"] for p in [*before["pages"], *before["cards"]]}
    return {p["name"] for p in [*after["pages"], *after["cards"]] if old.get(p["name"]) != p["src"]}


def state(url: str, since: int | None = None) -> dict:
    query = "" if since is None else f"?since={since}"
    with urllib.request.urlopen(f"{url.rstrip('/')}/state{query}", timeout=60) as response:
        return json.load(response)


if __name__ == "__main__":
    main()
