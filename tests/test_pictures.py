"""Pictures named in content: printed in the booklet and on cards, fitted, checked, tracked."""

from __future__ import annotations

import base64
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pikepdf
import pymupdf
import pytest
from conftest import REPO, TINY, pdf_text, problems_of, write
from PIL import Image, ImageDraw

from handbook.build import RENDERED, UP_TO_DATE, BuildOptions, build
from handbook.engine import Measure
from handbook.errors import HandbookError
from handbook.press.fit import shrink_pictures

MM = 72 / 25.4  # points in a millimetre
PICTURE_PX = (600, 400)
DPI = 150  # what base.css's image-resolution allows at most
ALT = "Two palms resting flat on the upper back"
STEP = "Keep both hands moving slowly and evenly down the back."


def palms_png(path: Path, colour: str = "#1d4e6b") -> Path:
    """A small PNG picture (a disc on a tint), 600 by 400 pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", PICTURE_PX, "#dbe8f1")
    ImageDraw.Draw(image).ellipse((200, 100, 400, 300), fill=colour)
    image.save(path)
    return path


def technique(root: Path, ident: str, steps: int, picture: str = "palms.png") -> None:
    """A technique with ``steps`` steps and a picture."""
    listed = "".join(f'  - "{STEP}"\n' for _ in range(steps))
    write(
        root / f"content/{ident}.yaml",
        f"kind: technique\nid: {ident}\nname: {ident.title()}\npurpose: Warms up.\n"
        f"steps:\n{listed}pictures:\n  - file: pictures/{picture}\n    alt: {ALT}\n"
        "    caption: Palms flat, fingers together.\n",
    )


@pytest.fixture(scope="module")
def pictured(tmp_path_factory) -> tuple[Path, Path]:
    """The tiny project with pictures, built once: (project, output folder).

    'brief' fits at full size, 'medium' fits once its picture is smaller, and
    'long' needs its picture at the least height and its text shrunk too. Only
    'brief' shows pictures/brief.png."""
    root = Path(shutil.copytree(TINY, tmp_path_factory.mktemp("pictured") / "tiny"))
    palms_png(root / "pictures/palms.png")
    palms_png(root / "pictures/brief.png")
    technique(root, "brief", 2, "brief.png")
    for ident, steps in (("medium", 7), ("long", 10)):
        technique(root, ident, steps)
    picture = f"{{file: pictures/palms.png, alt: {ALT}}}"
    for name, indent in (("intro", "    "), ("gentle", ""), ("short", "")):  # section, topic,
        path = root / f"content/{name}.yaml"  # routine
        text = path.read_text(encoding="utf-8")
        path.write_text(f"{text}{indent}pictures:\n{indent}  - {picture}\n", encoding="utf-8")
    with (root / "content/intro.yaml").open("a", encoding="utf-8") as intro:
        intro.write("    id: before\n    card: true\n")  # the section as a card too
    out = root / "build"
    build(root, BuildOptions(out_dir=out))
    return root, out


def images(pdf: Path) -> list[tuple[int, pymupdf.Rect]]:
    """Every image drawn in a PDF: (page number from 1, its box in points)."""
    with pymupdf.open(pdf) as document:
        return [
            (page.number + 1, pymupdf.Rect(info["bbox"]))
            for page in document
            for info in page.get_image_info()
        ]


def step_sizes(pdf: Path) -> set[float]:
    """The type sizes of a card's step text."""
    with pymupdf.open(pdf) as document:
        spans = [
            span
            for block in document[0].get_text("dict")["blocks"]
            for line in block.get("lines", [])
            for span in line["spans"]
        ]
    return {round(span["size"], 1) for span in spans if "evenly" in span["text"]}


def test_a_picture_prints_in_the_booklet_entry_and_section_and_on_the_card(pictured):
    _, out = pictured
    cards = ("brief", "gentle", "short", "before")
    card = [box for name in cards for box in images(out / f"cards/{name}.pdf")]
    assert len(card) == 4  # a technique's, a safety topic's, a routine's and a section's card
    booklet = images(out / "handbook.pdf")
    assert len(booklet) == 6  # and the intro's section
    largest = PICTURE_PX[0] / DPI * 72
    for _, box in card + booklet:  # never shown larger than 150 pixels to the inch
        assert box.width <= largest + 0.5
        assert box.width / box.height == pytest.approx(PICTURE_PX[0] / PICTURE_PX[1], rel=0.01)
    with pymupdf.open(out / "handbook.pdf") as document:
        shown = [page.number + 1 for page in document for _ in page.search_for("Palms flat,")]
        section = [page.number + 1 for page in document if page.search_for("Before you start")]
        topic = [page.number + 1 for page in document if page.search_for("Stop at once and ask")]
    assert {*shown, *section, *topic} < {number for number, _ in booklet}
    assert "Palms flat, fingers together." in pdf_text(out / "cards/brief.pdf")


