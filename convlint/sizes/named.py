"""Lint and summary of a spec whose input sizes are names (``image: [N, 3, H, W]``).

Lint reports what holds for every size, nothing that holds for some only:

- findings that ``convlint lint`` would report at every value of every name
  (problems that have nothing to do with the sizes, or a layer that fails at
  any size), found by the exact solver of :mod:`convlint.sizes.solver`;
- S015 for a name that no value makes valid, whatever the other names are (when
  nothing above explains it): the layer that fails at every size the layers
  before it accept, and the sizes that come closest; or for coupled names
  (:mod:`convlint.sizes.joint`) that are each valid on their own but never
  meet their link together (a flattened size no sizes give);
- S016 when a layer's size arithmetic cannot be followed exactly;
- S017 for a size contract that promises a size that is not valid;
- S018 (info) in one line when only some values are valid, with the condition on
  each name and each link between names.

The sizes that are valid, and why others fail, are the job of ``convlint sizes``.
The summary prints every size as an exact expression in the names.
"""
from __future__ import annotations

from convlint.findings import Finding
from convlint.layers.registry import Registry
from convlint.sizes.contract import contract_findings
from convlint.sizes.expr import Expr
from convlint.sizes.joint import Component, ProductLink, solve_joint
from convlint.sizes.solver import reference_values, size_problem
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
    size problem solved once, so that each layer is checked at each size once (the problem keeps its checks)."""
    problem = size_problem(spec, registry)
    try:
        joint = solve_joint(problem)
    except Unsupported as error:
        return [_finding(registry, spec, "S016", f"{error}; the named sizes {', '.join(problem.names)} "
                                                 f"are not checked", problem.names[0],
                         None if error.layer is None else (error.layer.line, error.layer.column, error.layer.name))], \
            _unsolved_reference(problem)
    return _findings(spec, registry, problem, joint), _joint_reference(joint)


def _findings(spec: Spec, registry: Registry, problem, joint) -> list[Finding]:
    """The findings of the solved ``joint`` problem (see the module docstring)."""
    solutions = joint.solutions
    always: dict[tuple, Finding] = {}
    for solution in solutions:
        keys = {(f.code, f.layer, f.line, f.column): f for f in solution.always}
        always = keys if solution is solutions[0] else {key: f for key, f in always.items() if key in keys}
    findings = contract_findings(spec, registry, problem, solutions)
    if always:
        return list(always.values()) + findings
    if joint.nowhere is not None:
        return findings + [_nowhere(registry, problem, joint.nowhere, joint.held)]
    if joint.never:
        by_name = {solution.name: solution for solution in solutions}
        return findings + [_never(registry, problem, by_name[name], joint.held) for name in joint.never]
    empty = [component for component in joint.components if component.empty]
    if empty:
        return findings + [_unmet(registry, problem, component, joint.held) if component.why_not is None
                           else _not_joint(registry, problem, component) for component in empty]
    conditions = [condition for component in joint.components for condition in _conditions(component)]
    if conditions:
        findings.append(_finding(registry, spec, "S018",
                                 f"valid only when {' and '.join(conditions)}; other sizes fail: `convlint sizes` "
                                 f"lists the valid sizes and explains the others", problem.names[0]))
    return findings


def _conditions(component: Component) -> list[str]:
    """What a component asks of its sizes, in words (nothing for a name valid at every size)."""
    if component.coupled and component.why_not is None and (component.products or component.equalities):
        return [component.describe()]
    return [component.projections[name].describe(name).removeprefix("only ") for name in component.names
            if component.projections[name].describe(name) != f"{name} ≥ 1"]


def _example(problem, values: dict[str, int], layer: str | None) -> Finding | None:
    """What lint reports at ``values``: the finding of ``layer`` when there is one, else the first."""
    found = problem.findings(values)
    return next((finding for finding in found if finding.layer == layer), found[0] if found else None)


def _never(registry: Registry, problem, solution, held: dict[str, int]) -> Finding:
    """S015 for a name no value of which is valid, whatever the other names are: the layer that fails at
    every size the layers before it accept, and the sizes that come closest."""
    name, closest = solution.name, solution.closest
    layer = closest.layer.name
    message = (f"no value of {name} makes the network valid: `{layer}` fails at every size that the layers "
               f"before it accept")
    at = {**held, name: closest.sizes[0] if closest.sizes else solution.threshold + solution.period - 1}
    if closest.sizes:
        shown = [f"{name} = {x} ({', '.join(f'{a} against {b}' for a, b in values)})"
                 for x, values in zip(closest.sizes, closest.values)]
        message += f"; closest: {' or '.join(shown)}"
    example = _example(problem, at, layer)
    if example is not None:
        message += f"; at {name} = {at[name]}: {example.code} {example.message} [{example.layer}]"
    place = (example.line, example.column, example.layer) if example else (closest.layer.line,
                                                                           closest.layer.column, layer)
    return _finding(registry, problem.spec, "S015", message + "; `convlint sizes` explains each size", name, place)


def _nowhere(registry: Registry, problem, layer, held: dict[str, int]) -> Finding:
    """S015 for a layer that fails at every size of every name it reads (no one name is at fault)."""
    message = f"no input sizes make the network valid: `{layer.name}` fails at every size"
    example = _example(problem, held, layer.name)
    place: tuple[int, int, str | None] = (layer.line, layer.column, layer.name)
    if example is not None:
        sizes = ", ".join(f"{name} = {value}" for name, value in held.items())
        message += f"; at {sizes}: {example.code} {example.message} [{example.layer}]"
        place = (example.line, example.column, example.layer)
    return _finding(registry, problem.spec, "S015", message + "; `convlint sizes` explains each size",
                    problem.names[0], place)


def _not_joint(registry: Registry, problem, component: Component) -> Finding:
    """S016 for coupled names not followed jointly, none valid with the others held: which size is at fault
    is not known."""
    return _finding(registry, problem.spec, "S016", f"{component.why_not}, and the sizes are solved one at a "
                                                    f"time with the others held: no value is valid that way; the "
                                                    f"named sizes {', '.join(component.names)} are not checked",
                    component.names[0])


def _unmet(registry: Registry, problem, component: Component, held: dict[str, int]) -> Finding:
    """S015 for coupled names each valid on their own that no values meet the link of together: the link,
    its layer, the sizes that come closest and the finding there."""
    [link] = component.products or component.equalities
    layer = link.layers[-1] if isinstance(link, ProductLink) else link.layer
    names = ", ".join(component.names)
    message = (f"no values of {names} make the network valid together: `{layer.name}` needs {link.describe()}, "
               f"and no sizes valid on their own meet it")
    place: tuple[int, int, str | None] = (layer.line, layer.column, layer.name)
    if component.closest:
        message += f"; closest: {component.closest}"
        example = _example(problem, {**held, **(component.closest_sizes or {})}, layer.name)
        if example is not None:
            sizes = ", ".join(f"{name} = {value}" for name, value in (component.closest_sizes or {}).items())
            message += f"; at {sizes}: {example.code} {example.message} [{example.layer}]"
            place = (example.line, example.column, example.layer)
    return _finding(registry, problem.spec, "S015", message + "; `convlint sizes` explains each size",
                    component.names[0], place)


def reference_sizes(spec: Spec, registry: Registry) -> dict[str, int]:
    """The values of the named sizes at which summaries and budgets state numbers: the declared
    sizes when valid, else small sizes that pass each name's own conditions, with the smallest valid
    tuple for each group of names solved together (see :mod:`convlint.sizes.joint`); else the values
    :func:`reference_values` finds; 1 for each name when the solver cannot follow the spec."""
    problem = size_problem(spec, registry)
    try:
        joint = solve_joint(problem)
    except Unsupported:
        return _unsolved_reference(problem)
    return _joint_reference(joint)


def _unsolved_reference(problem) -> dict[str, int]:
    """Reference sizes when the joint solver cannot follow the spec (see :func:`reference_sizes`)."""
    try:
        return reference_values(problem)
    except Unsupported:
        return {name: 1 for name in problem.names}


def _joint_reference(joint) -> dict[str, int]:
    """Reference sizes of a solved problem: the held values, with the smallest valid tuple of each
    group of names solved together."""
    values = dict(joint.held)
    for component in joint.components:
        if component.coupled and component.why_not is None and not component.empty:
            tuples, _ = joint.tuples(component, REFERENCE_UPTO)
            if tuples:
                values.update(zip(component.names, tuples[0]))
    return values


REFERENCE_UPTO = 1024
"""The largest size :func:`reference_sizes` looks at for a valid tuple of names solved together."""


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
