"""The README's example handbook.yaml and content files are a project that builds."""

from __future__ import annotations

import re

from handbook.build import BuildOptions, check_cards
from tests.conftest import REPO, write


def test_the_readme_examples_are_a_valid_project_whose_cards_fit(tmp_path):
    blocks = re.findall(r"```yaml\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    settings, *content = blocks
    write(tmp_path / "handbook.yaml", settings)
    for index, text in enumerate(content):
        write(tmp_path / "content" / f"{index}.yaml", text)
    kinds = sorted(re.search(r"^kind: (\w+)", text, re.M)[1] for text in content)
    assert kinds == ["chapter", "routine", "safety", "technique", "zones"]
    report = check_cards(tmp_path, BuildOptions())
    assert [fit.id for fit in report.cards] == [
        "kit", "kit-list", "compressions", "survey", "call-for-help"
    ]  # fmt: skip
