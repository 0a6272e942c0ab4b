"""Which findings a lint reports: those of enabled rules, in source order."""
from __future__ import annotations

from convlint.analysis.infer import analyze
from convlint.findings import Finding
from convlint.layers.registry import Registry
from convlint.spec.model import Spec


def enabled_findings(findings: list[Finding], registry: Registry) -> list[Finding]:
    """The findings of enabled rules (``default_enabled``; unknown codes kept), sorted by position and code."""
    rules = registry.rules
    enabled = [finding for finding in findings if finding.code not in rules or rules[finding.code].default_enabled]
    return sorted(enabled, key=lambda finding: (finding.line, finding.column, finding.code))


def lint_at_declared_sizes(spec: Spec, registry: Registry) -> list[Finding]:
    """The findings of a spec with numeric sizes, in source order, without the nearest-size hint."""
    return enabled_findings(analyze(spec, registry).findings, registry)
