"""What prints where: the outline decides the booklet, each item decides its card."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from handbook.build import BuildOptions, build, check
from tests.conftest import pdf_text, problems_of, write

KIT = """\
kind: chapter
id: kit
title: The kit
card: {card}
sections:
  - id: kit-list
    title: Kit checklist
    card: true
    body: |
      - Gloves
      - Plasters
  - title: Where it lives
    body: In the hall cupboard.
"""


def settings(project: Path, outline: str) -> None:
    path = project / "handbook.yaml"
    kept = [line for line in path.read_text().splitlines() if not line.startswith("outline:")]
    path.write_text("\n".join([*kept, f"outline: {outline}", ""]), encoding="utf-8")


@pytest.mark.slow
def test_chapters_and_sections_opt_into_cards_and_items_opt_out(tiny_copy, tmp_path):
    write(tiny_copy / "content/kit.yaml", KIT.format(card="true"))
    settings(tiny_copy, "[intro, kit, techniques, routines, safety]")
    pressing = tiny_copy / "content/pressing.yaml"
    pressing.write_text(pressing.read_text() + "card: false\n", encoding="utf-8")
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    cards = sorted(path.stem for path in (out / "cards").glob("*.pdf"))
    assert cards == ["gentle", "gliding", "kit", "kit-list", "short"]
    assert "Kit checklist Gloves Plasters" in pdf_text(out / "cards/kit-list.pdf")
    assert "WHERE IT LIVES IN THE HALL CUPBOARD." in pdf_text(out / "cards/kit.pdf").upper()
    assert len(PdfReader(out / "cards.pdf").pages) == 5
    assert "Eases tight spots." in pdf_text(out / "handbook.pdf")  # no card, still in the booklet


@pytest.mark.slow
def test_an_empty_outline_makes_cards_only(tiny_copy, tmp_path):
    (tiny_copy / "content/intro.yaml").unlink()
    settings(tiny_copy, "[]")
    out = tmp_path / "out"
    report = build(tiny_copy, BuildOptions(out_dir=out))
    names = {result.path.relative_to(out).as_posix() for result in report.outputs}
    assert "handbook.pdf" not in names and "handbook-print.pdf" not in names
    assert not (out / "handbook.pdf").exists()
    assert {"cards.pdf", "card-sheets.pdf", "cards/gliding.pdf"} <= names


def test_a_project_of_chapters_only_makes_a_booklet_and_no_cards(tiny_copy, tmp_path):
    for name in ("gliding", "pressing", "short", "gentle"):
        (tiny_copy / "content" / f"{name}.yaml").unlink()
    text = (tiny_copy / "content/intro.yaml").read_text()
    (tiny_copy / "content/intro.yaml").write_text(re.sub(r"\]\(#\w+\)", "]", text))
    settings(tiny_copy, "[intro]")
    out = tmp_path / "out"
    report = build(tiny_copy, BuildOptions(out_dir=out))
    names = {result.path.relative_to(out).as_posix() for result in report.outputs}
    assert names == {"handbook.pdf", "handbook-print.pdf"}


@pytest.mark.slow
def test_a_part_left_out_of_the_outline_is_not_printed_and_links_to_it_become_text(
    tiny_copy, tmp_path
):
    settings(tiny_copy, "[intro, techniques]")
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    booklet = pdf_text(out / "handbook.pdf")
    assert "Short routine" not in booklet  # the routines part is left out
    assert "Glossary" not in booklet
    assert re.search(r"Safety first: Stay gentle(?!, page)", booklet)
    assert (out / "cards/short.pdf").exists() and (out / "cards/gentle.pdf").exists()


def test_a_chapter_the_outline_leaves_out_is_reported_unless_it_is_a_card(tiny_copy):
    write(tiny_copy / "content/kit.yaml", KIT.format(card="false").replace("card: true", ""))
    assert problems_of(tiny_copy) == [
        "content/kit.yaml:2:5: the chapter 'kit' is not in the outline, so it prints nowhere\n"
        "    hint: add it to 'outline' in handbook.yaml, or give it 'card: true' to print it "
        "as a card only"
    ]
    write(tiny_copy / "content/kit.yaml", KIT.format(card="true"))
    assert check(tiny_copy).chapters  # a card only: fine


def test_a_section_card_needs_an_id(tiny_copy):
    settings(tiny_copy, "[intro, kit, techniques]")
    write(
        tiny_copy / "content/kit.yaml",
        KIT.format(card="false").replace("  - id: kit-list\n    title", "  - title"),
    )
    assert problems_of(tiny_copy) == [
        "content/kit.yaml:6:5: a section printed as a card needs an 'id'\n"
        "    hint: add 'id: some-name' to the section; it names the card's file"
    ]


def test_nothing_to_print_is_reported(tiny_copy):
    for path in (tiny_copy / "content").glob("*.yaml"):
        if path.name != "zones.yaml":
            path.unlink()
    settings(tiny_copy, "[]")
    assert problems_of(tiny_copy) == [
        "content: nothing to print: content/ holds no chapter, technique, routine or safety "
        "topic\n    hint: add YAML files under content/ (run 'handbook init --bare DIR' for "
        "examples)"
    ]
