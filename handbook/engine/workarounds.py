"""Workarounds for WeasyPrint bugs."""

from __future__ import annotations

from functools import cache


@cache
def work_around_line_breaking_bugs() -> None:
    """Work around two line-breaking bugs of WeasyPrint 70 that leave short lines.

    Text before an inline element (``... from behind. <strong>Dotted</strong>``)
    keeps its trailing space. When a run fits the line but for that space,
    ``split_first_line`` takes it for a run too wide to break anywhere and
    keeps only its first word ("Each" alone, the rest below). The space would
    be dropped at the end of the line, so such a run is laid out whole; the
    inline layout already lets a trailing space overhang.

    Pango also rounds the line width in its own favour, so a first line may
    come back a fraction of a pixel wider than allowed; WeasyPrint then breaks
    the line earlier, inside the previous element ("Keep a steady" / "rhythm,
    and vary..."). Such a run is split again a pixel narrower.
    """
    from weasyprint.layout import inline
    from weasyprint.text.line_break import create_layout, line_size

    original = inline.split_first_line

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

    inline.split_first_line = split_first_line
