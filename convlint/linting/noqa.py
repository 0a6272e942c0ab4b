"""Suppression comments: ``# convlint: noqa: S001, S013`` silences those codes on one layer.

The comment goes on the line where the layer's mapping starts (its ``- {name: ...}`` or
``- name: ...`` line), and then covers every finding of that layer, or on the line of the
offending key, and then covers the findings placed on that line.  Without codes
(``# convlint: noqa``) it covers every code there.  A suppression that silences nothing is
itself reported as N001, like ruff's RUF100.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

from convlint.findings import Finding
from convlint.rules import Rule
from convlint.spec.model import Spec

NOQA = re.compile(r"(?:^|\s)(?P<comment>#\s*convlint:\s*noqa\b"
                  r"(?P<codes>\s*:\s*[A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*)?)", re.IGNORECASE)
CODE = re.compile(r"[A-Za-z]+[0-9]+")


@dataclass
class Suppression:
    """One noqa comment: its 1-based position, the layer whose mapping starts on its line
    (``None`` on other lines), the codes it names (``None``: all), the layer that writes a key
    on its line (``owner``), and the codes it silenced."""

    line: int
    column: int
    layer: str | None
    codes: tuple[str, ...] | None
    owner: str | None = None
    used: set[str] = field(default_factory=set)

    def covers(self, finding: Finding) -> bool:
        """True when this comment silences ``finding``."""
        if self.codes is not None and finding.code not in self.codes:
            return False
        return finding.line == self.line or (self.layer is not None and finding.layer == self.layer)


def find_suppressions(spec: Spec) -> list[Suppression]:
    """Every ``# convlint: noqa`` comment in the spec's source, in line order.

    Text that only looks like such a comment inside a quoted or block scalar (a layer named
    ``"a # convlint: noqa"``) is not a comment and counts for nothing.
    """
    layer_starts: dict[int, str] = {}
    owners: dict[int, str] = {}
    for declared in spec.layers:
        layer_starts.setdefault(declared.line, declared.name)
        for line, _ in declared.key_positions.values():
            owners.setdefault(line, declared.name)
    candidates = {number: text for number, text in enumerate(spec.source.splitlines(), start=1)
                  if "noqa" in text.lower() and NOQA.search(text)}
    inside = _scalar_spans(spec.source, candidates) if candidates else {}
    found = []
    for number, text in candidates.items():
        spans = inside.get(number, ())
        match = next((match for match in NOQA.finditer(text)
                      if not any(start <= match.start("comment") < end for start, end in spans)), None)
        if match is None:
            continue
        raw = match.group("codes")
        codes = tuple(code.upper() for code in CODE.findall(raw)) if raw else None
        layer = layer_starts.get(number)
        found.append(Suppression(number, match.start("comment") + 1, layer, codes or None,
                                 layer or owners.get(number)))
    return found


def _scalar_spans(source: str, lines: Mapping[int, str]) -> dict[int, list[tuple[int, int]]]:
    """For each of ``lines`` (1-based numbers), the 0-based column ranges that YAML scalars cover.

    One pass of the YAML scanner over ``source``; a scalar spanning several lines covers the
    whole of each line between its first and last.
    """
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spans: dict[int, list[tuple[int, int]]] = {}
    try:
        for token in yaml.scan(source, Loader=loader_class):
            if not isinstance(token, yaml.ScalarToken):
                continue
            first, last = token.start_mark.line + 1, token.end_mark.line + 1
            if first == last:
                if first in lines:
                    spans.setdefault(first, []).append((token.start_mark.column, token.end_mark.column))
                continue
            for number in (first, last):
                if number in lines:
                    start = token.start_mark.column if number == first else 0
                    end = token.end_mark.column if number == last else len(lines[number]) + 1
                    spans.setdefault(number, []).append((start, end))
            for number in range(first + 1, last):  # scalars do not overlap: linear over the source
                if number in lines:
                    spans.setdefault(number, []).append((0, len(lines[number]) + 1))
    except yaml.YAMLError:  # the spec was parsed already; a scanner error only leaves comments as found
        pass
    return spans


def apply_suppressions(findings: list[Finding], suppressions: list[Suppression]) -> list[Finding]:
    """The findings that no suppression covers; marks on each suppression what it silenced.

    Suppressions are indexed by line and by layer, so the time is linear in findings plus comments.
    """
    if not suppressions:
        return list(findings)
    by_line: dict[int, list[Suppression]] = {}
    by_layer: dict[str, list[Suppression]] = {}
    for suppression in suppressions:
        by_line.setdefault(suppression.line, []).append(suppression)
        if suppression.layer is not None:
            by_layer.setdefault(suppression.layer, []).append(suppression)
    kept = []
    for finding in findings:
        on_line, on_layer = by_line.get(finding.line), by_layer.get(finding.layer) if finding.layer else None
        if on_line is None and on_layer is None:
            kept.append(finding)
            continue
        nearby = _unique((on_line or []) + (on_layer or []))
        covering = [suppression for suppression in nearby if suppression.covers(finding)]
        for suppression in covering:
            suppression.used.add(finding.code)
        if not covering:
            kept.append(finding)
    return kept


def _unique(suppressions: list[Suppression]) -> list[Suppression]:
    """``suppressions`` without repeats (a comment can be found by its line and by its layer)."""
    return list({id(suppression): suppression for suppression in suppressions}.values())


def unused_suppressions(suppressions: list[Suppression], path: str, rules: Mapping[str, Rule],
                        is_enabled: Callable[[str], bool]) -> list[Finding]:
    """An N001 finding for each suppression, or code in one, that silenced nothing."""
    findings = []
    severity = rules["N001"].severity
    for suppression in suppressions:
        where = f"layer `{suppression.layer}`" if suppression.layer else f"line {suppression.line}"
        place = (path, suppression.line, suppression.column, suppression.owner)
        if suppression.codes is None:
            if not suppression.used:
                message = f"`# convlint: noqa` silences nothing on {where}; delete it"
                findings.append(Finding("N001", severity, message, *place))
            continue
        for code in suppression.codes:
            if code in suppression.used:
                continue
            if code not in rules:
                reason = f"`{code}` is no rule code"
            elif not is_enabled(code):
                reason = f"{code} is not enabled"
            else:
                reason = f"no {code} finding on {where}"
            findings.append(Finding("N001", severity, f"unused suppression of {code}: {reason}; delete it", *place))
    return findings
