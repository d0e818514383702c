"""How many layouts each card needs to fit one page, over a project's cards.

    python bench/cards.py [PROJECT] [--size a6 ...]

Prints, for each card size, the renders per card (average and worst), the
renders of the cards that had to shrink, and the time per card. The target
for the default content: at most 1.3 renders per card on average, and at
most 4 for a card that needs shrinking.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from handbook.build import BuildOptions
from handbook.content.validate import load_handbook
from handbook.html.render import Renderer
from handbook.html.views import cards
from handbook.press.fit import fit_card
from handbook.press.sizes import CARD_SIZES
from handbook.project import open_project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--size", action="append", choices=list(CARD_SIZES))
    args = parser.parse_args()
    project = open_project(Path(args.project))
    handbook = load_handbook(project)
    renderer = Renderer(project)
    all_cards = cards(handbook)
    a6 = BuildOptions().format_for(handbook)
    fit_card(renderer.card(handbook, all_cards[0], a6), a6)  # warm up fonts and imports
    for size in args.size or list(CARD_SIZES):
        fmt = BuildOptions(card_size=size).format_for(handbook)
        renders, shrunk, failed = [], [], []
        started = time.perf_counter()
        for card in all_cards:
            fit = fit_card(renderer.card(handbook, card, fmt), fmt)
            renders.append(fit.renders)
            if not fit.fits:
                failed.append(card.id)
            elif fit.scale < 1:
                shrunk.append(f"{card.id} {fit.scale:.0%} ({fit.renders})")
        seconds = (time.perf_counter() - started) / len(all_cards)
        print(
            f"{size:6} {len(all_cards)} cards: {statistics.mean(renders):.2f} renders/card, "
            f"worst {max(renders)}, {seconds * 1000:.0f} ms/card"
        )
        if shrunk:
            print(f"       shrunk: {', '.join(shrunk)}")
        if failed:
            print(f"       too long at the floor: {', '.join(failed)}")


if __name__ == "__main__":
    main()
