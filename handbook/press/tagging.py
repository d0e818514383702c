"""The structure tree of tagged PDFs, finished with pikepdf where WeasyPrint 70 leaves gaps.

WeasyPrint tags what the HTML says (headings, lists, links, figures), and
the templates are written so that it says the right thing. Two things it
cannot do, and these functions do after it:

- Running heads and folios (``@page`` margin boxes) are drawn as marked
  content tied to structure elements that the tree never reaches, so a
  PDF/UA checker sees real content outside the tree; upstream keeps them so
  until PDF 2.0 (WeasyPrint issue 1836). :func:`finish` marks them as
  artifacts, which is what they are.
- An element that runs over a page break becomes one element per page (the
  tree is built page by page): :func:`finish` joins them again, as far as
  the laid-out pages say they are one element.
- The contents page comes out as ``NonStruct`` with a plain list (WeasyPrint
  has no tag for ``nav``); :func:`finish` names it ``TOC`` and its items
  ``TOCI``.
- Every run of text is a ``Span`` of its own, saying nothing a ``Span`` could
  say (attributes, a language, an alternate text): more than half of a
  booklet's objects, which every step after reads, copies and writes again.
  :func:`finish` gives their text to the element they sit in.

Each step checks that the tree looks as WeasyPrint 70 writes it and leaves
the file alone otherwise, so a newer WeasyPrint that does better is never
made worse.
"""

from __future__ import annotations

import io
import re
import zlib
from collections import deque

from handbook.press.metadata import with_xmp


def finish(data: bytes, chains: list[tuple[int, int, tuple[str, ...]]] | None = None) -> bytes:
    """A tagged PDF from WeasyPrint with its margin content as artifacts, the elements a
    page break split joined again (``chains``: see ``engine.continued_chains``), its
    contents as a ``TOC`` and XMP metadata; an untagged PDF gets only the metadata."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        if "/StructTreeRoot" in pdf.Root:
            _margins_as_artifacts(pdf)
            if chains:
                joined_across_pages(pdf, chains)
            _links_flattened(pdf)
            _contents_as_toc(pdf)
            _bare_spans_dissolved(pdf)
        with_xmp(pdf)
        return saved(pdf)


# --- margin boxes -----------------------------------------------------------------


def _reachable(pdf) -> set[tuple[int, int]]:
    """The structure elements the tree reaches from its root."""
    import pikepdf

    seen: set[tuple[int, int]] = set()
    stack = list(kids(pdf.Root.StructTreeRoot))
    while stack:
        element = stack.pop()
        if not isinstance(element, pikepdf.Dictionary) or element.objgen in seen:
            continue
        seen.add(element.objgen)
        stack.extend(kids(element))
    return seen


def kids(element) -> list:
    import pikepdf

    found = element.get("/K")
    if found is None:
        return []
    return list(found) if isinstance(found, pikepdf.Array) else [found]


def _margins_as_artifacts(pdf) -> None:
    """Marked content whose structure element the tree does not reach becomes /Artifact."""
    import pikepdf

    reachable = _reachable(pdf)
    nums = pdf.Root.StructTreeRoot.ParentTree.get("/Nums")
    if nums is None:
        return
    parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    for page in pdf.pages:
        key = page.obj.get("/StructParents")
        marks = parents.get(int(key)) if key is not None else None
        if not isinstance(marks, pikepdf.Array):
            continue
        orphans = {
            mcid
            for mcid, element in enumerate(marks)
            if isinstance(element, pikepdf.Dictionary) and element.objgen not in reachable
        }
        if orphans:
            _artifacts_in(pdf, page, orphans)
            for mcid in orphans:
                marks[mcid] = None


def _artifacts_in(pdf, page, mcids: set[int]) -> None:
    """The page's marked content of ``mcids`` begun as an /Artifact instead."""
    import pikepdf

    contents = page.obj.get("/Contents")
    data = contents.read_bytes() if isinstance(contents, pikepdf.Stream) else None
    marked = _marked_as_weasyprint_writes(data) if data is not None else None
    if marked is not None:
        content = _MARKED.sub(lambda m: _ARTIFACT if int(m[2]) in mcids else m[0], data)
    else:
        instructions = []
        for operands, operator in pikepdf.parse_content_stream(page):
            if str(operator) == "BDC" and _mcid(operands) in mcids:
                operands, operator = [pikepdf.Name.Artifact], pikepdf.Operator("BMC")
            instructions.append((operands, operator))
        content = pikepdf.unparse_content_stream(instructions)
    page.obj.Contents = pdf.make_stream(zlib.compress(content), Filter=pikepdf.Name.FlateDecode)


