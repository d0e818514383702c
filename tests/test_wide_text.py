"""Text wider than its card: long words hyphenate in the handbook's language, or are reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from handbook.build import BuildOptions, build, check_cards
from handbook.errors import HandbookError

COMPOUND = "Arbeitsflächendesinfektionsmittel"


def german(project: Path, name: str) -> None:
    settings = project / "handbook.yaml"
    settings.write_text(settings.read_text().replace("language: en", "language: de"))
    technique = project / "content/gliding.yaml"
    technique.write_text(technique.read_text().replace("name: Gliding", f"name: {name}"))


@pytest.mark.slow
def test_a_long_compound_in_a_card_title_hyphenates_in_the_handbook_language(tiny_copy, tmp_path):
    german(tiny_copy, COMPOUND)
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    card = PdfReader(out / "cards/gliding.pdf").pages[0].extract_text()
    lines = card.splitlines()
    assert COMPOUND not in lines  # broken across lines ...
    assert any(line.startswith("Arbeitsflä") and line.endswith("\u2010") for line in lines)
    routine = PdfReader(out / "cards/short.pdf").pages[0].extract_text()
    assert "1Arbeits" not in routine.replace("\n", "")  # the step number stands apart


@pytest.mark.slow
def test_a_word_that_cannot_break_is_a_located_problem(tiny_copy):
    german(tiny_copy, "X" * 60)
    with pytest.raises(HandbookError) as raised:
        check_cards(tiny_copy)
    messages = [problem.format() for problem in raised.value.problems]
    assert messages[0].startswith(
        "content/gliding.yaml:3:1: the technique card 'gliding' has text wider than the A6 "
        f"card: '{'X' * 60}'"
    )
    assert "hint: break the word where it may be hyphenated" in messages[0]
