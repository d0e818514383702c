"""Translations: translations/<lang>/ built into build/<lang>/, checked for freshness."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from handbook.build import UP_TO_DATE, BuildOptions, build, check_project
from handbook.build.cache import PARTS_DIR
from handbook.cli import cli
from handbook.errors import HandbookError
from handbook.translate import add_missing, mark_current
from tests.conftest import TINY, pdf_text, problems_of

# The tiny project's English texts and their German: written over the skeletons
# 'handbook translate de' makes, so the recorded hashes stay those of the source.
GERMAN = {
    "title: Tiny handbook": "title: Winziges Handbuch",
    "label: Pressure": "label: Druck",
    "title: Introduction": "title: Einleitung",
    "title: Before you start": "title: Bevor du anfängst",
    "Read [Gliding](#gliding) first, and keep the [safety rule](#gentle) in mind.": (
        "Lies zuerst [Gleiten](#gliding) und denk an die [Sicherheitsregel](#gentle)."
    ),
    "name: Gliding": "name: Gleiten",
    "- Long strokes": "- Lange Striche",
    "Warms up and calms.": "Wärmt auf und beruhigt.",
    "value: Open palms": "value: Offene Handflächen",
    "label: Time": "label: Zeit",
    "value: 2 min": "value: 2 Min.",
    "Rest both hands flat.": "Leg beide Hände flach auf.",
    "Glide slowly downward.": "Gleite langsam abwärts.",
    "Return along the sides.": "Kehr an den Seiten zurück.",
    "Never press hard.": "Drück nie fest.",
    "name: Pressing": "name: Drücken",
    "Eases tight spots.": "Löst feste Stellen.",
    "Press slowly with the heel of the hand.": "Drück langsam mit dem Handballen.",
    "Release just as slowly.": "Lös ebenso langsam.",
    "title: Stay gentle": "title: Bleib sanft",
    "Any sharp pain.": "Jeder stechende Schmerz.",
    "Stop at once and ask.": "Hör sofort auf und frag nach.",
    "title: Short routine": "title: Kurzer Ablauf",
    "name: Upper back": "name: Oberer Rücken",
    "name: Lower back": "name: Unterer Rücken",
}


def add_german(project: Path) -> Path:
    """Start the German translation of the tiny project and translate every text."""
    add_missing(project, "de")
    folder = project / "translations/de"
    for path in folder.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        for english, german in GERMAN.items():
            text = text.replace(english, german)
        path.write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def german_build(tmp_path_factory):
    """The tiny project with its German translation, built once: (project, out, report)."""
    project = tmp_path_factory.mktemp("german") / "tiny"
    shutil.copytree(TINY, project)
    add_german(project)
    out = project / "build"
    return project, out, build(project, BuildOptions(out_dir=out))


@pytest.fixture
def german_built(german_build, tmp_path) -> tuple[Path, Path]:
    """A copy of the German project and of its build: (project, output folder)."""
    project = tmp_path / "tiny"
    shutil.copytree(german_build[0], project, ignore=shutil.ignore_patterns("build"))
    out = tmp_path / "out"
    shutil.copytree(german_build[1], out)  # keeps the modification times the records note
    return project, out


def notices(project: Path) -> list[str]:
    [translation] = check_project(project).translations
    return [notice.problem.format() for notice in translation.notices]


def test_the_german_texts_print_in_build_de_and_the_source_build_is_unchanged(
    german_build, tiny_build
):
    _, out, report = german_build
    booklet = pdf_text(out / "de/handbook.pdf")
    for german in ("Winziges Handbuch", "Einleitung", "Gleiten", "Leg beide Hände flach auf."):
        assert german in booklet
    assert "Lies zuerst Gleiten" in booklet  # a link keeps its target, with the German text
    assert "Rest both hands" not in booklet
    card = pdf_text(out / "de/cards/gliding.pdf")
    assert "Gleite langsam abwärts." in card and "DRUCK" in card and "ZEIT 2 Min." in card
    assert "Kurzer Ablauf" in pdf_text(out / "de/cards/short.pdf")
    # The source's outputs are exactly what a build without translations makes.
    source_out = tiny_build[0]
    for name in ("handbook.pdf", "cards/gliding.pdf", "cards.pdf", "card-sheets.pdf"):
        assert (out / name).read_bytes() == (source_out / name).read_bytes(), name
    assert {o.path.relative_to(out).parts[0] for o in report.outputs} >= {"de", "cards"}
    assert report.translation_notices == {"de": []}


def test_a_rebuild_with_nothing_changed_renders_nothing_in_any_language(german_built):
    project, out = german_built
    options = BuildOptions(out_dir=out)
    again = build(project, options)
    assert {o.status for o in again.outputs} == {UP_TO_DATE}
    assert any(o.path.is_relative_to(out / "de") for o in again.outputs)
    assert {o.status for o in build(project, options).outputs} == {UP_TO_DATE}


def test_an_edited_source_step_makes_the_german_entry_stale_until_marked_current(german_built):
    project, out = german_built
    technique = project / "content/gliding.yaml"
    text = technique.read_text(encoding="utf-8")
    technique.write_text(text.replace("Glide slowly downward.", "Glide very slowly downward."))
    assert notices(project) == [
        "translations/de/gliding.yaml:1:1: 'gliding' changed in the source after it was "
        "translated: steps\n"
        "    hint: revise the translation, then run "
        "'handbook translate de --mark-current gliding'"
    ]
    report = build(project, BuildOptions(out_dir=out, language="de"))
    assert [n.kind for n in report.translation_notices["de"]] == ["stale"]
    assert "Gleite langsam abwärts." in pdf_text(out / "de/cards/gliding.pdf")  # still German

    where, changed = mark_current(project, "de", "gliding")
    assert (where.path, where.line, changed) == ("translations/de/gliding.yaml", 1, True)
    assert notices(project) == []
    entry = (project / "translations/de/gliding.yaml").read_text(encoding="utf-8")
    assert "Leg beide Hände flach auf." in entry  # only the hashes were rewritten
    assert mark_current(project, "de", "gliding")[1] is False


@pytest.mark.slow
def test_an_item_without_an_entry_prints_in_the_source_language_with_a_notice(german_built):
    project, out = german_built
    (project / "translations/de/pressing.yaml").unlink()
    assert notices(project) == [
        "content/pressing.yaml:2:5: the technique 'pressing' has no de translation; "
        "it prints in en\n"
        "    hint: run 'handbook translate de' to add it to translations/de/"
    ]
    report = build(project, BuildOptions(out_dir=out))  # a notice, not a failure
    assert [n.kind for n in report.translation_notices["de"]] == ["missing"]
    assert "Press slowly with the heel of the hand." in pdf_text(out / "de/cards/pressing.pdf")
    assert "Gleite langsam abwärts." in pdf_text(out / "de/cards/gliding.pdf")


def test_an_entry_for_no_source_item_is_reported_at_its_key(german_built):
    project, _ = german_built
    extra = project / "translations/de/zones.yaml"
    extra.write_text(extra.read_text(encoding="utf-8") + "\nmiddle:\n  name: Mitte\n")
    assert notices(project) == [
        "translations/de/zones.yaml:9:1: there is no 'middle' in the source (en), "
        "so this entry is not used\n"
        "    hint: valid values: 'gentle', 'gliding', 'intro', 'lower', 'pressing', 'short', "
        "'upper' If the item was removed, remove the entry too."
    ]


def test_a_broken_translation_is_located_and_leaves_the_last_good_outputs(german_built):
    project, out = german_built
    entry = project / "translations/de/gliding.yaml"
    entry.write_text(entry.read_text(encoding="utf-8").replace("  steps:", "  stepz:"))
    pressing = project / "translations/de/pressing.yaml"
    pressing.write_text(pressing.read_text(encoding="utf-8").replace("name: Drücken", "name: [1]"))
    expected = [
        "translations/de/gliding.yaml:12:3: unknown field 'stepz'\n    hint: did you mean 'steps'?",
        "translations/de/pressing.yaml:3:9: 'name' must be text\n"
        "    hint: write it on one line, or quote it",
    ]
    assert problems_of(project) == expected
    before = {p: p.read_bytes() for p in (out / "de").rglob("*.pdf")}
    with pytest.raises(HandbookError) as raised:
        build(project, BuildOptions(out_dir=out))
    assert [p.format() for p in raised.value.problems] == expected
    assert {p: p.read_bytes() for p in (out / "de").rglob("*.pdf")} == before
    # The source's outputs are still built (and here, still up to date).
    recorded = build(project, BuildOptions(out_dir=out, language="en"))
    assert {o.status for o in recorded.outputs} == {UP_TO_DATE}


def test_language_builds_one_edition_and_an_unknown_one_is_a_usage_error(german_built):
    project, out = german_built
    german = build(project, BuildOptions(out_dir=out, language="de"))
    german_files = {
        p for p in (out / "de").rglob("*.pdf") if not {".bleed", PARTS_DIR} & set(p.parts)
    }
    assert {o.path for o in german.outputs} == german_files
    result = CliRunner().invoke(
        cli, ["build", "--project", str(project), "--out", str(out), "--language", "fr"]
    )
    assert result.exit_code == 2
    assert (
        "Invalid value for '--language': no language 'fr' in this project; "
        "the languages are: en, de"
    ) in result.output


@pytest.mark.slow
def test_cleaning_up_one_language_never_touches_another(german_built):
    project, out = german_built
    (project / "content/short.yaml").unlink()
    (project / "translations/de/short.yaml").unlink()
    build(project, BuildOptions(out_dir=out, language="en"))
    assert not (out / "cards/short.pdf").exists()
    assert (out / "de/cards/short.pdf").is_file()  # the source's clean-up left it
    assert (out / "de/handbook.pdf").is_file()
    build(project, BuildOptions(out_dir=out, language="de"))
    assert not (out / "de/cards/short.pdf").exists()
    assert (out / "handbook.pdf").is_file() and (out / "cards/gliding.pdf").is_file()


def test_translate_starts_a_language_and_marks_entries_current(tiny_copy):
    runner = CliRunner()
    started = runner.invoke(cli, ["translate", "de", "--project", str(tiny_copy)])
    assert started.exit_code == 0, started.output
    assert "wrote translations/de/zones.yaml: upper, lower" in started.output.replace(
        str(tiny_copy) + "/", ""
    )
    assert started.output.endswith(
        "de: 8 entries to translate; write over the source text in each, "
        "then run 'handbook check'\n"
    )
    skeleton = (tiny_copy / "translations/de/gliding.yaml").read_text(encoding="utf-8")
    assert skeleton.startswith('gliding:\n  translated_from: {name: "')
    assert "    - Rest both hands flat.\n" in skeleton
    found = notices(tiny_copy)
    assert len(found) == 8
    assert found[0] == (
        "translations/de/handbook.yaml:1:1: 'handbook.yaml' still holds the source text (en)\n"
        "    hint: replace it with the translation"
    )

    again = runner.invoke(cli, ["translate", "de", "--project", str(tiny_copy)])
    assert again.output == "de: every source text has an entry; nothing to add\n"
    marked = runner.invoke(
        cli, ["translate", "de", "--project", str(tiny_copy), "--mark-current", "gliding"]
    )
    assert marked.output == "translations/de/gliding.yaml:1: 'gliding' already up to date\n"
    unknown = runner.invoke(
        cli, ["translate", "de", "--project", str(tiny_copy), "--mark-current", "glidng"]
    )
    assert unknown.exit_code == 1
    assert "content: there is no 'glidng' in the source\n    hint: did you mean 'gliding'?" in (
        unknown.output
    )
    source = runner.invoke(cli, ["translate", "en", "--project", str(tiny_copy)])
    assert source.exit_code == 1
    assert "'en' is the language of the source; there is nothing to translate" in source.output


def test_check_lists_the_notices_and_strict_fails_on_them(german_built):
    project, _ = german_built
    (project / "translations/de/short.yaml").unlink()
    command = ["check", "--no-cards", "--project", str(project)]
    lenient = CliRunner().invoke(cli, command)
    assert lenient.exit_code == 0
    assert "content/short.yaml:2:5: the routine 'short' has no de translation" in lenient.output
    assert "de: 1 translation notice (1 not translated)" in lenient.output
    strict = CliRunner().invoke(cli, [*command, "--strict"])
    assert strict.exit_code == 1
    assert "1 translation notice found (--strict)." in strict.output


@pytest.mark.slow
def test_the_german_edition_of_the_default_handbook_is_complete_and_all_german(default_build):
    out, report = default_build
    assert report.translation_notices == {"de": []}
    source_cards = sorted(p.name for p in (out / "cards").glob("*.pdf"))
    assert sorted(p.name for p in (out / "de/cards").glob("*.pdf")) == source_cards
    booklet = pdf_text(out / "de/handbook.pdf")
    for german in ("Rückenmassage zu Hause", "Keine medizinische Beratung", "Sicherheit zuerst"):
        assert german in booklet
    for english in ("Before you begin", "Not medical advice", "Kneading", "Lower back"):
        assert english not in booklet


def test_sections_that_no_longer_pair_with_the_source_print_in_the_source_language(tiny_copy):
    folder = add_german(tiny_copy)
    intro = folder / "intro.yaml"
    intro.write_text(
        intro.read_text(encoding="utf-8") + "    - title: Noch ein Abschnitt\n", encoding="utf-8"
    )
    assert notices(tiny_copy) == [
        "translations/de/intro.yaml:5:5: 2 sections here, but the source has 1; the sections "
        "print in en\n"
        "    hint: give one entry for each of the source's sections, in the same order"
    ]
    [translation] = check_project(tiny_copy).translations
    [chapter] = translation.handbook.chapters
    assert (chapter.title, chapter.sections[0].title) == ("Einleitung", "Before you start")


def test_two_entries_for_one_id_are_a_problem(tiny_copy):
    folder = add_german(tiny_copy)
    zones = folder / "zones.yaml"
    zones.write_text(
        zones.read_text(encoding="utf-8") + "\ngliding:\n  name: Gleiten\n", encoding="utf-8"
    )
    assert problems_of(tiny_copy) == [
        "translations/de/zones.yaml:9:1: a second entry for 'gliding' "
        "(the first is in translations/de/gliding.yaml:1)\n"
        "    hint: keep one of them"
    ]


def test_a_removed_translation_takes_its_outputs_along_and_nothing_else(german_built):
    project, out = german_built
    # A folder that is not that language's outputs (copied here under another name) stays.
    shutil.copytree(out / "de", out / "fr")
    shutil.rmtree(project / "translations/de")
    report = build(project, BuildOptions(out_dir=out))
    assert {o.status for o in report.outputs} == {UP_TO_DATE}
    assert report.translation_notices == {}
    assert not (out / "de").exists()
    assert (out / "fr/handbook.pdf").is_file()
    assert (out / "handbook.pdf").is_file() and (out / "cards/gliding.pdf").is_file()


PICTURE = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 30" width="120" height="90">'
    '<rect x="2" y="2" width="36" height="26" fill="none" stroke="black"/></svg>'
)


@pytest.mark.slow
def test_pictures_words_translate_by_place_and_the_file_stays(tmp_path):
    project = tmp_path / "tiny"
    shutil.copytree(TINY, project)
    (project / "pictures").mkdir()
    (project / "pictures/hands.svg").write_text(PICTURE, encoding="utf-8")
    picture = (
        "pictures:\n  - file: pictures/hands.svg\n    alt: Two flat hands\n"
        "    caption: Hands flat on the back\n"
    )
    technique = project / "content/gliding.yaml"
    technique.write_text(technique.read_text(encoding="utf-8") + picture, encoding="utf-8")
    add_german(project)
    entry = project / "translations/de/gliding.yaml"
    german = entry.read_text(encoding="utf-8")
    assert "alt: Two flat hands" in german  # the skeleton carries the picture's words
    german = german.replace("alt: Two flat hands", "alt: Zwei flache Hände")
    entry.write_text(german.replace("Hands flat on the back", "Hände flach auf dem Rücken"))
    assert notices(project) == []
    out = project / "build"
    build(project, BuildOptions(out_dir=out))
    assert "Hände flach auf dem Rücken" in pdf_text(out / "de/cards/gliding.pdf")
    assert "Hände flach auf dem Rücken" in pdf_text(out / "de/handbook.pdf")
    assert "Hands flat on the back" in pdf_text(out / "cards/gliding.pdf")


def test_a_translation_folder_that_is_a_link_is_refused_and_nothing_written_through_it(
    german_built, tmp_path
):
    project, out = german_built
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "handbook.pdf").write_bytes(b"mine")
    shutil.rmtree(out / "de")
    (out / "de").symlink_to(documents)
    with pytest.raises(HandbookError) as caught:
        build(project, BuildOptions(out_dir=out, force=True))
    [problem] = caught.value.problems
    assert problem.path == str(out / "de")
    assert problem.message == (
        "the output folder of the 'de' translation is a link; a build never writes through links"
    )
    assert sorted(p.name for p in documents.iterdir()) == ["handbook.pdf"]
    assert (documents / "handbook.pdf").read_bytes() == b"mine"
