"""The ``convlint`` command line, one module per command."""
