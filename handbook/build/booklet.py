"""The booklet laid out in parts, each kept in the output folder until its inputs change.

The booklet's HTML is cut into parts (:mod:`handbook.html.split`); each is
laid out as its own document (:mod:`handbook.engine.parts`), written as a
PDF and kept in ``.parts/`` under the hash of everything it was made from:
its HTML, the page it begins on and the page numbers it prints. The parts
are then put together as one PDF (:mod:`handbook.press.merge`).

An edit to one technique changes one part's HTML: only that part is laid
out again. If its page count changed, the parts after it begin on other
pages and print other numbers, so they are laid out again too. The page
numbers come from the last build's page map, and from the parts laid out
before in this build; a number that turns out wrong once all parts are laid
out (a page reference to a later part, on a first build) makes its part be
laid out again with the right one.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from handbook import engine
from handbook.build import page_numbers
from handbook.build.cache import FONTS_DIR, MOST_FONT_BYTES, PARTS_DIR, digest
from handbook.build.output import KeptFiles, read_output, remove_outputs_except, write_output
from handbook.errors import HandbookError
from handbook.html import split
from handbook.press.merge import UnreadablePart

_LEADS = "leads.json"  # how many pages each part's lead took, by the part's HTML
_STARTS = "starts.json"  # the page each part began on, by the id it begins with
# Walks through the parts in order before a booklet whose page numbers still move from
# one layout to the next is laid out whole.
_WALKS = 3
_MOST_RECORD_BYTES = 16 * 1024 * 1024


class PartRecord(BaseModel):
    """What the merge needs of a part laid out in an earlier build (see LaidOutPart)."""

    model_config = ConfigDict(strict=True, frozen=True)

    start: int
    pages: int
    anchors: dict[str, int]
    printed: dict[str, int]
    bookmarks: list[list[tuple[int, str, tuple[float, float], str]]]
    heights: list[float]
    chains: list[tuple[int, int, tuple[str, ...]]]
    boundary: tuple[int, tuple[str, ...]] | None


@dataclass(frozen=True)
class Written:
    """How each part's PDF is written."""

    origin: str
    date: str | None
    variant: str | None  # as WeasyPrint is asked for it


@dataclass(frozen=True)
class Booklet:
    pdf: bytes
    anchors: dict[str, int]  # the page of every id
    pages: int
    renders: int  # parts laid out


@dataclass
class _Walk:
    """The state of one build's parts: what is known of the pages, what was laid out."""

    source: engine.PageSource
    notes: engine.PageSource | None
    written: Written
    context: str
    out_dir: Path
    pages: dict[str, int]  # the best known page of every id
    leads: dict[str, int]  # the last build's
    kept_leads: dict[str, int] = dataclasses.field(default_factory=dict)  # this build's
    starts: dict[str, int] = dataclasses.field(default_factory=dict)  # this build's
    fresh: bool = False  # lay out every part again (--force), once in this build
    made: set[str] = dataclasses.field(default_factory=set)  # the keys laid out in it
    unreadable: set[str] = dataclasses.field(default_factory=set)  # kept PDFs that are not
    renders: int = 0
    used: set[str] = dataclasses.field(default_factory=set)
    notes_laid_out: object = None
    renumberable: bool = False  # the styles print a link's page only where it can be changed
    # The parts laid out in this walk that cite pages after them, by index: written at its
    # end, once those pages are known.
    pending: dict[int, _Pending] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class _Pending:
    laid: object  # a LaidOutPart
    part: split.Part
    start: int
    lead: int
    last: bool