def test_a_caption_is_small_but_readable_on_the_card(pictured):
    _, out = pictured
    with pymupdf.open(out / "cards/long.pdf") as document:
        sizes = {
            round(span["size"], 2)
            for block in document[0].get_text("dict")["blocks"]
            for line in block.get("lines", [])
            for span in line["spans"]
            if "fingers together" in span["text"]
        }
    assert sizes == {7.5}  # the design's caption size, not shrunk with the text


def test_the_alt_text_is_the_figure_s_alternate_text_in_the_tagged_booklet(pictured):
    _, out = pictured
    with pikepdf.open(out / "handbook.pdf") as pdf:
        found, todo = [], [pdf.Root.StructTreeRoot]
        while todo:
            node = todo.pop()
            if isinstance(node, pikepdf.Array):
                todo.extend(node)
            elif isinstance(node, pikepdf.Dictionary):
                if node.get("/S") == "/Figure" and "/Alt" in node:
                    found.append(str(node.Alt))
                kids = node.get("/K")
                if kids is not None:
                    todo.append(kids)
    assert found.count(ALT) == 6


def test_pictures_shrink_before_the_text_does(pictured):
    _, out = pictured
    heights = {
        name: images(out / f"cards/{name}.pdf")[0][1].height / MM
        for name in ("brief", "medium", "long")
    }
    sizes = {name: step_sizes(out / f"cards/{name}.pdf") for name in ("brief", "medium", "long")}
    assert heights["brief"] == pytest.approx(42, abs=0.2)  # the design's tallest
    assert 22.5 < heights["medium"] < 41  # smaller, but above the least height ...
    assert sizes["medium"] == sizes["brief"] == {11.0}  # ... and the text at full size
    assert heights["long"] == pytest.approx(22, abs=0.2)  # the least height ...
    (long_size,) = sizes["long"]
    assert 8 <= long_size < 11  # ... and only then smaller text


def test_an_overflowing_card_names_its_pictures_among_the_longest_parts(tiny_copy):
    palms_png(tiny_copy / "pictures/palms.png")
    pictures = "".join(
        f"  - {{file: pictures/palms.png, alt: {ALT}, caption: View {i}.}}\n" for i in range(6)
    )
    write(
        tiny_copy / "content/gallery.yaml",
        f"kind: technique\nid: gallery\nname: Gallery\npurpose: Many views.\n"
        f'steps:\n  - "{STEP}"\npictures:\n{pictures}',
    )
    from handbook.build import check_cards

    with pytest.raises(HandbookError) as raised:
        check_cards(tiny_copy)
    (problem,) = raised.value.problems
    assert (problem.path, problem.line, problem.column) == ("content/gallery.yaml", 7, 1)
    assert "does not fit on one A6 card" in problem.message
    assert "'pictures' (6 pictures, 22 and 22 and 22 and 22 and 22 and 22 mm tall)" in problem.hint


BAD = """\
kind: technique
id: pictured
name: Pictured
purpose: Shows every way a picture can be wrong.
steps: [Look.]
pictures:
  - {file: pictures/nowhere.png, alt: Missing}
  - {file: /etc/hostname.png, alt: Absolute}
  - {file: ../outside.png, alt: Up and out}
  - {file: pictures/link.png, alt: A link out}
  - {file: pictures/notes.txt, alt: Not a picture type}
  - {file: pictures/broken.png, alt: Damaged}
  - {file: pictures/photo.jpg, alt: Named wrongly}
  - {file: pictures/huge.png, alt: Too many pixels}
  - {file: pictures/heavy.jpg, alt: Too many bytes}
  - {file: pictures/folder.png, alt: A folder}
  - {file: pictures/entity.svg, alt: An SVG with a DTD}
  - {file: pictures/palm.png, alt: A typo}
"""