# How WeasyPrint (pydyf) begins marked content: each token on a line of its own.
_MARKED = re.compile(rb"(?<=\n)/([A-Za-z][A-Za-z0-9]*)\n<</MCID (\d+)>>\nBDC\n")
_ARTIFACT = b"/Artifact\nBMC\n"
_STRING_OR_IMAGE = re.compile(rb"\(|BI")  # an inline image's BI, or letters of a name


def _marked_as_weasyprint_writes(data: bytes) -> int | None:
    """How many marked contents ``data`` begins, if it begins each as WeasyPrint writes
    them and holds no literal string or inline image (whose bytes could look like one);
    else None: then it is parsed as content (a parse of every page costs ten times the
    time)."""
    if _STRING_OR_IMAGE.search(data):
        return None
    found = sum(1 for _ in _MARKED.finditer(data))
    return found if found == data.count(b"BDC") else None


def _mcid(operands) -> int | None:
    import pikepdf

    if len(operands) == 2 and isinstance(operands[1], pikepdf.Dictionary):
        mcid = operands[1].get("/MCID")
        return int(mcid) if mcid is not None else None
    return None


# --- page breaks ------------------------------------------------------------------


def joined_across_pages(pdf, chains: list[tuple[int, int, tuple[str, ...]]]) -> None:
    """Join, at each page break (the page before, the page after), the elements its chain
    names (outermost first): the one on the next page is emptied into the one on the
    page before (the last one before it holding any, past empty pages), its marked
    content keeping its page. A chain that does not match the tree stops there."""
    import pikepdf

    document = pdf.Root.StructTreeRoot.K[0]
    pages = {page.objgen: index for index, page in enumerate(pdf.pages)}
    by_page: dict[int, list] = {}
    for kid in kids(document):
        if isinstance(kid, pikepdf.Dictionary) and "/Pg" in kid:
            by_page.setdefault(pages.get(kid.Pg.objgen, -1), []).append(kid)
    moved: dict[tuple[int, int], object] = {}
    marked: set[tuple[int, int]] = set()  # the pages of the emptied elements' marked content
    for page_before, page_after, chain in chains:
        while page_before > 0 and page_before not in by_page:  # an empty page between
            page_before -= 1
        before, after = by_page.get(page_before, []), by_page.get(page_after, [])
        if chain and before and after:
            tail = _resolved(before[-1], moved)
            _join(tail, after[0], document, chain, moved, marked)
    if moved:
        touched = {page.obj.get("/StructParents") for page in pdf.pages if page.objgen in marked}
        _parent_tree_updated(pdf, moved, set(), {int(key) for key in touched if key is not None})


def _resolved(element, moved: dict):
    while element.objgen in moved:
        element = moved[element.objgen]
    return element


def _join(ending, going_on, parent, chain: tuple[str, ...], moved: dict, marked: set) -> None:
    for kind in chain:
        if ending.get("/S") != f"/{kind}" or going_on.get("/S") != f"/{kind}":
            return
        inner_ending, inner_going_on = _elements_of(ending)[-1:], _elements_of(going_on)[:1]
        _empty_into(going_on, ending, parent, moved, marked)
        if not (inner_ending and inner_going_on):
            return
        parent, ending, going_on = ending, inner_ending[0], inner_going_on[0]


def _elements_of(element) -> list:
    import pikepdf

    return [
        kid
        for kid in kids(element)
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid and kid.get("/Type") != "/OBJR"
    ]


def _empty_into(source, target, parent, moved: dict, marked: set) -> None:
    """``source``'s content appended to ``target``'s; ``source`` leaves ``parent``. The
    pages of the marked content it held go into ``marked``."""
    import pikepdf

    content = []
    for kid in kids(source):
        if isinstance(kid, int):
            kid = pikepdf.Dictionary(Type=pikepdf.Name.MCR, Pg=source.Pg, MCID=kid)
        elif "/P" in kid:
            kid.P = target
        page = kid.get("/Pg", source.get("/Pg")) if kid.get("/Type") == "/MCR" else None
        if page is not None:
            marked.add(page.objgen)
        content.append(kid)
    target.K = pikepdf.Array([*kids(target), *content])
    parent.K = pikepdf.Array([kid for kid in kids(parent) if kid.objgen != source.objgen])
    moved[source.objgen] = target


