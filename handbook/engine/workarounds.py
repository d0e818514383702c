"""Workarounds for WeasyPrint bugs, in place only while WeasyPrint renders or writes.

Each workaround replaces a function or class in every WeasyPrint module that
binds it by name, for the time of one render or PDF write, and puts the
originals back afterwards: nothing outside those sees it. Before patching,
each checks that it still fits the installed WeasyPrint (the release series
it was written for, and what it replaces) and fails loudly when it does not,
so that an upgrade prompts a look at the upstream bug instead of patching
code that has changed.

They patch modules, so renders in threads of one process would see each
other's patches; the build renders in worker processes, one at a time each.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType, SimpleNamespace
from typing import Any

SERIES = "70."  # the WeasyPrint release series these workarounds were written for


@dataclass(frozen=True)
class Workaround:
    """What is worked around, the upstream bug to re-check, and what is replaced where."""

    name: str
    bug: str
    attribute: str
    modules: tuple[str, ...]  # every module that binds ``attribute`` when imported


LINE_BREAKING = Workaround(
    "short lines before and after inline elements",
    "#1614 and #1051",
    "split_first_line",
    # Other modules import it when called: ``svg.text`` from ``text.line_break``,
    # ``preferred.trailing_whitespace_size`` from ``layout.inline``.
    ("weasyprint.text.line_break", "weasyprint.layout.inline", "weasyprint.layout.preferred"),
)
SPLIT_FIRST_LINE_PARAMETERS = (
    "text",
    "style",
    "context",
    "max_width",
    "justification_spacing",
    "is_line_start",
    "minimum",
)

FONT_TIMESTAMPS = Workaround(
    "fonts stamped with the clock",
    "#1553",
    "TTFont",
    # Subsetting with fontTools when the PDF is written; decoding WOFF fonts
    # from @font-face rules when the document is laid out.
    ("weasyprint.pdf.fonts", "weasyprint.text.fonts"),
)


LEAN_SUBSETTING = Workaround(
    "layout tables decoded only to be dropped",
    "none yet (fontTools decodes GSUB and GPOS in Subsetter.subset before dropping them)",
    "subset",
    ("weasyprint.pdf.fonts",),
)


class OutdatedWorkaround(RuntimeError):
    """A workaround no longer matches the installed WeasyPrint."""

    def __init__(self, workaround: Workaround, detail: str) -> None:
        import weasyprint

        super().__init__(
            f"workaround for {workaround.name} no longer fits WeasyPrint "
            f"{weasyprint.__version__} ({detail}): re-check upstream bug {workaround.bug}, "
            "remove or update the workaround"
        )


_active: set[Workaround] = set()  # in place now; a render inside a render keeps them


@contextmanager
def _patched(workaround: Workaround, replace: Callable[[Any], Any]) -> Iterator[None]:
    """Inside the block, every binding of the workaround's attribute is ``replace(original)``.

    ``replace`` raises :class:`OutdatedWorkaround` if the original does not fit.
    """
    if workaround in _active:
        yield
        return
    modules = [import_module(name) for name in workaround.modules]
    original = _the_one_binding(workaround, modules)
    replacement = replace(original)
    for module in modules:
        setattr(module, workaround.attribute, replacement)
    _active.add(workaround)
    try:
        yield
    finally:
        _active.discard(workaround)
        for module in modules:
            setattr(module, workaround.attribute, original)


def _the_one_binding(workaround: Workaround, modules: list[ModuleType]) -> Any:
    """What all the modules bind to the attribute, in the WeasyPrint series it was written for."""
    import weasyprint

    if not weasyprint.__version__.startswith(SERIES):
        raise OutdatedWorkaround(workaround, f"it was written for WeasyPrint {SERIES}x")
    bound = {id(getattr(module, workaround.attribute, None)) for module in modules}
    original = getattr(modules[0], workaround.attribute, None)
    if original is None or len(bound) != 1:
        raise OutdatedWorkaround(
            workaround, f"{', '.join(workaround.modules)} no longer bind one {workaround.attribute}"
        )
    return original


# --- line breaking ----------------------------------------------------------


def line_breaking_fixed() -> AbstractContextManager[None]:
    """Work around two line-breaking bugs of WeasyPrint 70 that leave short lines.

    Text before an inline element (``... from behind. <strong>Dotted</strong>``)
    keeps its trailing space. When a run fits the line but for that space,
    ``split_first_line`` takes it for a run too wide to break anywhere and
    keeps only its first word ("Each" alone, the rest below; upstream #1614:
    text is not broken across inline boxes as a browser would). The space
    would be dropped at the end of the line, so such a run is laid out whole;
    the inline layout already lets a trailing space overhang.

    Pango also rounds the line width in its own favour, so a first line may
    come back a fraction of a pixel wider than allowed (upstream #1051);
    WeasyPrint then breaks the line earlier, inside the previous element
    ("Keep a steady" / "rhythm, and vary..."). Such a run is split again a
    pixel narrower.

    Layout and min/max-content measuring both get the patched function, so
    they agree on where lines break.
    """
    return _patched(LINE_BREAKING, _fixed_split_first_line)


def _fixed_split_first_line(original: Callable) -> Callable:
    parameters = tuple(inspect.signature(original).parameters)
    if parameters != SPLIT_FIRST_LINE_PARAMETERS:
        raise OutdatedWorkaround(LINE_BREAKING, f"split_first_line{parameters} has changed")
    from weasyprint.text.line_break import create_layout, line_size

    def split_first_line(text, style, context, max_width, justification_spacing, **options):
        result = original(text, style, context, max_width, justification_spacing, **options)
        if result[2] is None or max_width is None:
            return result
        if max_width < result[3] < max_width + 1:
            return original(text, style, context, max_width - 1, justification_spacing, **options)
        stripped = text.rstrip(" ")
        if stripped == text or "\n" in text:
            return result
        layout = create_layout(stripped, style, context, None, justification_spacing)
        width, _ = line_size(layout.get_first_line()[0], style)
        if width > max_width:
            return result
        return original(text, style, context, None, justification_spacing, **options)

    return split_first_line


# --- font timestamps --------------------------------------------------------


def fonts_dated(epoch: int) -> AbstractContextManager[None]:
    """Fonts WeasyPrint saves say they were modified at ``epoch`` (seconds since 1970).

    WeasyPrint saves fonts with fontTools when it subsets them without
    libharfbuzz-subset, and when it decodes a WOFF font. fontTools stamps each
    saved font's ``head.modified`` with the clock (or with ``SOURCE_DATE_EPOCH``
    from the environment) and WeasyPrint offers no way to choose, so two builds
    would differ. Fonts WeasyPrint opens here keep their stamp from being
    recalculated and carry ``epoch`` instead.
    """
    return _patched(FONT_TIMESTAMPS, lambda original: _dated_font_class(original, epoch))


_LATEST_FONT_DATE = 0xFFFFFFFF


def _dated_font_class(original: type, epoch: int) -> type:
    from fontTools.misc.timeTools import timestampSinceEpoch
    from fontTools.ttLib import TTFont

    if original is not TTFont:
        raise OutdatedWorkaround(FONT_TIMESTAMPS, "WeasyPrint's TTFont is not fontTools'")
    if "recalcTimestamp" not in inspect.signature(TTFont).parameters:
        raise OutdatedWorkaround(FONT_TIMESTAMPS, "fontTools' TTFont has no recalcTimestamp")
    # A font's dates count seconds from 1904 in 32 bits, and fontTools reads one before
    # 1970 as seconds since 1970: a date outside 1970 to 2040 is stamped as the nearest.
    modified = min(max(timestampSinceEpoch(epoch), timestampSinceEpoch(0)), _LATEST_FONT_DATE)

    class DatedTTFont(TTFont):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, recalcTimestamp=False, **kwargs)

        def save(self, *args, **kwargs) -> None:
            if "head" in self:
                self["head"].modified = modified
            super().save(*args, **kwargs)

    return DatedTTFont


# --- lean subsetting --------------------------------------------------------


def lean_subsetting() -> AbstractContextManager[None]:
    """Fonts subset with fontTools lose the tables WeasyPrint drops before they are read.

    Without libharfbuzz-subset, WeasyPrint subsets every font of every PDF with
    fontTools and asks it to drop GSUB, GPOS and SVG. fontTools' ``subset``
    first decodes GSUB and GPOS in full (to lay them out compactly) and only
    then drops them: most of the time a card's PDF takes. Deleting the tables
    to be dropped before subsetting is what the subsetter's first step does
    anyway, so the subset fonts come out the same, without the decoding.
    """
    return _patched(LEAN_SUBSETTING, _lean_subset_module)


def _lean_subset_module(original: ModuleType) -> Any:
    from fontTools import subset

    if original is not subset:
        raise OutdatedWorkaround(LEAN_SUBSETTING, "WeasyPrint's subset is not fontTools'")
    if list(inspect.signature(subset.Subsetter.subset).parameters) != ["self", "font"]:
        raise OutdatedWorkaround(LEAN_SUBSETTING, "fontTools' Subsetter.subset has changed")

    class LeanSubsetter(subset.Subsetter):
        def subset(self, font) -> None:
            tags = font.keys()  # a TTFont is no mapping: iterating it yields no tags
            dropped = [tag for tag in tags if tag.strip() in self.options.drop_tables]
            if "GPOS" in font and not self.options.legacy_kern:
                dropped.append("kern")  # as the subsetter drops it while GPOS is there
            for tag in dropped:
                if tag in font:
                    del font[tag]
            super().subset(font)

    return SimpleNamespace(Options=subset.Options, Subsetter=LeanSubsetter)
