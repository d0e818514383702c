"""Rebuilds of a few outputs with workers started ahead as before, and sized to the work.

    .venv/bin/python bench/rebuild.py [PROJECT] [--repeat 5]

A build starts its rendering workers before it knows what is stale, so that
they import WeasyPrint while the project is read. A rebuild (the output
folder holds a previous build) starts one, and more only while outputs wait
for one. This measures, interleaved, in a fresh process each, with the
default jobs:

- ``one card``: one card's PDF deleted, so that one output is stale;
- ``one edit``: one technique's purpose edited (its card, the booklet and
  what is made of them, if their inputs changed);

each with the workers sized to the work (``sized``) and started ahead one
per core as before (``ahead``); the edit also with the workers sized but
the booklet's page map deleted first (``no map``: its page numbers found by
WeasyPrint's target-counter(), as before the map), and prints medians of
wall and CPU time, and of the booklet's own time for the edit.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from handbook.build.cache import PAGE_MAP

REPO = Path(__file__).resolve().parent.parent
MODES = ("sized", "ahead")
NO_MAP = "no map"


def child(mode: str, project: str, out: str) -> None:
    """One build in this process; ``ahead`` starts workers as if it were a first build."""
    from handbook.build import RENDERED, BuildOptions, build, pipeline

    if mode == "ahead":
        workers = pipeline._workers
        pipeline._workers = lambda options, rebuild=False: workers(options)
    report = build(Path(project), BuildOptions(out_dir=Path(out)))
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(u.ru_utime + u.ru_stime for u in usage)
    rendered = report.with_status(RENDERED)
    booklet = [o for o in rendered if o.path.name == "handbook.pdf"]
    seconds = booklet[0].seconds if booklet else 0.0
    print(json.dumps({"cpu": cpu, "rendered": len(rendered), "booklet": seconds}))


def run(mode: str, project: Path, out: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "_child", mode, str(project), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"build failed:\n{done.stderr}")
    return seconds, json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        return child(*sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=REPO)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--technique", default="kneading", help="the technique edited")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        project = Path(temp) / "project"
        shutil.copytree(args.project / "content", project / "content")
        shutil.copytree(args.project / "pictures", project / "pictures")
        shutil.copy(args.project / "handbook.yaml", project)
        out = Path(temp) / "out"
        run("sized", project, out)
        card = next(p for p in sorted((out / "cards").glob("*.pdf")))
        edited = project / "content" / "techniques" / f"{args.technique}.yaml"
        text = edited.read_text()
        wall: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        booklet: dict[str, list[float]] = {}  # the booklet's own time in its worker
        for attempt in range(args.repeat):
            for mode in MODES:
                card.unlink()
                seconds, info = run(mode, project, out)
                assert info["rendered"] == 1, info
                wall.setdefault(("one card", mode), []).append(seconds)
                cpu.setdefault(("one card", mode), []).append(info["cpu"])
                edited.write_text(
                    text.replace("purpose: >-\n", f"purpose: >-\n  ({attempt}{mode})\n")
                )
                seconds, info = run(mode, project, out)
                assert info["rendered"] > 1, info
                wall.setdefault(("one edit", mode), []).append(seconds)
                cpu.setdefault(("one edit", mode), []).append(info["cpu"])
                booklet.setdefault(mode, []).append(info["booklet"])
            (out / PAGE_MAP).unlink()
            edited.write_text(text.replace("purpose: >-\n", f"purpose: >-\n  ({attempt}map)\n"))
            seconds, info = run("sized", project, out)
            wall.setdefault(("one edit", NO_MAP), []).append(seconds)
            cpu.setdefault(("one edit", NO_MAP), []).append(info["cpu"])
            booklet.setdefault(NO_MAP, []).append(info["booklet"])
    print(f"rebuilds of {args.project}, median of {args.repeat}")
    print("| rebuild | workers | wall | CPU | wall / ahead | CPU / ahead |")
    print("|---|---|---|---|---|---|")
    for what in ("one card", "one edit"):
        base_wall = statistics.median(wall[(what, "ahead")])
        base_cpu = statistics.median(cpu[(what, "ahead")])
        for mode in MODES if what == "one card" else (*MODES, NO_MAP):
            w, c = statistics.median(wall[(what, mode)]), statistics.median(cpu[(what, mode)])
            print(
                f"| {what} | {mode} | {w:.2f} s | {c:.2f} s "
                f"| {w / base_wall:.2f} | {c / base_cpu:.2f} |"
            )
    for mode, seconds in booklet.items():
        print(f"one edit, {mode}: the booklet took {statistics.median(seconds):.2f} s")


if __name__ == "__main__":
    main()
