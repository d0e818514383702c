"""What an item prints: the 'never' line in the booklet, links in any prose field."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from handbook.build import BuildOptions, build, check
from handbook.errors import HandbookError
from tests.conftest import write


def page_texts(pdf: Path) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages]


@pytest.mark.slow
def test_the_never_line_prints_in_the_booklet_on_its_technique_page(tiny_copy, tmp_path):
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    pages = page_texts(out / "handbook.pdf")
    page = next(text for text in pages if "Rest both hands flat." in text)  # a step of Gliding
    assert "NEVER Never press hard." in page


LINKED = """\
kind: technique
id: gliding
name: Gliding
purpose: Warms up and calms, before [Pressing](#pressing).
steps:
  - Rest both hands flat.
  - Glide down, then go on with [Pressing](#pressing).
never: Never press hard; see [Stay gentle](#gentle).
safety: [gentle]
"""


@pytest.mark.slow
def test_links_print_as_text_with_their_booklet_page_on_cards_and_as_references_in_the_booklet(
    tiny_copy, tmp_path
):
    write(tiny_copy / "content/gliding.yaml", LINKED)
    write(
        tiny_copy / "content/short.yaml",
        """\
        kind: routine
        id: short
        title: Short routine
        minutes: 4
        steps:
          - {item: gliding, minutes: 2, note: "as in [Gliding](#gliding)"}
          - {item: pressing, minutes: 2}
        """,
    )
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out, duplex=True))
    booklet = page_texts(out / "handbook.pdf")
    assert "go on with Pressing (see page " in " ".join(booklet)

    def cited_page(text: str, pattern: str) -> str:
        """The page a card cites, which must be where the booklet prints that heading."""
        page = int(re.search(pattern, text)[1])
        return booklet[page - 1]

    card = page_texts(out / "cards/gliding.pdf")[0]
    assert "Pressing Eases tight spots." in cited_page(
        card, r"go on with Pressing \(see page (\d+)\)\."
    )
    assert "Stay gentle" in cited_page(card, r"see Stay gentle \(see page (\d+)\)\.")
    routine = page_texts(out / "cards/short.pdf")[0]
    assert "Rest both hands flat." in cited_page(routine, r"as in Gliding \(see page (\d+)\)")
    back = page_texts(out / "cards/backs/gliding.pdf")[0]
    assert re.search(r"see Stay gentle \(see page \d+\)\.", back)


def test_a_card_without_a_booklet_prints_its_links_as_text_alone(tiny_copy, tmp_path):
    write(tiny_copy / "content/gliding.yaml", LINKED)
    (tiny_copy / "content/intro.yaml").unlink()
    settings = tiny_copy / "handbook.yaml"
    text = "".join(line for line in settings.read_text().splitlines(True) if "outline" not in line)
    settings.write_text(text + "outline: []\n")
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    card = page_texts(out / "cards/gliding.pdf")[0]
    assert "go on with Pressing." in card and "page" not in card


def test_check_finds_a_broken_link_in_any_field_at_its_line(tiny_copy):
    text = LINKED.replace(
        "Glide down, then go on with [Pressing](#pressing).", "Then [x](#presing)."
    )
    write(tiny_copy / "content/gliding.yaml", text)
    with pytest.raises(HandbookError) as raised:
        check(tiny_copy)
    (problem,) = raised.value.problems
    assert problem.format() == (
        "content/gliding.yaml:7:5: the link '#presing' points at no chapter, section, "
        "technique, routine or safety topic\n    hint: did you mean 'pressing'?"
    )


def test_a_link_to_a_zone_is_refused_since_the_booklet_has_no_place_for_it(tiny_copy):
    write(tiny_copy / "content/gliding.yaml", LINKED.replace("(#pressing).\n", "(#upper).\n", 1))
    with pytest.raises(HandbookError) as raised:
        check(tiny_copy)
    assert [p.line for p in raised.value.problems] == [4]  # the purpose
    assert "the link '#upper' points at no chapter" in raised.value.problems[0].message


@pytest.mark.slow
def test_tone_and_severity_print_as_words_in_the_handbook_language(tiny_copy, tmp_path):
    intro = tiny_copy / "content/intro.yaml"
    intro.write_text(intro.read_text() + "    tone: caution\n", encoding="utf-8")
    settings = tiny_copy / "handbook.yaml"
    settings.write_text(settings.read_text() + "labels: {stop: Halt, caution: Vorsicht}\n")
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    booklet = " ".join(page_texts(out / "handbook.pdf"))
    assert "VORSICHT Before you start" in booklet
    assert "HALT Stay gentle" in booklet  # the safety topic, severity stop
    assert page_texts(out / "cards/gentle.pdf")[0].startswith("HALT Stay gentle")


def test_a_file_that_cannot_be_parsed_is_the_only_problem_reported(tiny_copy):
    """References to the ids it declares (links, routine steps) are explained by it."""
    text = LINKED.replace("Glide down, then go on with [Pressing](#pressing).", "[x](#y) z")
    write(tiny_copy / "content/gliding.yaml", text)
    with pytest.raises(HandbookError) as raised:
        check(tiny_copy)
    assert [(p.path, p.line) for p in raised.value.problems] == [("content/gliding.yaml", 7)]


def test_a_fifo_among_the_content_is_refused_and_never_read(tiny_copy):
    os.mkfifo(tiny_copy / "content/pipe.yaml")
    with pytest.raises(HandbookError) as raised:
        check(tiny_copy)
    assert [p.path for p in raised.value.problems] == ["content/pipe.yaml"]
