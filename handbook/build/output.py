"""Writing outputs so that a failing build never damages the last good one.

Each output is written to a temporary file beside it and renamed over it, so
a reader (or a build killed with ``kill -9``) sees the old file or the new
one, never half of one. One build at a time holds a lock on the output
folder; it also removes the temporary files a killed build left behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from handbook.errors import HandbookError, Problem

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


def _file_mode() -> int:
    current = os.umask(0)
    os.umask(current)
    return 0o666 & ~current


_TEMP_PREFIX, _TEMP_SUFFIX = ".", ".part"


# Where the system has no flock (Windows), the lock is this file in the output folder.
LOCK_FILE = ".handbook.lock"


@contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """Hold the output folder for one build; a second build at once is refused."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(out_dir, exc) from None
    hold = _flock_folder if fcntl else _lock_file
    with hold(out_dir):
        remove_stale_temporaries(out_dir)
        yield


@contextmanager
def _flock_folder(out_dir: Path) -> Iterator[None]:
    """An ``flock`` on the folder itself, so no lock file lies among the outputs.

    The kernel releases it when the process ends, however it ends, so a
    killed build never leaves the folder locked.
    """
    try:
        handle = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise _cannot_write(out_dir, exc) from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(out_dir, "wait for it to finish") from None
        yield
    finally:
        os.close(handle)


@contextmanager
def _lock_file(out_dir: Path) -> Iterator[None]:
    """A lock file made only if absent, removed when the build ends (also on Ctrl-C).

    A build killed outright leaves it behind; the refusal then says how to
    clear it.
    """
    path = out_dir / LOCK_FILE
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        raise _busy(
            out_dir, f"wait for it to finish; if no build is running, delete {path}"
        ) from None
    except OSError as exc:
        raise _cannot_write(out_dir, exc) from None
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _busy(out_dir: Path, hint: str) -> HandbookError:
    return HandbookError(
        [
            Problem(
                str(out_dir),
                0,
                0,
                "a build is already running into this output folder",
                f"{hint}, or build into another folder with --out",
            )
        ]
    )


def remove_stale_temporaries(out_dir: Path) -> None:
    """Delete the temporary files of an earlier build that was killed mid-write."""
    for pattern in (f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}", f"*/{_TEMP_PREFIX}*{_TEMP_SUFFIX}"):
        for stale in out_dir.glob(pattern):
            if stale.is_file() and not stale.is_symlink():
                stale.unlink(missing_ok=True)


def write_atomic(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target``, fsync it, then rename over it."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f"{_TEMP_PREFIX}{target.name}.", suffix=_TEMP_SUFFIX
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
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself survive a power cut (best effort: not every system can).

    Windows cannot open a folder at all (no ``O_DIRECTORY``).
    """
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


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
