"""Which rule codes are reported for which file: ``select``, ``extend-select``, ``ignore`` and
``per-file-ignores``, resolved as ruff resolves them.

A selector is a full code (``S001``) or a prefix (``S``, ``S00``).  For each code the most
specific matching selector wins, and ``ignore`` wins a tie.  Without ``select`` every rule
that is on by default is selected.  A rule that is off by default (S013, S014) is enabled
only by its full code.  ``per-file-ignores`` then removes codes for the files its glob matches.
"""
from __future__ import annotations

from typing import Mapping

from convlint.linting.config import Config, ConfigError
from convlint.linting.globs import matches_any, relative_posix
from convlint.rules import Rule


def _check_selectors(config: Config, key: str, selectors: list[str], rules: Mapping[str, Rule]) -> None:
    for selector in selectors:
        if not any(code.startswith(selector) for code in rules):
            where = config.source or "configuration"
            raise ConfigError(f"{where}: `{key}` names `{selector}`, which is no rule code or code prefix "
                              f"(`convlint rule` lists them)")


def _specificity(code: str, selectors: list[str], exact_only: bool) -> int:
    """Length of the longest selector matching ``code`` (-1 when none does)."""
    lengths = [len(selector) for selector in selectors
               if (selector == code if exact_only else code.startswith(selector))]
    return max(lengths, default=-1)


class RuleSelection:
    """The enabled codes of a configuration, per file.  Raises :class:`ConfigError` for unknown codes."""

    def __init__(self, config: Config, rules: Mapping[str, Rule]):
        self.config = config
        self._ignored: dict[str, list[str]] = {}
        extend = list(config.extend_select)
        if config.report_padding_only_remainder:
            extend.append("S014")
        for key, selectors in (("select", config.select or []), ("extend-select", extend),
                               ("ignore", config.ignore)):
            _check_selectors(config, key, selectors, rules)
        for glob, codes in config.per_file_ignores.items():
            _check_selectors(config, f"per-file-ignores.{glob}", codes, rules)
        self.known = set(rules)
        self.enabled = {code for code, rule in rules.items() if self._selected(code, rule, extend)}

    def _selected(self, code: str, rule: Rule, extend: list[str]) -> bool:
        selectors = (self.config.select or []) + extend
        chosen = _specificity(code, selectors, exact_only=not rule.default_enabled)
        if self.config.select is None and rule.default_enabled:
            chosen = max(chosen, 0)
        return chosen > _specificity(code, self.config.ignore, exact_only=False)

    def ignored_in_file(self, path: str) -> list[str]:
        """The per-file-ignores selectors that apply to ``path`` (worked out once per file)."""
        if path not in self._ignored:
            self._ignored = {path: self._ignored_selectors(path)}  # files are linted one after another
        return self._ignored[path]

    def _ignored_selectors(self, path: str) -> list[str]:
        relative = relative_posix(path, self.config.root)
        return [code for glob, codes in self.config.per_file_ignores.items()
                if matches_any([glob], relative) for code in codes]

    def is_enabled(self, code: str, path: str) -> bool:
        """True when findings with ``code`` are reported for the file at ``path``."""
        if code not in self.enabled:
            return code not in self.known
        return not any(code.startswith(selector) for selector in self.ignored_in_file(path))
