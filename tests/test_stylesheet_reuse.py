"""A stylesheet is parsed once in a process and again as soon as a file it read changes.

The workers of ``handbook serve`` and ``watch`` live across builds, so a
kept parse must never outlive an edit: each test renders in this process
twice, with the file changed or not in between, and reads the PDF back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest

from handbook import engine
from handbook.errors import HandbookError
from tests.conftest import write

HTML = "<html><body><p>Warm hands first</p></body></html>"


def _source(folder: Path, sheet: Path) -> engine.PageSource:
    return engine.PageSource(HTML, (sheet,), "", "content/test.yaml", (folder,))


def _text_size(source: engine.PageSource) -> float:
    pdf = engine.to_pdf_bytes(engine.render(source), "content/test.yaml")
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        blocks = document[0].get_text("dict")["blocks"]
    spans = [span for block in blocks for line in block["lines"] for span in line["spans"]]
    (size,) = {round(span["size"], 2) for span in spans}
    return size


def _edit(path: Path, text: str) -> None:
    """Rewrite a file, its size unchanged and its time moved on, as a quick editor might."""
    before = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))


def _counting_parses(monkeypatch) -> list[str]:
    import weasyprint

    parsed: list[str] = []
    original = weasyprint.CSS

    def counting(*args, **kwargs):
        parsed.append(kwargs.get("url") or "string")
        return original(*args, **kwargs)

    monkeypatch.setattr(weasyprint, "CSS", counting)
    return parsed


def test_an_unchanged_stylesheet_is_parsed_once(tmp_path, monkeypatch):
    sheet = write(tmp_path / "styles" / "page.css", "p { font-size: 20px; }\n")
    parsed = _counting_parses(monkeypatch)
    sizes = [_text_size(_source(tmp_path, sheet)) for _ in range(3)]
    assert sizes == [15.0] * 3  # 20 CSS px
    assert parsed.count(sheet.as_uri()) == 1


def test_an_edited_stylesheet_is_parsed_again(tmp_path):
    sheet = write(tmp_path / "styles" / "page.css", "p { font-size: 20px; }\n")
    assert _text_size(_source(tmp_path, sheet)) == 15.0
    _edit(sheet, "p { font-size: 32px; }\n")
    assert _text_size(_source(tmp_path, sheet)) == 24.0


def test_an_edited_import_is_read_again(tmp_path):
    sheet = write(tmp_path / "styles" / "page.css", '@import "sizes.css";\n')
    sizes = write(tmp_path / "styles" / "sizes.css", "p { font-size: 20px; }\n")
    assert _text_size(_source(tmp_path, sheet)) == 15.0
    _edit(sizes, "p { font-size: 32px; }\n")
    assert _text_size(_source(tmp_path, sheet)) == 24.0


def test_a_stylesheet_with_a_problem_is_reported_every_time(tmp_path):
    sheet = write(tmp_path / "styles" / "page.css", "p {\n  colr: red;\n}\n")
    for _ in range(2):
        with pytest.raises(HandbookError) as raised:
            _text_size(_source(tmp_path, sheet))
        (problem,) = raised.value.problems
        assert problem.format() == (
            "styles/page.css:2:3: unknown CSS property 'colr'\n    hint: did you mean 'color'?"
        )


def _first_card(project_dir: Path) -> engine.PageSource:
    from handbook.build import BuildOptions
    from handbook.content.validate import load_handbook
    from handbook.html.render import Renderer
    from handbook.html.views import cards
    from handbook.project import open_project

    project = open_project(project_dir)
    handbook = load_handbook(project)
    fmt = BuildOptions().format_for(handbook)
    return Renderer(project).card(handbook, cards(handbook)[0], fmt)


def test_a_worker_warmed_up_for_a_project_parses_none_of_its_stylesheets_again(
    tiny_copy, monkeypatch
):
    """A worker lays out a few words in the booklet's and the cards' styles as it starts
    (while the project is read): its first card finds them parsed."""
    from handbook.engine import stylesheets
    from handbook.html.render import first_pages
    from handbook.project import open_project

    monkeypatch.setattr(stylesheets, "_kept", type(stylesheets._kept)())
    pages = first_pages(open_project(tiny_copy))
    assert [len(page.stylesheets) for page in pages] == [2, 2]
    engine.warm_up(pages)
    parsed = _counting_parses(monkeypatch)
    engine.render(_first_card(tiny_copy))
    assert parsed == ["string"]  # the card's own size and scale, and no file


def test_a_warm_up_in_styles_that_warn_says_nothing_and_keeps_nothing(tiny_copy, monkeypatch):
    """The problem is the render's to report, naming the output it stops."""
    from handbook.engine import stylesheets
    from handbook.html.render import first_pages
    from handbook.project import open_project

    monkeypatch.setattr(stylesheets, "_kept", type(stylesheets._kept)())
    write(tiny_copy / "styles" / "card.css", "p {\n  colr: red;\n}\n")
    engine.warm_up(first_pages(open_project(tiny_copy)))
    with pytest.raises(HandbookError) as raised:
        engine.render(_first_card(tiny_copy))
    assert [p.format() for p in raised.value.problems] == [
        "styles/card.css:2:3: unknown CSS property 'colr'\n    hint: did you mean 'color'?"
    ]


