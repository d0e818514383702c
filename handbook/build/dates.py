"""The date a PDF carries: handbook.yaml's ``date``, else ``SOURCE_DATE_EPOCH``, never the clock.

Without a date the PDF has none, so that building twice gives the same bytes.
"""

from __future__ import annotations

import datetime
import os

from handbook.errors import HandbookError, Problem, shortened


def document_date(settings_date: datetime.date | None, variant: str | None) -> str | None:
    """The W3C date for the PDF's metadata, or None; PDF/X variants require one."""
    if settings_date:
        return settings_date.isoformat()
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:  # set but empty counts as unset, as the reproducible-builds spec asks
        return _epoch_date(epoch)
    if variant and variant.startswith("pdf/x"):
        raise HandbookError(
            [
                Problem(
                    "handbook.yaml",
                    0,
                    0,
                    f"{variant} needs a date",
                    "set 'date' in handbook.yaml, or SOURCE_DATE_EPOCH",
                )
            ]
        )
    return None


def _epoch_date(epoch: str) -> str:
    """``SOURCE_DATE_EPOCH`` as a W3C date; a located problem unless it is a plain number
    of seconds within the years a date can have."""
    problem = None
    if not (epoch.isascii() and epoch.isdigit()):  # "²" is a digit too, but no number
        problem = f"'{shortened(epoch)}' is not a number of seconds since 1970"
    else:
        try:
            moment = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
        except (OverflowError, OSError, ValueError):
            problem = f"{shortened(epoch)} seconds since 1970 is past any date a PDF can carry"
        else:
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise HandbookError(
        [
            Problem(
                "SOURCE_DATE_EPOCH",
                0,
                0,
                problem,
                "set it to a whole number, such as $(git log -1 --format=%ct)",
            )
        ]
    )
