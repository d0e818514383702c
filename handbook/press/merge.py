"""The booklet's parts, each a PDF of its own, put together as one PDF (see html/split.py).

The result reads as if WeasyPrint had written the booklet whole: the pages in
order, one structure tree (the elements a part boundary splits joined again,
as page breaks are inside a part), one outline nested across the parts, one
named destination per id (links between parts land where their target is),
and each font face embedded once (:mod:`handbook.press.font_union`).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from handbook.press import tagging
from handbook.press.font_union import Subsets, unify_fonts


class UnreadablePart(Exception):
    """A part's PDF cannot be read, or has other pages than it should."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


@dataclass(frozen=True)
class MergePart:
    """A part's PDF and what the merge needs of its layout."""

    pdf: bytes
    # The ids that begin in the part, its named destinations (None: all it has).
    anchors: frozenset[str] | None = None
    boundary: tuple[int, tuple[str, ...]] | None = None  # see engine.parts.LaidOutPart
    pages: int | None = None  # how many pages it must have (None: any)


def merged(
    parts: Sequence[MergePart],
    outline: list | None,
    font_files: Sequence[Path],
    subsets: Subsets | None = None,
) -> bytes:
    """One PDF of the parts' pages, with ``outline`` (``engine.parts.outline``, pages
    counted over the whole) as its outline, or (None) the parts' own one after the
    other (documents of their own, such as cards). ``subsets`` keeps the fonts'
    subset programs between builds. Raises UnreadablePart for a part that is not the
    PDF it should be."""
    import pikepdf

    with _opened(parts, 0) as pdf:
        dests = _dests(pdf, parts[0].anchors, 0)
        own_outlines = _outline_of(pdf, 0)
        structure = _Structure(pdf) if "/StructTreeRoot" in pdf.Root else None
        joins = []
        for index, part in enumerate(parts[1:], start=1):
            first = len(pdf.pages)
            with _opened(parts, index) as other, warnings.catch_warnings():
                # that named destinations are not copied with the pages: they are below
                warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
                pdf.pages.extend(other.pages)
                if structure is not None:
                    structure.appended(other, first)
                for name, destination in _dests(other, part.anchors, first).items():
                    dests.setdefault(name, destination)  # the first of an id, as WeasyPrint
                own_outlines += _outline_of(other, first)
            if part.boundary is not None:
                page, chain = part.boundary
                joins.append((first - 1, first + page, chain))
        if structure is not None:
            structure.written()
            if joins:
                tagging.joined_across_pages(pdf, joins)
        _dests_written(pdf, dests)
        _outline_written(pdf, own_outlines if outline is None else outline)
        unify_fonts(pdf, font_files, subsets)
        return tagging.saved(pdf, regroup=True)


def _opened(parts: Sequence[MergePart], index: int):
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(parts[index].pdf))
    except (pikepdf.PdfError, ValueError):
        raise UnreadablePart(index) from None
    expected = parts[index].pages
    if expected is not None and len(pdf.pages) != expected:
        pdf.close()
        raise UnreadablePart(index)
    return pdf


def _dests(source, anchors: frozenset[str] | None, first: int) -> dict[str, tuple]:
    """The named destinations of ``source`` for ``anchors`` (None: all): name -> (page in
    the merged PDF, the rest of the destination)."""
    import pikepdf

    names = source.Root.get("/Names", {}).get("/Dests")
    if names is None:
        return {}
    pages = {page.objgen: index for index, page in enumerate(source.pages)}
    found = {}
    for name, destination in pikepdf.NameTree(names).items():
        wanted = anchors is None or name in anchors
        if wanted and isinstance(destination, pikepdf.Array):
            page = pages.get(destination[0].objgen)
            if page is not None:
                found[name] = (first + page, tuple(destination[1:]))
    return found


def _dests_written(pdf, dests: dict[str, tuple]) -> None:
    """The named destinations as WeasyPrint writes them: one sorted array."""
    import pikepdf

    if "/Names" not in pdf.Root:
        if not dests:
            return
        pdf.Root.Names = pikepdf.Dictionary()
    entries = []  # a Python list: pikepdf copies an Array on each append
    for name in sorted(dests):
        page, rest = dests[name]
        entries.append(pikepdf.String(name))
        entries.append(pikepdf.Array([pdf.pages[page].obj, *rest]))
    names = pikepdf.Dictionary(Names=pikepdf.Array(entries))
    pdf.Root.Names.Dests = pdf.make_indirect(names)


