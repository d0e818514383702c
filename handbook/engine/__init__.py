"""The one boundary around WeasyPrint: every import of it, and of its internals, is here."""

from handbook.engine.pdf import PDF_VARIANTS, PageSource, print_shop_css, render, to_pdf_bytes


def warm_up() -> None:
    """Import WeasyPrint, so worker processes have it loaded before their first render."""
    import weasyprint  # noqa: F401


__all__ = ["PDF_VARIANTS", "PageSource", "print_shop_css", "render", "to_pdf_bytes", "warm_up"]