# --- links ------------------------------------------------------------------------


def _links_flattened(pdf) -> None:
    """Each link one Link element holding all its text and annotations.

    WeasyPrint gives every box inside a link (the page reference a cross-reference's
    ``::after`` adds, a leader) a Link element and an annotation of its own, nested
    in the link's; a fragment left empty at the end of a line becomes a Link with no
    text over an area of no width. The nested elements' content moves up into the
    outer Link, and annotations that cover nothing are removed.
    """
    import pikepdf

    moved: dict[tuple[int, int], object] = {}
    empty: set[tuple[int, int]] = set()
    for link in _outer_links(pdf):
        kept = []
        for kid in _link_content(link, link, moved):
            annotation = kid.get("/Obj") if isinstance(kid, pikepdf.Dictionary) else None
            if annotation is not None and _covers_nothing(annotation):
                empty.add(annotation.objgen)
                continue
            kept.append(kid)
        link.K = pikepdf.Array(kept)
    if moved or empty:
        _parent_tree_updated(pdf, moved, empty)
    for page in pdf.pages:
        if empty and "/Annots" in page.obj:
            kept = [a for a in page.obj.Annots if a.objgen not in empty]
            page.obj.Annots = pikepdf.Array(kept)


def _outer_links(pdf) -> list:
    """The Link elements that are not inside another Link."""
    import pikepdf

    found, stack = [], [pdf.Root.StructTreeRoot]
    while stack:
        element = stack.pop()
        for kid in kids(element):
            if not isinstance(kid, pikepdf.Dictionary) or kid.get("/Type") == "/OBJR":
                continue
            if kid.get("/S") == "/Link":
                found.append(kid)
            else:
                stack.append(kid)
    return found


def _link_content(link, outer, moved: dict) -> list:
    """The link's marked content and annotations, those of the Links inside it included
    (each noted in ``moved`` as now belonging to ``outer``)."""
    import pikepdf

    content = []
    for kid in kids(link):
        if not (isinstance(kid, pikepdf.Dictionary) and kid.get("/S") == "/Link"):
            content.append(kid)
            continue
        moved[kid.objgen] = outer
        for inner in _link_content(kid, outer, moved):
            if isinstance(inner, int) and kid.get("/Pg") != outer.get("/Pg"):
                # marked content on another page than the outer link's names its page
                inner = pikepdf.Dictionary(Type=pikepdf.Name.MCR, Pg=kid.Pg, MCID=inner)
            content.append(inner)
    return content


def _covers_nothing(annotation) -> bool:
    x1, y1, x2, y2 = (float(n) for n in annotation.Rect)
    return x1 == x2 or y1 == y2


def _parent_tree_updated(pdf, moved: dict, removed: set, pages: set[int] | None = None) -> None:
    """Marked content and annotations of the moved elements point at their new element;
    removed annotations leave the parent tree. ``pages``: the keys of the only pages
    whose marked content may belong to a moved element (None: any page's)."""
    import pikepdf

    tree = pdf.Root.StructTreeRoot.ParentTree
    nums = list(tree.Nums)
    annotations = {
        int(annotation.StructParent): annotation
        for page in (pdf.pages if removed else ())
        for annotation in page.obj.get("/Annots", [])
        if "/StructParent" in annotation
    }
    kept = []  # a Python list: pikepdf copies an Array on each extend
    for key, value in zip(nums[::2], nums[1::2], strict=True):
        if isinstance(value, pikepdf.Array):
            for index, element in enumerate(value if pages is None or int(key) in pages else ()):
                if isinstance(element, pikepdf.Dictionary) and element.objgen in moved:
                    value[index] = moved[element.objgen]
            kept.extend([key, value])
            continue
        annotation = annotations.get(int(key))
        if annotation is not None and annotation.objgen in removed:
            continue
        if isinstance(value, pikepdf.Dictionary) and value.objgen in moved:
            value = moved[value.objgen]
        kept.extend([key, value])
    tree.Nums = pikepdf.Array(kept)


# --- the contents ------------------------------------------------------------------


def _contents_as_toc(pdf) -> None:
    """The contents (``nav``: NonStruct holding a heading and a list of links): its list
    becomes a TOC, the list's items TOCI."""
    for element in kids(pdf.Root.StructTreeRoot.K[0]):
        inside = kids(element)
        if element.get("/S") != "/NonStruct" or len(inside) != 2:
            continue
        heading, listing = inside
        if not str(heading.get("/S", "")).startswith("/H") or listing.get("/S") != "/L":
            continue
        if _all_items_link(listing):
            _as_toc(listing)
            return


