"""Stage 1: read YAML files safely, keeping the line and column of every value.

The YAML is composed into nodes (never constructed into Python objects by
PyYAML), so no tag can run code, and every scalar stays the text the user
typed: ``no``, ``1:30`` and ``01234`` reach the model as strings. The model
then converts text to numbers, booleans or dates only where a field asks
for them, and reports a located error when it cannot.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from handbook.errors import HandbookError, Problem, relative_path

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 40

Location = tuple[str | int, ...]

_PLAIN_NULLS = {"", "~", "null", "Null", "NULL"}
_ALLOWED_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}


@dataclass
class SourceFile:
    """A parsed YAML file: its data plus where each value and key stands."""

    path: str
    data: Any
    positions: dict[Location, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Location, tuple[int, int]] = field(default_factory=dict)

    def locate(self, location: Location, *, at_key: bool = False) -> tuple[int, int]:
        """Line and column of a value (or its key), or of its nearest parent."""
        if at_key and location in self.key_positions:
            return self.key_positions[location]
        for end in range(len(location), -1, -1):
            found = self.positions.get(location[:end])
            if found:
                return found
        return (1, 1)

    def problem(self, location: Location, message: str, hint: str = "", *, at_key=False):
        line, column = self.locate(location, at_key=at_key)
        return Problem(self.path, line, column, message, hint)


class _YamlProblem(Exception):
    def __init__(self, mark: yaml.Mark | None, message: str, hint: str = ""):
        super().__init__(message)
        self.mark, self.message, self.hint = mark, message, hint


class _NodeComposer(yaml.composer.Composer):
    """Composes nodes only; refuses aliases and limits nesting depth."""

    _depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _YamlProblem(
                event.start_mark,
                f"aliases are not allowed (*{event.anchor})",
                "write the value out again instead of referring to an anchor",
            )
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _YamlProblem(
                self.peek_event().start_mark,
                f"nesting is deeper than {MAX_DEPTH} levels",
                "content files need only a few levels of lists and mappings",
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_yaml(path: Path, root: Path) -> SourceFile:
    """Parse one YAML file into a :class:`SourceFile`, or raise HandbookError."""
    try:
        shown = path.relative_to(root).as_posix()  # the name the user gave, links unresolved
    except ValueError:
        shown = relative_path(path, root)
    text = _read_text(path, shown, root)
    try:
        node = _compose(text)
    except _YamlProblem as exc:
        line, column = _mark_position(exc.mark)
        raise HandbookError([Problem(shown, line, column, exc.message, exc.hint)]) from None
    except yaml.MarkedYAMLError as exc:
        raise HandbookError([_syntax_problem(shown, exc)]) from None
    except yaml.reader.ReaderError as exc:
        raise HandbookError([_character_problem(shown, text, exc)]) from None
    if node is None:
        raise HandbookError(
            [Problem(shown, 1, 1, "the file is empty", "add content, or delete the file")]
        )
    source = SourceFile(shown, None)
    problems: list[Problem] = []
    source.data = _to_python(node, (), source, problems)
    if problems:
        raise HandbookError(problems)
    return source


def _read_text(path: Path, shown: str, root: Path) -> str:
    real = Path(os.path.realpath(path))  # a loop of links raises nothing here
    if not real.is_relative_to(os.path.realpath(root)):
        raise HandbookError(
            [
                Problem(
                    shown,
                    0,
                    0,
                    f"refused to read '{real}': it is outside the project folder",
                    "copy the file into the project instead of linking to it",
                )
            ]
        )
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise HandbookError(
                [
                    Problem(
                        shown,
                        0,
                        0,
                        "not a regular file (a folder, a device or a pipe)",
                        "content files are plain YAML files: rename or remove this one",
                    )
                ]
            )
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise HandbookError(
                [
                    Problem(
                        shown,
                        0,
                        0,
                        f"the file is {size // 1024} KiB, "
                        f"over the {MAX_FILE_BYTES // 1024} KiB limit",
                        "split it into several smaller files",
                    )
                ]
            )
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)  # the file may grow after stat
        if len(raw) > MAX_FILE_BYTES:
            raise HandbookError([Problem(shown, 0, 0, "the file grew while it was read")])
    except OSError as exc:
        raise HandbookError(
            [Problem(shown, 0, 0, f"cannot read the file: {exc.strerror}")]
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise HandbookError(
            [
                Problem(
                    shown,
                    line,
                    column,
                    f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                    "save the file with UTF-8 encoding",
                )
            ]
        ) from None


def top_level_texts(path: Path, root: Path) -> dict[str, str]:
    """The text values of a file's top-level keys (``theme: ocean``), found without
    composing the file: the build's own process reads them to find its way, so a
    large file costs it the time of libyaml's scan, not of PyYAML's composing.

    A file that cannot be read or parsed has none; reading it fully reports why.
    """
    resolver = yaml.resolver.Resolver()
    found: dict[str, str] = {}
    depth, key = 0, None
    try:
        text = _read_text(path, path.name, root)
        for event in yaml.parse(text, Loader=_FAST_LOADER):
            if isinstance(event, yaml.SequenceStartEvent) and depth == 0:
                return {}  # not settings at all
            if isinstance(event, yaml.CollectionStartEvent):
                depth, key = depth + 1, None
            elif isinstance(event, yaml.CollectionEndEvent):
                depth, key = depth - 1, None
            elif isinstance(event, yaml.ScalarEvent) and depth == 1:
                if key is None:
                    key = event.value
                    continue
                tag = resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
                if tag == resolver.DEFAULT_SCALAR_TAG:
                    found[key] = event.value
                key = None
            elif isinstance(event, yaml.AliasEvent):  # refused when the file is read
                return {}
    except (HandbookError, yaml.YAMLError):
        return {}
    return found


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where installed


class _NodeLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    _NodeComposer,
    yaml.constructor.SafeConstructor,
    yaml.resolver.Resolver,
):
    """PyYAML's own parser in Python: the messages for YAML that is not well-formed."""

    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _NodeComposer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


