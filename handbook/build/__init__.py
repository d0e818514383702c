"""Building: plan every output as a job, render the stale ones in workers, record them.

The library API that the command line and the tests call.
"""

from handbook.build.pipeline import (
    FAILED,
    NOT_REBUILT,
    RENDERED,
    UP_TO_DATE,
    BuildOptions,
    BuildReport,
    OutputResult,
    build,
    check,
    check_cards,
)

__all__ = [
    "FAILED",
    "NOT_REBUILT",
    "RENDERED",
    "UP_TO_DATE",
    "BuildOptions",
    "BuildReport",
    "OutputResult",
    "build",
    "check",
    "check_cards",
]
