"""The pictures content names: each file read once, checked, and remembered by its hash.

A picture's ``file`` is a path inside the project, relative to its folder.
Every check the engine would make when it draws the picture (the same
limits and decoding, :mod:`handbook.images`) is made here first, so a bad
picture is reported at the line of YAML that names it, not at a template.
The hash and the file's size and time tell the build which outputs show
the picture and whether it changed since (:mod:`handbook.build.inputs`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from handbook.content.load import Location
from handbook.errors import Problem
from handbook.images import MAX_IMAGE_BYTES, PICTURE_TYPES, ImageProblem, check_raster, check_svg

_TYPES_IN_WORDS = "PNG, JPEG or SVG"


@dataclass(frozen=True)
class PictureFile:
    """A picture file as it was read: where it is, its hash, and its size and time then."""

    path: str  # relative to the project, with '/' (the key of Handbook.pictures)
    digest: str
    size: int
    mtime_ns: int


def normalised(file: str) -> str:
    """A picture's path as written, in one spelling: '/' between parts, no './'."""
    return PurePosixPath(file.replace("\\", "/")).as_posix()


def url(file: str) -> str:
    """The picture's address in a page, relative to the project folder the page is based in."""
    return quote(normalised(file))


def check_pictures(items: list[tuple[object, Location, list]], root: Path):
    """Read every picture of ``items`` (each an origin, the location of its pictures, and
    the pictures); returns the files read, by path, and a problem for each bad one."""
    files: dict[str, PictureFile] = {}
    failed: dict[str, ImageProblem] = {}
    problems: list[Problem] = []
    for origin, location, pictures in items:
        for index, picture in enumerate(pictures):
            path = normalised(picture.file)
            if path not in files and path not in failed:
                try:
                    files[path] = read_picture(picture.file, root)
                except ImageProblem as refusal:
                    failed[path] = refusal
            if path in failed:
                where = (*location, "pictures", index, "file")
                problems.append(origin.problem(where, failed[path].message, failed[path].hint))
    return files, problems


def read_picture(written: str, root: Path) -> PictureFile:
    """One picture file, checked: inside the project, a regular file of a known type
    that decodes and is within the limits. Raises ImageProblem saying what is wrong."""
    relative = _inside_project(written)
    suffix = relative.suffix.lower()
    if suffix not in PICTURE_TYPES:
        raise ImageProblem(
            f"the picture '{written}' is not a {_TYPES_IN_WORDS} file",
            "save photos as JPEG, drawings as SVG or PNG, and name the file to match",
        )
    path = root / relative
    if not os.path.lexists(path):
        raise ImageProblem(f"the picture '{written}' does not exist", _missing_hint(path, root))
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(os.path.realpath(root)):
        raise ImageProblem(
            f"refused to read the picture '{written}': it links to '{real}', "
            "outside the project folder",
            "copy the picture into the project instead of linking to it",
        )
    data, status = _read(real, written)
    expected = PICTURE_TYPES[suffix]
    if expected == "SVG":
        check_svg(data, written)
    else:
        found = check_raster(data, written, "image/" + expected.lower())
        if found != expected:
            raise ImageProblem(
                f"the picture '{written}' is a {found} image, but its name ends in {suffix}",
                f"save it as {_TYPES_IN_WORDS}, or rename it to match what it is",
            )
    digest = hashlib.sha256(data).hexdigest()
    return PictureFile(relative.as_posix(), digest, status.st_size, status.st_mtime_ns)


def _inside_project(written: str) -> PurePosixPath:
    """The path as written, if it names a place inside the project (not yet resolved)."""
    relative = PurePosixPath(normalised(written))
    if relative.is_absolute() or ".." in relative.parts or ":" in "".join(relative.parts[:1]):
        raise ImageProblem(
            f"refused to read the picture '{written}': it is outside the project folder",
            "copy it into the project (a pictures/ folder, say) and give its path from "
            "the project folder, like pictures/photo.jpg",
        )
    if any(part.startswith(".") for part in relative.parts):
        raise ImageProblem(
            f"refused to read the picture '{written}': hidden files and folders are not read",
            "move it to a folder whose name does not start with '.'",
        )
    return relative


def _missing_hint(path: Path, root: Path) -> str:
    """A file of a similar name in the same folder, or where paths start from.

    Names are compared without their endings, which would make any two
    pictures look alike."""
    folder = path.parent
    files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    close = get_close_matches(path.stem, [p.stem for p in files], n=1, cutoff=0.6)
    if close:
        name = next(p.name for p in files if p.stem == close[0])
        return f"did you mean '{name}'?"
    return f"check the path: it starts from the project folder ({root.name}/)"


def _read(path: Path, written: str) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file within the size limit, and its status as read."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ImageProblem(f"cannot read the picture '{written}': {exc.strerror}") from None
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            raise ImageProblem(f"the picture '{written}' is not a regular file")
        if status.st_size > MAX_IMAGE_BYTES:
            raise ImageProblem(
                f"the picture '{written}' is {status.st_size / 2**20:.1f} MiB, over the "
                f"{MAX_IMAGE_BYTES // 1024 // 1024} MiB limit for one file",
                "save it smaller; 300 pixels per inch of print is plenty",
            )
        with os.fdopen(os.dup(handle), "rb") as stream:
            data = stream.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        raise ImageProblem(f"cannot read the picture '{written}': {exc.strerror}") from None
    finally:
        os.close(handle)
    return data, status