HYPHENATED = (
    '<html lang="{language}"><body><p style="width: 4em; hyphens: auto">'
    "extraordinarily</p></body></html>"
)
HYPHEN = "\u2010"  # what WeasyPrint ends a broken word with (hyphenate-character: auto)


def _hyphenated_lines(source: engine.PageSource) -> list[str]:
    pdf = engine.to_pdf_bytes(engine.render(source), "content/test.yaml")
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        return document[0].get_text().split()


def _patterns_of(language: str) -> str:
    """The file of patterns Pyphen has for ``language`` (en: one of its regions')."""
    import pyphen

    return pyphen.LANGUAGES[pyphen.language_fallback(language)].name


def _counting_pattern_reads(monkeypatch) -> list[str]:
    import pyphen

    read: list[str] = []
    original = pyphen.HyphDict

    def counting(path):
        read.append(Path(path).name)
        return original(path)

    monkeypatch.setattr(pyphen, "hdcache", {})
    monkeypatch.setattr(pyphen, "HyphDict", counting)
    return read


def test_a_worker_warmed_up_for_a_project_has_its_hyphenation_patterns_read(tiny_copy, monkeypatch):
    """Reading a language's patterns costs more than laying out a page: the warm-up
    reads them, for the source's language and each translation's, and the first word
    a render breaks finds them read."""
    from handbook.build.pipeline import _warm_up
    from handbook.project import open_project

    write(tiny_copy / "translations" / "de" / "handbook.yaml", "title: Rückenmassage\n")
    read = _counting_pattern_reads(monkeypatch)
    _warm_up(open_project(tiny_copy))
    assert sorted(read) == sorted(_patterns_of(language) for language in ("de", "en"))
    read.clear()
    source = engine.PageSource(
        HYPHENATED.format(language="en"), (), "", "content/test.yaml", (tiny_copy,)
    )
    lines = _hyphenated_lines(source)
    assert len(lines) > 1 and lines[0].endswith(HYPHEN)  # a word broken by the patterns
    assert read == []


def test_without_a_warm_up_the_first_word_broken_reads_the_patterns(tmp_path, monkeypatch):
    read = _counting_pattern_reads(monkeypatch)
    source = engine.PageSource(
        HYPHENATED.format(language="en"), (), "", "content/test.yaml", (tmp_path,)
    )
    assert _hyphenated_lines(source)[0].endswith(HYPHEN)
    assert read == [_patterns_of("en")]


WARM_UP_IN_A_NEW_PROCESS = """
import sys
from pathlib import Path

from handbook.build.pipeline import _warm_up
from handbook.project import open_project

finishing = ("pikepdf", "handbook.press.merge", "handbook.html.split")
before = [name for name in finishing if name in sys.modules]
_warm_up(open_project(Path(sys.argv[1])))
print(before, [name for name in finishing if name in sys.modules])
"""


def test_a_worker_warmed_up_has_what_finishes_its_pdfs_imported(tiny_copy):
    """A worker's first task does not import pikepdf, the merge or the booklet's split itself."""
    done = subprocess.run(
        [sys.executable, "-c", WARM_UP_IN_A_NEW_PROCESS, str(tiny_copy)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert (
        done.stdout.split("\n")[0]
        == "[] ['pikepdf', 'handbook.press.merge', 'handbook.html.split']"
    )