def in_parts(
    source: engine.PageSource,
    notes: engine.PageSource | None,
    written: Written,
    context: str,
    known: dict[str, int],
    out_dir: Path,
    fresh: bool = False,
    made: frozenset[str] = frozenset(),
    parts: list[split.Part] | None = None,
) -> Booklet | None:
    """The booklet laid out in parts and merged; None if it cannot be cut into parts, or
    its page numbers do not settle: then it is laid out whole. With ``fresh``, no part
    an earlier build kept is used but those of ``made``: the keys of the parts laid
    out ahead in this build (:func:`lay_out_ahead`). ``parts``: its HTML cut already."""
    parts = split.split(source.html) if parts is None else parts
    if parts is None or len(parts) < 2:
        return None
    ids = frozenset().union(*(part.ids for part in parts))
    pages = {anchor: page for anchor, page in known.items() if anchor in ids}
    walk = _Walk(source, notes, written, context, out_dir, pages, _read_leads(out_dir), fresh=fresh)
    walk.made.update(made)
    styles = _style_texts(source)
    walk.renumberable = styles is not None and page_numbers.renumberable(styles)
    for _ in range(_WALKS):
        laid_out = _walk_through(walk, parts, ids)
        if laid_out is None:
            return None
        settled = all(
            walk.pages.get(anchor) == page
            for record, _ in laid_out
            for anchor, page in record.printed.items()
        )
        if settled and all(name for _, name in laid_out):
            walk.starts = {
                part.first_id: record.start
                for part, (record, _) in zip(parts, laid_out, strict=True)
                if part.first_id
            }
            try:
                return _merged(walk, laid_out)
            except UnreadablePart as unreadable:  # laid out again on the next walk
                walk.unreadable.add(str(laid_out[unreadable.index][1]))
    return None


@dataclass(frozen=True)
class PartAhead:
    """A part to lay out before the walk, where the last build's page map puts it."""

    part: split.Part
    start: int
    printed: dict[str, int]
    lead: int
    last: bool


def parts_ahead(
    source: engine.PageSource,
    notes: engine.PageSource | None,
    written: Written,
    context: str,
    known: dict[str, int],
    out_dir: Path,
    fresh: bool = False,
    parts: list[split.Part] | None = None,
) -> list[PartAhead]:
    """The parts the walk would lay out again, each where it began in the last build,
    printing the pages of the last build's page map (``known``): laid out ahead, side
    by side (:func:`lay_out_ahead`), each is the part the walk then finds kept, as long
    as no part before it took other pages than in the last build. None after no build
    (no page map), or if the booklet cannot be cut into parts. ``parts``: its HTML cut
    already."""
    if not known:
        return []
    parts = split.split(source.html) if parts is None else parts
    if parts is None or len(parts) < 2:
        return []
    ids = frozenset().union(*(part.ids for part in parts))
    walk = _Walk(source, notes, written, context, out_dir, {}, _read_leads(out_dir), fresh=fresh)
    starts = _read_starts(out_dir)
    ahead = []
    for index, part in enumerate(parts):
        start = starts.get(part.first_id) if part.first_id else 1
        cited = sorted(page_numbers.cited(part.html) & ids)
        if start is None or any(anchor not in known for anchor in cited):
            continue
        printed = {anchor: known[anchor] for anchor in cited}
        lead = walk.leads.get(digest(part.html), 1 if part.first_id else 0)
        last = index == len(parts) - 1
        key = _part_key(walk, part, start, printed, lead, last)
        if fresh or _kept_record(out_dir, key) is None:
            ahead.append(PartAhead(part, start, printed, lead, last))
    return ahead


def lay_out_ahead(
    source: engine.PageSource,
    notes: engine.PageSource | None,
    written: Written,
    context: str,
    out_dir: Path,
    fresh: bool,
    ahead: PartAhead,
) -> tuple[str | None, int]:
    """Lay out and keep one part of :func:`parts_ahead` (in a worker of its own, beside
    the others): the key it is kept under (None if it cannot be laid out as a part),
    and how many layouts it took. ``source`` is the booklet's, its HTML left out."""
    walk = _Walk(source, notes, written, context, out_dir, {}, {}, fresh=fresh)
    found = _part(walk, ahead.part, ahead.start, ahead.printed, ahead.last, lead=ahead.lead)
    return (found[1].removesuffix(".pdf") if found and found[1] else None), walk.renders


