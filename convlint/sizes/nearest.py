"""The nearest valid input sizes, added to the first size finding of a spec whose declared size fails.

When a spec with numeric sizes has a finding that depends on the input size
(dropped input, empty output, merged branches that do not match), the exact
solver of :mod:`convlint.sizes.solver` checks each spatial size: if the
declared value is not valid, the first such finding ends with
``nearest valid input sizes: H = 96 or 104``.  The solver checks only the
layers a size change touches, within a small budget of sizes; past it, no hint is added.
"""
from __future__ import annotations

import dataclasses

from convlint.findings import Finding
from convlint.layers.registry import Registry
from convlint.sizes.solver import size_problem, solve_all
from convlint.spec.model import Spec
from convlint.sizes.symbolic import Unsupported

SIZE_CODES = frozenset({"S001", "S002", "S003", "S009", "S010"})
"""Findings that can come and go with the input size."""

SIZE_BUDGET = 20_000
"""The most sizes of one name whose verdicts the hint may need, so that lint stays fast."""

CHECK_BUDGET = 3_000
"""The most single-layer checks the hint may run (a few times one lint of a large network)."""


def with_nearest_sizes(spec: Spec, registry: Registry, findings: list[Finding]) -> list[Finding]:
    """``findings`` with the nearest valid input sizes appended to the first size finding, where they help."""
    first = next((index for index, finding in enumerate(findings) if finding.code in SIZE_CODES), None)
    if first is None:
        return findings
    problem = size_problem(spec, registry)
    problem.max_checks = CHECK_BUDGET
    hints = []
    try:
        for solution in solve_all(problem, SIZE_BUDGET)[1]:
            name, valid = solution.name, solution.valid
            declared = problem.declared[name]
            if declared in valid:
                continue
            options = [str(value) for value in valid.nearest(declared) if value is not None]
            if options:
                hints.append(f"{name} = {' or '.join(options)}")
    except Unsupported:
        return findings
    except Exception:  # the hint is optional: a failure here must not cost the user the findings
        return findings
    if not hints:
        return findings
    finding = findings[first]
    hinted = dataclasses.replace(finding, message=f"{finding.message}; nearest valid input sizes: {'; '.join(hints)}")
    return [*findings[:first], hinted, *findings[first + 1:]]