class _Structure:
    """The merged PDF's structure tree as the parts are appended: its parent tree's keys
    and the Document's kids gathered in Python lists and written once (:meth:`written`),
    since pikepdf copies an Array each time it grows."""

    def __init__(self, pdf) -> None:
        root = pdf.Root.StructTreeRoot
        self.pdf, self.root, self.document = pdf, root, root.K[0]
        self.nums = list(root.ParentTree.Nums)
        self.kids = tagging.kids(self.document)
        self.next_key = max((int(key) for key in self.nums[::2]), default=-1) + 1

    def appended(self, other, first: int) -> None:
        """``other``'s structure tree, whose pages were appended from page ``first`` on:
        its elements under the one Document, its keys in the parent tree after those
        before it."""
        import pikepdf

        offset = self.next_key
        copied = self.pdf.copy_foreign(other.Root.StructTreeRoot)
        for page in self.pdf.pages[first:]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
            for annotation in page.obj.get("/Annots", []):
                if "/StructParent" in annotation:
                    annotation.StructParent = int(annotation.StructParent) + offset
        theirs = list(copied.ParentTree.Nums)
        for key, value in zip(theirs[::2], theirs[1::2], strict=True):
            self.nums.extend([int(key) + offset, value])
            self.next_key = max(self.next_key, int(key) + offset + 1)
        for kid in tagging.kids(copied.K[0]):
            if isinstance(kid, pikepdf.Dictionary) and "/P" in kid:
                kid.P = self.document
            self.kids.append(kid)

    def written(self) -> None:
        import pikepdf

        self.root.ParentTree.Nums = pikepdf.Array(self.nums)
        if "/ParentTreeNextKey" in self.root:
            self.root.ParentTreeNextKey = self.next_key
        self.document.K = pikepdf.Array(self.kids)


def _outline_of(source, first: int) -> list:
    """``source``'s own outline as ``engine.parts.outline`` gives one, its pages counted
    from ``first``."""
    top = source.Root.get("/Outlines")
    pages = {page.objgen: index for index, page in enumerate(source.pages)}
    return _subtrees(top.get("/First") if top is not None else None, pages, first)


def _subtrees(item, pages: dict, first: int) -> list:
    import pikepdf

    found, seen = [], set()
    while isinstance(item, pikepdf.Dictionary) and item.objgen not in seen:
        seen.add(item.objgen)
        destination = item.get("/Dest")
        page = pages.get(destination[0].objgen) if isinstance(destination, pikepdf.Array) else None
        if page is not None:
            x, y = (_number(v) for v in [*destination[2:4], 0, 0][:2])
            children = _subtrees(item.get("/First"), pages, first)
            state = "closed" if int(item.get("/Count", 0)) < 0 else "open"
            found.append((str(item.Title), (first + page, x, y), children, state))
        item = item.get("/Next")
    return found


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):  # null: the viewer keeps where it is
        return 0.0


def _outline_written(pdf, outline: list) -> None:
    """The outline as WeasyPrint's ``add_outlines`` writes it."""
    import pikepdf

    if "/Outlines" in pdf.Root:
        del pdf.Root.Outlines
    if not outline:
        return
    top = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines))
    items, count = _outline_items(pdf, outline, top)
    top.Count, top.First, top.Last = count, items[0], items[-1]
    pdf.Root.Outlines = top


def _outline_items(pdf, subtrees: list, parent) -> tuple[list, int]:
    import pikepdf

    items, count = [], len(subtrees)
    for label, (page, x, y), children, state in subtrees:
        destination = pikepdf.Array([pdf.pages[page].obj, pikepdf.Name.XYZ, x, y, 0])
        item = pdf.make_indirect(
            pikepdf.Dictionary(Title=pikepdf.String(label), Dest=destination, Parent=parent)
        )
        inner, inner_count = _outline_items(pdf, children, item)
        item.Count = -inner_count if state == "closed" else inner_count
        if state != "closed":
            count += inner_count
        if inner:
            item.First, item.Last = inner[0], inner[-1]
        if items:
            item.Prev, items[-1].Next = items[-1], item
        items.append(item)
    return items, count
