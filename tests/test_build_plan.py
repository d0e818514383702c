"""The build's plan: card backs are cached outputs, and check lays cards out like a build."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from handbook.build import RENDERED, BuildOptions, build, check_cards
from handbook.build.workers import Limits
from handbook.cli import cli


def rendered(report, out: Path) -> set[str]:
    return {o.path.relative_to(out).as_posix() for o in report.with_status(RENDERED)}


@pytest.mark.slow
def test_duplex_backs_are_outputs_of_their_own_rebuilt_only_when_their_card_changes(
    tiny_copy, tmp_path
):
    out = tmp_path / "out"
    options = BuildOptions(out_dir=out, duplex=True)
    first = build(tiny_copy, options)
    backs = {f"cards/backs/{card}.pdf" for card in ("gliding", "pressing", "short", "gentle")}
    assert backs <= rendered(first, out)
    back = PdfReader(out / "cards/backs/gliding.pdf")
    assert len(back.pages) == 1
    assert "Stay gentle" in back.pages[0].extract_text()  # the safety topic it recalls

    technique = tiny_copy / "content/gliding.yaml"
    technique.write_text(
        technique.read_text(encoding="utf-8").replace("Never press hard.", "Never press down."),
        encoding="utf-8",
    )
    second = rendered(build(tiny_copy, options), out)
    assert {"cards/gliding.pdf", "cards/backs/gliding.pdf", "card-sheets.pdf"} <= second
    other_cards = {name for name in second if name.startswith("cards/") and "gliding" not in name}
    assert not other_cards
    assert "press down" in PdfReader(out / "cards/backs/gliding.pdf").pages[0].extract_text()


def test_check_reads_the_project_under_the_build_time_limit(tiny_copy):
    result = CliRunner().invoke(
        cli, ["check", "--project", str(tiny_copy), "--time-limit", "0.001"]
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith(
        "handbook.yaml: reading the project and its templates took longer than the time limit"
    )
    assert "Traceback" not in result.output


def test_check_cards_reads_the_project_once_and_reports_each_card(tiny_copy):
    report = check_cards(tiny_copy, BuildOptions(card_size="a5", limits=Limits(seconds=120)))
    assert [fit.id for fit in report.cards] == ["gliding", "pressing", "short", "gentle"]
    assert all(fit.scale == 1.0 for fit in report.cards)  # short texts on a large card
    assert [t.id for t in report.handbook.techniques] == ["gliding", "pressing"]
    assert not (tiny_copy / "build").exists()
