"""The one boundary around WeasyPrint: every import of it, and of its internals, is here."""
