"""Writing outputs so that a failing build never damages the last good one.

Each output is written to a temporary file beside it and renamed over it, so
a reader (or a build killed with ``kill -9``) sees the old file or the new
one, never half of one. One build at a time holds a lock on the output
folder; it also removes the temporary files a killed build left behind.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from handbook.errors import HandbookError, Problem

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


def _file_mode() -> int:
    current = os.umask(0)
    os.umask(current)
    return 0o666 & ~current


# Where the system has no flock (Windows), the lock is this file in the output folder.
LOCK_FILE = ".handbook.lock"


@contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """Hold the output folder for one build; a second build at once is refused.

    Temporary files left by a killed build, or by a worker killed mid-write,
    are removed when it starts and ends.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(out_dir, exc) from None
    hold = _flock_folder if fcntl else _lock_file
    with hold(out_dir):
        remove_stale_temporaries(out_dir)
        try:
            yield
        finally:  # a worker killed mid-write (past the time limit) leaves its own
            remove_stale_temporaries(out_dir)


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


# A temporary file is named after its output and ends in this, so that no file a
# user made is ever taken for one and deleted.
_TEMP_PREFIX = "."
TEMP_SUFFIX = ".handbook-tmp"
# Opening a link fails rather than opening what it points to (Windows has no such flag,
# nor links a project could bring without administrator rights); bytes stay as they are.
_SAFE_OPEN = sum(getattr(os, flag, 0) for flag in ("O_NOFOLLOW", "O_CLOEXEC", "O_BINARY"))
# How deep below the output folder outputs lie (cards/backs/x.pdf is 2), and so
# how deep a killed build's temporary files are looked for.
_OUTPUT_DEPTH = 3


