"""The bundled example handbooks: subjects far from the default's, built by the same code.

The bicycle-care example must read as a workshop handbook: its own title, scale
and labels, and none of the default handbook's words anywhere in what it prints.
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pymupdf
import pytest
from click.testing import CliRunner

from handbook.build import BuildOptions, build
from handbook.cli import cli
from handbook.content.validate import load_handbook
from handbook.html.render import Renderer
from handbook.html.views import cards
from handbook.project import SETTINGS_FILE, example_names, examples_root, open_project
from tests.conftest import pdf_text
from tests.test_e2e import assert_fonts_embedded_and_bundled

BICYCLE = examples_root() / "bicycle-care"
SVG = "{http://www.w3.org/2000/svg}"

# Words of the default massage handbook. "pressure" is a bicycle word too (tyre
# pressure), so only the default's scale label, capitalised or in a card's capitals.
MASSAGE_WORDS = re.compile(r"(?i:massage|partner|spine)|\bPressure\b|\bPRESSURE\b")


def massage_words_in(pdfs: list[Path]) -> dict[str, list[str]]:
    found = {path.name: MASSAGE_WORDS.findall(pdf_text(path)) for path in pdfs}
    return {name: words for name, words in found.items() if words}


def part_of_the_bicycle_example(root: Path) -> Path:
    """One job and the two safety topics it links to, with the example's own settings."""
    settings, replaced = re.subn(
        r"^outline: .*$",
        "outline: [techniques, safety]",
        (BICYCLE / SETTINGS_FILE).read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    assert replaced == 1
    (root / "content").mkdir(parents=True)
    (root / SETTINGS_FILE).write_text(settings, encoding="utf-8")
    for name in ["jobs/puncture.yaml", "safety/worn-tyres.yaml", "safety/wheel-secure.yaml"]:
        shutil.copy(BICYCLE / "content" / name, root / "content" / Path(name).name)
    shutil.copy(BICYCLE / "content/parts.yaml", root / "content/parts.yaml")
    shutil.copytree(BICYCLE / "content/drawings", root / "content/drawings")
    return root


def test_the_bicycle_example_is_bundled_and_says_nothing_of_massage():
    assert "bicycle-care" in example_names()
    handbook = load_handbook(open_project(BICYCLE))
    assert handbook.settings.scale.label == "Difficulty"
    everything = " ".join(
        [
            handbook.settings.model_dump_json(),
            *(item.model_dump_json() for item in handbook.chapters),
            *(item.model_dump_json() for item in handbook.techniques),
            *(item.model_dump_json() for item in handbook.safety),
            *(item.model_dump_json() for item in handbook.routines),
            *(zone.model_dump_json() for zone in handbook.zones),
        ]
    )
    assert not MASSAGE_WORDS.findall(everything)
    assert "does **not replace a professional mechanic**" in everything


@pytest.mark.slow
def test_a_job_of_the_bicycle_example_prints_in_workshop_words(tmp_path):
    project = part_of_the_bicycle_example(tmp_path / "bike")
    out = tmp_path / "out"
    build(project, BuildOptions(out_dir=out, duplex=True))
    booklet = pdf_text(out / "handbook.pdf")
    assert booklet.startswith("Bicycle Care at Home A home mechanic's handbook")
    for words in ["Jobs", "Difficulty: 2 / 3", "How you know it is right", "Common mistakes"]:
        assert words in booklet, words
    assert "Read first: see Worn or damaged tyres, page" in booklet
    card = pdf_text(out / "cards/puncture.pdf")
    assert card.startswith("Fixing a puncture")
    assert "DIFFICULTY 2/3 TOOLS Levers, pump, tube or patches TIME 20 min" in card
    assert "Before you ride" in pdf_text(out / "cards/backs/puncture.pdf")
    outputs = sorted(out.rglob("*.pdf"))
    assert massage_words_in(outputs) == {}
    for path in outputs:
        assert_fonts_embedded_and_bundled(path)
    assert_the_map_of_the_puncture_is_drawn_on_the_bicycle(project, out)


def assert_the_map_of_the_puncture_is_drawn_on_the_bicycle(project: Path, out: Path) -> None:
    """The job's parts are shapes on the bicycle drawing, named at full label size
    beside it on the card, and the booklet sets the wide map above the steps."""
    handbook = load_handbook(open_project(project))
    [card] = [c for c in cards(handbook) if c.id == "puncture"]
    fmt = BuildOptions().format_for(handbook)
    svg = ET.fromstring(
        re.search(
            r"<svg .*?</svg>", Renderer(open_project(project)).card(handbook, card, fmt).html, re.S
        )[0]
    )
    assert [g.get("class") for g in svg.iter(f"{SVG}g") if "drawing-" in g.get("class", "")] == [
        "drawing drawing-bicycle"
    ]
    zones = {
        g.get("data-zone"): g for g in svg.iter(f"{SVG}g") if "zone" in g.get("class", "").split()
    }
    assert sorted(zones) == ["rim", "tyre"]
    assert all(len(g.findall(f"{SVG}polygon")) == 2 for g in zones.values())  # one per wheel

    page = pymupdf.open(out / "cards/puncture.pdf")[0]
    read_first = next(s for s in spans(page) if s["text"].startswith("Read first"))
    below = [d for d in page.get_drawings() if d["rect"].y0 > read_first["bbox"][3]]
    drawn = pymupdf.Rect(below[0]["rect"])
    for drawing in below:
        drawn |= drawing["rect"]
    assert drawn.height > 25 / 25.4 * 72  # the bicycle, over 25 mm high
    line_ends = [
        max(item[1:3], key=lambda point: point.x)
        for drawing in below
        for item in drawing["items"]
        if item[0] == "l"
    ]
    labels = {s["text"]: s for s in spans(page) if s["text"] in {"Rim", "Tyre"}}
    assert set(labels) == {"Rim", "Tyre"}
    for span in labels.values():
        assert span["size"] >= 7.0
        x0, y0, _, y1 = span["bbox"]
        assert drawn.y0 < (y0 + y1) / 2 < drawn.y1
        assert any(  # a leader ends just before the label, at its height
            0 < x0 - end.x < 3 / 25.4 * 72 and abs(end.y - (y0 + y1) / 2) < 4 for end in line_ends
        )

    booklet = pymupdf.open(out / "handbook.pdf")
    [job] = [p for p in booklet if "Take the wheel off" in p.get_text()]
    tyre = next(s for s in spans(job) if s["text"] == "Tyre")
    first_step = next(s for s in spans(job) if s["text"].startswith("Take the wheel off"))
    assert first_step["bbox"][1] > tyre["bbox"][3]  # under the map, not beside it


def spans(page) -> list[dict]:
    return [
        {**span, "text": span["text"].strip()}
        for block in page.get_text("dict")["blocks"]
        for line in block.get("lines", [])
        for span in line["spans"]
    ]


@pytest.mark.slow  # builds the whole example
def test_init_example_builds_the_whole_bicycle_handbook_without_a_massage_word(tmp_path):
    folder = tmp_path / "my-bike"
    result = CliRunner().invoke(cli, ["init", "--quiet", "--example", "bicycle-care", str(folder)])
    assert result.exit_code == 0, result.output
    booklet = pdf_text(folder / "build/handbook.pdf")
    assert booklet.startswith("Bicycle Care at Home")
    assert "Not a replacement for a mechanic" in booklet
    handbook = load_handbook(open_project(folder))
    items = [*handbook.techniques, *handbook.safety, *handbook.routines]
    cards = sorted((folder / "build/cards").glob("*.pdf"))
    assert len(cards) == len(items) + 1  # and the basic kit's section
    outputs = sorted((folder / "build").rglob("*.pdf"))
    assert massage_words_in(outputs) == {}
    for path in outputs:
        assert_fonts_embedded_and_bundled(path)
