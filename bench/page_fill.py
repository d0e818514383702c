"""How full a booklet's pages are: blank pages and pages over half empty.

    python bench/page_fill.py build/handbook.pdf [--margins TOP BOTTOM]

Fill is the height from the top of the text area to the lowest text or
drawing on the page, over the text area's height; running heads and folios
(in the margins) do not count. The cover and back cover are listed like any
page, and counted apart.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pymupdf

MM = 72 / 25.4
HALF = 0.5  # a page filled less than this is "over half empty"


def page_fills(pdf: Path, top_mm: float, bottom_mm: float) -> list[float]:
    fills = []
    with pymupdf.open(pdf) as document:
        for page in document:
            top, bottom = top_mm * MM, page.rect.height - bottom_mm * MM
            lowest = top
            boxes = [b[:4] for b in page.get_text("blocks")]
            boxes += [tuple(d["rect"]) for d in page.get_drawings()]
            boxes += [tuple(info["bbox"]) for info in page.get_image_info()]
            for _, y0, _, y1 in boxes:
                if y0 >= top - 1 and y1 <= bottom + 1 and y1 > lowest:
                    lowest = y1
            fills.append((lowest - top) / (bottom - top))
    return fills


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", type=Path)
    parser.add_argument(
        "--margins", nargs=2, type=float, default=(17, 17), metavar=("TOP", "BOTTOM")
    )
    args = parser.parse_args()
    fills = page_fills(args.pdf, *args.margins)
    inner = fills[1:-1]  # the covers are full pages of their own
    blank = [n for n, fill in enumerate(inner, 2) if fill == 0]
    sparse = [n for n, fill in enumerate(inner, 2) if 0 < fill < HALF]
    print(f"{len(fills)} pages; {len(blank)} blank {blank}; {len(sparse)} over half empty {sparse}")
    print("fill by page:", " ".join(f"{n}:{fill:.0%}" for n, fill in enumerate(fills, 1)))


if __name__ == "__main__":
    main()
