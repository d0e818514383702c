"""Image checks shared by the content stage (a picture named in YAML) and the engine
(any image WeasyPrint is asked to read): one set of limits, one decoding check.

Nothing here imports WeasyPrint; Pillow reads raster images, and an SVG is
parsed with the standard library's XML parser after refusing what it must
not contain (a DTD, which is how entity tricks come in).
"""

from __future__ import annotations

import io
import re
import warnings
from xml.etree import ElementTree

MAX_IMAGE_BYTES = 32 * 1024 * 1024  # the largest file read for a page, image or not
MAX_IMAGE_PIXELS = 25_000_000  # 5000 x 5000; an A4 page at 600 dpi is 35 MP
MAX_DATA_URL_CHARS = 32 * 1024  # an image written into a page or an SVG as a data: URL

# The picture types content may print, by file name ending, with the name
# Pillow gives the format ("SVG" is not Pillow's: it is parsed as XML).
PICTURE_TYPES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".svg": "SVG"}

_SVG_ROOT = "{http://www.w3.org/2000/svg}svg"
_LINK_ATTRIBUTES = ("href", "{http://www.w3.org/1999/xlink}href")
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


_SAVE_AGAIN = "open it in an image program and save it again as PNG or JPEG"


class ImageProblem(Exception):
    """An image that cannot be used, in words for the user, with a hint."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint


class _RanOut(Exception):
    """An image's data ended while its pixels were still being decoded."""


class _WholeImage(io.BytesIO):
    """Image data that refuses to be read past its end once decoding starts.

    WeasyPrint sets Pillow's process-wide ``LOAD_TRUNCATED_IMAGES``, with which
    Pillow quietly decodes what a truncated file holds. A decoder asking for
    more data than the file has is what truncation is, so the stream itself
    reports it, whatever that flag says.
    """

    decoding = False

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if self.decoding and not data and size is not None and size > 0:
            raise _RanOut("image file is truncated")
        return data


def check_raster(data: bytes, name: str, content_type: str) -> str | None:
    """Refuse a raster image that does not decode, or decodes to an absurd pixel count.

    Returns the image's format as Pillow names it ("PNG", "JPEG"), or None
    for data Pillow does not know (a stylesheet, a font, an SVG) when
    ``content_type`` does not say it is a raster image. WeasyPrint would
    drop a broken image with a warning, or draw half of a truncated one;
    decoding it first turns both into a clear error. Pillow's ``verify``
    then checks what decoding does not look at: the checksums of a PNG's chunks.
    """
    from PIL import Image, UnidentifiedImageError

    raster = content_type.startswith("image/") and content_type != "image/svg+xml"
    stream = _WholeImage(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(stream)
        except UnidentifiedImageError:
            if raster:
                raise ImageProblem(
                    f"the image '{name}' is damaged or not an image", _SAVE_AGAIN
                ) from None
            return None
        except Image.DecompressionBombError:
            raise _too_large(name) from None
        except Exception as exc:
            raise ImageProblem(f"the image '{name}' is damaged ({exc})", _SAVE_AGAIN) from None
    with image:
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise _too_large(name)
        stream.decoding = True
        try:
            image.load()
            with Image.open(io.BytesIO(data)) as again:
                again.verify()
        except Exception as exc:
            raise ImageProblem(f"the image '{name}' is damaged ({exc})", _SAVE_AGAIN) from None
        return str(image.format)


def check_svg(data: bytes, name: str) -> None:
    """Refuse an SVG that is not well-formed, has a DTD, or links to other files.

    A picture must be whole in itself: WeasyPrint would fetch what an SVG
    links to, and the content stage can only vouch for the file it read.
    Images written into it as small ``data:`` URLs are part of the file.
    """
    if _DTD.search(data):
        raise ImageProblem(
            f"the SVG '{name}' has a DOCTYPE or entity declarations",
            "remove the <!DOCTYPE ...> part; an SVG needs none",
        )
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise ImageProblem(f"the SVG '{name}' is damaged ({exc})") from None
    if root.tag != _SVG_ROOT:
        raise ImageProblem(
            f"the file '{name}' is not an SVG drawing (its root element is not <svg>)",
            'save it as SVG with the xmlns="http://www.w3.org/2000/svg" namespace',
        )
    for element in root.iter():
        for attribute in _LINK_ATTRIBUTES:
            target = element.get(attribute, "")
            if target.startswith("data:") and len(target) > MAX_DATA_URL_CHARS:
                raise ImageProblem(
                    f"the SVG '{name}' holds an image of {len(target) // 1024} KiB as a "
                    f"data: URL (the limit is {MAX_DATA_URL_CHARS // 1024} KiB)",
                    "embed a smaller image, or save the whole drawing as PNG",
                )
            if target and not target.startswith(("#", "data:")):
                raise ImageProblem(
                    f"the SVG '{name}' links to another file ('{target[:60]}')",
                    "put everything the drawing needs inside the SVG file itself",
                )


def _too_large(name: str) -> ImageProblem:
    return ImageProblem(
        f"the image '{name}' is too large (over {MAX_IMAGE_PIXELS // 1_000_000} million pixels)",
        "scale the image down; 300 pixels per inch of print is plenty",
    )
