"""One embedded program per font face in a PDF put together from several WeasyPrint PDFs.

A document rendered in parts, whose PDFs are then merged page by page, carries
every font face once per part, each copy subset to that part's glyphs.
WeasyPrint names a face after its Pango font description, so the copies share
their ``BaseFont`` (and resource name) in every part. Their subset programs
keep the original glyph ids, so the glyph ids in every part's text are the
original font's: the face's original file, subset again to the glyphs of all
the parts, serves every part's text.

The font dictionaries themselves are not always interchangeable. WeasyPrint
records a glyph's width, rounded to a thousandth of an em, at the first size
it lays the glyph out in, then compensates each placement for that rounding
in the text itself; parts that first met a glyph at different sizes may
record widths one unit apart. Dictionaries that agree on the width of every
glyph they share become one, with their widths merged; one that disagrees
keeps its own dictionary, so that every page prints exactly as its part did.
All of them embed the one new program, and one text map: a glyph WeasyPrint
drew for two texts (the hyphen of a hyphenated word and a hyphen-minus) reads
as the text it first stood for, in the first part that uses it, as in a
document rendered whole.

This module imports pikepdf and fontTools: import it where a merged PDF is
put together, not where a command starts.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import struct
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from math import ceil
from pathlib import Path
from typing import Any, Protocol

import pikepdf
from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont, TTLibError
from pikepdf import Name

# The tables WeasyPrint's HarfBuzz subsetting drops (weasyprint/pdf/fonts.py), and the
# kern table, which HarfBuzz drops by default: PDF text uses none of them.
DROPPED_TABLES = (
    "BASE",
    "DSIG",
    "EBDT",
    "EBLC",
    "EBSC",
    "GPOS",
    "GSUB",
    "JSTF",
    "LTSH",
    "PCLT",
    "SVG",
    "kern",
)
HINTING_TABLES = ("cvt ", "fpgm", "prep")  # a program with them was subset with hinting
# Fonts WeasyPrint changes beyond subsetting (variable fonts are instantiated, colour
# glyphs emptied): their embedded programs cannot be made again from the file.
TRANSFORMED_TABLES = ("fvar", "CBDT", "sbix", "SVG ", "COLR")
# Family, subfamily, unique id, version, PostScript name: kept by both subsetters.
POSTSCRIPT_NAME_ID = 6
IDENTITY_NAME_IDS = (1, 2, 3, 5, POSTSCRIPT_NAME_ID)
NAME_RECORDS = ((3, 1, 0x409), (1, 0, 0))  # Windows English first, then Mac Roman
FIXED_PITCH = 1  # the FontDescriptor flag WeasyPrint sets when all widths are the same
CMAP_BATCH = 100  # mappings per beginbfchar block, as WeasyPrint writes them
# fontTools reports a malformed font with any of these.
UNREADABLE = (TTLibError, OSError, struct.error, ValueError, KeyError, IndexError, AssertionError)

TO_UNICODE_START = (
    b"/CIDInit /ProcSet findresource begin",
    b"12 dict begin",
    b"begincmap",
    b"/CIDSystemInfo",
    b"<< /Registry (Adobe)",
    b"/Ordering (UCS)",
    b"/Supplement 0",
    b">> def",
    b"/CMapName /Adobe-Identity-UCS def",
    b"/CMapType 2 def",
    b"1 begincodespacerange",
    b"<0000> <ffff>",
    b"endcodespacerange",
)
TO_UNICODE_END = (b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end")
_BFCHAR_BLOCK = re.compile(rb"(\d+) beginbfchar\s(.*?)endbfchar", re.S)
_BFCHAR = re.compile(rb"<([0-9a-fA-F]{4})> <((?:[0-9a-fA-F]{4})*)>")

IDENTITY_H = Name("/Identity-H")
# What a CIDFont's subtype says of its program: the descriptor key and the outlines.
PROGRAMS = {
    Name.CIDFontType2: (Name.FontFile2, "glyf"),
    Name.CIDFontType0: (Name.FontFile3, "CFF "),
}


class Subsets(Protocol):
    """Where subset programs are kept between builds, by a hash of what made them."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes) -> None: ...


