"""Size budgets for CI: a spec's total parameters (and MACs) against a declared limit.

A spec may declare ``budget: {params: 1000000, macs: 500000000}`` at its top level, and the
configuration may declare ``[tool.convlint.budget]`` for every spec; the spec's own value
wins.  Exceeding a limit is a B001 finding.  ``macs`` is checked when the analysis counts
multiply-accumulates of every layer; where some layer's count is unknown the total is a lower
bound and the message says "at least".  A spec with named input sizes is checked at the sizes the
caller states (``at``, e.g. ``N = 1, H = 32, W = 32``), named in the message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from convlint.linting.config import BUDGET_KEYS
from convlint.findings import Finding
from convlint.analysis.infer import Analysis
from convlint.layers.keywords import show
from convlint.rules import Rule
from convlint.spec.model import Spec
from convlint.spec.yaml_source import Node, YamlError, load_yaml

BUDGET_MARKER = re.compile(r"^budget\s*:", re.MULTILINE)
UNITS = {"params": "parameters", "macs": "MACs"}


@dataclass
class BudgetCheck:
    """Findings (B001, and Y002 for a malformed ``budget``) and notes for the user."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def declared_budget(spec: Spec, rules: Mapping[str, Rule], check: BudgetCheck) -> tuple[dict, tuple[int, int] | None]:
    """The spec's own ``budget`` mapping and the position of its key (``({}, None)`` when absent)."""
    if not BUDGET_MARKER.search(spec.source):
        return {}, None
    try:
        data = load_yaml(spec.source).data
    except YamlError:
        return {}, None
    if not isinstance(data, Node) or "budget" not in data:
        return {}, None
    raw, position = data["budget"], data.position_of("budget")
    valid = isinstance(raw, dict) and all(
        key in BUDGET_KEYS and isinstance(value, int) and not isinstance(value, bool) and value >= 0
        for key, value in raw.items())
    if not valid:
        message = f"`budget` must map `params` and/or `macs` to non-negative integers, got {show(raw)}"
        check.findings.append(Finding("Y002", rules["Y002"].severity, message, spec.path, *position, None))
        return {}, position
    return dict(raw), position


def check_budget(spec: Spec, analysis: Analysis, configured: Mapping[str, int],
                 rules: Mapping[str, Rule], at: str = "") -> BudgetCheck:
    """Compare the spec's totals with its budget (its own, else the configured one).

    ``analysis`` is of the spec itself, or of the spec at the named sizes ``at`` describes.
    """
    check = BudgetCheck()
    declared, position = declared_budget(spec, rules, check)
    layers = [node for node in analysis.nodes.values() if node.family != "input"]
    totals = {"params": analysis.total_params, "macs": sum(node.macs or 0 for node in layers)}
    incomplete = {"params": any(node.params is None for node in layers),
                  "macs": any(node.macs is None for node in layers)}
    for key in BUDGET_KEYS:
        limit = declared.get(key, configured.get(key))
        if limit is None:
            continue
        total = totals[key]
        source = "the spec's budget" if key in declared else "the configured budget"
        if total > limit:
            over = total - limit
            bound = "at least " if incomplete[key] else ""
            where_sizes = f" at {at}" if at else ""
            message = (f"{bound}{total:,} {UNITS[key]}{where_sizes}, over {source} of {limit:,} by {over:,} "
                       f"({over / limit:.1%})" if limit else
                       f"{bound}{total:,} {UNITS[key]}{where_sizes}, over {source} of 0")
            where = position if key in declared and position else (1, 1)
            check.findings.append(Finding("B001", rules["B001"].severity, message, spec.path, *where, None))
    return check
