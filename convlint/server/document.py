"""What the server knows of one open spec: its latest analysis, and the last one whose YAML parsed.

Half-typed YAML gives findings (the parse error) but no layers; hints, hovers and completion
then keep using the last good analysis.  Analyses are kept per text, so undoing an edit, or
asking for hints after the diagnostics of the same text, re-uses the work already done.
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from convlint.layers.registry import Registry
from convlint.linting.config import Config, ConfigError
from convlint.server.analysis_adapter import SpecFacts, analyse_text, config_for

KEPT_ANALYSES = 8
"""Analyses kept per document, keyed by text (the most recent ones)."""


class DocumentState:
    """The analyses of one document at ``path``; ``current`` matches the latest text analysed,
    ``good`` is the latest analysis whose YAML parsed (``None`` until one did)."""

    def __init__(self, path: Path):
        self.path = path
        self.config_error: str | None = None
        """Why the project's configuration could not be used (its defaults are used instead)."""
        try:
            self.config: Config = config_for(path)
        except ConfigError as error:
            self.config, self.config_error = Config(root=path.parent), str(error)
        self.current: SpecFacts | None = None
        self.good: SpecFacts | None = None
        self._by_text: OrderedDict[str, SpecFacts] = OrderedDict()

    def update(self, text: str, registry: Registry) -> SpecFacts:
        """Analyse ``text`` (or re-use its earlier analysis) and make it current."""
        facts = self._by_text.pop(text, None)
        if facts is None:
            try:
                facts = analyse_text(text, self.path, registry, self.config)
            except ConfigError as error:  # rule codes the configuration gets wrong
                self.config, self.config_error = Config(root=self.path.parent), str(error)
                facts = analyse_text(text, self.path, registry, self.config)
        self._by_text[text] = facts
        while len(self._by_text) > KEPT_ANALYSES:
            self._by_text.popitem(last=False)
        self.current = facts
        if facts.parsed and facts.spec is not None:
            self.good = facts
        return facts

    def analysed(self, text: str) -> bool:
        """True when ``text`` is the text of the current analysis."""
        return self.current is not None and bool(self._by_text) and next(reversed(self._by_text)) == text
