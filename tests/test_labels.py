"""The words the tool prints come from a catalogue of the handbook's language."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from handbook.build import check
from handbook.cli import cli
from handbook.content.labels import catalogue, catalogue_language, languages
from handbook.content.model import Labels, Settings
from tests.conftest import pdf_text

SHIPPED = ["de", "en", "es", "fr", "ru", "uk"]


def test_the_languages_the_tool_speaks():
    assert set(SHIPPED) <= set(languages())


@pytest.mark.parametrize("language", languages())
def test_every_catalogue_has_every_label_and_no_other(language):
    """A label added to the model without a word in every language fails here."""
    words = dict(catalogue(language))
    assert set(words) == set(Labels.model_fields)
    assert all(isinstance(word, str) and word.strip() == word != "" for word in words.values())
    Labels(**words)


@pytest.mark.parametrize("language", [lang for lang in languages() if lang != "en"])
def test_each_catalogue_is_translated_not_copied(language):
    english = catalogue("en")
    same = [name for name, word in catalogue(language).items() if word == english[name]]
    assert len(same) <= len(english) // 4, same  # a few are the same: "Total", "min", "s"


@pytest.mark.parametrize(
    ("tag", "used"),
    [("de", "de"), ("de-AT", "de"), ("DE-ch", "de"), ("pt-BR", None), ("tlh", None)],
)
def test_a_regional_tag_uses_its_base_language(tag, used):
    assert catalogue_language(tag) == used
    expected = catalogue(used or "en")
    assert Settings(title="T", language=tag).labels.model_dump() == dict(expected)


def test_handbook_yaml_changes_single_words_of_the_language():
    labels = Settings(title="T", language="de", labels={"stop": "Halt"}).labels
    assert (labels.stop, labels.caution, labels.minutes) == ("Halt", "Vorsicht", "Min.")


def set_language(project, language: str, extra: str = "") -> None:
    settings = project / "handbook.yaml"
    text = settings.read_text(encoding="utf-8").replace("language: en", f"language: {language}")
    settings.write_text(text + extra, encoding="utf-8")


NOTE = (
    "handbook.yaml:3:11: note: no built-in labels in the language 'tlh': the tool's own "
    f"{len(Labels.model_fields)} words, such as 'Contents', print in English\n"
    "    hint: translate them under 'labels:' "
    "in handbook.yaml; built-in languages: de, en, es, fr, ru, uk"
)


@pytest.mark.slow
def test_a_language_without_a_catalogue_prints_english_with_one_note(tiny_copy, tmp_path):
    set_language(tiny_copy, "tlh")
    assert [n.format() for n in check(tiny_copy).notices] == [NOTE]
    runner = CliRunner()
    checked = runner.invoke(cli, ["check", "--project", str(tiny_copy), "--no-cards"])
    assert checked.exit_code == 0
    assert checked.stderr.count("note:") == 1 and NOTE in checked.stderr
    out = tmp_path / "out"
    built = runner.invoke(cli, ["build", "--project", str(tiny_copy), "--out", str(out)])
    assert built.exit_code == 0, built.output
    assert built.stderr.count("note:") == 1 and NOTE in built.stderr
    assert "Contents" in pdf_text(out / "handbook.pdf")


def test_the_note_counts_only_the_words_handbook_yaml_leaves_out(tiny_copy):
    set_language(tiny_copy, "tlh", "labels:\n  contents: Qorwagh\n  stop: Mev\n")
    [notice] = check(tiny_copy).notices
    left_out = len(Labels.model_fields) - 2
    assert f"the tool's own {left_out} words, such as 'Chapter', print in English" in notice.message


def test_no_note_when_handbook_yaml_gives_every_word(tiny_copy):
    every = "".join(f"  {name}: {word}\n" for name, word in catalogue("de").items())
    set_language(tiny_copy, "tlh", "labels:\n" + every)
    assert check(tiny_copy).notices == []


def test_no_note_for_a_language_with_a_catalogue(tiny_copy):
    set_language(tiny_copy, "uk")
    assert check(tiny_copy).notices == []
