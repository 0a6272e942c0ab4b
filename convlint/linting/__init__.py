"""Stage 3, lint: which files, which rules, configuration, noqa suppressions and budgets."""
