"""Fonts subset by fontTools (without libharfbuzz-subset): the lean workaround applies,
skips the decoding it is for, and changes no byte of a card."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
import weasyprint.pdf.fonts
from fontTools.ttLib.tables import otBase

from handbook import engine
from handbook.build import BuildOptions
from handbook.content.validate import load_handbook
from handbook.engine import workarounds
from handbook.html.render import Renderer
from handbook.html.views import cards
from handbook.project import open_project
from tests.conftest import TINY

LAYOUT_TABLES = {"GSUB", "GPOS"}


@pytest.fixture(scope="module")
def card_source() -> engine.PageSource:
    project = open_project(TINY)
    handbook = load_handbook(project)
    fmt = BuildOptions().format_for(handbook)
    return Renderer(project).card(handbook, cards(handbook)[0], fmt)


@pytest.fixture
def fonttools_subsetting(monkeypatch) -> list[str]:
    """WeasyPrint subsets with fontTools, as without libharfbuzz-subset; the tags of the
    layout tables fontTools decodes meanwhile."""
    monkeypatch.setattr(weasyprint.pdf.fonts, "harfbuzz_subset", None)
    decoded: list[str] = []
    original = otBase.BaseTTXConverter.decompile

    def decompile(self, data, font):
        decoded.append(self.tableTag)
        return original(self, data, font)

    monkeypatch.setattr(otBase.BaseTTXConverter, "decompile", decompile)
    return decoded


def card_pdf(source: engine.PageSource) -> bytes:
    """The card as the build writes it (a fresh layout: a write subsets its fonts in place)."""
    return engine.to_pdf_bytes(engine.render(source), source.origin)


def test_a_card_subset_leanly_decodes_no_layout_table(card_source, fonttools_subsetting):
    card_pdf(card_source)
    assert LAYOUT_TABLES.isdisjoint(fonttools_subsetting)


def test_without_the_workaround_fonttools_still_decodes_the_tables_it_drops(
    card_source, fonttools_subsetting, monkeypatch
):
    """The canary: once fontTools stops decoding dropped tables, the workaround can go."""
    monkeypatch.setattr(workarounds, "lean_subsetting", contextlib.nullcontext)
    one_face = "<html><body><p>Warm the oil in your palms.</p></body></html>"
    card_pdf(dataclasses.replace(card_source, html=one_face))
    assert set(fonttools_subsetting) >= LAYOUT_TABLES


@pytest.mark.slow  # a card subset twice by fontTools, once as WeasyPrint calls it: seconds
def test_a_card_has_the_same_bytes_with_and_without_the_workaround(
    card_source, fonttools_subsetting, monkeypatch
):
    lean = card_pdf(card_source)
    monkeypatch.setattr(workarounds, "lean_subsetting", contextlib.nullcontext)
    assert card_pdf(card_source) == lean
