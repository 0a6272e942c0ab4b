"""Stage 1, the spec: YAML text with source positions, the Spec model, blocks, files and the JSON Schema."""
