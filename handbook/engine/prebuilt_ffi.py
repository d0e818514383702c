"""WeasyPrint's C declarations parsed once, when this package is made, not in every process.

WeasyPrint declares the Pango, HarfBuzz and fontconfig functions it calls in
one cffi ``cdef``, which cffi parses with pycparser as WeasyPrint is
imported: about half a second of CPU in every worker, and pycparser again
for each C type WeasyPrint names the first time (some hundredths more in a
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
import ctypes.util
import functools
import hashlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

FFI_MODULE = "weasyprint.text.ffi"
_PREBUILT = Path(__file__).with_name("_weasyprint_ffi.py")


def import_weasyprint() -> None:
    """Import WeasyPrint, its declarations taken from the prebuilt module where they fit.

    Call it before other threads use cffi: it changes ``cffi.FFI`` for the import.
    """
    if FFI_MODULE not in sys.modules:
        prebuilt = _prebuilt_ffi()
        if prebuilt is not None and not _imported_with(prebuilt):
            _forget_weasyprint()  # what it imported so far, to import again as it is
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
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "cdef"
    ]
    # One cdef of one literal, as the prebuilt module holds; anything else is not known here.
    if len(calls) != 1 or len(calls[0].args) != 1:
        return None
    argument = calls[0].args[0]
    return argument.value if isinstance(argument, ast.Constant) else None


def digest(source: str) -> str:
    """What the prebuilt module records of the declarations it was made from."""
    return hashlib.sha256(source.encode()).hexdigest()


def _prebuilt_ffi() -> Any:
    """An FFI of the prebuilt declarations, if they are the installed WeasyPrint's and
    this cffi loads them; else None."""
    try:
        from handbook.engine import _weasyprint_ffi as prebuilt
    except ImportError:
        return None
    source = declarations()
    if not isinstance(source, str) or digest(source) != prebuilt.DECLARATIONS:
        return None
    import _cffi_backend

    class PrebuiltFFI(_cffi_backend.FFI):
        def cdef(self, csource: str, *args: Any, **kwargs: Any) -> None:
            """Declare nothing: check that they are the declarations prebuilt."""
            if digest(csource) != prebuilt.DECLARATIONS:
                raise RuntimeError("WeasyPrint declares other C functions than were prebuilt")

        def dlopen(self, name: str, flags: int = 0) -> Any:
            """Open a library as cffi's own FFI does: a name with a dot or a slash as it
            is, else (or if that fails) the file ctypes finds for it."""
            first_error = None
            if "." in name or "/" in name or os.sep in name:
                try:
                    return super().dlopen(name, flags)
                except OSError as error:
                    first_error = error
            found = _find_library(name)
            if found is None:
                raise first_error or OSError(f"no library called {name!r} was found")
            return super().dlopen(found, flags)

    try:
        return PrebuiltFFI(prebuilt.NAME, **prebuilt.TABLES)
    except Exception:  # tables of another cffi's format: it says so in its own way
        return None


def _find_library(name: str) -> str | None:
    """What ``ctypes.util.find_library`` finds for ``name``, asked of one listing of the
    dynamic loader's cache for all names, on Linux (elsewhere, of ctypes).

    WeasyPrint tries names for other systems first. For each that the loader's cache
    lacks, ctypes then asks gcc and ld in subprocesses, some 15 ms each: a quarter of
    a second of every worker's start. Those can only find a library the loader finds
    too under its soname, which WeasyPrint tries after, and so loads all the same.
    """
    if name not in _FOUND:
        listing = _loader_cache() if sys.platform == "linux" else None
        if listing is None:
            _FOUND[name] = ctypes.util.find_library(name)
        else:
            found = re.search(
                rb"\s+(lib%s\.[^\s]+)\s+\(%s" % (re.escape(name.encode()), _abi()), listing
            )
            _FOUND[name] = os.fsdecode(found[1]) if found else None
    return _FOUND[name]


_FOUND: dict[str, str | None] = {}


def _abi() -> bytes:
    """How ldconfig names this process's kind of library, as ctypes reads its listing."""
    kinds = {
        "x86_64-64": b"libc6,x86-64",
        "ppc64-64": b"libc6,64bit",
        "sparc64-64": b"libc6,64bit",
        "s390x-64": b"libc6,64bit",
        "ia64-64": b"libc6,IA-64",
    }
    return kinds.get(f"{os.uname().machine}-{8 * ctypes.sizeof(ctypes.c_void_p)}", b"libc6")


@functools.cache
def _loader_cache() -> bytes | None:
    """``ldconfig -p``, as ctypes runs it; None where it lists nothing (no glibc)."""
    try:
        listed = subprocess.run(
            ["/sbin/ldconfig", "-p"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env={"LC_ALL": "C", "LANG": "C"},
            check=False,
        ).stdout
    except OSError:
        return None
    return listed or None


def _imported_with(ffi: Any) -> bool:
    """Import WeasyPrint's FFI module with ``cffi.FFI()`` giving ``ffi``; whether it went
    well (declarations or libraries it does not find make it fail)."""
    import cffi

    original = cffi.FFI
    cffi.FFI = lambda *args, **kwargs: ffi
    try:
        importlib.import_module(FFI_MODULE)
    except Exception:
        return False
    finally:
        cffi.FFI = original
    return True


def _forget_weasyprint() -> None:
    for name in [name for name in sys.modules if name.partition(".")[0] == "weasyprint"]:
        del sys.modules[name]


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
    try:
        builder.emit_python_code(str(written))
        [call] = [
            node.value
            for node in ast.parse(written.read_text(encoding="utf-8")).body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
        ]
    finally:
        written.unlink(missing_ok=True)
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
