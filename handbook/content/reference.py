"""The README's field reference, made from the model's own descriptions.

The same descriptions an editor shows on hover, so the README never says
something else. ``python -m handbook.content.reference README.md`` rewrites
the part between the markers; a test fails when it is out of step.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel

from handbook.content.model import (
    Chapter,
    Drawing,
    Fact,
    Picture,
    Routine,
    RoutineStep,
    SafetyTopic,
    Section,
    Shape,
    Stroke,
    Technique,
    Zone,
    ZoneList,
)
from handbook.content.schema import EditorSchema

START = "<!-- field reference: made by python -m handbook.content.reference README.md -->"
END = "<!-- end of field reference -->"

# Each table: its heading and model, the content kinds first, then what they hold.
TABLES: tuple[tuple[str, type[BaseModel]], ...] = (
    ("`kind: chapter`", Chapter),
    ("a chapter's `sections`", Section),
    ("`kind: technique`", Technique),
    ("`facts` (technique, safety topic)", Fact),
    ("a technique's `strokes`", Stroke),
    ("`kind: safety`", SafetyTopic),
    ("`kind: routine`", Routine),
    ("a routine's `steps`", RoutineStep),
    ("`kind: zones`", ZoneList),
    ("`drawings` (zones file)", Drawing),
    ("`zones` (zones file)", Zone),
    ("a zone's `shapes`", Shape),
    ("`pictures` (technique, safety topic, routine, section)", Picture),
)


def field_reference() -> str:
    """Markdown tables: every field of every content kind, with its description."""
    return "\n".join(_table(heading, model) for heading, model in TABLES)


def _table(heading: str, model: type[BaseModel]) -> str:
    properties = model.model_json_schema(schema_generator=EditorSchema)["properties"]
    rows = [f"**{heading}**", "", "| field | | what it is |", "|---|---|---|"]
    for name, field in model.model_fields.items():
        needed = "required" if field.is_required() else _default(field.get_default())
        description = properties[name]["description"].replace("|", "\\|")
        values = properties[name].get("enum", [])
        if any(value not in description for value in values):  # name them, if it does not
            description += " One of " + ", ".join(f"`{v}`" for v in values) + "."
        rows.append(f"| `{name}` | {needed} | {description} |")
    return "\n".join(rows) + "\n"


def _default(value: object) -> str:
    if value in (None, "", [], ()):
        return "optional"
    shown = str(value).lower() if isinstance(value, bool) else value
    return f"default `{shown}`"


def with_field_reference(readme: str) -> str:
    """The README with the part between the markers made afresh."""
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n\n{field_reference()}\n{END}{after}"


if __name__ == "__main__":
    path = Path(sys.argv[1])
    path.write_text(with_field_reference(path.read_text(encoding="utf-8")), encoding="utf-8")
