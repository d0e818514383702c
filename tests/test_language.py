"""A handbook speaks its language: numbers, dates, quotes, sorting and hyphenation.

Most checks read one build of the tiny project turned German.
"""

from __future__ import annotations

import datetime
import itertools
import shutil
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from handbook.build import RENDERED, BuildOptions, build
from handbook.content.labels import catalogue
from handbook.content.model import Labels
from handbook.html.language import long_date, number_text, quotes, sort_key
from handbook.html.views import time_text
from tests.conftest import TINY, pdf_text

COMPOUND = "Schulterblattmassagetechnik"  # a card title
CHAPTER = "Rückenmassagevorbereitungsmaßnahmen"  # a chapter title, too wide for a line


@pytest.mark.parametrize(
    ("language", "printed"),
    [
        ("en", "March 1, 2026"),
        ("de", "1. März 2026"),
        ("de-AT", "1. März 2026"),
        ("fr", "1 mars 2026"),
        ("es", "1 de marzo de 2026"),
        ("ru", "1 марта 2026\u202fг."),  # noqa: RUF001 (Cyrillic); the year word never alone on a line
        ("uk", "1 березня 2026\u202fр."),  # noqa: RUF001
        ("tlh", "March 1, 2026"),  # no such locale: as English
    ],
)
def test_the_long_date_in_each_language(language, printed):
    assert long_date(datetime.date(2026, 3, 1), language) == printed


@pytest.mark.parametrize(
    ("language", "seconds", "printed"),
    [
        ("en", 90, "1.5 min"),
        ("de", 90, "1,5 Min."),
        ("de", 45, "45 Sek."),
        ("de", 220, "3 Min. 40 Sek."),
        ("fr", 7.5, "7,5 s"),
        ("ru", 90, "1,5 мин"),
        ("uk", 150, "2,5 хв"),
    ],
)
def test_times_print_in_the_language(language, seconds, printed):
    labels = Labels(**catalogue(language))
    assert time_text(seconds, labels, language) == printed


def test_large_numbers_group_as_the_language_does():
    assert (number_text(1234.5, "de"), number_text(1234.5, "en")) == ("1.234,5", "1,234.5")


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("de", ["Apfel", "Ärger", "Birne", "Ofen", "Öl", "Übung", "Uhr", "Zebra"]),
        ("es", ["chico", "llama", "nudo", "ñandú", "oso"]),  # ñ is a letter after n
        ("uk", ["гора", "ґанок", "дім", "єнот", "іній", "їжак", "йод"]),  # noqa: RUF001
        ("sv", ["Apa", "Zebra", "Äpple", "Öl"]),  # Swedish puts Ä and Ö after Z
    ],
)
def test_words_sort_as_the_language_sorts_them(language, words):
    assert sorted(reversed(words), key=sort_key(language)) == words


def test_quotation_marks_of_the_language():
    assert quotes("de") == ("\u201e", "\u201c", "\u201a", "\u2018")
    assert quotes("fr")[:2] == quotes("ru")[:2] == ("\u00ab", "\u00bb")
    assert quotes("en") == quotes("tlh") == ("\u201c", "\u201d", "\u2018", "\u2019")


def test_the_same_text_is_quoted_in_each_language_it_is_rendered_in():
    """The HTML of a text is kept between renders (a booklet and its cards render the
    same texts): the same words in two languages keep apart."""
    from handbook.content.markup import to_inline_html

    text = 'Say "slowly" as you go'
    rendered = [to_inline_html(text, quotes(language)) for language in ("en", "de", "en")]
    assert rendered == [
        "Say \u201cslowly\u201d as you go",
        "Say \u201eslowly\u201c as you go",
        "Say \u201cslowly\u201d as you go",
    ]


def germanised(root: Path) -> Path:
    """The tiny project in German: a long compound title, times in half minutes, a date,
    authors, a glossary whose terms begin with umlauts, a quotation."""
    shutil.copytree(TINY, root)
    settings = root / "handbook.yaml"
    text = settings.read_text(encoding="utf-8").replace("language: en", "language: de")
    text = text.replace("date: 2026-01-15", "date: 2026-03-01")
    text = text.replace(
        "[intro, techniques, routines, safety]", "[intro, techniques, routines, safety, glossary]"
    )
    settings.write_text(text + "authors: [Anna Muster, Ben Beispiel]\n", encoding="utf-8")
    gliding = root / "content/gliding.yaml"
    text = gliding.read_text(encoding="utf-8").replace("name: Gliding", f"name: {COMPOUND}")
    text = text.replace("other_names: [Long strokes]", "other_names: [Birne, Ärger, Apfel]")
    gliding.write_text(text, encoding="utf-8")
    routine = root / "content/short.yaml"
    text = routine.read_text(encoding="utf-8").replace("minutes: 5\n", "")
    routine.write_text(
        text.replace("{item: gliding, minutes: 1}", "{item: gliding, duration: 1.5 min}")
    )
    intro = root / "content/intro.yaml"
    text = intro.read_text(encoding="utf-8").replace("first,", 'first, "gently",')
    text = text.replace("title: Introduction", f"title: {CHAPTER}")
    intro.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def german(tmp_path_factory) -> Path:
    """The German tiny project built once: its output folder."""
    root = germanised(tmp_path_factory.mktemp("german") / "project")
    out = root / "build"
    build(root, BuildOptions(out_dir=out))
    return out