def _all_items_link(listing) -> bool:
    items = [item for item in kids(listing) if "/S" in item]
    return bool(items) and all(item.S == "/LI" and _has_link(item) for item in items)


def _has_link(element) -> bool:
    import pikepdf

    return any(
        isinstance(kid, pikepdf.Dictionary)
        and (kid.get("/S") == "/Link" or ("/S" in kid and _has_link(kid)))
        for kid in kids(element)
    )


def _as_toc(listing) -> None:
    """L becomes TOC, its LI TOCI, their LBody a NonStruct (LBody belongs in an LI), and a
    list inside an item a TOC too."""
    import pikepdf

    listing.S = pikepdf.Name.TOC
    for item in kids(listing):
        if isinstance(item, pikepdf.Dictionary) and item.get("/S") == "/LI":
            item.S = pikepdf.Name.TOCI
            for body in kids(item):
                if isinstance(body, pikepdf.Dictionary) and body.get("/S") == "/LBody":
                    body.S = pikepdf.Name.NonStruct
                    for kid in kids(body):
                        if isinstance(kid, pikepdf.Dictionary) and kid.get("/S") == "/L":
                            _as_toc(kid)


# --- runs of text -------------------------------------------------------------------

# The entries WeasyPrint gives every Span: one with no other says nothing of its content.
_BARE_SPAN_KEYS = frozenset(["/K", "/P", "/Pg", "/S", "/Type"])
# Grouping elements hold no content directly (PDF 1.7, 14.8.4.2): a Span in one stays.
_GROUPING = frozenset(
    {"/Document", "/Part", "/Art", "/Sect", "/Div", "/BlockQuote", "/Caption", "/TOC", "/TOCI"}
    | {"/Index", "/NonStruct", "/Private"}
)


def _bare_spans_dissolved(pdf) -> None:
    """Each Span with no other entry than WeasyPrint gives every Span (a Span means
    nothing by itself, PDF 1.7 section 14.8.4.4) leaves the tree, unless its parent is
    a grouping element: what it held takes its place in its parent, in order, its
    marked content naming its page where the parent is on another, and the parent
    tree points at the parent."""
    import pikepdf

    moved: dict[tuple[int, int], object] = {}
    seen: set[tuple[int, int]] = set()
    stack = [pdf.Root.StructTreeRoot.K[0]]
    while stack:
        element = stack.pop()
        if element.objgen in seen:
            continue
        seen.add(element.objgen)
        content, pending, changed = [], deque(kids(element)), False
        holds_content = element.get("/S") not in _GROUPING
        while pending:
            kid = pending.popleft()
            if holds_content and _is_bare_span(kid):
                pending.extendleft(reversed(_given_to(kid, element)))
                moved[kid.objgen] = element
                changed = True
                continue
            content.append(kid)
            if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") not in ("/OBJR", "/MCR"):
                stack.append(kid)
        if changed:
            element.K = pikepdf.Array(content)
    if moved:
        _parent_tree_updated(pdf, moved, set())


def _is_bare_span(kid) -> bool:
    """Whether ``kid`` is a Span that says nothing of its content, and whose marked
    content can name its page."""
    import pikepdf

    if not isinstance(kid, pikepdf.Dictionary) or kid.get("/S") != "/Span":
        return False
    if not set(kid.keys()) <= _BARE_SPAN_KEYS:
        return False
    return "/Pg" in kid or not any(_needs_page(inner) for inner in kids(kid))


def _needs_page(mark) -> bool:
    import pikepdf

    return isinstance(mark, int) or (
        isinstance(mark, pikepdf.Dictionary) and mark.get("/Type") == "/MCR" and "/Pg" not in mark
    )


def _given_to(span, parent) -> list:
    """What ``span`` holds, made ``parent``'s."""
    import pikepdf

    page, parent_page = span.get("/Pg"), parent.get("/Pg")
    on_page = page is not None and parent_page is not None and page.objgen == parent_page.objgen
    content = []
    for kid in kids(span):
        if _needs_page(kid) and not on_page:
            if isinstance(kid, int):
                kid = pikepdf.Dictionary(Type=pikepdf.Name.MCR, Pg=page, MCID=kid)
            else:
                kid.Pg = page
        elif isinstance(kid, pikepdf.Dictionary) and "/P" in kid:
            kid.P = parent
        content.append(kid)
    return content