def test_every_bad_picture_is_located_at_its_line_all_at_once(tiny_copy):
    pictures = tiny_copy / "pictures"
    palms_png(pictures / "palms.png")
    (tiny_copy.parent / "outside.png").write_bytes((pictures / "palms.png").read_bytes())
    os.symlink(tiny_copy.parent / "outside.png", pictures / "link.png")
    (pictures / "notes.txt").write_text("not a picture")
    (pictures / "broken.png").write_bytes((pictures / "palms.png").read_bytes()[:300])
    (pictures / "photo.jpg").write_bytes((pictures / "palms.png").read_bytes())
    Image.new("1", (6000, 6000)).save(pictures / "huge.png")
    with (pictures / "heavy.jpg").open("wb") as stream:
        stream.truncate(33 * 1024 * 1024)
    (pictures / "folder.png").mkdir()
    write(pictures / "entity.svg", '<!DOCTYPE svg [<!ENTITY a "b">]><svg/>')
    write(tiny_copy / "content/pictured.yaml", BAD)

    assert problems_of(tiny_copy) == [
        "content/pictured.yaml:7:12: the picture 'pictures/nowhere.png' does not exist\n"
        "    hint: check the path: it starts from the project folder (tiny/)",
        "content/pictured.yaml:8:12: refused to read the picture '/etc/hostname.png': it is "
        "outside the project folder\n    hint: copy it into the project (a pictures/ folder, "
        "say) and give its path from the project folder, like pictures/photo.jpg",
        "content/pictured.yaml:9:12: refused to read the picture '../outside.png': it is "
        "outside the project folder\n    hint: copy it into the project (a pictures/ folder, "
        "say) and give its path from the project folder, like pictures/photo.jpg",
        f"content/pictured.yaml:10:12: refused to read the picture 'pictures/link.png': it "
        f"links to '{tiny_copy.parent / 'outside.png'}', outside the project folder\n"
        "    hint: copy the picture into the project instead of linking to it",
        "content/pictured.yaml:11:12: the picture 'pictures/notes.txt' is not a PNG, JPEG or "
        "SVG file\n    hint: save photos as JPEG, drawings as SVG or PNG, and name the file "
        "to match",
        "content/pictured.yaml:12:12: the image 'pictures/broken.png' is damaged (image file "
        "is truncated)\n    hint: open it in an image program and save it again as PNG or JPEG",
        "content/pictured.yaml:13:12: the picture 'pictures/photo.jpg' is a PNG image, but its "
        "name ends in .jpg\n    hint: save it as PNG, JPEG or SVG, or rename it to match what "
        "it is",
        "content/pictured.yaml:14:12: the image 'pictures/huge.png' is too large (over 25 "
        "million pixels)\n    hint: scale the image down; 300 pixels per inch of print is plenty",
        "content/pictured.yaml:15:12: the picture 'pictures/heavy.jpg' is 33.0 MiB, over the "
        "32 MiB limit for one file\n    hint: save it smaller; 300 pixels per inch of print "
        "is plenty",
        "content/pictured.yaml:16:12: the picture 'pictures/folder.png' is not a regular file",
        "content/pictured.yaml:17:12: the SVG 'pictures/entity.svg' has a DOCTYPE or entity "
        "declarations\n    hint: remove the <!DOCTYPE ...> part; an SVG needs none",
        "content/pictured.yaml:18:12: the picture 'pictures/palm.png' does not exist\n"
        "    hint: did you mean 'palms.png'?",
    ]


def test_a_picture_without_alt_text_is_located_at_the_picture(tiny_copy):
    palms_png(tiny_copy / "pictures/palms.png")
    gliding = tiny_copy / "content/gliding.yaml"
    gliding.write_text(
        gliding.read_text(encoding="utf-8")
        + 'pictures:\n  - file: pictures/palms.png\n  - {file: pictures/palms.png, alt: "  "}\n',
        encoding="utf-8",
    )
    assert problems_of(tiny_copy) == [
        "content/gliding.yaml:22:5: missing required field 'alt'\n    hint: add 'alt: ...' here",
        "content/gliding.yaml:23:37: 'alt' is empty\n    hint: say in a few words what the "
        "picture shows, for readers who cannot see it",
    ]


