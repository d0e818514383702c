"""Writing outputs so that a failing build never damages the last good one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from handbook.errors import HandbookError, Problem


def _file_mode() -> int:
    current = os.umask(0)
    os.umask(current)
    return 0o666 & ~current


def write_atomic(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target``, fsync it, then rename over it."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, _file_mode())
        os.replace(temp_name, target)
    except OSError as exc:
        Path(temp_name).unlink(missing_ok=True)
        raise _cannot_write(target, exc) from None


def _cannot_write(target: Path, exc: OSError) -> HandbookError:
    return HandbookError(
        [
            Problem(
                str(target),
                0,
                0,
                f"cannot write the output: {exc.strerror or exc}",
                "check that the output folder is writable and the disk is not full",
            )
        ]
    )
