"""The words the tool itself prints, one catalogue per language: ``<language>.yaml`` here.

A handbook's labels come from the catalogue of its ``language``; a regional
tag (``de-AT``, ``pt-BR``) uses its base language's catalogue unless one of
its own is shipped. A language without a catalogue prints English words.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

import yaml

CATALOGUES = Path(__file__).parent
FALLBACK = "en"


def languages() -> list[str]:
    """The languages with a catalogue, such as ``['de', 'en', ...]``."""
    return sorted(path.stem for path in CATALOGUES.glob("*.yaml"))


def catalogue_language(tag: str) -> str | None:
    """The catalogue a language tag uses: its own, else its base language's; None if neither."""
    shipped = languages()
    for candidate in (tag.lower(), tag.split("-")[0].lower()):
        if candidate in shipped:
            return candidate
    return None


@cache
def catalogue(tag: str) -> Mapping[str, str]:
    """Every label in the language of ``tag`` (English if it has no catalogue)."""
    language = catalogue_language(tag) or FALLBACK
    text = (CATALOGUES / f"{language}.yaml").read_text(encoding="utf-8")
    return MappingProxyType(yaml.safe_load(text))
