"""A stylesheet is parsed once in a process and again as soon as a file it read changes.

The workers of ``handbook serve`` and ``watch`` live across builds, so a
kept parse must never outlive an edit: each test renders in this process
twice, with the file changed or not in between, and reads the PDF back.
"""

from __future__ import annotations

import os
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
