"""A handbook's own scale, key facts, and one label for each printed word."""

from __future__ import annotations

from pathlib import Path

import pytest

from handbook.build import BuildOptions, build, check
from handbook.content.model import Labels
from handbook.errors import HandbookError
from tests.conftest import pdf_text, write

CPR = """\
kind: technique
id: gliding
name: Chest compressions
purpose: Keeps blood moving until help arrives.
level: 2
facts:
  - {label: Rate, value: 100-120 a minute}
  - {label: Depth, value: 5-6 cm}
  - {label: Ratio, value: "30:2"}
steps:
  - Heel of the hand on the centre of the chest.
  - Push hard and fast.
safety: [gentle]
"""


def settings(project: Path, extra: str) -> None:
    path = project / "handbook.yaml"
    kept = [line for line in path.read_text().splitlines() if not line.startswith("scale:")]
    path.write_text("\n".join(kept) + "\n" + extra, encoding="utf-8")


def only_problem(project: Path):
    with pytest.raises(HandbookError) as raised:
        check(project)
    (problem,) = raised.value.problems
    return problem


@pytest.mark.slow
def test_a_scale_of_its_own_and_key_facts_print_in_the_booklet_and_on_the_card(tiny_copy, tmp_path):
    settings(tiny_copy, "scale: {label: Effort, max: 3}\n")
    write(tiny_copy / "content/gliding.yaml", CPR)
    write(
        tiny_copy / "content/pressing.yaml",
        CPR.replace("gliding", "pressing", 1).replace("level: 2", "level: 3"),
    )
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    booklet = pdf_text(out / "handbook.pdf")
    assert "Effort: 2 / 3 Rate: 100-120 a minute Depth: 5-6 cm Ratio: 30:2" in booklet
    card = pdf_text(out / "cards/gliding.pdf")
    assert "EFFORT 2/3 RATE 100-120 A MINUTE DEPTH 5-6 CM RATIO 30:2" in card.upper()
    assert "Pressure" not in booklet + card


def test_a_level_needs_a_scale(tiny_copy):
    settings(tiny_copy, "")
    write(tiny_copy / "content/gliding.yaml", CPR.replace("level: 2\n", ""))
    problem = only_problem(tiny_copy)
    assert problem.format() == (
        "content/pressing.yaml:5:8: 'level' needs a scale, and this handbook has none\n"
        "    hint: add one to handbook.yaml, such as 'scale: {label: Pressure, max: 5}'"
    )


def test_a_level_above_the_scale_is_located(tiny_copy):
    settings(tiny_copy, "scale: {label: Effort, max: 2}\n")
    problem = only_problem(tiny_copy)
    assert problem.format() == (
        "content/pressing.yaml:5:8: level 3 is above the top of the scale, 2\n"
        "    hint: give a level from 1 to 2, or raise 'max' of the scale in handbook.yaml"
    )


def test_an_unknown_label_lists_every_label(tiny_copy):
    settings(tiny_copy, "labels:\n  nevr: Niemals\n")
    problem = only_problem(tiny_copy)
    assert (problem.path, problem.line, problem.column) == ("handbook.yaml", 7, 3)
    assert problem.message == "unknown label 'nevr'"
    assert problem.hint.startswith("did you mean 'never'? the labels are: contents, chapter,")
    assert all(name in problem.hint for name in Labels.model_fields)


@pytest.mark.slow
def test_the_card_back_and_the_safety_map_have_labels_of_their_own(tiny_copy, tmp_path):
    settings(
        tiny_copy,
        "scale: {label: Pressure, max: 5}\n"
        "labels:\n  card_back: Before you start\n  safety_zones: Danger zone\n",
    )
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out, duplex=True))
    assert "Before you start" in pdf_text(out / "cards/backs/gliding.pdf")
    assert "Safety first" in pdf_text(out / "cards/gliding.pdf")  # the related line keeps its word
    safety_card = pdf_text(out / "cards/gentle.pdf")
    assert "Danger zone" in safety_card and "Keep off" not in safety_card