_CParser = getattr(getattr(yaml, "cyaml", None), "CParser", None)  # libyaml where installed

if _CParser is not None:

    class _FastNodeLoader(
        _NodeComposer, _CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver
    ):
        """libyaml's parser (C, several times faster) under the same composer: the same
        nodes, with the same lines and columns, for well-formed YAML."""

        def __init__(self, stream: str):
            _CParser.__init__(self, stream)
            _NodeComposer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._text = stream

        def compose_scalar_node(self, anchor):
            """A scalar whose marks hold the text, as PyYAML's own do (libyaml's hold only
            where they are: its text is read back for the lines it spans)."""
            node = super().compose_scalar_node(anchor)
            node.start_mark, node.end_mark = map(self._with_text, (node.start_mark, node.end_mark))
            return node

        def _with_text(self, mark) -> yaml.Mark:
            return yaml.Mark(mark.name, mark.index, mark.line, mark.column, self._text, mark.index)

    _LOADERS: tuple[type, ...] = (_FastNodeLoader, _NodeLoader)
else:  # a PyYAML built without libyaml
    _LOADERS = (_NodeLoader,)


def _compose(text: str) -> yaml.Node | None:
    """The file's nodes. YAML libyaml cannot read is read again by PyYAML's own parser,
    whose messages the problems are written from (and which may read more)."""
    for loader_class in _LOADERS:
        loader = loader_class(text)
        try:
            return loader.get_single_node()
        except yaml.YAMLError:
            if loader_class is _LOADERS[-1]:
                raise
        finally:
            loader.dispose()
    return None  # not reached: the last loader returns or raises


def _mark_position(mark: yaml.Mark | None) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)