def remove_stale_temporaries(out_dir: Path) -> None:
    """Delete the temporary files of an earlier build that was killed mid-write.

    Only this tool's own temporary files are deleted, in the output folder
    and its real subfolders (links are not followed out of it).
    """
    for folder, subfolders, files in os.walk(out_dir):
        depth = len(Path(folder).relative_to(out_dir).parts)
        if depth >= _OUTPUT_DEPTH:
            subfolders.clear()
        for name in files:
            if name.startswith(_TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
                stale = Path(folder) / name
                with contextlib.suppress(OSError):  # a file it cannot delete is left
                    if stat.S_ISREG(stale.lstat().st_mode):
                        stale.unlink()


def write_output(out_dir: Path, name: str, data: bytes) -> None:
    """Write the output ``name`` (a relative path) into the output folder, atomically.

    Its folders are made as needed; one that is a link is refused, so an
    output folder that came with a project (``cards`` linking to a user's
    documents, say) cannot make a build write anywhere else.
    """
    write_atomic(_inside(out_dir, name, create=True), data)


def read_output(out_dir: Path, name: str, limit: int | None = None) -> bytes:
    """The bytes of an output written earlier, never read through a link.

    Raises HandbookError if it is missing, a link, not a regular file or
    (with ``limit``) larger than ``limit`` bytes.
    """
    target = out_dir / name
    try:
        handle = os.open(
            _inside(out_dir, name, create=False),
            os.O_RDONLY | _SAFE_OPEN | getattr(os, "O_NONBLOCK", 0),
        )
        with os.fdopen(handle, "rb") as stream:
            status = os.fstat(stream.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise OSError(errno.EINVAL, "not a regular file")
            if limit is not None and status.st_size > limit:
                raise OSError(errno.EFBIG, "too large to be the tool's own")
            return stream.read()
    except OSError as exc:
        raise HandbookError(
            [
                Problem(
                    str(target),
                    0,
                    0,
                    f"cannot read the output made before this one: {exc.strerror or exc}",
                    "build again with --force; if it came with the project, delete "
                    "the output folder first",
                )
            ]
        ) from None


def remove_outputs_except(out_dir: Path, folder: str, kept: set[str]) -> None:
    """Delete the files in the output folder's ``folder`` (none through a link) whose
    names are not in ``kept``: what an earlier build kept there and this one no longer
    uses."""
    try:
        place = _inside(out_dir, f"{folder}/-", create=False).parent
        if place.is_symlink() or not place.is_dir():
            return
        entries = list(place.iterdir())
    except OSError:
        return
    for entry in entries:
        with contextlib.suppress(OSError):  # a file it cannot delete is left
            if entry.name not in kept and stat.S_ISREG(entry.lstat().st_mode):
                entry.unlink()


class KeptFiles:
    """Files a build keeps in a folder of the output folder for the next build, by key,
    each after the hash of its data (one changed since is not used again);
    :meth:`forget_unused` deletes those this build did not ask for."""

    def __init__(self, out_dir: Path, folder: str, limit: int) -> None:
        self.out_dir, self.folder, self.limit = out_dir, folder, limit
        self.used: set[str] = set()

    def get(self, key: str) -> bytes | None:
        self.used.add(key)
        try:
            kept = read_output(self.out_dir, f"{self.folder}/{key}", self.limit)
        except HandbookError:
            return None
        check, data = kept[: hashlib.sha256().digest_size], kept[hashlib.sha256().digest_size :]
        return data if hashlib.sha256(data).digest() == check else None

    def put(self, key: str, data: bytes) -> None:
        self.used.add(key)
        write_output(self.out_dir, f"{self.folder}/{key}", hashlib.sha256(data).digest() + data)

    def keep(self, keys: list[str]) -> None:
        """Keep these files for the next build too, though this one did not ask for them."""
        self.used.update(keys)

    def forget_unused(self) -> None:
        remove_outputs_except(self.out_dir, self.folder, self.used)


def _inside(out_dir: Path, name: str, create: bool) -> Path:
    """``out_dir / name``, checking that each folder on the way is a real folder in it."""
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"an output's name must stay inside the output folder: {name}")
    if create:  # a translation's folder inside the output folder, made on its first output
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot_write(out_dir / name, exc) from None
    folder = out_dir
    for part in relative.parts[:-1]:
        folder = folder / part
        if folder.is_symlink():
            if not create:
                raise OSError(errno.ELOOP, "a folder on the way is a link", str(folder))
            raise _linked_folder(out_dir, folder)
        if create:
            try:
                folder.mkdir(exist_ok=True)
            except OSError as exc:
                raise _cannot_write(out_dir / name, exc) from None
    return out_dir / name


def write_project_file(root: Path, name: str, data: bytes) -> None:
    """Write a file the tool keeps in the project (a translation's entries, the editor
    schemas), atomically, never through a link: a project that came with
    ``translations/de`` linking to a user's documents cannot make it write there."""
    write_atomic(_unlinked(root, name, create=True), data)


def read_project_file(root: Path, name: str, limit: int) -> bytes | None:
    """A file the tool keeps in the project, or None if there is none. A link on the
    way, or anything but a regular file of at most ``limit`` bytes, is a problem: the
    tool would write it back."""
    target = _unlinked(root, name, create=False)
    try:
        handle = os.open(target, os.O_RDONLY | _SAFE_OPEN | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _cannot_keep(name, exc.strerror or str(exc)) from None
    with os.fdopen(handle, "rb") as stream:
        status = os.fstat(stream.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise _cannot_keep(name, "not a regular file")
        if status.st_size > limit:
            raise _cannot_keep(name, f"over {limit // 1024} KiB, too large to be one")
        return stream.read()


def _cannot_keep(name: str, why: str) -> HandbookError:
    return HandbookError(
        [Problem(name, 0, 0, f"cannot read it: {why}", "delete it, or move it out of the way")]
    )


def _unlinked(root: Path, name: str, create: bool) -> Path:
    """``root / name`` with no link on the way, the file included."""
    if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts:
        raise ValueError(f"a file the tool keeps must stay inside the project: {name}")
    folder = root
    for part in PurePosixPath(name).parts:
        folder = folder / part
        if folder.is_symlink():
            raise HandbookError(
                [
                    Problem(
                        folder.relative_to(root).as_posix(),
                        0,
                        0,
                        "this is a link; handbook never writes the files it keeps in a "
                        "project through links",
                        "replace the link with the folder or file itself",
                    )
                ]
            )
        if create and folder != root / name:
            try:
                folder.mkdir(exist_ok=True)
            except OSError as exc:
                raise _cannot_write(root / name, exc) from None
    return root / name


def write_atomic(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target``, fsync it, then rename over it.

    A link at ``target`` is replaced, never written through.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = _new_temporary(target)
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, _file_mode())
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        raise _cannot_write(target, exc) from None
    _sync_folder(target.parent)


def _new_temporary(target: Path) -> tuple[int, Path]:
    """A new, empty temporary file beside ``target``, open for writing."""
    temp = target.parent / f"{_TEMP_PREFIX}{target.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _SAFE_OPEN
    return os.open(temp, flags, _file_mode()), temp


def _linked_folder(out_dir: Path, folder: Path) -> HandbookError:
    return HandbookError(
        [
            Problem(
                str(folder),
                0,
                0,
                "this folder in the output folder is a link; outputs are never written "
                "through links",
                f"delete the link (it may have come with the project), or build into "
                f"another folder than {out_dir} with --out",
            )
        ]
    )


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
