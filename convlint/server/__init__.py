"""The language server (``convlint server``): findings, shapes, fixes and completion in the editor."""
