"""The one boundary around WeasyPrint: every import of it, and of its internals, is here.

- ``render``: HTML + CSS -> a laid-out document -> PDF bytes (``PageSource``)
- ``layout``: how much of its pages a laid-out document uses (``measure``)
- ``structure``: which elements a page break splits, for the tagged PDF
- ``pdf_options``: PDF variants and print-shop CSS, known without WeasyPrint
- ``resources``: what WeasyPrint may read (the project's URL fetcher, image checks)
- ``stylesheets``: parsed stylesheets kept in a process while the files they read stay
- ``fonts``: the only fonts a render sees (the project's and the bundled ones)
- ``problems``: WeasyPrint's warnings as located problems
- ``workarounds``: upstream bugs worked around for the time of a render
- ``prebuilt_ffi``: WeasyPrint's C declarations loaded prebuilt, not parsed in each process
  (``loaded``: WeasyPrint imported so, for the fork server to preload)

Importing this package does not import WeasyPrint; rendering does, or ``warm_up``.
"""

from handbook.engine.layout import Measure, anchor_pages, measure, too_wide
from handbook.engine.pdf_options import (
    PDF_VARIANTS,
    PRINT_SHOP_VARIANT,
    WEASYPRINT_VARIANTS,
    print_shop_css,
    weasyprint_variant,
)
from handbook.engine.render import (
    PageSource,
    completed_sheets,
    font_files,
    render,
    to_pdf_bytes,
    warm_up,
)
from handbook.engine.resources import Refused, read_allowed
from handbook.engine.structure import continued_chains

__all__ = [
    "PDF_VARIANTS",
    "PRINT_SHOP_VARIANT",
    "WEASYPRINT_VARIANTS",
    "Measure",
    "PageSource",
    "Refused",
    "anchor_pages",
    "completed_sheets",
    "continued_chains",
    "font_files",
    "measure",
    "print_shop_css",
    "read_allowed",
    "render",
    "to_pdf_bytes",
    "too_wide",
    "warm_up",
    "weasyprint_variant",
]
