"""Minimal reproduction, for an upstream report: fontTools decodes tables it is told to drop.

    .venv/bin/python bench/fonttools_drop_tables.py [FONT.ttf] [--repeat 7]

Only fontTools is used, with the options WeasyPrint 70 passes when it subsets
a font without libharfbuzz-subset (``pdf/fonts.py``, ``_fonttools_subset``):
GSUB, GPOS and SVG are in ``drop_tables``, a few glyphs are kept. The same
subset is made twice, from a fresh ``TTFont`` each time:

- as WeasyPrint does it: ``Subsetter.subset(font)``;
- with the tables to be dropped deleted from the font first.

It prints the median time of each, their ratio, and whether the two subset
fonts are byte-identical. ``Subsetter.subset`` decodes GSUB and GPOS (and
GDEF's use of them) for its layout closure before ``_prune_pre_subset``
drops them, so the first costs far more for the same bytes.
"""

from __future__ import annotations

import argparse
import io
import logging
import statistics
import time
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

FONT = Path(__file__).resolve().parent.parent / "fonts" / "Lato-Regular.ttf"
TEXT = "Warm the oil in your palms, then glide slowly from the neck down. 0123456789"


def options() -> subset.Options:
    """WeasyPrint 70's options for fontTools subsetting."""
    chosen = subset.Options(
        retain_gids=True,
        passthrough_tables=True,
        ignore_missing_glyphs=True,
        hinting=False,
        desubroutinize=True,
        notdef_outline=False,
    )
    chosen.drop_tables += ["GSUB", "GPOS", "SVG"]
    return chosen


def subset_font(data: bytes, gids: list[int], drop_first: bool) -> bytes:
    # No clock in the saved font, so that the two subsets can be compared byte for byte.
    font = TTFont(io.BytesIO(data), recalcTimestamp=False)
    subsetter = subset.Subsetter(options())
    subsetter.populate(gids=gids)
    if drop_first:
        tags = font.keys()  # (a TTFont is no mapping: iterating it yields no tags)
        dropped = [tag for tag in tags if tag.strip() in subsetter.options.drop_tables]
        if "GPOS" in font and "kern" in font:
            dropped.append("kern")  # the subsetter drops 'kern' while GPOS is there
        for tag in dropped:
            del font[tag]
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def timed(data: bytes, gids: list[int], drop_first: bool) -> tuple[float, bytes]:
    started = time.process_time()
    result = subset_font(data, gids, drop_first)
    return time.process_time() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("font", nargs="?", type=Path, default=FONT)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    logging.getLogger("fontTools").setLevel(logging.ERROR)  # Lato's creation date is old
    data = args.font.read_bytes()
    cmap = TTFont(io.BytesIO(data)).getBestCmap()
    order = TTFont(io.BytesIO(data)).getGlyphOrder()
    gids = sorted({order.index(cmap[ord(c)]) for c in TEXT if ord(c) in cmap})
    plain, lean = [], []
    for _ in range(args.repeat):  # interleaved, so that load on the machine hits both alike
        seconds, plain_bytes = timed(data, gids, drop_first=False)
        plain.append(seconds)
        seconds, lean_bytes = timed(data, gids, drop_first=True)
        lean.append(seconds)
    print(f"font: {args.font.name}, {len(gids)} glyphs kept, median of {args.repeat} (CPU)")
    print(f"Subsetter.subset as is:            {statistics.median(plain) * 1000:7.1f} ms")
    print(f"dropped tables deleted beforehand: {statistics.median(lean) * 1000:7.1f} ms")
    print(f"ratio: {statistics.median(lean) / statistics.median(plain):.2f}")
    print(f"byte-identical subsets: {plain_bytes == lean_bytes}")


if __name__ == "__main__":
    main()
