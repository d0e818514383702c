"""Routines as sequences: timed or untimed, steps as free text or references to any item."""

from __future__ import annotations

import itertools
import re

import pymupdf
import pytest

from handbook.build import BuildOptions, build, check
from handbook.content.model import RoutineStep
from handbook.html.render import Renderer
from handbook.html.views import cards
from handbook.project import open_project
from tests.conftest import pdf_text, problems_of, write

SURVEY = """\
kind: routine
id: survey
title: Primary survey
steps:
  - title: Danger
    note: Make sure everyone is safe.
  - title: Response
  - item: gentle
  - item: pressing
    note: Start compressions.
"""


@pytest.mark.slow
def test_an_untimed_routine_prints_as_a_numbered_checklist_without_timeline_or_total(
    tiny_copy, tmp_path
):
    write(tiny_copy / "content/survey.yaml", SURVEY)
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    card = pdf_text(out / "cards/survey.pdf")
    assert card.startswith(
        "Primary survey 1 Danger Make sure everyone is safe. 2 Response 3 Stay gentle "
        "4 Pressing Start compressions."
    )
    assert "Total" not in card and "min" not in card
    booklet = pdf_text(out / "handbook.pdf")
    assert "Primary survey Danger: Make sure everyone is safe. Response Stay gentle (see page" in (
        booklet
    )


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("30 s", 30), ("2 min", 120), ("1.5 min", 90), ("1:30", 90), ("1 h", 3600), ("45 sec", 45)],
)
def test_durations_are_read_as_text(written, seconds):
    assert RoutineStep(title="Rest", duration=written).seconds == seconds


@pytest.mark.slow
def test_a_timed_routine_in_seconds_prints_its_times_and_total(tiny_copy, tmp_path):
    write(
        tiny_copy / "content/short.yaml",
        """\
        kind: routine
        id: short
        title: Short routine
        duration: "1:30"
        steps:
          - {item: gliding, duration: 30 s}
          - {title: Rest, duration: 1 min}
        """,
    )
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    card = pdf_text(out / "cards/short.pdf")
    assert "1 Gliding 30 s 2 Rest 1 min Total 1.5 min" in card


def test_a_routine_timed_in_part_is_reported_at_the_first_untimed_step(tiny_copy):
    write(
        tiny_copy / "content/survey.yaml",
        SURVEY.replace("  - title: Response\n", "  - title: Response\n    duration: 10 s\n"),
    )
    assert problems_of(tiny_copy) == [
        "content/survey.yaml:5:5: step 1 has no time, but other steps of this routine do\n"
        "    hint: give every step 'minutes' or a 'duration', or none of them (an untimed "
        "routine prints as a checklist)"
    ]


def test_a_total_that_the_steps_do_not_add_up_to_is_reported(tiny_copy):
    short = tiny_copy / "content/short.yaml"
    short.write_text(short.read_text().replace("minutes: 5", "duration: 4 min"))
    assert problems_of(tiny_copy) == [
        "content/short.yaml:4:11: the steps add up to 5 minutes, but the routine says 4 minutes\n"
        "    hint: change 'duration' or the times of the steps so they agree, or leave "
        "'duration' out"
    ]


BOTH_OR_NEITHER = "a step needs 'item' (what it refers to) or 'title', one of them"


@pytest.mark.parametrize(
    ("step", "column", "message"),
    [
        ("{item: gliding, title: Glide}", 5, BOTH_OR_NEITHER),
        ("{note: Just a note}", 5, BOTH_OR_NEITHER),
        ("{title: Rest, duration: 2 minuets}", 29, "'2 minuets' is not a duration such as 30 s"),
        ("{item: glidng}", 12, "unknown technique, safety topic or routine 'glidng'"),
        ("{item: survey}", 12, "a routine cannot be a step of itself"),
    ],
)
def test_a_wrong_step_is_a_located_problem(tiny_copy, step, column, message):
    write(tiny_copy / "content/survey.yaml", SURVEY + f"  - {step}\n")
    (problem,) = problems_of(tiny_copy)
    assert problem.startswith(f"content/survey.yaml:11:{column}: {message}")


@pytest.mark.slow
def test_a_long_timeline_gives_every_item_its_own_swatch_and_no_two_tick_labels_meet(
    tiny_copy, tmp_path
):
    steps = "".join(
        f"  - {{title: Step {n}, duration: {seconds} s}}\n"
        for n, seconds in enumerate([15, 15, 15, 20, 10, 25, 15, 45, 60], start=1)
    )
    write(tiny_copy / "content/many.yaml", f"kind: routine\nid: many\ntitle: Many\nsteps:\n{steps}")
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    project = open_project(tiny_copy)
    handbook = check(tiny_copy)
    card = next(c for c in cards(handbook) if c.id == "many")
    html = Renderer(project).card(handbook, card, BuildOptions().format_for(handbook)).html
    fills = re.findall(r'class="segment" data-item="[^"]*"[^>]*fill="url\(#([^)]*)\)"', html)
    patterns = dict(re.findall(r'<pattern id="([^"]*)"(.*?)</pattern>', html, re.S))
    assert len(set(fills)) == 9 and len({patterns[f] for f in fills}) == 9
    page = pymupdf.open(out / "cards/many.pdf")[0]
    ticks = [
        (span["bbox"][0], span["bbox"][2], span["text"])
        for block in page.get_text("dict")["blocks"]
        for line in block.get("lines", [])
        for span in line["spans"]
        if re.fullmatch(r"\d+:\d\d", span["text"].strip())
    ]
    assert len(ticks) >= 4 and ticks[-1][2].strip() == "3:40"
    ticks.sort()
    assert all(left[1] <= right[0] for left, right in itertools.pairwise(ticks))
    assert "Total 3 min 40 s" in pdf_text(out / "cards/many.pdf")