def _character_problem(shown: str, text: str, exc: yaml.reader.ReaderError) -> Problem:
    """A character YAML does not allow at all (a NUL, most control characters)."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    return Problem(
        shown,
        line,
        column,
        f"the file contains a character YAML does not allow (U+{exc.character:04X})",
        "delete it; it may have come in when text was copied from another program",
    )


# PyYAML's own words for a syntax error, and what a person would say instead.
_QUOTE_IT = "put the whole value in quotes"
_YAML_WORDS: list[tuple[re.Pattern[str], str, str]] = [
    (
        re.compile(r"found character '\\t' that cannot start any token"),
        "a tab character where YAML expects spaces",
        "indent with spaces, not tabs",
    ),
    (
        re.compile(r"found character '(?P<char>.)' that cannot start any token"),
        "a value cannot start with '{char}'",
        _QUOTE_IT,
    ),
    (
        re.compile(r"expected <block end>, but found '(?:<block sequence start>|-)'"),
        "this list item is not lined up with the items or keys above it",
        "line its '-' up with the item above, or indent the list under its key",
    ),
    (
        re.compile(r"expected <block end>, but found '(?:<block mapping start>|\?)'"),
        "this line is indented differently from the lines above it",
        "line it up with the key it belongs beside",
    ),
    (
        re.compile(r"expected <block end>, but found '<scalar>'"),
        "more text follows a quoted value on the same line",
        "quote the whole value; inside single quotes, write a quote twice (it''s)",
    ),
    (
        re.compile(r"mapping values are not allowed here"),
        "a ': ' inside this value makes YAML read it as a new key",
        _QUOTE_IT,
    ),
    (
        re.compile(r"could not find expected ':'"),
        "this line has no ':' and does not continue the value above it",
        "write 'key: value', or indent the line under the value it continues",
    ),
    (
        re.compile(r"found unexpected end of stream"),
        "a quote is opened and never closed",
        "close the quote at the end of the value",
    ),
    (
        re.compile(r"expected ',' or '(?P<bracket>[\]}])', but got"),
        "a list or mapping in brackets is not closed with '{bracket}'",
        "close it, or quote a value inside it that holds ':' or ','",
    ),
    (
        re.compile(r"found unknown escape character '(?P<char>.+)'"),
        "'\\{char}' is not an escape YAML knows inside double quotes",
        "use single quotes, or write the backslash twice",
    ),
    (
        re.compile(r"sequence entries are not allowed here"),
        "a '- ' list item cannot follow a key on the same line",
        "start the list on the next line, indented, or quote the value",
    ),
    (
        re.compile(r"expected chomping or indentation indicators"),
        "'|' or '>' must end its line",
        "start the text on the next line, indented",
    ),
]


def _syntax_problem(shown: str, exc: yaml.MarkedYAMLError) -> Problem:
    line, column = _mark_position(exc.problem_mark or exc.context_mark)
    if exc.context and "expected a single document" in exc.context:
        message = "the file holds more than one YAML document"
        return Problem(shown, line, column, message, "remove the '---' separator")
    message, hint = _plain_yaml(exc.problem or "")
    return Problem(shown, line, column, f"YAML syntax error: {message}", hint)


def _plain_yaml(problem: str) -> tuple[str, str]:
    """PyYAML's message about a syntax error in plain words, with what to do."""
    for pattern, message, hint in _YAML_WORDS:
        found = pattern.search(problem)
        if found:
            return message.format(**found.groupdict()), hint
    return problem or "invalid YAML", "check the indentation and quote values that hold ': '"


def _to_python(node: yaml.Node, location: Location, source: SourceFile, problems: list[Problem]):
    source.positions[location] = _mark_position(node.start_mark)
    if node.tag not in _ALLOWED_TAGS:
        problems.append(
            Problem(
                source.path,
                *_mark_position(node.start_mark),
                f"the tag '{node.tag}' is not allowed",
                "remove the '!' tag; content files hold plain text, lists and mappings",
            )
        )
        return None
    if isinstance(node, yaml.ScalarNode):
        plain = not node.style  # None from PyYAML's parser, "" from libyaml's
        if plain and node.value in _PLAIN_NULLS:
            return None
        if plain:
            problems.extend(_joined_list_items(node, source.path))
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [
            _to_python(item, (*location, index), source, problems)
            for index, item in enumerate(node.value)
        ]
    return _mapping_to_python(node, location, source, problems)


def _joined_list_items(node: yaml.ScalarNode, path: str) -> list[Problem]:
    """A line of plain text that starts with '- ' and belongs to the value above.

    A list item indented deeper than the one before it does not start a new
    item: YAML folds it into the text above ("...palms together. - Squeeze
    gently"). Nobody means that, so each such line is a problem.
    """
    text = node.start_mark.buffer[node.start_mark.pointer : node.end_mark.pointer]
    problems = []
    for offset, line in enumerate(text.split("\n")[1:], start=1):
        item = line.lstrip(" ")
        if item == "-" or item.startswith("- "):
            problems.append(
                Problem(
                    path,
                    node.start_mark.line + offset + 1,
                    len(line) - len(item) + 1,
                    "this '-' is indented deeper than the item above, so YAML joined the "
                    "line to that item instead of starting a new one",
                    "line the '-' up with the '-' above it; if the dash belongs to the "
                    "text, put the whole text in quotes",
                )
            )
    return problems


def _mapping_to_python(node, location, source, problems) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key_position = _mark_position(key_node.start_mark)
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(
                Problem(
                    source.path, *key_position, "a key must be plain text, not a list or mapping"
                )
            )
            continue
        key = key_node.value
        if key == "<<":
            problems.append(
                Problem(source.path, *key_position, "merge keys ('<<') are not allowed")
            )
            continue
        if key in result:
            first_line = source.key_positions[(*location, key)][0]
            problems.append(
                Problem(
                    source.path,
                    *key_position,
                    f"duplicate key '{key}' (first used on line {first_line})",
                    "keep one of the two; the later one would silently win",
                )
            )
            continue
        source.key_positions[(*location, key)] = key_position
        result[key] = _to_python(value_node, (*location, key), source, problems)
    return result
