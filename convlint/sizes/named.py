"""Lint and summary of a spec whose input sizes are names (``image: [N, 3, H, W]``).

Lint reports what holds for every size, nothing that holds for some only:

- findings that ``convlint lint`` would report at every value of every name
  (problems that have nothing to do with the sizes, or a layer that fails at
  any size), found by the exact solver of :mod:`convlint.sizes.solver`;
- S015 for a name that no value makes valid (when nothing above explains it);
- S016 when a layer's size arithmetic cannot be followed exactly;
- S017 (info) in one line when only some values are valid, with the condition on each name.

The sizes that are valid, and why others fail, are the job of ``convlint sizes``.
The summary prints every size as an exact expression in the names.
"""
from __future__ import annotations

from convlint.findings import Finding
from convlint.layers.registry import Registry
from convlint.sizes.contract import contract_findings
from convlint.sizes.expr import Expr
from convlint.sizes.solver import reference_values, size_problem, solve_all
from convlint.spec.model import Spec
from convlint.sizes.symbolic import Unsupported


def _finding(registry: Registry, spec: Spec, code: str, message: str, name: str,
             at: tuple[int, int, str | None] | None = None) -> Finding:
    """A finding at ``at`` (line, column, layer) when known, else at the input that uses size ``name``."""
    if at is not None and at[0]:
        return Finding(code, registry.rules[code].severity, message, spec.path, *at)
    decl = next(decl for decl in spec.inputs.values() if name in decl.shape)
    return Finding(code, registry.rules[code].severity, message, spec.path, decl.line, decl.column, None)


def lint_named_sizes(spec: Spec, registry: Registry) -> list[Finding]:
    """The findings of a spec with named sizes (see the module docstring), unsorted."""
    return lint_and_reference_sizes(spec, registry)[0]


def lint_and_reference_sizes(spec: Spec, registry: Registry) -> tuple[list[Finding], dict[str, int]]:
    """The findings of :func:`lint_named_sizes` and the sizes of :func:`reference_sizes`, from one
    size problem, so that each layer is checked at each size once (the problem keeps its checks)."""
    problem = size_problem(spec, registry)
    held = _reference_values(problem)
    try:
        _, solutions = solve_all(problem)
    except Unsupported as error:
        return [_finding(registry, spec, "S016", f"{error}; the named sizes {', '.join(problem.names)} "
                                                 f"are not checked", problem.names[0],
                         None if error.layer is None else (error.layer.line, error.layer.column, error.layer.name))], \
            held
    return _findings(spec, registry, problem, solutions), held


def _findings(spec: Spec, registry: Registry, problem, solutions: list) -> list[Finding]:
    always: dict[tuple, Finding] = {}
    for solution in solutions:
        keys = {(f.code, f.layer, f.line, f.column): f for f in solution.always}
        always = keys if solution is solutions[0] else {key: f for key, f in always.items() if key in keys}
    findings = contract_findings(spec, registry, problem, solutions)
    if always:
        return list(always.values()) + findings
    conditional = [solution for solution in solutions
                   if not solution.valid.empty and solution.valid.describe(solution.name) != f"{solution.name} ≥ 1"]
    if conditional and not any(solution.valid.empty for solution in solutions):
        conditions = " and ".join(solution.valid.describe(solution.name).removeprefix("only ")
                                  for solution in conditional)
        findings.append(_finding(registry, spec, "S018",
                                 f"valid only when {conditions}; other sizes fail: `convlint sizes` lists the "
                                 f"valid sizes and explains the others", conditional[0].name))
    for solution in solutions:
        if solution.valid.empty:
            others = ", ".join(f"{other} = {value}" for other, value in solution.held.items())
            value = solution.threshold + solution.period - 1  # past every lower bound: a lasting reason
            example = problem.findings({**solution.held, solution.name: value})[0]
            findings.append(_finding(registry, spec, "S015",
                                     f"no value of {solution.name} makes the network valid"
                                     f"{f' (with {others})' if others else ''}; at {solution.name} = "
                                     f"{value}: {example.code} {example.message} [{example.layer}]; "
                                     f"`convlint sizes` explains each size", solution.name,
                                     (example.line, example.column, example.layer)))
    return findings


def reference_sizes(spec: Spec, registry: Registry) -> dict[str, int]:
    """The values of the named sizes at which summaries and budgets state numbers: the declared
    sizes when valid, else small valid ones (see :func:`reference_values`); 1 for each name
    when the solver cannot follow the spec."""
    return _reference_values(size_problem(spec, registry))


def _reference_values(problem) -> dict[str, int]:
    try:
        return reference_values(problem)
    except Unsupported:
        return {name: 1 for name in problem.names}


def symbolic_shapes(spec: Spec, registry: Registry) -> dict[str, list | None]:
    """Each node's output shape with sizes as expressions in the names (strings such as
    ``"⌊H/2⌋"``, ints where constant); ``None`` where the solver cannot follow a layer."""
    problem = size_problem(spec, registry)
    try:
        shapes = problem.propagation({}).shapes
    except Unsupported:
        return {}
    return {name: None if shape is None else [dim if isinstance(dim, int) else _shown(dim) for dim in shape]
            for name, shape in shapes.items()}


def _shown(dim) -> str:
    """A size expression as text, in parentheses when it has several terms (``(H − 2)``)."""
    text = str(dim)
    several = isinstance(dim, Expr) and len(dim.terms) + bool(dim.const) > 1
    return f"({text})" if several else text
