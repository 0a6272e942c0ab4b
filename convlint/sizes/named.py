"""Lint and summary of a spec whose input sizes are names (``image: [N, 3, H, W]``).

Lint reports what holds for every size, nothing that holds for some only:

- findings that ``convlint lint`` would report at every value of every name
  (problems that have nothing to do with the sizes, or a layer that fails at
  any size), found by the exact solver of :mod:`convlint.sizes.solver`;
- S015 for a name that no value makes valid (when nothing above explains it);
- S016 when a layer's size arithmetic cannot be followed exactly.

The sizes that are valid, and why others fail, are the job of ``convlint sizes``.
The summary prints every size as an exact expression in the names.
"""
from __future__ import annotations

import copy

from convlint.findings import Finding
from convlint.analysis.infer import analyze
from convlint.layers.registry import Registry
from convlint.linting.enabled import enabled_findings
from convlint.sizes.contract import contract_findings
from convlint.sizes.expr import Expr
from convlint.sizes.solver import reference_values, size_problem, solve_all
from convlint.spec.model import Spec
from convlint.sizes.symbolic import Unsupported, varies


def _finding(registry: Registry, spec: Spec, code: str, message: str, name: str,
             at: tuple[int, int, str | None] | None = None) -> Finding:
    """A finding at ``at`` (line, column, layer) when known, else at the input that uses size ``name``."""
    if at is not None and at[0]:
        return Finding(code, registry.rules[code].severity, message, spec.path, *at)
    decl = next(decl for decl in spec.inputs.values() if name in decl.shape)
    return Finding(code, registry.rules[code].severity, message, spec.path, decl.line, decl.column, None)


def lint_named_sizes(spec: Spec, registry: Registry) -> list[Finding]:
    """The findings of a spec with named sizes (see the module docstring), unsorted."""
    problem = size_problem(spec, registry)
    try:
        held, solutions = solve_all(problem)
    except Unsupported as error:
        return [_finding(registry, spec, "S016", f"{error}; the named sizes {', '.join(problem.names)} "
                                                 f"are not checked", problem.names[0],
                         None if error.layer is None else (error.layer.line, error.layer.column, error.layer.name))]
    always: dict[tuple, Finding] = {}
    for solution in solutions:
        keys = {(f.code, f.layer, f.line, f.column): f for f in solution.always}
        always = keys if solution is solutions[0] else {key: f for key, f in always.items() if key in keys}
    findings = contract_findings(spec, registry, problem, solutions)
    if always:
        return list(always.values()) + findings
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


def summarize_named_sizes(spec: Spec, registry: Registry) -> dict:
    """The ``summary --format json`` object, with sizes as expressions (strings) in the names.

    MACs, memory and receptive fields are ``None`` (they follow the sizes).
    Parameter counts are those at valid sizes, ``None`` where they depend on a size
    (a Linear whose in_features follow a flattened size: see :func:`_params_vary`).
    """
    problem = size_problem(spec, registry)
    try:
        held = reference_values(problem)
        shapes = problem.propagation({}).shapes
    except Unsupported:
        held, shapes = {name: 1 for name in problem.names}, {}
    analysis = analyze(problem.instantiate(held), registry)
    layers = []
    for layer in spec.layers:
        node = analysis.nodes.get(layer.name)
        shape = shapes.get(layer.name)
        inputs = [shapes.get(source) for source in layer.sources]
        size_dependent = node is None or _params_vary(registry, node, inputs, held)
        layers.append({
            "name": layer.name,
            "type": layer.type or "?",
            "output_shape": None if shape is None else [dim if isinstance(dim, int) else _shown(dim) for dim in shape],
            "params": None if node is None or size_dependent else node.params,
            **dict.fromkeys(SIZE_MEASURES),
        })
    return {
        "path": spec.path,
        "name": spec.name,
        "layers": layers,
        "total_params": sum(layer["params"] or 0 for layer in layers),
        **dict.fromkeys(SIZE_TOTALS),
        "dtype": spec.dtype,
        "diagnostics": [finding.to_json() for finding in enabled_findings(lint_named_sizes(spec, registry), registry)],
    }


SIZE_MEASURES = ("macs", "activation_bytes", "receptive_field", "effective_stride", "receptive_field_center")
"""Per-layer summary entries that follow the sizes: ``None`` (unknown) for named sizes."""

SIZE_TOTALS = ("total_macs", "input_bytes", "param_bytes", "total_activation_bytes", "inference_bytes")
"""Summary totals that follow the sizes: ``None`` for named sizes."""

FAR = 10**6
"""How far :func:`_params_vary` moves every name: past any floor division the solver follows."""


def _params_vary(registry: Registry, node, inputs: list, held: dict[str, int]) -> bool:
    """True when the layer's parameter count changes with the named sizes (or cannot be told).

    The count at ``held`` is compared with the count the layer type gives when every
    name is ``FAR`` larger (its input shapes evaluated there).
    """
    if node.context is None or any(shape is None for shape in inputs):
        return True
    if not any(varies(dim) for shape in inputs for dim in shape):
        return False
    far = {name: value + FAR for name, value in held.items()}
    moved = copy.copy(node.context)
    moved.inputs = [tuple(dim if isinstance(dim, int) else dim.evaluate(far) for dim in shape) for shape in inputs]
    try:
        return registry.types[node.type].count_params(moved, node.shape) != node.params
    except Exception:  # a plugin that cannot count at other sizes: the count is not shown
        return True


def _shown(dim) -> str:
    """A size expression as text, in parentheses when it has several terms (``(H − 2)``)."""
    text = str(dim)
    several = isinstance(dim, Expr) and len(dim.terms) + bool(dim.const) > 1
    return f"({text})" if several else text
