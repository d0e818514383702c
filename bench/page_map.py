"""Booklet layout with page numbers from target-counter() and from the build's page map.

    .venv/bin/python bench/page_map.py [--techniques 76] [--repeat 3]

For the default handbook and a generated one (``bench.py``'s generator, one
technique a page: 76 techniques make about 100 pages), lays out the booklet,
in one process and interleaved:

- ``target-counter``: no page map (a first build, and every build before the
  map): WeasyPrint finds the pages and lays out the pages citing them again;
- ``map``: the last build's page map, right: each page laid out once;
- ``stale map``: every number one page off (an edit that moved every page):
  laid out, checked, laid out again with the real numbers;

and prints the median CPU time of the layout, the pages WeasyPrint laid out
and each mode's ratio to ``target-counter``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import weasyprint.layout.page

from handbook import engine
from handbook.build import BuildOptions, makers
from handbook.content.validate import load_handbook
from handbook.html.render import Renderer
from handbook.project import open_project

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from bench import make_project  # noqa: E402

MODES = ("target-counter", "map", "stale map")
_laid_out = [0]
_remake_page = weasyprint.layout.page.remake_page


def _counting_remake_page(*args, **kwargs):
    _laid_out[0] += 1
    return _remake_page(*args, **kwargs)


weasyprint.layout.page.remake_page = _counting_remake_page


def booklet_source(root: Path) -> engine.PageSource:
    project = open_project(root)
    handbook = load_handbook(project)
    return Renderer(project).booklet(handbook, BuildOptions().format_for(handbook))


def lay_out(source: engine.PageSource, mode: str, right: dict[str, int]) -> tuple[float, int, int]:
    """CPU seconds, pages laid out, pages."""
    _laid_out[0] = 0
    started = time.process_time()
    if mode == "target-counter":
        document = engine.render(source)
    else:
        known = right if mode == "map" else {anchor: page + 1 for anchor, page in right.items()}
        document, _ = makers.lay_out_booklet(source, known)
    return time.process_time() - started, _laid_out[0], len(document.pages)


def measure(name: str, source: engine.PageSource, repeat: int) -> list[str]:
    right = engine.anchor_pages(engine.render(source))  # also warms up fonts and imports
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    counts: dict[str, tuple[int, int]] = {}
    for _ in range(repeat):
        for mode in MODES:
            seconds, laid_out, pages = lay_out(source, mode, right)
            cpu[mode].append(seconds)
            counts[mode] = (laid_out, pages)
    base = statistics.median(cpu["target-counter"])
    rows = []
    for mode in MODES:
        median = statistics.median(cpu[mode])
        laid_out, pages = counts[mode]
        rows.append(
            f"| {name} | {pages} | {mode} | {median:.2f} s | {laid_out} | {median / base:.2f} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--techniques", type=int, default=76)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| project | pages | page numbers | layout CPU | pages laid out | ratio |")
    print("|---|---|---|---|---|---|")
    for row in measure("default", booklet_source(REPO), args.repeat):
        print(row, flush=True)
    with tempfile.TemporaryDirectory() as temp:
        make_project(Path(temp), args.techniques)
        source = booklet_source(Path(temp))
        for row in measure(f"{args.techniques} techniques", source, args.repeat):
            print(row, flush=True)


if __name__ == "__main__":
    main()