_LINKED_STYLE = re.compile(r"<link\b[^>]*stylesheet|<\?xml-stylesheet", re.IGNORECASE)
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>|\sstyle=\"([^\"]*)\"", re.DOTALL | re.IGNORECASE)


def _style_texts(source: engine.PageSource) -> list[str] | None:
    """Every stylesheet the booklet may be styled by: its extra CSS, the files of its
    stylesheets' folders, and the styles in its HTML; None if a file cannot be read or
    the HTML links a stylesheet of its own."""
    if _LINKED_STYLE.search(source.html):
        return None
    files = {path for sheet in source.stylesheets for path in (sheet, *sheet.parent.glob("*.css"))}
    texts = [source.extra_css]
    for path in sorted(files):
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return None
    return texts + [block or attribute for block, attribute in _STYLE.findall(source.html)]


def _walk_through(
    walk: _Walk, parts: list[split.Part], ids: frozenset[str]
) -> list[tuple[PartRecord, str | None]] | None:
    """Every part, in order, laid out (or taken from the last build) where it begins now,
    printing the pages known now; None if one cannot be laid out as a part.

    A part that cites a page after it (the contents; a technique's "see" line to the
    safety chapter that follows) is written at the end of the walk: as laid out if the
    pages it printed were right, else with the right numbers printed into it (see
    :func:`_written_pending`). A page not known yet is printed as a guess of the same
    number of digits. A part that cannot be written then has no name: the next walk
    lays it out again with the pages known by then.
    """
    laid_out = []
    start = 1
    walk.used.clear()  # only the last walk's parts are kept
    after = _ids_after(parts)
    for index, part in enumerate(parts):
        cited = sorted(page_numbers.cited(part.html) & ids)
        guesses = _guessed_pages(parts, index, start)
        printed = {anchor: walk.pages.get(anchor, guesses.get(anchor, start)) for anchor in cited}
        last = index == len(parts) - 1
        # Kept until the walk ends only where the numbers can be printed in afterwards.
        ahead = walk.renumberable and bool(after[index].intersection(cited))
        found = _part(walk, part, start, printed, last, index if ahead else None)
        if found is None:
            return None
        record, _ = found
        laid_out.append(found)
        walk.pages.update({anchor: start + page for anchor, page in record.anchors.items()})
        start += record.pages
    _written_pending(walk, laid_out)
    return laid_out


def _ids_after(parts: list[split.Part]) -> list[frozenset[str]]:
    """For each part, the ids of the parts after it."""
    after, seen = [], frozenset()
    for part in reversed(parts):
        after.append(seen)
        seen = seen | part.ids
    return after[::-1]


def _guessed_pages(parts: list[split.Part], index: int, start: int) -> dict[str, int]:
    """A guess at the page of each id after this part, from the pages the parts before
    it took for their HTML, to print until the page is known. Only its number of digits
    counts: the part is not laid out again if the real page has as many."""
    before = sum(len(part.html) for part in parts[:index])
    pages_per_char = (start - 1) / before if before else 0.0
    guesses, chars = {}, 0
    for part in parts[index:]:
        guesses.update(dict.fromkeys(part.ids, start + round(chars * pages_per_char)))
        chars += len(part.html)
    return guesses


def _written_pending(walk: _Walk, laid_out: list[tuple[PartRecord, str | None]]) -> None:
    """Write the parts that waited for the pages after them, printing those pages: as
    laid out where they printed them right, else with the numbers changed in the laid
    out part, where the styles and the numbers' widths allow it."""
    from handbook.engine.parts import renumbered

    for index, pending in sorted(walk.pending.items()):
        record, _ = laid_out[index]
        real = {anchor: walk.pages.get(anchor) for anchor in record.printed}
        if None in real.values():
            continue  # an id no part holds a page of: the walk does not settle
        moved = {a: (page, real[a]) for a, page in record.printed.items() if page != real[a]}
        if moved and not (walk.renumberable and renumbered(pending.laid, moved)):
            continue  # laid out again by the next walk, printing the pages known then
        record = record.model_copy(update={"printed": real})
        key = _part_key(walk, pending.part, pending.start, real, pending.lead, pending.last)
        laid_out[index] = (record, _write(walk, key, pending.laid, record))
    walk.pending.clear()


