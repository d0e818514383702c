"""Reading and checking content: YAML with positions, the content model, validation, schemas."""
