"""Messages a newcomer meets: each in plain words, once, at the place to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, problems_of, write

from handbook.build import check_cards
from handbook.errors import HandbookError


def _card_problems(project: Path) -> list[str]:
    """What ``handbook check`` prints, cards laid out as a build would."""
    with pytest.raises(HandbookError) as raised:
        check_cards(project)
    return [problem.format() for problem in raised.value.problems]


def test_a_stylesheet_typo_is_reported_once_at_the_stylesheet(tiny_copy: Path) -> None:
    sheet = write(tiny_copy / "styles" / "card.css", ".card h1 {\n  colr: red;\n}\n")
    sheet.write_text(sheet.read_text() + (REPO / "styles" / "card.css").read_text())
    assert _card_problems(tiny_copy) == [
        "styles/card.css:2:3: unknown CSS property 'colr'\n    hint: did you mean 'color'?"
    ]


def test_other_css_warnings_keep_their_words_without_the_position(tiny_copy: Path) -> None:
    write(tiny_copy / "styles" / "base.css", "p {\n  color: bluish;\n}\n")
    (problem,) = _card_problems(tiny_copy)
    assert problem.startswith("styles/base.css:2:3: CSS problem: Ignored `color: bluish`")
    assert " at 2:3" not in problem


def test_a_list_item_indented_too_far_is_not_joined_silently(tiny_copy: Path) -> None:
    path = tiny_copy / "content" / "gliding.yaml"
    text = path.read_text(encoding="utf-8")
    steps = text.index("steps:\n")
    first_end = text.index("\n", steps + len("steps:\n"))
    line = text[:first_end].count("\n") + 2
    path.write_text(
        text[:first_end] + "\n   - Squeeze gently." + text[first_end:], encoding="utf-8"
    )
    assert problems_of(tiny_copy) == [
        f"content/gliding.yaml:{line}:4: this '-' is indented deeper than the item above, "
        "so YAML joined the line to that item instead of starting a new one\n"
        "    hint: line the '-' up with the '-' above it; if the dash belongs to the text, "
        "put the whole text in quotes"
    ]


def test_a_dash_inside_quoted_or_block_text_is_text(tmp_path: Path) -> None:
    from handbook.content.load import read_yaml

    path = write(
        tmp_path / "steps.yaml",
        """
        steps:
          - "Quoted, with
             - a dash that belongs to it"
          - |
            A block with a list:
            - first
        """,
    )
    assert read_yaml(path, tmp_path).data["steps"][1] == "A block with a list:\n- first\n"


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "kind: technique\n\tid: x\n",
            "content/item.yaml:2:1: YAML syntax error: a tab character where YAML expects "
            "spaces\n    hint: indent with spaces, not tabs",
        ),
        (
            "kind: technique\nsteps:\n  - a\n - b\n",
            "content/item.yaml:4:2: YAML syntax error: this list item is not lined up with the "
            "items or keys above it\n    hint: line its '-' up with the item above, or indent "
            "the list under its key",
        ),
        (
            "kind: technique\nname: Time: 5 min\n",
            "content/item.yaml:2:11: YAML syntax error: a ': ' inside this value makes YAML read "
            "it as a new key\n    hint: put the whole value in quotes",
        ),
    ],
)
def test_yaml_syntax_errors_in_plain_words(tmp_path: Path, yaml_text: str, expected: str) -> None:
    write(tmp_path / "handbook.yaml", "title: T\n")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "item.yaml").write_text(yaml_text, encoding="utf-8")
    assert problems_of(tmp_path) == [expected]


TECHNIQUE = "kind: technique\nid: t\nname: T\npurpose: P\n"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("level: 11\nsteps: [a]\n", "content/t.yaml:5:8: 'level' can be at most 10, not 11"),
        ("level: 0\nsteps: [a]\n", "content/t.yaml:5:8: 'level' must be at least 1, not 0"),
        (
            "steps:\n  - a\n  - [b, c]\n",
            "content/t.yaml:7:5: item 2 of 'steps' must be text\n"
            "    hint: write it on one line, or quote it",
        ),
    ],
)
def test_field_errors_in_plain_words(tmp_path: Path, fields: str, expected: str) -> None:
    write(tmp_path / "handbook.yaml", "title: T\n")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "t.yaml").write_text(TECHNIQUE + fields, encoding="utf-8")
    assert problems_of(tmp_path) == [expected]


def test_a_comma_in_an_unquoted_braced_value_says_to_quote_it(tmp_path: Path) -> None:
    write(tmp_path / "handbook.yaml", "title: T\n")
    (tmp_path / "content").mkdir()
    fields = "steps: [a]\nfacts:\n  - {label: Hand, value: Palms, fingertips}\n"
    (tmp_path / "content" / "t.yaml").write_text(TECHNIQUE + fields, encoding="utf-8")
    assert problems_of(tmp_path) == [
        "content/t.yaml:7:33: unknown field 'fingertips'\n    hint: if 'fingertips' belongs to "
        "the value before it, a ',' split that value: put the whole value in quotes"
    ]
