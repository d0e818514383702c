"""handbook: structured YAML content -> a printed handbook and one-page cheat cards."""

__version__ = "0.1.0"
