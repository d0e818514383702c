"""Time the saddle-stitch imposition of a 64-page booklet (target: under 0.2 s).

Run: .venv/bin/python bench/impose.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from handbook import engine
from handbook.press.impose import impose
from handbook.press.metadata import DocumentInfo
from handbook.press.sizes import print_sheet

ROOT = Path(__file__).resolve().parent.parent
INFO = DocumentInfo("Bench", ("The handbook project",), "en", date="2026-11-24")
PROSE = (
    "Warm the oil in your palms, then glide slowly from the neck down to the lower back. "
    "Ask how the pressure feels, and keep one hand on the back when you reach for more oil. "
) * 6


def full_booklet(n_pages: int) -> bytes:
    """An A5 booklet of ``n_pages`` full pages of prose in all the bundled faces."""
    page = f"<h2>Chapter</h2><p>{PROSE}</p><p><em>{PROSE}</em></p><p><strong>{PROSE}</strong></p>"
    html = "".join(f'<section style="break-after: page">{page}</section>' for _ in range(n_pages))
    source = engine.PageSource(
        html=f"<html><body>{html}</body></html>",
        stylesheets=(ROOT / "styles" / "base.css",),
        extra_css="@page { size: A5; margin: 15mm } body { font-size: 9pt }"
        " section { max-height: 170mm; overflow: hidden }",
        origin="bench",
        allowed_roots=(ROOT,),
    )
    return engine.to_pdf_bytes(engine.render(source), "bench")


def main() -> None:
    booklet = full_booklet(64)
    runs = []
    for _ in range(10):
        started = time.perf_counter()
        imposed = impose(booklet, print_sheet("a5"), INFO)
        runs.append(time.perf_counter() - started)
    median, worst = statistics.median(runs) * 1000, max(runs) * 1000
    print(
        f"impose 64 pages -> {imposed.sides} sides: median {median:.1f} ms, "
        f"max {worst:.1f} ms over {len(runs)} runs"
    )


if __name__ == "__main__":
    main()
