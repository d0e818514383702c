"""Handbooks far from massage build with no code change: first aid, and one in German."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from handbook.build import BuildOptions, build
from handbook.content.labels import catalogue
from tests.conftest import write

FIRST_AID = {
    "handbook.yaml": """\
        title: First Aid at Home
        language: en
        date: 2026-11-24
        outline: [start, routines, techniques, safety]
        """,
    "content/start.yaml": """\
        kind: chapter
        id: start
        title: Before anything else
        sections:
          - title: Not medical training
            tone: stop
            body: This booklet reminds; a first-aid course teaches. Take one.
          - id: numbers
            title: Emergency numbers
            card: true
            body: |
              - Ambulance, fire, police: **112**
              - Poison line: 0800 000 000
        """,
    "content/kit.yaml": """\
        kind: chapter
        id: kit
        title: The kit
        card: true
        sections:
          - title: Checklist
            body: |
              - Gloves and a face shield
              - Plasters, dressings, a triangular bandage
        """,
    "content/survey.yaml": """\
        kind: routine
        id: survey
        title: Primary survey
        steps:
          - {title: Danger, note: Make sure you and others are safe.}
          - {title: Response, note: Speak loudly and tap the shoulders.}
          - {title: Send for help, note: Call 112 or ask someone to.}
          - {title: Airway, note: Tilt the head back gently.}
          - {title: Breathing, note: "Look, listen and feel for ten seconds."}
          - {item: cpr, note: If they are not breathing normally.}
          - {title: Defibrillator, note: Send someone for it and switch it on.}
        """,
    "content/cpr.yaml": """\
        kind: technique
        id: cpr
        name: Chest compressions
        purpose: Keeps blood moving to the brain until help arrives.
        facts:
          - {label: Rate, value: 100-120 a minute}
          - {label: Depth, value: 5-6 cm}
          - {label: Ratio, value: "30:2"}
        steps:
          - Heel of one hand on the centre of the chest, the other on top.
          - Push straight down, hard and fast, and let the chest come back up.
        never: Never stop compressions unless they start breathing or help takes over.
        safety: [help]
        """,
    "content/help.yaml": """\
        kind: safety
        id: help
        title: Call for help first
        severity: stop
        actions: [Call 112 and put the phone on speaker.]
        """,
}


def make(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        write(root / name, text)
    return root


def texts(pdf: Path) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages]


@pytest.mark.slow
def test_a_first_aid_handbook_builds_with_an_untimed_survey_and_cards_of_its_own(tmp_path):
    project = make(tmp_path / "first-aid", FIRST_AID)
    out = tmp_path / "out"
    report = build(project, BuildOptions(out_dir=out))
    cards = sorted(path.stem for path in (out / "cards").glob("*.pdf"))
    assert cards == ["cpr", "help", "kit", "numbers", "survey"]
    assert all(result.scale == 1.0 for result in report.outputs if "cards/" in str(result.path))
    survey = texts(out / "cards/survey.pdf")[0]
    assert survey.startswith("Primary survey 1 Danger Make sure you and others are safe.")
    assert "6 Chest compressions If they are not breathing normally." in survey
    assert "min" not in survey and "Total" not in survey
    assert "Ambulance, fire, police: 112" in texts(out / "cards/numbers.pdf")[0]
    cpr = texts(out / "cards/cpr.pdf")[0]
    assert "RATE 100-120 a minute DEPTH 5-6 cm RATIO 30:2" in cpr.replace("Rate", "RATE").replace(
        "Depth", "DEPTH"
    ).replace("Ratio", "RATIO")
    booklet = " ".join(texts(out / "handbook.pdf"))
    assert "NEVER Never stop compressions" in booklet
    assert "Glossary" not in booklet  # left out of the outline


def german_project(root: Path) -> Path:
    """A German kitchen handbook: ``language: de`` and no labels of its own."""
    return make(
        root,
        {
            "handbook.yaml": "title: Sicher in der Küche\nlanguage: de\ndate: 2026-11-24\n"
            "outline: [techniques, routines, safety]\n",
            "content/reinigen.yaml": """\
                kind: technique
                id: reinigen
                name: Arbeitsflächendesinfektionsmittel
                purpose: Hält die Arbeitsflächen keimfrei.
                facts: [{label: Einwirkzeit, value: 5 Minuten}]
                steps:
                  - Grobe Verschmutzungen mit einem Küchentuch entfernen.
                  - Das Desinfektionsmittel aufsprühen und einwirken lassen.
                never: Niemals mit Lebensmitteln in Berührung bringen.
                safety: [handschuhe]
                """,
            "content/ablauf.yaml": """\
                kind: routine
                id: ablauf
                title: Feierabend in der Großküche
                steps:
                  - {item: reinigen, minutes: 5}
                  - {title: Kühlschranktemperaturkontrolle, minutes: 2}
                """,
            "content/handschuhe.yaml": """\
                kind: safety
                id: handschuhe
                title: Schutzhandschuhe tragen
                severity: caution
                actions: [Bei jeder Reinigung Handschuhe tragen.]
                """,
        },
    )


def printed_as_word(word: str, text: str) -> bool:
    """Whether ``word`` stands in the text as written, or in capitals as a kicker prints it."""
    return any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text) for w in (word, word.upper()))


@pytest.mark.slow
def test_a_german_handbook_prints_only_german_words_and_no_card_overflows(tmp_path):
    project = german_project(tmp_path / "kueche")
    out = tmp_path / "out"
    build(project, BuildOptions(out_dir=out))
    printed = " ".join(texts(out / "handbook.pdf"))
    for name in (out / "cards").glob("*.pdf"):
        printed += " " + " ".join(texts(name))
    english = [word for word in catalogue("en").values() if word not in catalogue("de").values()]
    found = [word for word in english if printed_as_word(word, printed)]
    assert not found, found
    assert "Seite" in printed and "Gesamt 7 Min." in printed and "VORSICHT" in printed
    assert "Kühlschranktemperaturkon" in printed  # the long step title, hyphenated on the card
