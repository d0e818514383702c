"""Stage 2c: every character the handbook prints is in one of the fonts it may print with.

A render sees only the project's and the bundled fonts (:mod:`handbook.engine.fonts`),
and Pango falls back among all of them; a character none of them has would
print as an empty box. So every printed text (content fields, chapter prose,
handbook.yaml's title, subtitle, authors and labels) is checked against the
character maps of those fonts before anything is rendered, and a character
no font has is a problem at the YAML position of the text that carries it,
with the font to add.

The check is a function of a loaded :class:`Handbook` and a list of fonts, so
it runs over any handbook, also one whose texts came from elsewhere.
"""

from __future__ import annotations

import struct
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools import unicodedata as scripts
from fontTools.ttLib import TTCollection, TTFont, TTLibError
from pydantic import BaseModel

from handbook.content.load import Location, SourceFile
from handbook.errors import Problem, relative_path

# Characters that print no glyph of their own: controls, white space (Pango
# makes spaces the font lacks), format characters such as the soft hyphen,
# joiners and direction marks, and the variation selectors.
_SILENT_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
_VARIATION_SELECTORS = (range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0), range(0x180B, 0x1810))
MAX_NAMED = 6  # characters named in one problem; the rest are counted
# Settings that are not printed text: design values name fonts and colours.
_UNPRINTED_SETTINGS = frozenset({"design"})
# The Noto families (OFL) named in hints, for scripts whose name alone does not give it.
_SUGGESTED = {
    "Hani": "Noto Sans CJK SC",
    "Hira": "Noto Sans CJK JP",
    "Kana": "Noto Sans CJK JP",
    "Hang": "Noto Sans CJK KR",
    "Bopo": "Noto Sans CJK TC",
}
_COMMON = ("Zyyy", "Zinh", "Zzzz")  # emoji, symbols, marks: no script of their own


@dataclass(frozen=True)
class PrintedText:
    """One text the handbook prints, and where it is written."""

    source: SourceFile
    location: Location
    text: str

    def problem(self, message: str, hint: str) -> Problem:
        return self.source.problem(self.location, message, hint)


def printed_texts(handbook) -> Iterator[PrintedText]:
    """Every text a loaded :class:`~handbook.content.validate.Handbook` prints."""
    settings = handbook.settings_source
    for name in type(handbook.settings).model_fields:
        if name not in _UNPRINTED_SETTINGS:
            for location, text in _strings(getattr(handbook.settings, name), (name,)):
                yield PrintedText(settings, _written(settings, location), text)
    items = [*handbook.chapters, *handbook.techniques, *handbook.safety, *handbook.routines]
    for item in [*items, *handbook.zones]:
        origin = handbook.origins[item.id]
        for location, text in _strings(item, origin.location):
            yield PrintedText(origin.source, location, text)


def _written(source: SourceFile, location: Location) -> Location:
    """Where a setting stands; one not written (a label in the handbook's language)
    is placed at the language that chose it."""
    if location in source.positions or ("language",) not in source.positions:
        return location
    return ("language",)


def _strings(value: object, location: Location) -> Iterator[tuple[Location, str]]:
    if isinstance(value, str):
        yield location, value
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, (*location, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*location, key))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _strings(getattr(value, name), (*location, name))


def font_problems(fonts: Iterable[Path], root: Path) -> list[Problem]:
    """A problem for every font of the project that is no font (fontconfig would skip it,
    and the text it was meant for would be reported as missing without saying why)."""
    return [
        Problem(
            relative_path(font, root),
            0,
            0,
            "this file cannot be read as a font",
            "replace it with a working .ttf, .otf or .ttc file, or remove it",
        )
        for font in fonts
        if font.resolve().is_relative_to(root.resolve()) and not _faces_of(font)
    ]


def coverage_problems(texts: Iterable[PrintedText], fonts: Iterable[Path]) -> list[Problem]:
    """A problem for every text holding characters that none of ``fonts`` has, and for
    every text in a right-to-left script."""
    texts = list(texts)
    every_character = set().union(*(printed.text for printed in texts))
    needed = set(filter(_needs_glyph, every_character))
    covered = covered_by(tuple(fonts), needed)
    # Each character looked at once, not once per text it is in.
    suspect = (needed - covered) | set(filter(_steers_direction, every_character))
    problems = []
    for printed in texts:
        if suspect.isdisjoint(printed.text):
            continue  # most texts
        controls = [c for c in dict.fromkeys(printed.text) if _direction_control(c)]
        if controls:
            problems.append(printed.problem(_control_message(controls), _CONTROL_HINT))
        characters = list(dict.fromkeys(_printed_characters(printed.text)))
        backwards = [c for c in characters if _right_to_left(c)]
        if backwards:
            problems.append(printed.problem(_backwards_message(backwards), _BACKWARDS_HINT))
        missing = [c for c in characters if c not in covered and c not in backwards]
        if missing:
            problems.append(printed.problem(_message(missing), _hint(missing)))
    return problems


# Right-to-left text is refused: WeasyPrint orders the words of a right-to-left
# run in a left-to-right line correctly only while no markup (emphasis, a link)
# splits the run, and a paragraph that starts right to left keeps its
# punctuation and alignment on the left-to-right side.
_RIGHT_TO_LEFT = frozenset({"R", "AL"})  # the bidirectional classes of Hebrew, Arabic ...
_BACKWARDS_HINT = (
    "the booklet and the cards are laid out left to right only: write this text in a "
    "left-to-right script, or leave it out"
)


