"""The booklet as PDF/X-3 for a print shop: CMYK colour and an output intent, by Ghostscript.

WeasyPrint 70's own PDF/X variants only label the file: its colours stay
DeviceRGB and it has no output intent unless the stylesheets bring a CMYK
profile. Ghostscript's pdfwrite converts every colour to CMYK with a colour
profile, flattens transparency (PDF/X-3 allows none) and writes the output
intent; the title and dates are the booklet's, never the clock's.
The CMYK profile is Ghostscript's own (``default_cmyk.icc``, for coated paper
as in the US SWOP standard).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from handbook.errors import HandbookError, Problem
from handbook.press.metadata import with_xmp

PDFX_VARIANT = "pdf/x-3"
PROFILE = "default_cmyk.icc"
# What the profile is, as a PDF/X output intent names it (the SWOP condition).
CONDITION = "CGATS TR 001"
REGISTRY = "http://www.color.org"
# Transparency flattened to pictures is drawn at this resolution, the usual for print.
FLATTEN_DPI = 300
GS_SECONDS = 600


def convert(pdf: bytes) -> bytes:
    """``pdf`` as PDF/X-3 in CMYK, with its title, dates and language."""
    gs = shutil.which("gs")
    if gs is None:
        raise HandbookError([_problem("Ghostscript (gs) is not installed")])
    profile = _profile(Path(gs))
    with tempfile.TemporaryDirectory(prefix="handbook-pdfx-") as folder:
        work = Path(folder)
        (work / "in.pdf").write_bytes(pdf)
        language, dates = _kept(pdf)
        (work / "pdfx.ps").write_text(_definitions(profile, dates), encoding="ascii")
        command = [
            gs,
            "-q",
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-sDEVICE=pdfwrite",
            "-dPDFX",
            "-sColorConversionStrategy=CMYK",
            "-sProcessColorModel=DeviceCMYK",
            f"-r{FLATTEN_DPI}",
            f"--permit-file-read={profile}",
            f"-sOutputFile={work / 'out.pdf'}",
            str(work / "pdfx.ps"),
            str(work / "in.pdf"),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=GS_SECONDS)
        if done.returncode != 0 or not (work / "out.pdf").exists():
            said = (done.stderr or done.stdout).strip().splitlines()
            raise HandbookError([_problem(f"Ghostscript failed: {said[-1] if said else '?'}")])
        return _finished((work / "out.pdf").read_bytes(), language)


def _kept(pdf: bytes) -> tuple[str, dict[str, str]]:
    """What Ghostscript would lose or replace: the language, and the dates (it stamps
    the clock's time unless told otherwise)."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as source:
        dates = {
            key: str(source.docinfo[key])
            for key in ("/CreationDate", "/ModDate")
            if key in source.docinfo
        }
        return str(source.Root.get("/Lang", "")), dates


def _finished(pdf: bytes, language: str) -> bytes:
    """Ghostscript's PDF with the handbook's language, XMP metadata and an /ID made from
    its content (Ghostscript's own comes from the clock)."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as converted:
        converted.Root.Lang = pikepdf.String(language)
        with_xmp(converted)
        del converted.trailer["/ID"]  # else its first half, from the clock, is kept
        buffer = io.BytesIO()
        converted.save(buffer, deterministic_id=True)
        return buffer.getvalue()


def _problem(message: str) -> Problem:
    return Problem(
        "--pdf-variant",
        0,
        0,
        message,
        "install Ghostscript 9.5 or newer (apt-get install ghostscript), or build without "
        f"--pdf-variant {PDFX_VARIANT}",
    )


def _profile(gs: Path) -> Path:
    """Ghostscript's CMYK profile, where its packages put it."""
    prefix = gs.resolve().parent.parent
    places = [
        *sorted((prefix / "share" / "ghostscript").glob(f"*/iccprofiles/{PROFILE}")),
        prefix / "share" / "color" / "icc" / "ghostscript" / PROFILE,
    ]
    for place in places:
        if place.is_file():
            return place
    raise HandbookError([_problem(f"Ghostscript's colour profile {PROFILE} is missing")])


def _definitions(profile: Path, dates: dict[str, str]) -> str:
    """The PostScript that marks the file as PDF/X-3 with the booklet's dates and gives it
    its output intent (Ghostscript keeps the title of the PDF it converts)."""
    given = " ".join(f"{key} <{value.encode('ascii').hex()}>" for key, value in dates.items())
    return f"""%!
[ /GTS_PDFXVersion (PDF/X-3:2002) /Trapped /False {given} /DOCINFO pdfmark
[ /_objdef {{icc_PDFX}} /type /stream /OBJ pdfmark
[ {{icc_PDFX}} << /N 4 >> /PUT pdfmark
[ {{icc_PDFX}} <{bytes(profile).hex()}> (r) file /PUT pdfmark
[ /_objdef {{OutputIntent_PDFX}} /type /dict /OBJ pdfmark
[ {{OutputIntent_PDFX}} <<
  /Type /OutputIntent /S /GTS_PDFX
  /OutputConditionIdentifier ({CONDITION}) /RegistryName ({REGISTRY})
  /Info ({PROFILE}) /DestOutputProfile {{icc_PDFX}}
>> /PUT pdfmark
[ {{Catalog}} << /OutputIntents [ {{OutputIntent_PDFX}} ] >> /PUT pdfmark
"""
