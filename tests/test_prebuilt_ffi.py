"""WeasyPrint imported with its C declarations prebuilt (handbook.engine.prebuilt_ffi)."""

from __future__ import annotations

import ctypes.util
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

from handbook.build.workers import FORK_SERVER_PRELOAD
from handbook.engine import _weasyprint_ffi, prebuilt_ffi

REPO = Path(__file__).parent.parent

# Renders a few words in a fresh process, warmed up as a worker is; WeasyPrint imported
# before (``plain``), or declaring other functions than the prebuilt ones (``other``), or
# declaring them only as its module is imported (``changed``), or with ctypes' own search
# for libraries failing (``listed``).
# Writes the PDF, prints the class of WeasyPrint's FFI.
RENDER = """
import sys
from pathlib import Path
from handbook import engine
from handbook.engine import _weasyprint_ffi, prebuilt_ffi
if sys.argv[1] == "other":  # as if WeasyPrint declared other functions
    _weasyprint_ffi.DECLARATIONS = "0" * len(_weasyprint_ffi.DECLARATIONS)
if sys.argv[1] == "changed":  # its module read as it was prebuilt for, its cdef given other
    prebuilt_ffi.declarations = lambda: "int changed(void);"
    _weasyprint_ffi.DECLARATIONS = prebuilt_ffi.digest("int changed(void);")
if sys.argv[1] == "plain":
    import weasyprint
if sys.argv[1] == "listed":  # libraries found from the loader's listing, never by ctypes
    import ctypes.util
    def find_library(name):
        raise AssertionError(f"ctypes asked for {name}")
    ctypes.util.find_library = find_library
engine.warm_up()
source = engine.PageSource(
    html='<p style="font-family: Lato">Warm hands, slow strokes.</p>',
    stylesheets=(),
    extra_css="@page { size: 80mm 50mm }",
    origin="test",
    allowed_roots=(Path(sys.argv[3]),),
)
Path(sys.argv[2]).write_bytes(engine.to_pdf_bytes(engine.render(source), "test", date="2026-01-01"))
print(type(sys.modules["weasyprint.text.ffi"].ffi).__name__)
"""


def rendered(how: str, tmp_path: Path) -> tuple[str, bytes]:
    pdf = tmp_path / f"{how}.pdf"
    done = subprocess.run(
        [sys.executable, "-c", RENDER, how, str(pdf), str(REPO)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return done.stdout.strip(), pdf.read_bytes()


def test_the_prebuilt_declarations_are_the_installed_weasyprints():
    """Fails after a WeasyPrint upgrade that changed them: then the workers parse them again
    in each process. Run ``python -m handbook.engine.prebuilt_ffi`` to write them anew."""
    source = prebuilt_ffi.declarations()
    assert source is not None and "pango_layout_new" in source
    assert prebuilt_ffi.digest(source) == _weasyprint_ffi.DECLARATIONS


def test_a_worker_renders_with_the_prebuilt_declarations_the_same_pdf(tmp_path):
    prebuilt, with_tables = rendered("prebuilt", tmp_path)
    plain, as_it_is = rendered("plain", tmp_path)
    assert (prebuilt, plain) == ("PrebuiltFFI", "FFI")
    assert with_tables == as_it_is


def test_a_worker_finds_weasyprints_libraries_without_asking_ctypes(tmp_path):
    """On Linux, ctypes asks gcc and ld for every name the loader's cache lacks, and
    WeasyPrint tries a dozen such names before the ones that exist."""
    _, with_tables = rendered("prebuilt", tmp_path)
    assert rendered("listed", tmp_path) == ("PrebuiltFFI", with_tables)


def test_each_library_name_weasyprint_tries_is_found_as_ctypes_finds_it():
    module = Path(importlib.util.find_spec("weasyprint").submodule_search_locations[0])
    source = (module / "text" / "ffi.py").read_text(encoding="utf-8")
    calls = re.findall(r"_dlopen\(\s*ffi,([^)]*)\)", source)
    names = [name for call in calls for name in re.findall(r"'([^']+)'", call)]
    assert "pango-1.0" in names and len(names) >= 30
    for name in [*names, "c", "m", "no-such-library-at-all"]:
        assert prebuilt_ffi._find_library(name) == ctypes.util.find_library(name), name


def test_declarations_other_than_the_prebuilt_ones_are_parsed_as_weasyprint_does(tmp_path):
    _, as_it_is = rendered("plain", tmp_path)
    for how in ("other", "changed"):
        assert rendered(how, tmp_path) == ("FFI", as_it_is)


def test_the_fork_server_imports_weasyprint_with_the_prebuilt_declarations():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, handbook.engine.loaded;"
            "print(type(sys.modules['weasyprint.text.ffi'].ffi).__name__)",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    assert done.stdout.strip() == "PrebuiltFFI"
    assert "handbook.engine.loaded" in FORK_SERVER_PRELOAD


def test_written_again_the_prebuilt_module_is_the_same(tmp_path):
    written = tmp_path / "_weasyprint_ffi.py"
    prebuilt_ffi.write_prebuilt(written)
    committed = Path(_weasyprint_ffi.__file__).read_text(encoding="utf-8")
    assert written.read_text(encoding="utf-8") == committed