def _right_to_left(char: str) -> bool:
    return unicodedata.bidirectional(char) in _RIGHT_TO_LEFT


# Invisible characters that turn the order of what follows them (U+202E prints
# "stop" as "pots"), or mark text right to left: refused like right-to-left text,
# and named, since nothing on the screen shows them.
_DIRECTION_CONTROLS = frozenset({"RLE", "RLO", "LRE", "LRO", "PDF", "RLI", "LRI", "FSI", "PDI"})
_CONTROL_HINT = (
    "such characters are invisible and often come in with text copied from another "
    "program: delete them"
)


def _direction_control(char: str) -> bool:
    direction = unicodedata.bidirectional(char)
    invisible_mark = direction in _RIGHT_TO_LEFT and unicodedata.category(char) == "Cf"
    return direction in _DIRECTION_CONTROLS or invisible_mark


def _steers_direction(char: str) -> bool:
    return _right_to_left(char) or _direction_control(char)


def _control_message(controls: list[str]) -> str:
    """Named by code only: the character itself would turn this message around too."""
    named = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c)}" for c in controls[:MAX_NAMED])
    what = (
        "an invisible character that changes"
        if len(controls) == 1
        else ("invisible characters that change")
    )
    return f"the text holds {named}, {what} the order it prints in"


def _backwards_message(backwards: list[str]) -> str:
    names = " and ".join(dict.fromkeys(scripts.script_name(scripts.script(c)) for c in backwards))
    return (
        f"right-to-left text ({names}, from {_named(backwards[0])}) cannot be printed yet: "
        "its words and punctuation would come out in the wrong order"
    )


def _printed_characters(text: str) -> Iterator[str]:
    """The characters of a text that need a glyph, composed as far as they can be
    (a letter and a combining accent that no font has print as the accented letter)."""
    return filter(_needs_glyph, unicodedata.normalize("NFC", text))


def _needs_glyph(char: str) -> bool:
    if unicodedata.category(char) in _SILENT_CATEGORIES:
        return False
    return not any(ord(char) in selectors for selectors in _VARIATION_SELECTORS)


def _message(missing: list[str]) -> str:
    named = ", ".join(_named(c) for c in missing[:MAX_NAMED])
    more = len(missing) - MAX_NAMED
    rest = f" and {more} more" if more > 0 else ""
    return f"no font of the handbook has {named}{rest}, so it would print as empty boxes"


def _named(char: str) -> str:
    name = unicodedata.name(char, "unnamed character")
    return f"'{char}' U+{ord(char):04X} {name}"


def _hint(missing: list[str]) -> str:
    codes = list(dict.fromkeys(scripts.script(c) for c in missing))
    families = [_suggested(code) for code in codes if code not in _COMMON]
    if not families:
        return (
            "emoji and symbols print only from a font that has them: write a word instead, "
            "or put such a font (.ttf, .otf or .ttc, with a licence that allows it) into the "
            "project's fonts/ folder"
        )
    names = " and ".join(dict.fromkeys(families))
    return (
        f"put a font that has them into the project's fonts/ folder, such as {names} "
        "(.ttf, .otf or .ttc; the Noto fonts are free under the SIL Open Font License): the fonts "
        "there print whatever the others lack. To print all text in it, also set "
        f"'design: {{font_family: {families[0]}}}' in handbook.yaml"
    )


def _suggested(script: str) -> str:
    return _SUGGESTED.get(script, f"Noto Sans {scripts.script_name(script)}")


def covered_by(fonts: tuple[Path, ...], wanted: set[str]) -> frozenset[str]:
    """The characters the fonts have glyphs for, as far as needed to tell which of
    ``wanted`` none has: fonts are read until all are found (most handbooks need
    one font, and reading a character map is most of the check's time)."""
    covered: set[str] = set()
    for font in fonts:
        status = font.stat()
        covered |= _characters_of(font, status.st_size, status.st_mtime_ns)
        if covered.issuperset(wanted):
            break
    return frozenset(covered)


@cache
def _characters_of(font: Path, size: int, modified: int) -> frozenset[str]:
    """The characters of a font file (every face of a collection); size and time of
    change are part of the cache key, so a replaced font is read again."""
    try:
        with _opened(font) as opened:
            faces = opened.fonts if isinstance(opened, TTCollection) else [opened]
            return frozenset(chr(code) for face in faces for code in face.getBestCmap() or ())
    except _DAMAGED:
        return frozenset()  # no font: fontconfig skips it too (font_problems says so)


def _faces_of(font: Path) -> int:
    """How many faces with a character map the file has; 0 for a damaged file (one whose
    tables do not all lie inside it, as in a file cut short)."""
    try:
        size = font.stat().st_size
        with _opened(font) as opened:
            faces = opened.fonts if isinstance(opened, TTCollection) else [opened]
            tables = [entry for face in faces for entry in face.reader.tables.values()]
            if any(entry.offset + entry.length > size for entry in tables):
                return 0
            return sum(1 for face in faces if "cmap" in face)
    except _DAMAGED:
        return 0


@contextmanager
def _opened(font: Path) -> Iterator[TTFont | TTCollection]:
    """The font, read lazily: only its table directory until a table is asked for.
    The file is opened here, so that it is closed also when it is no font."""
    with font.open("rb") as stream:
        if font.suffix.lower() in (".ttc", ".otc"):
            yield TTCollection(stream, lazy=True)
        else:
            yield TTFont(stream, lazy=True)


_DAMAGED = (TTLibError, OSError, KeyError, AssertionError, struct.error, ValueError)
