"""Messages a newcomer meets: each in plain words, once, at the place to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, write

from handbook.build import check_cards
from handbook.errors import HandbookError


def _card_problems(project: Path) -> list[str]:
    """What ``handbook check`` prints, cards laid out as a build would."""
    with pytest.raises(HandbookError) as raised:
        check_cards(project)
    return [problem.format() for problem in raised.value.problems]


def test_a_stylesheet_typo_is_reported_once_at_the_stylesheet(tiny_copy: Path) -> None:
    sheet = write(tiny_copy / "styles" / "card.css", ".card h1 {\n  colr: red;\n}\n")
    sheet.write_text(sheet.read_text() + (REPO / "styles" / "card.css").read_text())
    assert _card_problems(tiny_copy) == [
        "styles/card.css:2:3: unknown CSS property 'colr'\n    hint: did you mean 'color'?"
    ]


def test_other_css_warnings_keep_their_words_without_the_position(tiny_copy: Path) -> None:
    write(tiny_copy / "styles" / "base.css", "p {\n  color: bluish;\n}\n")
    (problem,) = _card_problems(tiny_copy)
    assert problem.startswith("styles/base.css:2:3: CSS problem: Ignored `color: bluish`")
    assert " at 2:3" not in problem
