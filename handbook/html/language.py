"""Numbers, dates, quotes and sorting in the handbook's language.

Numbers and dates come from the Unicode CLDR through Babel ("1,5" and
"1. März 2026" in German), quotation marks from ICU's copy of it;
text sorts by ICU's collation for the language, so a German glossary puts
"Ärger" among the A and a Spanish one "ñandú" after "nudo". A language
neither knows prints as English does and sorts by the Unicode default order.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import cache

import babel
import icu
from babel.dates import format_date
from babel.numbers import format_decimal

from handbook.content.labels import FALLBACK


@cache
def locale(tag: str) -> babel.Locale:
    """Babel's locale for a BCP 47 tag: the tag, else its base language, else English."""
    for candidate in (tag, tag.split("-")[0], FALLBACK):
        try:
            return babel.Locale.parse(candidate, sep="-")
        except (babel.UnknownLocaleError, ValueError):
            continue
    raise AssertionError("Babel has no English")  # pragma: no cover


def number_text(value: float, tag: str) -> str:
    """A number as the language writes it: 1.5 is "1,5" in German, 1234 "1 234" in French."""
    return format_decimal(value, locale=locale(tag))


def long_date(day: datetime.date, tag: str) -> str:
    """A date in the language's long form: "1. März 2026", "1 mars 2026", "March 1, 2026"."""
    return format_date(day, "long", locale=locale(tag))


@cache
def quotes(tag: str) -> tuple[str, str, str, str]:
    """The language's quotation marks: outer open and close, inner open and close
    (German opens low, closes high)."""
    data = icu.LocaleData(_icu_locale(tag).getName())
    kind = icu.ULocaleDataDelimiterType
    marks = (
        kind.QUOTATION_START,
        kind.QUOTATION_END,
        kind.ALT_QUOTATION_START,
        kind.ALT_QUOTATION_END,
    )
    opening, closing, inner_opening, inner_closing = (data.getDelimiter(m) for m in marks)
    return opening, closing, inner_opening, inner_closing


def _icu_locale(tag: str) -> icu.Locale:
    return icu.Locale.forLanguageTag(tag)


@cache
def _collator(tag: str) -> icu.Collator:
    return icu.Collator.createInstance(_icu_locale(tag))


def sort_key(tag: str) -> Callable[[str], bytes]:
    """A key that sorts text as the language orders its words in a dictionary."""
    return _collator(tag).getSortKey
