"""A project's base drawings: SVG files read safely into plain, allowed markup.

A drawing is untrusted input that ends up inside every page showing it, so it
is parsed with expat (no DTD, no entities, nothing fetched), limited in size,
and written out again from an allow-list: simple shapes in groups, their
geometry and presentation attributes. Anything that could run, fetch or
reference something (scripts, images, ``use``, links, ``url(...)``, event
attributes) is a problem located at its line and column in the SVG file.
Editor metadata (Inkscape, Sodipodi, RDF) is dropped quietly.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.parsers import expat

from markupsafe import escape

from handbook.content.model import Drawing
from handbook.errors import HandbookError, Problem
from handbook.project import defaults_root

MAX_DRAWING_BYTES = 512 * 1024
MAX_ELEMENTS = 5000
MAX_DEPTH = 32
SVG_NS = "http://www.w3.org/2000/svg"

SHAPES = {"g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon"}
DROPPED = {"title", "desc", "metadata", "defs"}  # kept out of the picture, content and all
ATTRIBUTES = {
    "d", "points", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry",
    "width", "height", "transform", "class", "fill", "stroke", "stroke-width",
    "stroke-linejoin", "stroke-linecap", "stroke-dasharray", "stroke-miterlimit",
    "fill-rule", "opacity", "fill-opacity", "stroke-opacity",
}  # fmt: skip
_PLAIN_VALUE = re.compile(r"^[^<>&\"'\\]*$")


@dataclass(frozen=True)
class ViewBox:
    x: float
    y: float
    width: float
    height: float

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x <= self.x + self.width and self.y <= y <= self.y + self.height

    def __str__(self) -> str:
        return f"{self.x:g} {self.y:g} {self.width:g} {self.height:g}"


@dataclass(frozen=True)
class Artwork:
    """A drawing read and cleaned: its frame and the markup of its shapes."""

    view_box: ViewBox
    markup: str  # the allowed elements inside the root <svg>, attributes escaped


def read_drawing(path: Path, root: Path, shown: str) -> Artwork:
    """The drawing at ``path``, which must be a regular file inside ``root``;
    ``shown`` names it in problems. Raises HandbookError with located problems."""
    return parse_drawing(_read_bytes(path, root, shown), shown)


def _read_bytes(path: Path, root: Path, shown: str) -> bytes:
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(os.path.realpath(root)):
        raise _problem(
            shown, 0, 0, f"refused to read '{real}': it is outside the project folder",
            "copy the drawing into the project and name it by a relative path",
        )  # fmt: skip
    if any(part.startswith(".") for part in real.relative_to(os.path.realpath(root)).parts):
        raise _problem(shown, 0, 0, "refused to read a hidden file or folder")
    try:
        handle = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise _problem(shown, 0, 0, "no such drawing file", "check the file name") from None
    except OSError as exc:
        raise _problem(shown, 0, 0, f"cannot read the drawing: {exc.strerror}") from None
    with os.fdopen(handle, "rb") as stream:
        status = os.fstat(stream.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise _problem(shown, 0, 0, "the drawing is not a regular file")
        data = stream.read(MAX_DRAWING_BYTES + 1)
    if len(data) > MAX_DRAWING_BYTES:
        raise _problem(
            shown, 0, 0, f"the drawing is over the {MAX_DRAWING_BYTES // 1024} KiB limit",
            "simplify it (fewer points) or save it as plain SVG without embedded images",
        )  # fmt: skip
    return data


def parse_drawing(data: bytes, shown: str) -> Artwork:
    """Parse and clean SVG bytes (see the module's docstring)."""
    cleaner = _Cleaner(shown)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    cleaner.attach(parser)
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        if cleaner.problems:  # a handler stopped the parse
            raise HandbookError(cleaner.problems) from None
        message = expat.errors.messages.get(exc.code, str(exc))
        raise _problem(
            shown, exc.lineno, exc.offset + 1, f"the drawing is not valid SVG: {message}"
        ) from None
    if cleaner.problems:
        raise HandbookError(cleaner.problems)
    if cleaner.view_box is None:
        raise _problem(shown, 1, 1, "the drawing has no <svg> element")
    return Artwork(cleaner.view_box, "".join(cleaner.out))


class _Cleaner:
    """Expat handlers that write allowed markup and collect located problems."""

    def __init__(self, shown: str):
        self.shown = shown
        self.out: list[str] = []
        self.problems: list[Problem] = []
        self.stack: list[str] = []  # "keep", "drop" or "root" for each open element
        self.count = 0
        self.view_box: ViewBox | None = None
        self.parser: expat.XMLParserType | None = None

    def attach(self, parser: expat.XMLParserType) -> None:
        self.parser = parser
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.StartDoctypeDeclHandler = self.doctype
        parser.EntityDeclHandler = self.entity
        parser.ExternalEntityRefHandler = self.external

    def _here(self) -> tuple[int, int]:
        assert self.parser is not None
        return self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1

    def _fail(self, message: str, hint: str = "", *, stop: bool = False) -> None:
        line, column = self._here()
        self.problems.append(Problem(self.shown, line, column, message, hint))
        if stop:
            raise expat.ExpatError(message)

    def doctype(self, *_: object) -> None:
        self._fail(
            "the drawing has a DOCTYPE; drawings may not declare one",
            "delete the <!DOCTYPE ...> line (plain SVG needs none)",
            stop=True,
        )

    def entity(self, *_: object) -> None:
        self._fail("the drawing declares an entity; drawings may not", stop=True)

    def external(self, *_: object) -> int:
        self._fail("the drawing refers to an external entity", stop=True)
        return 0

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.count += 1
        if self.count > MAX_ELEMENTS or len(self.stack) >= MAX_DEPTH:
            self._fail(
                f"the drawing has more than {MAX_ELEMENTS} elements or {MAX_DEPTH} levels",
                "simplify it",
                stop=True,
            )
        namespace, _, local = name.rpartition(" ")
        if self.stack and self.stack[-1] == "drop":
            self.stack.append("drop")
        elif not self.stack:
            self._root(namespace, local, attributes)
        elif namespace not in ("", SVG_NS) or local in DROPPED:
            self.stack.append("drop")  # editor metadata, titles: not part of the picture
        elif local in SHAPES:
            self.stack.append("keep")
            self.out.append(f"<{local}{self._attributes(attributes)}>")
        else:
            self.stack.append("drop")
            self._fail(
                f"<{local}> is not allowed in a drawing",
                "a drawing holds only g, path, rect, circle, ellipse, line, polyline "
                "and polygon; labels and colours come from the zones and the stylesheet",
            )

    def end(self, name: str) -> None:
        kind = self.stack.pop()
        if kind == "keep":
            self.out.append(f"</{name.rpartition(' ')[2]}>")

    def _root(self, namespace: str, local: str, attributes: dict[str, str]) -> None:
        self.stack.append("root")
        if local != "svg" or namespace not in ("", SVG_NS):
            self._fail(f"the drawing's root element is <{local}>, not <svg>", stop=True)
        box = _view_box(attributes.get("viewBox", ""))
        if box is None:
            self._fail(
                "the drawing needs a viewBox of four numbers, width and height above 0",
                'add viewBox="0 0 WIDTH HEIGHT" to the <svg> element; zone shapes use its units',
                stop=True,
            )
        self.view_box = box
        self._attributes(attributes)  # checked like any other element's, not kept

    def _attributes(self, attributes: dict[str, str]) -> str:
        kept: dict[str, str] = {}
        for name, value in attributes.items():
            local = name.rpartition(" ")[2]
            if local.lower().startswith("on"):
                self._fail(f"the event attribute '{local}' is not allowed in a drawing")
            elif local == "href":
                self._fail("links and references (href) are not allowed in a drawing")
            elif local == "style" and " " not in name:
                kept.update(self._style(value))
            elif local in ATTRIBUTES and " " not in name:
                kept[local] = value
        for name, value in kept.items():
            if "url(" in value.lower() or not _PLAIN_VALUE.match(value):
                self._fail(
                    f"the value of '{name}' is not allowed in a drawing: {value[:40]}",
                    "use plain colours and numbers; url(...) references are refused",
                )
        return "".join(f' {name}="{escape(value)}"' for name, value in kept.items())

    def _style(self, text: str) -> dict[str, str]:
        """Allowed properties of a ``style`` attribute, as presentation attributes."""
        found = {}
        for declaration in text.split(";"):
            name, _, value = declaration.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name in ATTRIBUTES and name not in ("class", "transform", "d", "points"):
                found[name] = value
        return found


def _view_box(text: str) -> ViewBox | None:
    try:
        numbers = [float(part) for part in text.replace(",", " ").split()]
    except ValueError:
        return None
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        return None
    box = ViewBox(*numbers)
    return box if box.width > 0 and box.height > 0 else None


def _problem(shown: str, line: int, column: int, message: str, hint: str = "") -> HandbookError:
    return HandbookError([Problem(shown, line, column, message, hint)])


@dataclass(frozen=True)
class LoadedDrawing:
    """A drawing as the diagrams use it: its declaration and its cleaned artwork."""

    drawing: Drawing
    artwork: Artwork

    @property
    def id(self) -> str:
        return self.drawing.id

    @property
    def view_box(self) -> ViewBox:
        return self.artwork.view_box

    @property
    def midline(self) -> float:
        """The x that mirrored zones reflect about."""
        if self.drawing.midline is not None:
            return self.drawing.midline
        return self.view_box.x + self.view_box.width / 2


# Zones of a project that declares no drawing go on this one, shipped with the
# default content (a person seen from behind, in a 120 x 160 frame).
BUILTIN_DRAWING = Drawing(id="back", file="drawings/back.svg", view="back")


@cache
def builtin_drawing() -> LoadedDrawing:
    content = defaults_root() / "content"
    path = content / BUILTIN_DRAWING.file
    return LoadedDrawing(BUILTIN_DRAWING, read_drawing(path, defaults_root(), str(path)))