def unify_fonts(
    pdf: pikepdf.Pdf, font_files: Sequence[Path], subsets: Subsets | None = None
) -> None:
    """Each font face that several merged parts embed, embedded once: subset from its
    file in ``font_files`` to the glyphs of all the parts, one font dictionary for
    the parts that agree on its widths and text (see the module's docstring).

    A face whose file is not among ``font_files`` (matched by the names and units per
    em its embedded program keeps), matches several different files, or cannot be
    read, stays as it is: the PDF is still right, only larger. The font dictionaries no longer
    used drop out when ``pdf`` is saved; the new streams are compressed then too
    (unless saved with ``compress_streams=False``).
    """
    font_resources = _font_resources(pdf)
    groups = _groups(font_resources)
    originals = _Originals(font_files, subsets)
    replacements: dict[tuple[int, int], pikepdf.Dictionary] = {}
    with _fonttools_quiet():
        for fonts in groups.values():
            if len(fonts) > 1:
                replacements |= _unify_group(pdf, fonts, originals)
    for resources in font_resources:
        for key in list(resources.keys()):
            font = resources[key]
            if font.is_indirect and font.objgen in replacements:
                resources[key] = replacements[font.objgen]


@contextmanager
def _fonttools_quiet() -> Iterator[None]:
    """fontTools logs a warning for every font it reads with a creation date it finds
    too early (the bundled fonts' among them): nothing a user could act on."""
    logger = logging.getLogger("fontTools")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# --- where fonts are used -------------------------------------------------------


