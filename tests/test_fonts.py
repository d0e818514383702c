"""Fonts: only the bundled and the project's fonts ever print, and text none of them has
is refused before rendering, at the YAML line that holds it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest
from fontTools.ttLib import TTFont

from handbook.build import BuildOptions, build
from handbook.errors import HandbookError
from handbook.project import open_project
from tests.conftest import REPO, pdf_text, problems_of, write

FIXTURE_FONTS = REPO / "tests" / "fixtures" / "fonts"
CJK_FONT = FIXTURE_FONTS / "NotoSansCJKsc-Regular-subset.otf"  # has " 双手轻向下滑动。"
CJK_STEP = "双手轻轻向下滑动。"  # "glide both hands gently downward."
GLIDING = "content/gliding.yaml"


def set_step(project: Path, text: str) -> None:
    """Make ``text`` the second step of the tiny project's technique (line 14, column 5)."""
    path = project / GLIDING
    path.write_text(path.read_text().replace("Glide slowly downward.", text))


def families(fonts: tuple[Path, ...]) -> set[str]:
    """The family names of font files, as WeasyPrint writes them into a PDF."""
    names = set()
    for path in fonts:
        with TTFont(path, lazy=True) as font:
            names |= {font["name"].getDebugName(i) for i in (1, 16)} - {None}
    return {name.replace(" ", "-") for name in names}


def pdf_fonts(out: Path) -> dict[str, set[str]]:
    """Every font embedded in every PDF of a build, without its subset prefix."""
    found = {}
    for pdf in sorted(out.rglob("*.pdf")):
        with pymupdf.open(pdf) as document:
            found[pdf.relative_to(out).as_posix()] = {
                font[3].split("+", 1)[-1] for page in document for font in page.get_fonts()
            }
    return found


def outside(fonts: set[str], allowed: set[str]) -> set[str]:
    return {f for f in fonts if not any(f == a or f.startswith(a + "-") for a in allowed)}


def test_cjk_text_without_a_font_is_refused_at_its_step(tiny_copy):
    set_step(tiny_copy, CJK_STEP)
    assert problems_of(tiny_copy) == [
        "content/gliding.yaml:14:5: no font of the handbook has "
        "'双' U+53CC CJK UNIFIED IDEOGRAPH-53CC, '手' U+624B CJK UNIFIED IDEOGRAPH-624B, "
        "'轻' U+8F7B CJK UNIFIED IDEOGRAPH-8F7B, '向' U+5411 CJK UNIFIED IDEOGRAPH-5411, "
        "'下' U+4E0B CJK UNIFIED IDEOGRAPH-4E0B, '滑' U+6ED1 CJK UNIFIED IDEOGRAPH-6ED1 "
        "and 2 more, so it would print as empty boxes\n"
        "    hint: put a font that has them into the project's fonts/ folder, such as "
        "Noto Sans CJK SC (.ttf, .otf or .ttc; the Noto fonts are free under the SIL Open "
        "Font License): the fonts there print whatever the others lack. To print all text "
        "in it, also set 'design: {font_family: Noto Sans CJK SC}' in handbook.yaml"
    ]


def test_a_failed_check_leaves_the_last_outputs(tiny_built):
    project, out = tiny_built
    before = (out / "handbook.pdf").read_bytes()
    set_step(project, CJK_STEP)
    with pytest.raises(HandbookError):
        build(project, BuildOptions(out_dir=out))
    assert (out / "handbook.pdf").read_bytes() == before


@pytest.mark.slow
def test_with_a_project_font_cjk_and_code_print_in_bundled_and_project_fonts_only(tiny_copy):
    set_step(tiny_copy, f"{CJK_STEP} Then `rest` a moment.")
    shutil.copytree(FIXTURE_FONTS, tiny_copy / "fonts")
    out = tiny_copy / "build"
    build(tiny_copy, BuildOptions(out_dir=out))
    allowed = families(open_project(tiny_copy).font_files())
    embedded = pdf_fonts(out)
    assert {name: outside(fonts, allowed) for name, fonts in embedded.items()} == {
        name: set() for name in embedded
    }
    card = embedded["cards/gliding.pdf"]
    assert {"Noto-Sans-CJK-SC", "Noto-Mono"} <= card  # the step's text and its code span
    assert f"{CJK_STEP} Then rest a moment." in pdf_text(out / "cards" / "gliding.pdf")