def eol_safe(data: bytes) -> bytes:
    """``data`` saved as :func:`saved` saves (for PDFs another step wrote last)."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return saved(pdf)


def saved(pdf, regroup: bool = False) -> bytes:
    """The PDF's bytes, no stream's data read one byte short by a PDF/A checker.

    Before ``endstream`` comes a line feed; data that ends in a CR makes it a CR LF,
    which PDF/A checkers read as the end of line, so they find the stream one byte
    shorter than its /Length. Compressing the same data again ends the same (the last
    bytes are a checksum of the data), so a stream (images aside) that ends so gets a
    space its readers ignore before it is compressed again (a NUL would not do: the
    checksum's last byte is the sum of the bytes). The streams that saving makes (object
    streams, the cross-reference stream) are written by qpdf, which has no such
    choice: one that ends in a CR is given a CR LF before ``endstream`` (see
    :func:`_eol_after_cr`). With ``regroup``, objects go into object streams afresh (a
    PDF put together from others, whose objects came with none), else they stay in
    those they were in.
    """
    import pikepdf

    for stream in pdf.objects:
        if not isinstance(stream, pikepdf.Stream):
            continue
        if "/Filter" not in stream and stream.get("/Type") != pikepdf.Name.Metadata:
            # compressed here rather than by qpdf on saving, so that it is checked too
            stream.write(zlib.compress(stream.read_raw_bytes()), filter=pikepdf.Name.FlateDecode)
        if _ends_in_cr(stream):
            _padded(stream)
    mode = pikepdf.ObjectStreamMode.generate if regroup else pikepdf.ObjectStreamMode.preserve
    data = _written(pdf, mode)
    if _CR_BEFORE_END not in data:
        return data
    kept = _eol_after_cr(data)
    # Not as qpdf writes a stream: saved without object streams, the only ones it makes
    # (its cross-reference table is then plain text).
    return kept if kept is not None else _written(pdf, pikepdf.ObjectStreamMode.disable)


def _written(pdf, objects) -> bytes:
    import pikepdf

    buffer = io.BytesIO()
    pdf.save(
        buffer,
        deterministic_id=True,
        stream_decode_level=pikepdf.StreamDecodeLevel.none,  # compressed ones stay so
        object_stream_mode=objects,
    )
    return buffer.getvalue()


_CR_BEFORE_END = b"\r\nendstream"
_DICTIONARY_END = b" >>\nstream\n"  # how qpdf ends a stream's dictionary
_STREAM_LENGTH = re.compile(rb"/Length (\d+)[ />]")


def _eol_after_cr(data: bytes) -> bytes | None:
    """``data`` with each stream whose data ends in a CR followed by a CR LF, not a lone
    LF, before ``endstream``; None if such a stream is not written as qpdf writes
    streams, with its dictionary's /Length given.

    The byte the CR takes comes from the space before the dictionary's ``>>``, so
    the object keeps its length and no offset in the file moves.
    """
    fixed = bytearray(data)
    for found in re.finditer(re.escape(_CR_BEFORE_END), data):
        end = found.start() + 1  # where the stream's data ends, after its CR
        dictionary_end = data.rfind(_DICTIONARY_END, 0, end)
        head = data.rfind(b" obj\n<<", 0, dictionary_end)
        if dictionary_end < 0 or head < 0:
            return None
        start = dictionary_end + len(_DICTIONARY_END)
        length = _STREAM_LENGTH.search(data, head, dictionary_end + 3)
        if length is None or start + int(length[1]) != end:
            return None
        fixed[dictionary_end : end + 1] = b">>\nstream\n" + data[start:end] + b"\r\n"
    return bytes(fixed)


_FONT_LENGTH = "/Length1"  # a TrueType font file's length, which the padding changes


def _ends_in_cr(stream) -> bool:
    import pikepdf

    return (
        stream.get("/Filter") == pikepdf.Name.FlateDecode
        and "/DecodeParms" not in stream
        and stream.get("/Subtype") != pikepdf.Name.Image
        and stream.read_raw_bytes().endswith(b"\r")
    )


def _padded(stream) -> None:
    import pikepdf

    data = stream.read_bytes()
    compressed = zlib.compress(data)
    while compressed.endswith(b"\r"):
        data += b" "  # white space in content and CMaps, unread after a font's tables
        compressed = zlib.compress(data)
    stream.write(compressed, filter=pikepdf.Name.FlateDecode)
    if _FONT_LENGTH in stream:
        stream[_FONT_LENGTH] = len(data)