def _font_resources(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """The /Font dictionary of every resource dictionary the pages use: their own, their
    annotations' appearances', and those of the forms, patterns, soft masks and Type 3
    fonts used in them, recursively."""
    seen: set[tuple[int, int]] = set()
    pending: deque = deque()  # first in, first out: in the order the pages use them
    for page in pdf.pages:
        pending.append(_inherited(page.obj, Name.Resources))
        for annotation in _values(page.obj.get(Name.Annots)):
            pending += [_resources_of(stream, seen) for stream in _appearances(annotation)]
    found = []
    while pending:
        resources = pending.popleft()
        if not _is_dictionary(resources) or not _first_visit(resources, seen):
            continue
        fonts = resources.get(Name.Font)
        if _is_dictionary(fonts):
            found.append(fonts)
            pending += [_resources_of(font, seen) for font in fonts.values()]
        for kind in (Name.XObject, Name.Pattern):
            pending += [_resources_of(item, seen) for item in _values(resources.get(kind))]
        for state in _values(resources.get(Name.ExtGState)):
            mask = state.get(Name.SMask) if _is_dictionary(state) else None
            if _is_dictionary(mask):
                pending.append(_resources_of(mask.get(Name.G), seen))
    return found


def _inherited(page: pikepdf.Dictionary, key: Name) -> Any:
    while _is_dictionary(page):
        if key in page:
            return page[key]
        page = page.get(Name.Parent)
    return None


def _appearances(annotation: Any) -> Iterator[Any]:
    """An annotation's appearance streams: normal, rollover and down, of every state."""
    streams = annotation.get(Name.AP) if _is_dictionary(annotation) else None
    for appearance in _values(streams):
        if isinstance(appearance, pikepdf.Stream):
            yield appearance
        else:
            yield from _values(appearance)


def _resources_of(holder: Any, seen: set[tuple[int, int]]) -> Any:
    """The resources of a form, pattern, appearance or Type 3 font seen for the first time."""
    if _is_dictionary(holder) and _first_visit(holder, seen):
        return holder.get(Name.Resources)
    return None


def _first_visit(item: pikepdf.Object, seen: set[tuple[int, int]]) -> bool:
    """Objects reached again (a form drawing itself, resources shared by pages) are
    visited once; a direct object is inside the one object that holds it."""
    if not item.is_indirect:
        return True
    if item.objgen in seen:
        return False
    seen.add(item.objgen)
    return True


def _values(item: Any) -> list[Any]:
    if isinstance(item, pikepdf.Array):
        return list(item)
    return list(item.values()) if _is_dictionary(item) else []


def _is_dictionary(item: Any) -> bool:
    return isinstance(item, (pikepdf.Dictionary, pikepdf.Stream))


def _groups(font_resources: list[pikepdf.Dictionary]) -> dict[str, list[pikepdf.Dictionary]]:
    """The Type 0 font dictionaries used, by BaseFont, each once, in the order first used."""
    groups: dict[str, dict[tuple[int, int], pikepdf.Dictionary]] = {}
    for resources in font_resources:
        for font in resources.values():
            if font.is_indirect and font.get(Name.Subtype) == Name.Type0:
                group = groups.setdefault(str(font.get(Name.BaseFont)), {})
                group.setdefault(font.objgen, font)
    return {base_font: list(fonts.values()) for base_font, fonts in groups.items()}


# --- one face -------------------------------------------------------------------


@dataclass
class _Member:
    """One part's font dictionary of a face, as WeasyPrint writes it."""

    font: pikepdf.Dictionary
    descriptor: pikepdf.Dictionary
    program_key: Name  # /FontFile2 or /FontFile3
    identity: tuple
    widths: dict[int, Any]  # glyph id (= CID) -> width, from /W
    text: dict[int, str] | None  # glyph id -> UTF-16BE hex, from /ToUnicode; None: unread
    hinted: bool  # subset keeping its hinting
    modified: int  # the date in its program's head table


@dataclass
class _Merge:
    """Font dictionaries that agree on the width of every glyph they share."""

    members: list[_Member]
    widths: dict[int, Any] = field(default_factory=dict)

    def take(self, member: _Member) -> bool:
        """Add ``member`` if it agrees with the members so far."""
        if self.members and not self._agrees(member):
            return False
        self.members.append(member)
        self.widths = {**member.widths, **self.widths}
        return True

    def _agrees(self, member: _Member) -> bool:
        shared = self.widths.keys() & member.widths.keys()
        return all(self.widths[glyph] == member.widths[glyph] for glyph in shared)


def _unify_group(
    pdf: pikepdf.Pdf, fonts: list[pikepdf.Dictionary], originals: _Originals
) -> dict[tuple[int, int], pikepdf.Dictionary]:
    """Where the group's dictionaries are to point now (none: it stays as it is)."""
    members = [_member(font) for font in fonts]
    if any(member is None or member.text is None for member in members):
        return {}
    first = members[0]
    if any(_kind(member) != _kind(first) for member in members):
        return {}
    original = originals.find(first.identity)
    glyphs = sorted({glyph for member in members for glyph in member.widths})
    program = _kept_subset(originals, original, glyphs, first) if original else None
    if program is None:
        return {}
    stream = _program_stream(pdf, program, first)
    cid_set = pikepdf.Stream(pdf, _cid_set(glyphs))
    text: dict[int, str] = {}
    for member in members:  # in page order: a glyph reads as it first did
        text = {**(member.text or {}), **text}
    to_unicode = pikepdf.Stream(pdf, _to_unicode(text))
    replacements = {}
    for merge in _merges(members):
        kept = merge.members[0]
        kept.font.ToUnicode = to_unicode
        if len(merge.members) > 1:
            _write_merge(merge)
        kept.descriptor[kept.program_key] = stream
        if Name.CIDSet in kept.descriptor:
            kept.descriptor.CIDSet = cid_set
        for member in merge.members[1:]:
            replacements[member.font.objgen] = kept.font
    return replacements


def _member(font: pikepdf.Dictionary) -> _Member | None:
    """The dictionary read, if it is one WeasyPrint writes for a TrueType or CFF face."""
    descendants = font.get(Name.DescendantFonts)
    if font.get(Name.Encoding) != IDENTITY_H or not isinstance(descendants, pikepdf.Array):
        return None  # WeasyPrint's own encoding stands for glyphs missing from the font
    cid_font = descendants[0] if len(descendants) == 1 else None
    if not _is_dictionary(cid_font) or cid_font.get(Name.CIDToGIDMap) != Name.Identity:
        return None
    descriptor = cid_font.get(Name.FontDescriptor)
    program_key, outlines = PROGRAMS.get(cid_font.get(Name.Subtype), (None, None))
    if program_key is None or not _is_dictionary(descriptor):
        return None
    widths = _widths(cid_font.get(Name.W))
    program = descriptor.get(program_key)
    if not widths or not isinstance(program, pikepdf.Stream):
        return None
    try:
        face = _face(program.read_bytes())
    except (*UNREADABLE, pikepdf.PdfError):
        return None
    if face.identity is None or face.identity[-1] != outlines:
        return None
    text = _text_map(font.get(Name.ToUnicode))
    return _Member(
        font, descriptor, program_key, face.identity, widths, text, face.hinted, face.modified
    )


@dataclass(frozen=True)
class _Face:
    """What an embedded program says of the face it was subset from."""

    identity: tuple | None  # see _identity
    hinted: bool
    modified: int  # the head table's date


_FACES: dict[tuple, _Face] = {}  # by _face_key, in this process
_MOST_FACES = 256


def _face(program: bytes) -> _Face:
    """The face of an embedded program, read with fontTools once per face: the subsets
    of one face (one per card in cards.pdf) share what decides it (see _face_key)."""
    key = _face_key(program)
    found = _FACES.get(key) if key is not None else None
    if found is None:
        with TTFont(io.BytesIO(program), lazy=True) as embedded:
            hinted = any(tag in embedded for tag in HINTING_TABLES)
            found = _Face(_identity(embedded), hinted, embedded["head"].modified)
        if key is not None:
            if len(_FACES) >= _MOST_FACES:
                _FACES.clear()
            _FACES[key] = found
    return found


_SFNT_VERSIONS = (b"\x00\x01\x00\x00", b"true", b"OTTO")
_CHECKSUM_ADJUSTMENT = slice(8, 12)  # in the head table: a checksum of the whole file


def _face_key(program: bytes) -> tuple | None:
    """All a :class:`_Face` is read from: the program's table tags, its name table, and
    its head table but for the checksum of the whole file; read from the table
    directory (OpenType's "Table Directory"). None if it is not a plain sfnt."""
    try:
        version, count = struct.unpack_from(">4sH", program)
        directory = program[12 : 12 + 16 * count]
        records = {tag: (at, size) for tag, _, at, size in struct.iter_unpack(">4sIII", directory)}
    except struct.error:
        return None
    if version not in _SFNT_VERSIONS or b"head" not in records or b"name" not in records:
        return None
    (head_at, head_size), (name_at, name_size) = records[b"head"], records[b"name"]
    head = bytearray(program[head_at : head_at + head_size])
    head[_CHECKSUM_ADJUSTMENT] = bytes(4)
    return (tuple(sorted(records)), bytes(head), program[name_at : name_at + name_size])


def _kind(member: _Member) -> tuple:
    """What the members of a group must share to share one program."""
    return member.identity, member.program_key, member.hinted


def _merges(members: list[_Member]) -> list[_Merge]:
    """The members in as few agreeing merges as this greedy pass finds, in order."""
    merges: list[_Merge] = []
    for member in members:
        if not any(merge.take(member) for merge in merges):
            merges.append(_Merge([]))
            merges[-1].take(member)
    return merges


def _write_merge(merge: _Merge) -> None:
    """The merge's first dictionary, with the widths of them all."""
    kept = merge.members[0]
    cid_font = kept.font.DescendantFonts[0]
    cid_font.W = _width_array(merge.widths)
    bbox = list(kept.descriptor.FontBBox)
    bbox[2] = max(merge.widths.values())
    kept.descriptor.FontBBox = pikepdf.Array(bbox)
    widths = merge.widths.values()
    fixed = len(merge.widths) > 1 and len(set(widths)) == 1
    kept.descriptor.Flags = int(kept.descriptor.Flags) & ~FIXED_PITCH | (FIXED_PITCH * fixed)


def _program_stream(pdf: pikepdf.Pdf, program: bytes, like: _Member) -> pikepdf.Stream:
    stream = pikepdf.Stream(pdf, program)
    if like.program_key == Name.FontFile3:
        stream.Subtype = Name.OpenType
    else:
        stream.Length1 = len(program)
    return stream


# --- widths, text, glyph sets ---------------------------------------------------


def _widths(array: Any) -> dict[int, Any] | None:
    """A /W array's widths by CID (``c [w ...]`` and ``c_first c_last w`` both)."""
    if not isinstance(array, pikepdf.Array):
        return None
    items, widths, i = list(array), {}, 0
    try:
        while i + 1 < len(items):
            first = int(items[i])
            if isinstance(items[i + 1], pikepdf.Array):
                for offset, width in enumerate(items[i + 1]):
                    widths.setdefault(first + offset, width)
                i += 2
            elif i + 2 < len(items):
                for cid in range(first, int(items[i + 1]) + 1):
                    widths.setdefault(cid, items[i + 2])
                i += 3
            else:
                return None
    except (TypeError, ValueError):
        return None
    return widths if i == len(items) else None


def _width_array(widths: dict[int, Any]) -> pikepdf.Array:
    """Widths as WeasyPrint writes them: each run of consecutive CIDs as ``c [w ...]``."""
    array: list[Any] = []
    for cid in sorted(widths):
        if cid - 1 not in widths:
            array += [cid, []]
        array[-1].append(widths[cid])
    return pikepdf.Array(
        [pikepdf.Array(item) if isinstance(item, list) else item for item in array]
    )


def _text_map(stream: Any) -> dict[int, str] | None:
    """A ToUnicode CMap's text by CID, if it is in the form WeasyPrint writes."""
    if not isinstance(stream, pikepdf.Stream):
        return None
    try:
        data = stream.read_bytes()
    except pikepdf.PdfError:
        return None
    if b"beginbfrange" in data or b"usecmap" in data:  # not WeasyPrint's
        return None
    text: dict[int, str] = {}
    for count, block in _BFCHAR_BLOCK.findall(data):
        pairs = _BFCHAR.findall(block)
        if len(pairs) != int(count):
            return None
        for glyph, utf16 in pairs:
            text.setdefault(int(glyph, 16), utf16.decode().lower())
    return text


def _to_unicode(text: dict[int, str]) -> bytes:
    """A ToUnicode CMap in the form WeasyPrint writes."""
    lines = list(TO_UNICODE_START)
    glyphs = sorted(text)
    for start in range(0, len(glyphs), CMAP_BATCH):
        batch = glyphs[start : start + CMAP_BATCH]
        lines.append(f"{len(batch)} beginbfchar".encode())
        lines += [f"<{glyph:04x}> <{text[glyph]}>".encode() for glyph in batch]
        lines.append(b"endbfchar")
    return b"\n".join([*lines, *TO_UNICODE_END])


def _cid_set(glyphs: list[int]) -> bytes:
    """A CIDSet: one bit per CID up to the last one, set for those in the program."""
    bits = bytearray(ceil((glyphs[-1] + 1) / 8))
    for glyph in glyphs:
        bits[glyph // 8] |= 0x80 >> (glyph % 8)
    return bytes(bits)


# --- font files -----------------------------------------------------------------


def _identity(font: TTFont) -> tuple | None:
    """What tells a font apart from others: its names, units per em and outlines (the
    table holding them, last). None for a font without a PostScript name."""
    names = tuple(_name(font["name"], name_id) for name_id in IDENTITY_NAME_IDS)
    if names[IDENTITY_NAME_IDS.index(POSTSCRIPT_NAME_ID)] is None:
        return None
    outlines = next((tag for tag in ("glyf", "CFF ", "CFF2") if tag in font), None)
    return (*names, font["head"].unitsPerEm, outlines)


def _name(names: Any, name_id: int) -> str | None:
    for record in NAME_RECORDS:
        found = names.getName(name_id, *record)
        if found is not None:
            return found.toUnicode()
    return None


@dataclass(frozen=True)
class _FontFile:
    path: Path
    number: int  # in a collection; 0 for a single font


class _Originals:
    """The font files a face may come from, read (names and a few tables) when first asked."""

    def __init__(self, files: Sequence[Path], subsets: Subsets | None = None) -> None:
        self._files = files
        self._index: dict[tuple, list[_FontFile]] | None = None
        self.subsets = subsets  # subset programs kept from earlier builds, if any

    def find(self, identity: tuple) -> _FontFile | None:
        """The one font with this identity; None when there is none, or several that differ."""
        if self._index is None:
            self._index = {}
            for path in self._files:
                for font_file, font_identity in _fonts_in(path):
                    self._index.setdefault(font_identity, []).append(font_file)
        found = self._index.get(identity, [])
        if len(found) > 1 and len({_digest(font_file) for font_file in found}) > 1:
            return None
        return found[0] if found else None


def _fonts_in(path: Path) -> list[tuple[_FontFile, tuple]]:
    """The fonts of a font file (several in a collection) that WeasyPrint embeds as they
    are, with their identities; none if the file cannot be read."""
    try:
        with path.open("rb") as file:
            collection = file.read(4) == b"ttcf"
        with TTCollection(path, lazy=True) if collection else TTFont(path, lazy=True) as fonts:
            return [
                (_FontFile(path, number), _identity(font))
                for number, font in enumerate(fonts.fonts if collection else [fonts])
                if not any(tag in font for tag in TRANSFORMED_TABLES)
            ]
    except UNREADABLE:
        return []


def _digest(font_file: _FontFile) -> tuple[str, int] | _FontFile:
    """What the font is made of; a file that cannot be read is only itself."""
    try:
        return hashlib.sha256(font_file.path.read_bytes()).hexdigest(), font_file.number
    except OSError:
        return font_file


def _kept_subset(
    originals: _Originals, original: _FontFile, glyphs: list[int], like: _Member
) -> bytes | None:
    """:func:`_subset`, or the same program an earlier build made (an edit seldom brings
    a glyph no page had)."""
    made_of = _digest(original)
    if originals.subsets is None or isinstance(made_of, _FontFile):
        return _subset(original, glyphs, like)
    key = hashlib.sha256(repr((made_of, glyphs, like.hinted, like.modified)).encode()).hexdigest()
    program = originals.subsets.get(key)
    if program is None:
        program = _subset(original, glyphs, like)
        if program is not None:
            originals.subsets.put(key, program)
    return program


def _subset(original: _FontFile, glyphs: list[int], like: _Member) -> bytes | None:
    """The original subset to ``glyphs`` as WeasyPrint's fontTools path subsets, dated as
    ``like``'s program; None if it cannot be read."""
    options = subset.Options(
        retain_gids=True,
        passthrough_tables=True,
        ignore_missing_glyphs=True,
        hinting=like.hinted,
        desubroutinize=True,
        notdef_outline=False,
    )
    options.drop_tables += DROPPED_TABLES
    try:
        with TTFont(
            original.path, fontNumber=original.number, recalcTimestamp=False, lazy=True
        ) as font:
            if glyphs[-1] >= font["maxp"].numGlyphs:
                return None
            tags = font.keys()  # a TTFont is no mapping: iterating it yields no tags
            for tag in tags:  # dropped before subsetting: fontTools decodes GSUB and GPOS first
                if tag.strip() in options.drop_tables:
                    del font[tag]
            subsetter = subset.Subsetter(options)
            subsetter.populate(gids=glyphs)
            subsetter.subset(font)
            font["head"].modified = like.modified
            program = io.BytesIO()
            font.save(program)
    except UNREADABLE:
        return None
    return program.getvalue()