def test_the_cover_and_back_cover_print_the_german_long_date(german):
    pages = [page.extract_text() for page in PdfReader(german / "handbook.pdf").pages]
    assert "1. März 2026" in pages[0]
    assert "1. März 2026" in pages[-1]
    assert "2026-03-01" not in " ".join(pages)


def test_times_print_with_a_decimal_comma(german):
    card = pdf_text(german / "cards/short.pdf")
    assert "1,5 Min." in card and "Gesamt 5,5 Min." in card
    assert "(5,5 Min.)" in pdf_text(german / "handbook.pdf")


def test_the_glossary_sorts_umlauts_with_their_letter(german):
    booklet = pdf_text(german / "handbook.pdf")
    glossary = booklet[booklet.rindex("Glossar") :]
    terms = ("Apfel:", "Ärger:", "Birne:", "Pressing Seite", f"{COMPOUND} (Birne")
    at = [glossary.index(term) for term in terms]
    assert at == sorted(at)


def test_quotes_are_german(german):
    assert "\u201egently\u201c" in pdf_text(german / "handbook.pdf")


def test_the_tools_words_are_german(german):
    booklet, card = pdf_text(german / "handbook.pdf"), pdf_text(german / "cards/gliding.pdf")
    assert "Inhalt" in booklet and "Schritte" in booklet and "Seite" in booklet
    assert "Zur Sicherheit: Stay gentle" in card


def broken_in_two(word: str, lines: list[str]) -> tuple[str, str]:
    """The two halves of ``word``, hyphenated at the end of one line, the rest beginning
    the next (which may run on into the next text, as pypdf reads it)."""
    for first, second in itertools.pairwise(lines):
        head = first.rpartition(" ")[2].removesuffix("\u2010")
        rest = word.removeprefix(head)
        if first.endswith("\u2010") and head and rest != word and second.startswith(rest):
            return head, rest
    raise AssertionError(f"{word} is not hyphenated in {lines}")


def test_a_long_compound_card_title_hyphenates_in_german(german):
    lines = PdfReader(german / "cards/gliding.pdf").pages[0].extract_text().splitlines()
    assert broken_in_two(COMPOUND, lines) == ("Schulterblattmassage", "technik")


def test_a_chapter_title_too_wide_for_the_page_hyphenates_in_german(german):
    pages = PdfReader(german / "handbook.pdf").pages
    chapter = next(page for page in pages if "Before you start" in page.extract_text())
    first, second = broken_in_two(CHAPTER, chapter.extract_text().splitlines())
    assert min(len(first), len(second)) >= 5  # no scrap of a syllable alone


def test_every_pdf_says_its_language_title_and_authors(german):
    written = sorted(german.rglob("*.pdf"))
    assert {"cards.pdf", "card-sheets.pdf", "handbook-print.pdf", "handbook.pdf"} <= {
        path.name for path in written
    }
    for path in written:
        with pikepdf.open(path) as pdf:
            assert pdf.Root.Lang == "de", path
            assert "Tiny handbook" in str(pdf.docinfo["/Title"]), path
            assert "Anna Muster" in str(pdf.docinfo["/Author"]), path
            assert "Ben Beispiel" in str(pdf.docinfo["/Author"]), path


@pytest.mark.parametrize("name", ["cards.pdf", "card-sheets.pdf", "handbook-print.pdf"])
def test_the_files_put_together_carry_xmp_metadata_with_the_builds_date(german, name):
    with pikepdf.open(german / name) as pdf:
        assert pdf.docinfo["/Title"] == "Tiny handbook"
        assert pdf.docinfo["/CreationDate"] == pdf.docinfo["/ModDate"] == "D:20260301"
        xmp = pdf.open_metadata()
        assert xmp["dc:title"] == "Tiny handbook"
        assert xmp["dc:creator"] == ["Anna Muster", "Ben Beispiel"]
        assert xmp["dc:language"] == {"de"}
        assert xmp["xmp:CreateDate"] == "2026-03-01"


def test_the_files_put_together_are_the_same_bytes_when_made_again(german, tmp_path):
    """Nothing in them, metadata included, comes from the clock."""
    again = tmp_path / "again"
    shutil.copytree(german, again)
    made = ("cards.pdf", "card-sheets.pdf", "handbook-print.pdf")
    for name in made:
        (again / name).unlink()
    report = build(german.parent, BuildOptions(out_dir=again))
    assert sorted(result.path.name for result in report.with_status(RENDERED)) == sorted(made)
    for name in made:
        assert (again / name).read_bytes() == (german / name).read_bytes(), name
