"""The nearest valid input sizes, added to the first size finding of a spec whose declared size fails.

When a spec with numeric sizes has a finding that can depend on the input size
(dropped input, empty output, merged branches that do not match, channels or
features that follow a flattened size), the exact solver of
:mod:`convlint.sizes.solver` solves each spatial size with the others as
declared; where changing one size fixes the spec, the first such finding ends
with ``nearest valid input sizes: H = 96 or 104`` for those sizes only.  When no
single size does, each is solved with the others held at valid sizes.  The solver checks only the
layers a size change touches, within a small budget of sizes; past it, no hint is added.
"""
from __future__ import annotations

import dataclasses

from convlint.findings import Finding
from convlint.layers.registry import Registry
from convlint.spec.model import Spec

SIZE_CODES = frozenset({"S001", "S002", "S003", "S006", "S008", "S009", "S010"})
"""Findings that can come and go with the input size."""

SIZE_BUDGET = 20_000
"""The most sizes of one name whose verdicts the hint may need, so that lint stays fast."""

CHECK_BUDGET = 3_000
"""The most single-layer checks the hint may run (a few times one lint of a large network)."""


def _hints(problem, solutions: list) -> list[str]:
    """``H = 96 or 104`` for each name whose declared size is not in its solution's valid set."""
    hints = []
    for solution in solutions:
        declared = problem.declared[solution.name]
        if declared in solution.valid:
            continue
        options = [str(value) for value in solution.valid.nearest(declared) if value is not None]
        if options:
            hints.append(f"{solution.name} = {' or '.join(options)}")
    return hints


def with_nearest_sizes(spec: Spec, registry: Registry, findings: list[Finding]) -> list[Finding]:
    """``findings`` with the nearest valid input sizes appended to the first size finding, where they help."""
    first = next((index for index, finding in enumerate(findings) if finding.code in SIZE_CODES), None)
    if first is None:
        return findings
    # the solver is imported here: `lint` of a spec with no size finding (each pre-commit run) never needs it
    from convlint.sizes.joint import solve_all
    from convlint.sizes.solver import size_problem, solve
    from convlint.sizes.symbolic import Unsupported
    problem = size_problem(spec, registry)
    problem.max_checks = CHECK_BUDGET
    try:
        hints = _hints(problem, [solve(problem, name, problem.declared, SIZE_BUDGET) for name in problem.names])
        if not hints:  # no one size fixes it: each name with the others at sizes that are valid
            hints = _hints(problem, solve_all(problem, SIZE_BUDGET)[1])
    except Unsupported:
        return findings
    except Exception:  # the hint is optional: a failure here must not cost the user the findings
        return findings
    if not hints:
        return findings
    finding = findings[first]
    hinted = dataclasses.replace(finding, message=f"{finding.message}; nearest valid input sizes: {'; '.join(hints)}")
    return [*findings[:first], hinted, *findings[first + 1:]]
