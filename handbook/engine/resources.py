"""What WeasyPrint may read: regular files inside the project or the defaults, small data: URLs.

Projects share templates and stylesheets, so what they may make WeasyPrint
read is narrow. Links out of the project, devices, FIFOs, hidden files, the
network, damaged or oversized images are refused, each as a problem located
at the template or stylesheet line that asked.
"""

from __future__ import annotations

import mimetypes
import os
import stat
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from handbook.engine.stylesheets import Stamp, stamp
from handbook.errors import Problem, relative_path, shortened
from handbook.images import MAX_DATA_URL_CHARS, MAX_IMAGE_BYTES, ImageProblem, check_raster

MAX_RESOURCE_BYTES = MAX_IMAGE_BYTES  # stylesheets and fonts get the images' limit


class Refused(Exception):
    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class Asker:
    """The file whose references a fetcher serves, and the files its text may be in."""

    files: tuple[Path, ...]
    root: Path
    document: str  # the content file being rendered

    def problem(self, needle: str, refusal: Refused | ImageProblem) -> Problem:
        """Located at the first line holding ``needle`` in the asking files."""
        message = f"{refusal.message} (while rendering {self.document})"
        for path in self.files:
            try:
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for number, text in enumerate(lines, start=1):
                if needle and needle in text:
                    return Problem(
                        shown(path, self.root),
                        number,
                        text.index(needle) + 1,
                        message,
                        refusal.hint,
                    )
        where = shown(self.files[0], self.root) if self.files else self.document
        return Problem(where, 0, 0, message, refusal.hint)


def needle(url: str) -> str:
    """The part of a URL most likely written as-is in the file that asked for it."""
    parts = urlsplit(url)
    if parts.scheme == "data":
        return "data:"
    segments = [s for s in unquote(parts.path).split("/") if s]
    return segments[-1] if segments else parts.netloc


def shown(path: Path, root: Path) -> str:
    """A path as the user wrote it: relative to the project, links not followed."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return relative_path(path, root)


def _read_file(url: str, allowed_roots: tuple[Path, ...]) -> tuple[bytes, str, str, Stamp]:
    """The bytes of a ``file:`` URL that names a regular file inside an allowed root, its
    content type, its name as shown, and its stamp (as :func:`stylesheets.stamp`)."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise Refused(f"refused to read '{shortened(url)}': files on other hosts are not read")
    try:
        path = Path(os.path.realpath(unquote(parts.path)))
    except ValueError:
        raise Refused(f"refused to read '{shortened(url)}': not a valid file name") from None
    roots = [Path(os.path.realpath(root)) for root in allowed_roots]
    inside = next((root for root in roots if path.is_relative_to(root)), None)
    if inside is None:
        raise Refused(
            f"refused to read '{path}': it is outside the project folder",
            "templates and stylesheets may only use files inside the project "
            "(copy the file into it and use a relative path)",
        )
    relative = path.relative_to(inside)
    name = relative if inside == roots[0] else path
    if any(part.startswith(".") for part in relative.parts):
        raise Refused(f"refused to read '{name}': hidden files and folders are not read")
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise Refused(f"cannot read '{name}': no such file", "check the file name") from None
    except OSError as exc:
        raise Refused(f"cannot read '{name}': {exc.strerror}") from None
    with os.fdopen(handle, "rb") as stream:
        status = os.fstat(stream.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise Refused(f"refused to read '{name}': not a regular file")
        if status.st_size > MAX_RESOURCE_BYTES:
            raise Refused(
                f"refused to read '{name}': {status.st_size // 1024 // 1024} MiB is over "
                f"the {MAX_RESOURCE_BYTES // 1024 // 1024} MiB limit for one file"
            )
        # As much as it holds (and a byte more, should it grow), never a buffer of the limit.
        data = stream.read(status.st_size + 1)
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return data, content_type, str(name), stamp(str(path), status)


def read_allowed(path: Path, allowed_roots: tuple[Path, ...]) -> bytes:
    """The bytes of a file as a render would read them; raises Refused as it would refuse."""
    return _read_file(path.absolute().as_uri(), allowed_roots)[0]


@cache
def fetcher_class():
    """WeasyPrint's URL fetcher, narrowed to the project (a class made on first use,
    so that importing this module does not import WeasyPrint)."""
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    class ProjectFetcher(URLFetcher):
        """Serves regular files inside the project or the built-in defaults, and small
        ``data:`` URLs; refuses everything else, recording a located problem."""

        def __init__(self, allowed_roots: tuple[Path, ...], asker: Asker, refusals: list):
            super().__init__(allowed_protocols=("file", "data"))
            self.allowed_roots, self.asker, self.refusals = allowed_roots, asker, refusals
            self.read: list[Stamp] = []  # the files it served

        def fetch(self, url, headers=None):
            try:
                data, content_type, name = self._load(url, headers)
                check_raster(data, name, content_type)
            except (Refused, ImageProblem) as refusal:
                problem = self.asker.problem(needle(url), refusal)
                self.refusals.append(problem)
                raise FatalURLFetchingError(problem.message) from None
            return URLFetcherResponse(url, data, {"Content-Type": content_type})

        def _load(self, url: str, headers) -> tuple[bytes, str, str]:
            """The bytes, content type and a name to show for an allowed URL."""
            scheme = urlsplit(url).scheme.lower()
            if scheme == "file":
                data, content_type, name, served = _read_file(url, self.allowed_roots)
                self.read.append(served)
                return data, content_type, name
            if scheme != "data":
                raise Refused(
                    f"refused to fetch '{shortened(url)}': nothing is read from the network",
                    "copy the file into the project folder and use a relative path",
                )
            if len(url) > MAX_DATA_URL_CHARS:
                raise Refused(
                    f"refused a data: URL of {len(url) // 1024} KiB "
                    f"(the limit is {MAX_DATA_URL_CHARS // 1024} KiB)",
                    "put the file in the project folder and use a relative path",
                )
            try:
                response = super().fetch(url, headers)
            except ValueError as exc:
                raise Refused(f"the data: URL '{shortened(url)}' is not valid ({exc})") from None
            content_type = response.headers.get_content_type()
            return response.read(), content_type, f"data:{content_type}"

    return ProjectFetcher