def test_a_bad_picture_fails_the_build_and_the_last_good_outputs_stay(pictured, tmp_path):
    root = Path(shutil.copytree(pictured[0], tmp_path / "tiny"))
    booklet = (root / "build/handbook.pdf").read_bytes()
    (root / "pictures/palms.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    result = subprocess.run(
        [sys.executable, "-m", "handbook", "build", "--project", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "content/medium.yaml:14:11: the image 'pictures/palms.png' is damaged" in output
    assert "Traceback" not in output
    assert (root / "build/handbook.pdf").read_bytes() == booklet


@pytest.mark.slow
def test_editing_a_picture_renders_again_exactly_what_shows_it(pictured, tmp_path):
    root = Path(shutil.copytree(pictured[0], tmp_path / "tiny"))  # keeps modification times
    options = BuildOptions(out_dir=root / "build")
    assert {o.status for o in build(root, options).outputs} == {UP_TO_DATE}

    palms_png(root / "pictures/brief.png", colour="#7a0f0f")
    report = build(root, options)
    rendered = {o.path.relative_to(root / "build").as_posix() for o in report.with_status(RENDERED)}
    derived = {"handbook-print.pdf", "cards.pdf", "card-sheets.pdf"}
    cites_pages = "cards/before.pdf"  # a card that prints booklet pages follows the booklet
    assert rendered == {"handbook.pdf", "cards/brief.pdf", cites_pages, *derived}

    again = build(root, options)
    assert {o.status for o in again.outputs} == {UP_TO_DATE}
    assert all(o.seconds == 0 for o in again.outputs)


def test_the_content_stage_checks_pictures_without_weasyprint(pictured):
    code = (
        "import sys; from pathlib import Path; "
        "from handbook.content.validate import load_handbook; "
        "from handbook.project import open_project; "
        f"handbook = load_handbook(open_project(Path({str(pictured[0])!r}))); "
        "assert handbook.pictures, 'no pictures read'; "
        "assert 'weasyprint' not in sys.modules, 'WeasyPrint was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


class _PictureModel:
    """A card whose text takes ``text`` pixels and whose pictures, one above another,
    are as tall as their natural height or the cap, whichever is less."""

    available = 500.0

    def __init__(self, text: float, natural: tuple[float, ...]):
        self.text, self.natural, self.caps = text, natural, []

    def render(self, scale: float, cap_mm: float | None = None) -> float | None:
        assert scale == 1  # pictures shrink at full type size
        self.caps.append(cap_mm)
        return cap_mm

    def measure(self, cap_mm: float | None) -> Measure:
        cap = math.inf if cap_mm is None else cap_mm * MM / 0.75  # mm to CSS pixels
        pictures = tuple(min(height, cap) for height in self.natural)
        needed = self.text + sum(pictures)
        pages = math.ceil(needed / self.available)
        return Measure(pages, self.available, needed, 14.7, 19, 350, pictures)


@pytest.mark.parametrize("natural", [(160.0,), (160.0, 120.0), (150.0, 90.0, 60.0)])
def test_pictures_shrink_by_as_much_as_the_overflow_says(natural):
    model = _PictureModel(text=500 - sum(natural) + 40, natural=natural)  # 40 px over
    document, cap, renders = shrink_pictures(model.render, 20, measure=model.measure)
    assert model.measure(document).fits and renders == 2  # one render more than the first
    assert cap > 20  # above the least height
    assert model.measure(document).needed > model.available * 0.97  # not shrunk far past


def test_pictures_stop_at_their_least_height_and_none_is_no_cap():
    model = _PictureModel(text=600, natural=(160.0,))
    document, cap, renders = shrink_pictures(model.render, 20, measure=model.measure)
    assert (cap, renders) == (pytest.approx(20), 2)
    assert not model.measure(document).fits
    bare = _PictureModel(text=600, natural=())
    assert shrink_pictures(bare.render, 20, measure=bare.measure)[1:] == (None, 1)


def test_too_many_pictures_is_one_problem_at_the_list(tiny_copy):
    palms_png(tiny_copy / "pictures/palms.png")
    gliding = tiny_copy / "content/gliding.yaml"
    many = "".join(f"  - {{file: pictures/palms.png, alt: {ALT}}}\n" for _ in range(13))
    gliding.write_text(gliding.read_text(encoding="utf-8") + "pictures:\n" + many)
    assert problems_of(tiny_copy) == [
        "content/gliding.yaml:22:3: 'pictures' has 13 items, more than the 12 allowed\n"
        "    hint: keep the ones that help most; split the item if it needs more"
    ]


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">{}</svg>'


def test_an_svg_picture_must_hold_all_it_draws(tiny_copy):
    dot = base64.b64encode(palms_png(tiny_copy / "pictures/palms.png").read_bytes()).decode()
    write(
        tiny_copy / "pictures/whole.svg", SVG.format(f'<image href="data:image/png;base64,{dot}"/>')
    )
    write(tiny_copy / "pictures/linked.svg", SVG.format('<image href="../secret.png"/>'))
    write(tiny_copy / "pictures/text.svg", "<html>not a drawing</html>")
    gliding = tiny_copy / "content/gliding.yaml"
    gliding.write_text(
        gliding.read_text(encoding="utf-8")
        + "pictures:\n"
        + "".join(
            f"  - {{file: pictures/{name}.svg, alt: A drawing}}\n"
            for name in ("whole", "linked", "text")
        ),
    )
    assert problems_of(tiny_copy) == [
        "content/gliding.yaml:23:12: the SVG 'pictures/linked.svg' links to another file "
        "('../secret.png')\n    hint: put everything the drawing needs inside the SVG file itself",
        "content/gliding.yaml:24:12: the file 'pictures/text.svg' is not an SVG drawing (its root "
        "element is not <svg>)\n    hint: save it as SVG with the "
        'xmlns="http://www.w3.org/2000/svg" namespace',
    ]
