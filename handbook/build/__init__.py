"""Building: plan every output as a job, render the stale ones in workers, record them.

The library API that the command line and the tests call.
"""

from handbook.build.pipeline import (
    BuildOptions,
    CheckReport,
    build,
    check,
    check_cards,
    check_project,
    languages,
    session_workers,
)
from handbook.build.report import (
    FAILED,
    NOT_REBUILT,
    RENDERED,
    UP_TO_DATE,
    BuildReport,
    CardFit,
    OutputResult,
)

__all__ = [
    "FAILED",
    "NOT_REBUILT",
    "RENDERED",
    "UP_TO_DATE",
    "BuildOptions",
    "BuildReport",
    "CardFit",
    "CheckReport",
    "OutputResult",
    "build",
    "check",
    "check_cards",
    "check_project",
    "languages",
    "session_workers",
]
