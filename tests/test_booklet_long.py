"""The printed booklet, long: a two-page contents, bookmarks, page turns, running heads,
gutters and cross-references of a 30-technique handbook (built once; the slow tier)."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2
import pytest
import yaml
from pypdf import PdfReader

from handbook.build import BuildOptions, build
from handbook.press.sizes import points
from tests.conftest import write

pytestmark = pytest.mark.slow

SAFETY = {"hot-skin": "Hot skin", "sharp-pain": "Sharp pain"}
TECHNIQUES = [f"technique-{n:02d}" for n in range(1, 31)]


def technique_name(technique_id: str) -> str:
    return f"Move {int(technique_id.split('-')[1])}"


def dump(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def write_long_project(root: Path) -> Path:
    """A stretching handbook long enough for a two-page contents and many page turns."""
    write(
        root / "handbook.yaml",
        """
        title: Stretching at the Desk
        authors: [Ada Example, Bo Example]
        language: en-GB
        date: 2026-01-15
        outline: [start, techniques, routines, safety, glossary]
        """,
    )
    sentence = "Breathe out slowly and let the shoulders sink while the neck stays long. "
    write(
        root / "content" / "start.yaml",
        f"""
        kind: chapter
        id: start
        title: Before you start
        summary: Read this first.
        sections:
          - title: Warming up
            body: |
              {sentence * 12}
              Begin with [the first move](#technique-01), and stop at [sharp pain](#sharp-pain).
          - title: Going further
            body: |
              {sentence * 30}
              When you are warm, go on with [move 17](#technique-17).
        """,
    )
    for number, technique_id in enumerate(TECHNIQUES, start=1):
        technique = {
            "kind": "technique",
            "id": technique_id,
            "name": technique_name(technique_id),
            "purpose": sentence,
            "facts": [{"label": "Time", "value": f"{number} min"}],
            "steps": [sentence * (1 + (number + i) % 3) for i in range(4)],
            "safety": ["hot-skin" if number % 2 else "sharp-pain"],
        }
        dump(root / "content" / "techniques" / f"{technique_id}.yaml", technique)
    for topic_id, title in SAFETY.items():
        topic = {
            "kind": "safety",
            "id": topic_id,
            "title": title,
            "severity": "stop",
            "conditions": [sentence],
            "actions": [sentence],
        }
        dump(root / "content" / "safety" / f"{topic_id}.yaml", topic)
    steps = [{"item": TECHNIQUES[0], "minutes": 2}, {"item": TECHNIQUES[1], "minutes": 2}]
    routine = {"kind": "routine", "id": "morning", "title": "Morning set", "minutes": 4}
    dump(root / "content" / "routines" / "morning.yaml", {**routine, "steps": steps})
    return root


@pytest.fixture(scope="module")
def long_build(tmp_path_factory) -> Path:
    """The long handbook built once for this module; returns its output folder."""
    root = write_long_project(tmp_path_factory.mktemp("long") / "project")
    build(root, BuildOptions(out_dir=root / "build"))
    return root / "build"


def outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(level, title, 1-based page number) for every bookmark, in order."""
    found = []

    def walk(items, level):
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                found.append((level, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 0)
    return found


@pytest.fixture(scope="module")
def long_texts(long_build) -> list[str]:
    """The text of every page of the long booklet."""
    return [page.extract_text() for page in PdfReader(long_build / "handbook.pdf").pages]


TOC_LINE = re.compile(r"^(?P<title>\S.*?)\s*(?:\.\s*){3,}(?P<page>\d+)$")


def toc_entries(texts: list[str]) -> dict[str, int]:
    """The contents' entries, read from the pages before the first chapter."""
    entries = {}
    for text in texts:
        lines = text.splitlines()
        matches = [TOC_LINE.match(line.strip()) for line in lines]
        if text.startswith("Contents") or (entries and any(matches)):
            entries |= {m["title"]: int(m["page"]) for m in matches if m}
        elif entries:
            break
    return entries


def test_contents_page_numbers_are_the_pages_of_the_headings(long_build, long_texts):
    reader = PdfReader(long_build / "handbook.pdf")
    texts = long_texts
    entries = toc_entries(texts)
    expected = ["Before you start", "Techniques", "Routines", "Safety", "Glossary", "Morning set"]
    expected += [technique_name(t) for t in TECHNIQUES] + list(SAFETY.values())
    assert sorted(entries) == sorted(expected)
    with_leaders = [n for n, text in enumerate(texts, 1) if re.search(r"(\. ){3,}\d+$", text, re.M)]
    assert with_leaders == [3, 4]  # the contents start on a right-hand page and take two
    bookmarks = {title: page for _, title, page in outline(reader)}
    for title, page in entries.items():
        assert bookmarks[title] == page, title
        # The heading itself is a line on that page (after a safety topic's severity word;
        # routines add their minutes).
        heading = re.compile(
            rf"^(?:(?:STOP|CAUTION|NOTE) +)?{re.escape(title)}( \(\d+ min\))?$", re.M
        )
        assert heading.search(texts[page - 1]), (title, page)


def test_bookmarks_for_every_chapter_technique_routine_and_safety_topic(long_build):
    marks = outline(PdfReader(long_build / "handbook.pdf"))
    top = [title for level, title, _ in marks if level == 0]
    assert top == ["Contents", "Before you start", "Techniques", "Routines", "Safety", "Glossary"]
    second = [title for level, title, _ in marks if level == 1]
    techniques = [technique_name(t) for t in TECHNIQUES]
    assert second == ["Warming up", "Going further", *techniques, "Morning set", *SAFETY.values()]


def test_chapters_start_on_right_hand_pages(long_build):
    marks = outline(PdfReader(long_build / "handbook.pdf"))
    starts = [page for level, _, page in marks if level == 0]
    assert all(page % 2 == 1 for page in starts), starts


def test_back_cover_is_the_last_left_hand_page(long_texts):
    """An even page count: the blanks that fill the last sheet keep every page on its side."""
    texts = long_texts
    assert len(texts) % 2 == 0
    words = ["Stretching", "at", "the", "Desk", "15", "January", "2026"]  # the date in en-GB
    assert texts[-1].split() == words


def band(page, x0: float, x1: float, y0: float, y1: float) -> str:
    """The text inside a rectangle given in fractions of the page."""
    width, height = page.get_size()
    return page.get_textpage().get_text_bounded(x0 * width, y0 * height, x1 * width, y1 * height)


def test_running_header_and_folio_on_the_outer_side(long_build):
    marks = outline(PdfReader(long_build / "handbook.pdf"))
    start = next(page for level, title, page in marks if title == "Techniques")
    document = pypdfium2.PdfDocument(long_build / "handbook.pdf")
    assert "Techniques" not in band(document[start - 1], 0, 1, 0.93, 1)  # not on its first page
    for number in (start + 1, start + 2):
        page = document[number - 1]
        outer = (0, 0.5) if number % 2 == 0 else (0.5, 1)
        inner = (0.5, 1) if number % 2 == 0 else (0, 0.5)
        assert band(page, *outer, 0.93, 1).strip() == "Techniques"
        assert band(page, *outer, 0, 0.07).strip() == str(number)
        assert band(page, *inner, 0.93, 1).strip() == ""
        assert band(page, *inner, 0, 0.07).strip() == ""
    document.close()


def test_gutter_is_on_the_inside(long_build):
    """Text keeps 19 mm from the fold and 13 mm from the outer edge, on both sides."""
    document = pypdfium2.PdfDocument(long_build / "handbook.pdf")
    width = document[0].get_size()[0]
    gutter, outside = points((19, 13))
    for number in (8, 9):  # a spread inside the techniques
        text = document[number - 1].get_textpage()
        boxes = [text.get_charbox(i) for i in range(text.count_chars())]
        boxes = [box for box in boxes if box[2] > box[0]]
        left, right = min(box[0] for box in boxes), max(box[2] for box in boxes)
        inner, outer = (width - right, left) if number % 2 == 0 else (left, width - right)
        assert inner >= gutter - 0.5, number
        assert outer == pytest.approx(outside, abs=1), number
    document.close()


def test_cross_references_print_the_page_they_point_to(long_build, long_texts):
    reader = PdfReader(long_build / "handbook.pdf")
    pages = {title: page for _, title, page in outline(reader)}
    text = " ".join(" ".join(long_texts).split())
    prose = re.findall(r"(the first move|sharp pain|move 17) \(see page (\d+)\)", text)
    assert {link: int(page) for link, page in prose} == {
        "the first move": pages["Move 1"],
        "sharp pain": pages["Sharp pain"],
        "move 17": pages["Move 17"],
    }
    related = re.findall(r"see (Hot skin|Sharp pain), page (\d+)", text)
    assert len(related) == len(TECHNIQUES)
    assert all(int(page) == pages[title] for title, page in related)


def test_metadata_tags_and_language(long_build):
    reader = PdfReader(long_build / "handbook.pdf")
    assert reader.metadata.title == "Stretching at the Desk"
    assert reader.metadata.author == "Ada Example, Bo Example"
    assert reader.metadata["/CreationDate"].startswith("D:20260115")
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