def _part(
    walk: _Walk,
    part: split.Part,
    start: int,
    printed: dict[str, int],
    last: bool,
    pending: int | None = None,
    lead: int | None = None,
) -> tuple[PartRecord, str | None] | None:
    """The part's record and the name of its PDF: the last build's if it was made from
    the same, else laid out now. A part laid out now that cites pages after it (its
    index given as ``pending``) is written at the end of the walk: no name yet. Its
    lead is guessed to take as many pages as ``lead``, else as in the last build."""
    html_key = digest(part.html)
    if lead is None:
        lead = walk.leads.get(html_key, 1 if part.first_id else 0)
    for _ in range(2):  # a lead that takes other pages than guessed: once more with those
        key = _part_key(walk, part, start, printed, lead, last)
        unwanted = (walk.fresh and key not in walk.made) or f"{key}.pdf" in walk.unreadable
        kept = None if unwanted else _kept_record(walk.out_dir, key)
        if kept is not None:
            walk.kept_leads[html_key] = lead
            walk.used.update({f"{key}.json", f"{key}.pdf"})
            return kept, f"{key}.pdf"
        laid = _lay_out(walk, part, start, printed, lead, last)
        if laid is None:
            return None
        if isinstance(laid, int):
            lead = laid
            continue
        walk.kept_leads[html_key] = laid.lead
        record = _record(laid, start, printed)
        if pending is not None:
            walk.pending[pending] = _Pending(laid, part, start, laid.lead, last)
            return record, None
        return record, _write(walk, key, laid, record)
    return None


def _write(walk: _Walk, key: str, laid, record: PartRecord) -> str:
    """Write a laid-out part's PDF and record; the PDF's name."""
    from handbook.press import tagging

    data = engine.to_pdf_bytes(
        laid.document,
        walk.written.origin,
        date=walk.written.date,
        pdf_tags=True,
        pdf_variant=walk.written.variant,
    )
    data = tagging.finish(data, laid.chains)
    _keep(walk.out_dir, f"{key}.pdf", data)
    _keep(walk.out_dir, f"{key}.json", record.model_dump_json().encode())
    walk.used.update({f"{key}.json", f"{key}.pdf"})
    walk.made.add(key)
    return f"{key}.pdf"


def _part_key(
    walk: _Walk, part: split.Part, start: int, printed: dict[str, int], lead: int, last: bool
) -> str:
    notes = walk.notes.html if last and walk.notes else ""
    numbers = json.dumps(printed, sort_keys=True)
    return digest(walk.context, part.html, str(start), numbers, str(lead), notes)[:32]


def _lay_out(walk: _Walk, part: split.Part, start: int, printed, lead: int, last: bool):
    from handbook.engine.parts import lay_out_part

    notes = None
    if last and walk.notes is not None:
        if walk.notes_laid_out is None:
            walk.notes_laid_out = engine.render(walk.notes)
        notes = walk.notes_laid_out
    html = page_numbers.numbered(part.html, printed)
    walk.renders += 1
    source = dataclasses.replace(walk.source, html=html)
    return lay_out_part(source, part, start, lead, notes)


def _record(laid, start: int, printed: dict[str, int]) -> PartRecord:
    return PartRecord(
        start=start,
        pages=len(laid.document.pages),
        anchors=laid.anchors,
        printed=printed,
        bookmarks=[[_bookmark(b) for b in page] for page in laid.bookmarks],
        heights=[float(height) for height in laid.heights],
        chains=[(a, b, tuple(chain)) for a, b, chain in laid.chains],
        boundary=laid.boundary,
    )


def _bookmark(bookmark) -> tuple[int, str, tuple[float, float], str]:
    level, label, (x, y), state = bookmark
    return (int(level), str(label), (float(x), float(y)), str(state))


