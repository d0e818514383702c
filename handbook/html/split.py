"""The booklet's HTML cut into parts, each a document of its own, laid out separately.

WeasyPrint lays out one document on one core, and an edit anywhere lays the
whole booklet out again. Cut where a page break is forced anyway, the
booklet's parts lay out the same pages as the whole does, and only the part
an edit touched needs laying out again (see :mod:`handbook.build.booklet`).

The templates say where a part may begin: an element with ``data-split`` (a
chapter, a technique) starts on a page of its own. A part is the whole
document's head and body with only a run of those elements: the elements
they sit in (``main``, the chapter's section) are opened again around it, and
before it comes a *lead*: what the chapter shows before its first such
element (its heading, its introduction), then an empty element whose id is
:data:`LEAD_END`. The lead's pages are laid out, so that the running heads
and the page side carry over, and left out of the part's pages; the lead
is also where a page break the part begins with shows, as in the whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser

LEAD_END = "handbook-lead-end"
SPLIT_ATTRIBUTE = "data-split"
# A part holds a chapter, or up to this many of its techniques: few enough that an edit
# lays out little again, enough that the cost each document has (its styles, its lead)
# stays small next to its pages.
ITEMS_PER_PART = 10

_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    ]
)
_ID = re.compile(r'\sid="([^"]*)"')


@dataclass(frozen=True)
class Part:
    """One part: its HTML, and what the build needs to know of it."""

    html: str
    first_id: str | None  # the id of the element the part begins with (None: the first part)
    ids: frozenset[str]  # the ids of the elements that begin in this part


@dataclass(frozen=True)
class _Open:
    tag: str
    start_tag: str
    content_start: int  # where the element's content begins


@dataclass(frozen=True)
class _Mark:
    offset: int  # where its start tag begins
    ancestors: tuple[_Open, ...]  # the elements it sits in, body's children first
    id: str | None
    content_start: int  # where its content begins: what tells it apart as a parent


class _Structure:
    """The elements marked ``data-split``, and what each sits in, as a scan of the HTML
    finds its tags; ``failed`` if the HTML is not nested as the templates write it."""

    def __init__(self, html: str) -> None:
        self.html = html
        self.stack: list[_Open] = []
        self.marks: list[_Mark] = []
        self.body: tuple[int, int] | None = None  # the body's content: start, end
        self.failed = False
        self.ended = False

    def _in_body(self) -> bool:
        return self.body is not None and not self.ended

    def start(self, tag: str, attrs: list[tuple[str, str | None]], at: int, text: str) -> None:
        """A start tag ``text`` at offset ``at`` (names lowercased, values unescaped)."""
        end = at + len(text)
        if tag == "body":
            self.body = (end, len(self.html))
            return
        if not self._in_body() or tag in _VOID:
            return
        if any(name == SPLIT_ATTRIBUTE for name, _ in attrs):
            found = dict(attrs).get("id")
            self.marks.append(_Mark(at, tuple(self.stack), found, end))
        self.stack.append(_Open(tag, text, end))

    def end(self, tag: str, at: int) -> None:
        if tag == "body" and self._in_body():
            self.body = (self.body[0], at)
            self.ended = True
            return
        if not self._in_body() or tag in _VOID:
            return
        if not self.stack or self.stack[-1].tag != tag:
            self.failed = True
            return
        self.stack.pop()


class _Scanner(HTMLParser):
    """The HTML's tags as ``html.parser`` reads them, told to a :class:`_Structure`."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found = _Structure(html)
        self.line_starts = [0, *(m.end() for m in re.finditer("\n", html))]

    def _position(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.start(tag, attrs, self._position(), self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        self.found.end(tag, self._position())


# Tags as the templates write them: a name, attributes with quoted values or none, and
# nothing else between < and > (see _quick_scan). The spaces are HTML's own: html.parser
# reads any other character after a name (a no-break space, say) as part of the name.
_SPACE = r"[\t\n\r\f ]"
_TAG = re.compile(
    rf"""<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:{_SPACE}+[a-zA-Z_:][-a-zA-Z0-9_:.]*"""
    rf"""(?:{_SPACE}*={_SPACE}*(?:"[^"]*"|'[^']*'))?)*){_SPACE}*(/?)>"""
)
_ATTRIBUTE = re.compile(
    rf"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)({_SPACE}*={_SPACE}*(?:"([^"]*)"|'([^']*)'))?"""
)
_DOCTYPE = re.compile(r"<!doctype[^<>]*>", re.IGNORECASE)
_RAW_TEXT = ("script", "style")  # their content is text, up to their end tag


def _scanned(html: str) -> _Structure:
    """The HTML's structure: read quickly where the HTML is written as the templates
    write it, else by ``html.parser`` (two to three times slower)."""
    quick = _quick_scan(html)
    if quick is not None:
        return quick
    scanner = _Scanner(html)
    scanner.feed(html)
    scanner.close()
    return scanner.found


def _quick_scan(html: str) -> _Structure | None:
    """The structure as ``html.parser`` finds it, from the tags alone; None where the
    HTML holds anything but a doctype first, tags as :data:`_TAG` reads them and text
    without ``<`` (a comment, an unquoted value, markup in a style's text, say)."""
    found = _Structure(html)
    doctype = _DOCTYPE.match(html.lstrip())
    at = len(html) - len(html.lstrip()) + (doctype.end() if doctype else 0)
    while (at := html.find("<", at)) >= 0:
        tag = _TAG.match(html, at)
        if tag is None:
            return None
        closing, name, attributes, empty = tag.groups()
        name = name.lower()
        if closing:
            if attributes or empty:
                return None
            found.end(name, at)
        else:
            # Only a marked element's attributes are read (see _Structure.start).
            marked = SPLIT_ATTRIBUTE in attributes.lower()
            found.start(name, _attributes(attributes) if marked else [], at, tag[0])
            if empty:
                found.end(name, at)
        at = tag.end()
        if name in _RAW_TEXT and not closing and not empty:
            close = re.compile(f"</{name}>", re.IGNORECASE).search(html, at)
            if close is None or "<" in html[at : close.start()]:
                return None
            at = close.start()
    return found


def _attributes(text: str) -> list[tuple[str, str | None]]:
    """A tag's attributes as ``html.parser`` gives them: None for one without a value."""
    return [
        (name.lower(), unescape(double or single) if given else None)
        for name, given, double, single in _ATTRIBUTE.findall(text)
    ]


def split(html: str, items_per_part: int | None = None) -> list[Part] | None:
    """The booklet as parts, in order (a chapter's techniques ``items_per_part`` to a
    part, :data:`ITEMS_PER_PART` unless given); None if it cannot be cut (no marked
    elements, HTML not nested as the templates write it): then it is laid out whole."""
    scanner = _scanned(html)
    if scanner.failed or not scanner.ended or scanner.stack or not scanner.marks:
        return None
    starts = _part_starts(scanner.marks, items_per_part or ITEMS_PER_PART)
    if not starts:
        return None
    body_start, body_end = scanner.body
    head, tail = html[:body_start], html[body_end:]
    firsts = _first_marked_children(scanner.marks)
    parts = [_front(html, head, tail, starts[0])]
    for mark, following in zip(starts, [*starts[1:], None], strict=True):
        parts.append(_part(html, head, tail, mark, following, firsts, body_end))
    return parts


def _part_starts(marks: list[_Mark], items_per_part: int) -> list[_Mark]:
    """The marked elements parts begin with: each that no marked element holds (a
    chapter), and every ``items_per_part``-th of those a marked element holds (its
    techniques), the first of them staying with the chapter's heading.

    Counting elements rather than HTML keeps the parts where they were when a
    technique's text changes, so that an edit lays out one part again.
    """
    chapters = {mark.content_start for mark in marks}
    starts: list[_Mark] = []
    seen: dict[int, int] = {}
    for mark in marks:
        parent = _parent(mark)
        index = seen.get(parent, 0)
        seen[parent] = index + 1
        if mark.id is None:
            continue  # a part's first element must be found again in its pages
        if parent not in chapters or (index and index % items_per_part == 0):
            starts.append(mark)
    return starts


def _parent(mark: _Mark) -> int:
    return mark.ancestors[-1].content_start if mark.ancestors else -1


def _first_marked_children(marks: list[_Mark]) -> dict[int, int]:
    """For each element that holds marked elements, where its first one begins."""
    firsts: dict[int, int] = {}
    for mark in marks:
        firsts.setdefault(_parent(mark), mark.offset)
    return firsts


def _front(html: str, head: str, tail: str, first: _Mark) -> Part:
    """The part before the first one that begins with a marked element (the cover and
    the contents), with no lead."""
    body = html[len(head) : first.offset]
    return Part(head + body + _closing(first.ancestors) + tail, None, _ids_in(body))


def _part(
    html: str,
    head: str,
    tail: str,
    mark: _Mark,
    following: _Mark | None,
    firsts: dict[int, int],
    body_end: int,
) -> Part:
    end = following.offset if following else body_end
    body = html[mark.offset : end]
    lead = _lead(html, mark, firsts)
    opened = "".join(element.start_tag for element in mark.ancestors)
    closing = _closing(following.ancestors) if following else ""
    document = head + opened + lead + f'<div id="{LEAD_END}"></div>' + body + closing + tail
    return Part(document, mark.id, _ids_in(body))


def _lead(html: str, mark: _Mark, firsts: dict[int, int]) -> str:
    """What the element the part's first element sits in shows before its first marked
    element: a chapter's heading and introduction, for a part that goes on with it."""
    if not mark.ancestors:
        return ""
    parent = mark.ancestors[-1]
    return html[parent.content_start : firsts[parent.content_start]]


def _closing(ancestors: tuple[_Open, ...]) -> str:
    return "".join(f"</{element.tag}>" for element in reversed(ancestors))


def _ids_in(html: str) -> frozenset[str]:
    return frozenset(unescape(found) for found in _ID.findall(html))
