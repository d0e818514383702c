"""WeasyPrint's C declarations parsed once, when this package is made, not in every process.

WeasyPrint declares the Pango, HarfBuzz and fontconfig functions it calls in
one cffi ``cdef``, which cffi parses with pycparser as WeasyPrint is
imported: about half a second of CPU in every worker, and pycparser again
for each C type WeasyPrint names the first time (another few tenths in a
process's first render). cffi's out-of-line ABI mode keeps declarations
parsed: :mod:`handbook.engine._weasyprint_ffi` holds them, as cffi writes
them for a module of its own. WeasyPrint is then imported with ``cffi.FFI()``
giving it an FFI made from those, whose ``cdef`` only checks that the
declarations are the ones they were made from.

Where they are not (another WeasyPrint), or cffi cannot load them (another
cffi), WeasyPrint is imported as it is: slower, the same. After an upgrade,
``python -m handbook.engine.prebuilt_ffi`` writes the module again (a test
says when it is due).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import sys
from pathlib import Path

FFI_MODULE = "weasyprint.text.ffi"
_PREBUILT = Path(__file__).with_name("_weasyprint_ffi.py")


def import_weasyprint() -> None:
    """Import WeasyPrint, its declarations taken from the prebuilt module where they fit."""
    if FFI_MODULE not in sys.modules:
        prebuilt = _prebuilt_ffi()
        if prebuilt is not None:
            _import_with(prebuilt)
    import weasyprint  # noqa: F401


def declarations() -> str | None:
    """The source WeasyPrint gives ``cdef``, read from its module without importing it
    (finding a submodule's spec would import its package: all of WeasyPrint)."""
    package = importlib.util.find_spec("weasyprint")
    if package is None or not package.submodule_search_locations:
        return None
    module = Path(package.submodule_search_locations[0], *FFI_MODULE.split(".")[1:])
    try:
        tree = ast.parse(module.with_suffix(".py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "cdef"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            return node.args[0].value
    return None


def digest(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def _prebuilt_ffi():
    """An FFI of the prebuilt declarations, if they are the installed WeasyPrint's and
    this cffi loads them; else None."""
    try:
        from handbook.engine import _weasyprint_ffi as prebuilt
    except ImportError:
        return None
    source = declarations()
    if source is None or digest(source) != prebuilt.DECLARATIONS:
        return None
    import _cffi_backend

    class PrebuiltFFI(_cffi_backend.FFI):
        def cdef(self, csource: str, *args, **kwargs) -> None:
            if digest(csource) != prebuilt.DECLARATIONS:
                raise RuntimeError("WeasyPrint declares other C functions than were prebuilt")

    try:
        return PrebuiltFFI(prebuilt.NAME, **prebuilt.TABLES)
    except Exception:  # tables of another cffi's format: it says so in its own way
        return None


def _import_with(ffi) -> None:
    """Import WeasyPrint's FFI module with ``cffi.FFI()`` giving ``ffi``."""
    import cffi

    original = cffi.FFI
    cffi.FFI = lambda *args, **kwargs: ffi
    try:
        importlib.import_module(FFI_MODULE)
    finally:
        cffi.FFI = original


def write_prebuilt(path: Path = _PREBUILT) -> None:
    """Write the prebuilt module for the installed WeasyPrint, as cffi writes one."""
    import cffi

    source = declarations()
    if source is None:
        raise SystemExit(f"no cdef found in {FFI_MODULE}")
    builder = cffi.FFI()
    builder.cdef(source)
    name = path.stem
    builder.set_source(name, None)
    written = path.with_suffix(".cffi.py")
    builder.emit_python_code(str(written))
    call = next(
        node.value
        for node in ast.parse(written.read_text(encoding="utf-8")).body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
    )
    written.unlink()
    tables = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
    lines = [
        '"""WeasyPrint\'s C declarations as cffi parses them (see prebuilt_ffi).',
        "",
        "Written by ``python -m handbook.engine.prebuilt_ffi``; not to be edited.",
        '"""',
        "",
        f"NAME = {name!r}",
        f"DECLARATIONS = {digest(source)!r}  # the SHA-256 of the source they were parsed from",
        "TABLES = {",
        *(f"    {key!r}: {value!r}," for key, value in tables.items()),
        "}",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    write_prebuilt()
    print(f"wrote {_PREBUILT}")