@pytest.mark.slow
def test_the_font_family_the_hint_names_prints_the_whole_handbook(tiny_copy):
    shutil.copytree(FIXTURE_FONTS, tiny_copy / "fonts")
    set_step(tiny_copy, CJK_STEP)
    settings = tiny_copy / "handbook.yaml"
    settings.write_text(settings.read_text() + "design: {font_family: Noto Sans CJK SC}\n")
    out = tiny_copy / "build"
    build(tiny_copy, BuildOptions(out_dir=out))
    with pymupdf.open(out / "cards" / "gliding.pdf") as card:
        spans = [
            span
            for block in card[0].get_text("dict")["blocks"]
            for line in block.get("lines", [])
            for span in line["spans"]
        ]
    step = next(span for span in spans if CJK_STEP in span["text"])
    assert step["font"].endswith("Noto-Sans-CJK-SC")
    # What the font lacks (every Latin letter of this subset) falls back to Lato.
    assert next(span for span in spans if span["text"] == "Gliding")["font"].endswith("Lato-Heavy")


def test_emoji_in_the_title_is_refused_at_the_title(tiny_copy):
    settings = tiny_copy / "handbook.yaml"
    settings.write_text(settings.read_text().replace("title: Tiny handbook", "title: Tiny 💆 book"))
    assert problems_of(tiny_copy) == [
        "handbook.yaml:2:8: no font of the handbook has "
        "'💆' U+1F486 FACE MASSAGE, so it would print as empty boxes\n"
        "    hint: emoji and symbols print only from a font that has them: write a word "
        "instead, or put such a font (.ttf, .otf or .ttc, with a licence that allows it) "
        "into the project's fonts/ folder"
    ]


def test_every_text_is_checked_and_format_characters_are_not(tiny_copy):
    """Labels, authors, prose and zone names are printed too; a soft hyphen, a joiner,
    a variation selector and a combining accent need no glyph of their own."""
    settings = tiny_copy / "handbook.yaml"
    settings.write_text(
        settings.read_text()
        + "authors: [Ana, Юрий]\nlabels: {steps: ステップ}\nsubtitle: 'Mas\u00adsage\u200d'\n"
    )
    write(
        tiny_copy / "content" / "intro.yaml",
        """
        kind: chapter
        id: intro
        title: Introduction
        sections:
          - title: Cafe\u0301 ✔\ufe0f
            body: Read [Gliding](#gliding) first; it says ก.
        """,
    )
    problems = [problem.split("\n")[0] for problem in problems_of(tiny_copy)]
    assert problems == [
        "content/intro.yaml:5:12: no font of the handbook has "
        "'✔' U+2714 HEAVY CHECK MARK, so it would print as empty boxes",
        "content/intro.yaml:6:11: no font of the handbook has "
        "'ก' U+0E01 THAI CHARACTER KO KAI, so it would print as empty boxes",
        "handbook.yaml:8:17: no font of the handbook has "
        "'ス' U+30B9 KATAKANA LETTER SU, 'テ' U+30C6 KATAKANA LETTER TE, "
        "'ッ' U+30C3 KATAKANA LETTER SMALL TU, 'プ' U+30D7 KATAKANA LETTER PU, "
        "so it would print as empty boxes",
    ]


def test_right_to_left_text_is_refused_whatever_the_fonts(tiny_copy):
    """Not a missing font: the layout is left to right (a font would not help)."""
    set_step(tiny_copy, "Say שלום first.")
    assert problems_of(tiny_copy) == [
        "content/gliding.yaml:14:5: right-to-left text (Hebrew, from 'ש' U+05E9 HEBREW "
        "LETTER SHIN) cannot be printed yet: its words and punctuation would come out in "
        "the wrong order\n"
        "    hint: the booklet and the cards are laid out left to right only: write this "
        "text in a left-to-right script, or leave it out"
    ]