def _keep(out_dir: Path, name: str, data: bytes) -> None:
    """Keep a part's file for the next build. A part that cannot be written is the
    booklet's problem: it names the booklet, the output the user asked for."""
    try:
        write_output(out_dir, f"{PARTS_DIR}/{name}", data)
    except HandbookError as exc:
        booklet = str(out_dir / "handbook.pdf")
        raise HandbookError([dataclasses.replace(p, path=booklet) for p in exc.problems]) from None


def _kept_record(out_dir: Path, key: str) -> PartRecord | None:
    """The record a build kept for this key, if it is sound and its PDF is there (the
    output folder is the user's: anything in it may have been changed; the merge
    checks the PDF itself)."""
    try:
        data = read_output(out_dir, f"{PARTS_DIR}/{key}.json", limit=_MOST_RECORD_BYTES)
        record = PartRecord.model_validate_json(data)
    except (HandbookError, ValidationError, ValueError):
        return None
    kept = (out_dir / PARTS_DIR / f"{key}.pdf").is_file()
    return record if kept and _within(record) else None


def _within(record: PartRecord) -> bool:
    """Whether every page the record names is one of the part's."""
    named = [
        *record.anchors.values(),
        *(page for page, bookmarks in enumerate(record.bookmarks) if bookmarks),
        *(page for chain in record.chains for page in chain[:2]),
        *((record.boundary[0],) if record.boundary else ()),
    ]
    return len(record.bookmarks) == len(record.heights) == record.pages and all(
        0 <= page < record.pages for page in named
    )


def _read_leads(out_dir: Path) -> dict[str, int]:
    stored = _read_numbers(out_dir, _LEADS)
    return {key: lead for key, lead in stored.items() if 0 <= lead < 100}


def _read_starts(out_dir: Path) -> dict[str, int]:
    return {key: start for key, start in _read_numbers(out_dir, _STARTS).items() if start >= 1}


def _read_numbers(out_dir: Path, name: str) -> dict[str, int]:
    """A record of numbers the last build kept in ``.parts/``; empty if it is not one
    (the output folder is the user's)."""
    try:
        stored = json.loads(read_output(out_dir, f"{PARTS_DIR}/{name}", _MOST_RECORD_BYTES))
    except (HandbookError, ValueError, RecursionError):
        return {}
    if not isinstance(stored, dict):
        return {}
    return {key: number for key, number in stored.items() if type(number) is int}


def _read_part(out_dir: Path, name: str | None, index: int) -> bytes:
    try:
        return read_output(out_dir, f"{PARTS_DIR}/{name}")
    except HandbookError:
        raise UnreadablePart(index) from None


def _merged(walk: _Walk, laid_out: list[tuple[PartRecord, str | None]]) -> Booklet:
    from handbook.engine.parts import outline
    from handbook.press.merge import MergePart, merged

    parts = [
        MergePart(
            _read_part(walk.out_dir, name, index),
            frozenset(record.anchors),
            record.boundary,
            record.pages,
        )
        for index, (record, name) in enumerate(laid_out)
    ]
    pages = [
        (bookmarks, height)
        for record, _ in laid_out
        for bookmarks, height in zip(record.bookmarks, record.heights, strict=True)
    ]
    subsets = KeptFiles(walk.out_dir, f"{PARTS_DIR}/{FONTS_DIR}", MOST_FONT_BYTES)
    pdf = merged(parts, outline(pages), engine.font_files(walk.source), subsets)
    subsets.forget_unused()
    _keep(walk.out_dir, _LEADS, json.dumps(walk.kept_leads, sort_keys=True).encode())
    _keep(walk.out_dir, _STARTS, json.dumps(walk.starts, sort_keys=True).encode())
    remove_outputs_except(walk.out_dir, PARTS_DIR, {*walk.used, _LEADS, _STARTS})
    count = sum(record.pages for record, _ in laid_out)
    return Booklet(pdf, dict(walk.pages), count, walk.renders)
