"""The default handbook carries everything the content brief asks for."""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import pytest
from pypdf import PdfReader

from handbook.content.validate import Handbook, load_handbook
from handbook.project import defaults_root, open_project

TECHNIQUES = {
    "stroking",
    "rubbing",
    "kneading",
    "vibration",
    "percussion",
    "skin-rolling",
    "acupressure",
}
SAFETY = {"do-not-massage", "therapeutic-only", "stop-signals", "no-go-zones", "see-a-doctor"}
NO_GO = {"spine", "kidneys", "between-shoulder-blades"}


@cache
def default_handbook() -> Handbook:
    return load_handbook(open_project(defaults_root()))


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_every_technique_safety_topic_and_routine_of_the_brief_is_present():
    handbook = default_handbook()
    assert {t.id for t in handbook.techniques} == TECHNIQUES
    assert {s.id for s in handbook.safety} >= SAFETY
    routines = {r.id for r in handbook.routines}
    assert "relaxing-15" in routines
    assert len(routines) >= 2


def test_each_technique_is_complete_and_links_to_safety():
    for technique in default_handbook().techniques:
        assert technique.safety, f"{technique.id} links to no safety topic"
        assert 3 <= len(technique.steps) <= 6, technique.id
        assert technique.level and technique.never and technique.cues, technique.id
        labels = [fact.label for fact in technique.facts]
        assert labels == ["Hand", "Direction", "Time"], technique.id
        assert technique.mistakes and technique.strokes and technique.zones, technique.id
        assert "spine" in technique.avoid_zones, technique.id


def test_french_names_are_recorded():
    names = {n.lower() for t in default_handbook().techniques for n in t.other_names}
    assert {"effleurage", "friction", "petrissage", "tapotement"} <= names


def test_percussion_keeps_off_the_no_go_zones():
    handbook = default_handbook()
    assert set(handbook.technique("percussion").avoid_zones) == NO_GO
    assert set(handbook.safety_topic("no-go-zones").zones) == NO_GO


def test_routine_minutes_add_up():
    for routine in default_handbook().routines:
        assert sum(step.minutes for step in routine.steps) == routine.minutes, routine.id


def test_relaxing_routine_follows_the_brief():
    routine = next(r for r in default_handbook().routines if r.id == "relaxing-15")
    assert routine.minutes == 15
    assert routine.steps[0].item == routine.steps[-1].item == "stroking"
    per_technique: dict[str, float] = defaultdict(float)
    per_zone: dict[str, float] = defaultdict(float)
    for step in routine.steps:
        per_technique[step.item] += step.minutes
        for zone in step.zones:
            per_zone[zone] += step.minutes
    assert 5 <= per_technique["stroking"] <= 7
    assert 5 <= per_technique["rubbing"] <= 7
    # Neck first, lower back last, and the lower back gets the most time.
    assert "neck" in routine.steps[1].zones
    assert "lower-back" in routine.steps[-2].zones
    assert per_zone["lower-back"] == max(per_zone.values())


@pytest.mark.slow
def test_booklet_is_a_printable_length_with_the_notes_a_reader_needs(default_build):
    out, _ = default_build
    booklet = out / "handbook.pdf"
    assert 24 <= len(PdfReader(booklet).pages) <= 40
    text = pdf_text(booklet)
    assert "not medical advice" in text
    for term in ("Effleurage", "Friction", "Petrissage", "Tapotement"):
        assert term in text


@pytest.mark.slow
def test_every_technique_and_safety_card_with_zones_shows_its_map(default_build):
    out, _ = default_build
    handbook = default_handbook()
    for technique in handbook.techniques:
        text = pdf_text(out / "cards" / f"{technique.id}.pdf")
        directions = {stroke.direction for stroke in technique.strokes}
        assert "Keep off" in text, technique.id
        assert ("Direction" in text) == bool(directions - {"into"}), technique.id  # arrows
        assert ("Press in" in text) == ("into" in directions), technique.id  # markers
    for topic in handbook.safety:
        text = pdf_text(out / "cards" / f"{topic.id}.pdf")
        for zone_id in topic.zones:
            assert handbook.zone(zone_id).name.split()[0] in text, topic.id


def test_order_sets_the_sequence_of_techniques_whatever_the_file_names(default_copy):
    stroking = default_copy / "content" / "techniques" / "stroking.yaml"
    stroking.write_text(stroking.read_text().replace("order: 1", "order: 99"))
    handbook = load_handbook(open_project(default_copy))
    ids = [t.id for t in handbook.techniques]
    assert ids[0] == "rubbing" and ids[-1] == "stroking"