def test_fonts_shadow_by_name_and_hidden_or_outside_fonts_are_not_used(tiny_copy, tmp_path):
    fonts = tiny_copy / "fonts"
    fonts.mkdir()
    shutil.copy(CJK_FONT, fonts / "Lato-Regular.ttf")  # replaces the bundled one
    shutil.copy(CJK_FONT, fonts / ".hidden.otf")
    (tmp_path / "elsewhere.otf").write_bytes(CJK_FONT.read_bytes())
    (fonts / "linked.otf").symlink_to(tmp_path / "elsewhere.otf")
    found = open_project(tiny_copy).font_files()
    assert fonts / "Lato-Regular.ttf" in found
    assert [path.name for path in found].count("Lato-Regular.ttf") == 1
    assert not {".hidden.otf", "linked.otf"} & {path.name for path in found}


MACHINE_FONT_SCRIPT = """
import os
from pathlib import Path
import pymupdf
import weasyprint
from handbook import engine
from handbook.errors import HandbookError
html = "<html><body><p>{text}</p></body></html>"
source = engine.PageSource(html, (), "", "test", (Path.cwd(),))
try:
    engine.to_pdf_bytes(engine.render(source), "test")
except HandbookError as error:
    for problem in error.problems:
        print(problem.message)
os.environ.pop("FONTCONFIG_FILE", None)  # WeasyPrint as it comes: the machine's fonts
pdf = weasyprint.HTML(string=html).write_pdf()
print(sorted({{f[3].split("+")[-1] for f in pymupdf.open(stream=pdf)[0].get_fonts()}}))
"""


@pytest.mark.slow
def test_a_font_installed_on_the_machine_is_never_used(tmp_path):
    """The user's own font folder holds a font with the text: a render refuses to print
    it all the same, where WeasyPrint left alone uses that font."""
    machine = tmp_path / "data" / "fonts"
    machine.mkdir(parents=True)
    shutil.copy(CJK_FONT, machine)
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env.pop("FONTCONFIG_FILE", None)
    done = subprocess.run(
        [sys.executable, "-c", MACHINE_FONT_SCRIPT.format(text=CJK_STEP)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    *refused, bare_fonts = done.stdout.strip().splitlines()
    notdef = "rendering problem: .notdef glyph rendered for Unicode string unsupported by fonts"
    assert f'{notdef}: "双" (U+53CC)' in refused
    assert "Noto-Sans-CJK-SC" in bare_fonts


def test_a_damaged_font_in_the_project_is_named(tiny_copy):
    fonts = tiny_copy / "fonts"
    fonts.mkdir()
    (fonts / "notes.ttf").write_text("not a font")
    (fonts / "cut.otf").write_bytes(CJK_FONT.read_bytes()[:2000])  # a download cut short
    hint = "\n    hint: replace it with a working .ttf, .otf or .ttc file, or remove it"
    assert problems_of(tiny_copy) == [
        f"fonts/cut.otf: this file cannot be read as a font{hint}",
        f"fonts/notes.ttf: this file cannot be read as a font{hint}",
    ]


def test_an_invisible_direction_control_is_refused_and_named_by_code(tiny_copy):
    """U+202E would print what follows it backwards; the message must not hold it."""
    set_step(tiny_copy, "Glide \u202eslowly\u202c down.")
    assert problems_of(tiny_copy) == [
        "content/gliding.yaml:14:5: the text holds U+202E RIGHT-TO-LEFT OVERRIDE, "
        "U+202C POP DIRECTIONAL FORMATTING, invisible characters that change the order "
        "it prints in\n"
        "    hint: such characters are invisible and often come in with text copied from "
        "another program: delete them"
    ]
