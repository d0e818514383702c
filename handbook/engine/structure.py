"""Which elements a page break splits, for the structure tree of a tagged PDF.

WeasyPrint 70 builds the structure tree page by page, so an element that
runs over a page break (the ``main``, a chapter's section, a list, a
paragraph) becomes one structure element on each page. The laid-out pages
know which boxes are the same element; :func:`continued_chains` says so,
naming each structure element as WeasyPrint's tagging does, for
:mod:`handbook.press.tagging` to join them again.
"""

from __future__ import annotations

import itertools

# What WeasyPrint 70's tagging (weasyprint/pdf/tags.py) does to a list item: one that
# is a dt or dd, or an li without a marker, gets an LI of its own around its LBody.
_ITEM_TAGS = ("dt", "dd")


Chain = tuple[int, int, tuple[str, ...]]


def continued_chains(document) -> list[Chain]:
    """For each page break: the page before (an empty page left out), the page after,
    and the structure types of the elements that the one ends in and the other goes
    on with, outermost first."""
    from weasyprint.formatting_structure import boxes

    tops = [(i, _top_boxes(page._page_box, boxes)) for i, page in enumerate(document.pages)]
    filled = [(index, found) for index, found in tops if found]
    return [
        (before, after, chain)
        for (before, ending), (after, going_on) in itertools.pairwise(filled)
        if (chain := _chain(ending, going_on, boxes))
    ]


def _chain(before: list, after: list, boxes) -> tuple[str, ...]:
    from weasyprint.pdf.tags import _get_pdf_tag

    chain: list[str] = []
    parent = "Document"
    ending, going_on = before[-1:], after[:1]
    while ending and going_on:
        a, b = ending[0], going_on[0]
        if isinstance(a, boxes.TextBox) or not _same_element(a, b):
            break
        if a.element_tag in ("table", "td", "th", "tr") or a.element_tag.split(":")[0] == "a":
            break  # tables and links are tagged in ways not followed here
        levels = _levels(a, _get_pdf_tag(a.element_tag), parent)
        chain += levels
        parent = levels[-1]
        ending, going_on = _tagged_children(a, boxes)[-1:], _tagged_children(b, boxes)[:1]
    return tuple(chain)


def _same_element(a, b) -> bool:
    return a.element is not None and a.element is b.element and a.element_tag == b.element_tag


def _levels(box, tag: str, parent: str) -> list[str]:
    """The structure elements WeasyPrint 70 makes for ``box`` inside ``parent``."""
    if tag != "LI":
        return [tag]
    if parent == "LI":
        return ["LBody"]
    if parent == "LBody":
        return ["NonStruct"]
    no_marker = box.element_tag == "li" and (
        "list-item" not in box.style["display"] or box.style["list_style_type"] == "none"
    )
    if box.element_tag in _ITEM_TAGS or no_marker:
        return ["LI", "LBody"]
    return ["LI"]


def _top_boxes(page_box, boxes) -> list:
    """The boxes of a page that are its top-level structure elements."""
    found = []
    for child in page_box.children:
        if isinstance(child, boxes.MarginBox):
            continue
        if child.element_tag in ("html", "body") and isinstance(child, boxes.ParentBox):
            found += _top_boxes(child, boxes)
        else:
            found.append(child)
    return found


def _tagged_children(box, boxes) -> list:
    """A box's children as WeasyPrint's tagging walks them: a line's boxes in its place."""
    from weasyprint.layout.absolute import AbsolutePlaceholder

    children = []
    for child in getattr(box, "children", ()):
        for kid in child.children if isinstance(child, boxes.LineBox) else [child]:
            children.append(kid._box if isinstance(kid, AbsolutePlaceholder) else kid)
    return children
