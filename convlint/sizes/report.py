"""``convlint sizes``: the valid input sizes of a spec, in words and as JSON, and why a size fails.

The work is done by :mod:`convlint.sizes.solver`; this module chooses the
values held fixed, runs the solver for every named size and prints.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable

from convlint.report.concise import concise
from convlint.findings import Finding
from convlint.layers.registry import Registry
from convlint.sizes.contract import Contract, declared_contracts
from convlint.sizes.joint import Component, JointSolution, solve_joint
from convlint.sizes.solver import SizeSet, Solution, SizeProblem, size_problem, solve
from convlint.spec.model import Spec
from convlint.sizes.symbolic import Unsupported


class SizesError(Exception):
    """A request ``convlint sizes`` cannot answer (unknown name, unsupported layer)."""


@dataclass
class Tried:
    """A tried assignment: the sizes, what lint reports there, and per tried name the nearest valid
    values and the valid set, both with the other sizes as tried."""

    values: dict[str, int]
    findings: list[Finding]
    nearest: dict[str, tuple[int | None, int | None]]
    valid_sets: dict[str, SizeSet]


@dataclass
class SizesReport:
    """Everything ``convlint sizes`` prints for one spec."""

    problem: SizeProblem
    joint: JointSolution
    tried: Tried | None
    upto: int
    contracts: dict[str, Contract] = field(default_factory=dict)
    """The spec's size contracts (``sizes:``), by name."""
    lint: "Callable[[Spec], list[Finding]] | None" = None
    """What ``convlint lint`` reports for the spec at other sizes (configuration and noqa applied);
    ``None``: every finding of an enabled rule."""

    def findings_at(self, values: dict[str, int]) -> list[Finding]:
        """The findings reported with the named sizes at ``values``."""
        if self.lint is None:
            return self.problem.findings(values)
        return self.lint(self.problem.instantiate(values))

    @property
    def solutions(self) -> list[Solution]:
        """Per name, its valid values (for some values of the other names)."""
        return self.joint.solutions

    def held_for(self, solution: Solution) -> dict[str, int]:
        """The other sizes ``solution`` was solved with, when they matter: names coupled in a way not
        followed jointly are solved one at a time with the others held."""
        return solution.held if self.joint.component_of(solution.name).why_not is not None else {}

    def broken(self, solution: Solution) -> int | None:
        """The smallest size of ``solution``'s name that its contract promises and that is not valid."""
        contract = self.contracts.get(solution.name)
        return None if contract is None else contract.first_outside(solution.valid)


def parse_try(items: list[str], option: str = "--try") -> dict[str, int]:
    """``["H=500", "W=300"]`` → ``{"H": 500, "W": 300}``; raises :class:`SizesError` for a bad item,
    naming the command-line ``option`` that gave it."""
    values = {}
    for item in items:
        name, _, number = item.partition("=")
        number = number.strip()
        if not name or not re.fullmatch(r"[0-9]{1,18}", number) or int(number) < 1:
            raise SizesError(f"{option} expects NAME=SIZE with a positive integer size (at most 18 digits), "
                             f"got {ascii(item)}")
        values[name.strip()] = int(number)
    return values


def sizes_report(spec: Spec, registry: Registry, tries: dict[str, int], upto: int,
                 lint: "Callable[[Spec], list[Finding]] | None" = None) -> SizesReport:
    """Solve every named size of ``spec`` and evaluate the tried sizes; ``lint`` gives the findings
    reported at a size (see :attr:`SizesReport.lint`).

    Raises :class:`SizesError` for an unknown name in ``tries`` or a layer the solver cannot follow.
    """
    problem = size_problem(spec, registry)
    if not problem.names:
        raise SizesError(f"{spec.path}: the inputs have no spatial or named sizes to solve for")
    unknown = [name for name in tries if name not in problem.positions]
    if unknown:
        raise SizesError(f"--try names {', '.join(unknown)}, but the sizes are {', '.join(problem.names)}")
    try:
        joint = solve_joint(problem)
    except Unsupported as error:
        raise SizesError(f"{spec.path}: {error}") from None
    held = joint.held
    if tries:  # the other sizes as declared (numeric spec), else as held; linked ones from the nearest tuple
        values = {**(problem.declared or held), **_linked(joint, tries, upto), **tries}
        try:
            sets = {name: joint.solutions[problem.names.index(name)].valid if _jointly(joint, name)
                    else solve(problem, name, values).valid for name in tries}
        except Unsupported as error:
            raise SizesError(f"{spec.path}: {error}") from None
        nearest = {name: sets[name].nearest(value) for name, value in tries.items()}
    contracts = {contract.name: contract for contract in declared_contracts(spec, problem.names, registry)[0]}
    report = SizesReport(problem, joint, None, upto, contracts, lint)
    if tries:
        report.tried = Tried(values, report.findings_at(values), nearest, sets)
    return report


def _jointly(joint: JointSolution, name: str) -> bool:
    """True for a name solved together with others (its valid set is for some values of them)."""
    component = joint.component_of(name)
    return component.coupled and component.why_not is None


def _linked(joint: JointSolution, tries: dict[str, int], upto: int) -> dict[str, int]:
    """For the names solved together with a tried one: their values in the valid tuple nearest the tried sizes."""
    values: dict[str, int] = {}
    for component in joint.components:
        tried = [name for name in component.names if name in tries]
        if not tried or not _jointly(joint, tried[0]) or component.empty:
            continue
        tuples, _ = joint.tuples(component, max(upto, *tries.values()))
        if tuples:
            best = min(tuples, key=lambda item: sum(abs(item[component.names.index(name)] - tries[name])
                                                    for name in tried))
            values.update(zip(component.names, best))
    return values


def _places(problem: SizeProblem, name: str) -> str:
    return ", ".join(f"{input_name} dim {index}" for input_name, index in problem.positions[name])


def _assignment(values: dict[str, int]) -> str:
    return ", ".join(f"{name} = {value}" for name, value in values.items())


def render_text(report: SizesReport) -> str:
    """The human-readable report: conditions, smallest values, and the tried sizes."""
    problem = report.problem
    spec = problem.spec
    lines = [f"{spec.name}  ({spec.path})"]
    if problem.declared:
        names = ", ".join(f"{name} ({_places(problem, name)}, declared {problem.declared[name]})"
                          for name in problem.names)
        lines.append(f"The input sizes are fixed numbers; solving for the spatial sizes {names}.")
    lines.append("Valid means `convlint lint` reports nothing: every layer's input is fully read, "
                 "no output is empty, merged tensors match.")
    for solution in report.solutions:
        held = report.held_for(solution)
        coupled = report.joint.component_of(solution.name).coupled and not held
        lines.append("")
        lines.append(f"{solution.name}{f'  (with {_assignment(held)})' if held else ''}")
        lines.append(f"  valid{' for some values of the other sizes' if coupled else ''}: "
                     f"{solution.valid.describe(solution.name)}")
        smallest = solution.valid.smallest(10)
        if smallest:
            lines.append(f"  smallest: {', '.join(map(str, smallest))}")
        if solution.name in report.contracts:
            broken = report.broken(solution)
            verdict = "every size valid" if broken is None else f"{solution.name} = {broken} is not valid (the smallest)"
            lines.append(f"  contract {report.contracts[solution.name].describe()}: {verdict}")
        lines.append(f"  exact: every {solution.name} < {solution.threshold + solution.period} checked layer by layer; "
                     f"beyond, validity repeats with period {solution.period}")
        if solution.valid.empty and not coupled:
            lines += _render_never(report, solution)
    for component in report.joint.components:
        if component.coupled:
            lines.append("")
            lines += _render_component(report, component)
    if report.tried is not None:
        lines.append("")
        lines.extend(_render_tried(report.tried))
    return "\n".join(lines) + "\n"


def _render_never(report: SizesReport, solution: Solution) -> list[str]:
    """Why no value of ``solution``'s name is valid: the layer at fault, the closest sizes, the findings there."""
    lines = []
    closest = solution.closest
    example = solution.threshold + solution.period - 1
    if closest is not None and solution.name in report.joint.never:
        lines.append(f"  `{closest.layer.name}` fails at every {solution.name} that the layers before it accept")
        if closest.sizes:
            shown = [f"{solution.name} = {x} ({', '.join(f'{a} against {b}' for a, b in values)})"
                     for x, values in zip(closest.sizes, closest.values)]
            lines.append(f"  closest: {' or '.join(shown)}")
            example = closest.sizes[0]
    findings = report.findings_at({**report.joint.held, solution.name: example})
    lines.append(f"  at {solution.name} = {example}:")
    return lines + ["    " + line for line in concise(findings[:3]).splitlines()]


def _render_component(report: SizesReport, component: Component) -> list[str]:
    """The valid tuples of coupled names: the joint conditions, the links, the tuples up to ``--upto``."""
    names = ", ".join(component.names)
    if component.why_not is not None:
        return [f"{names} together: not followed jointly ({component.why_not}); each is solved above with the "
                f"others held"]
    lines = [f"{names} together: {component.describe()}"]
    lines += [f"  link: {link}" for link in component.links()]
    if component.empty:
        if component.closest:
            lines.append(f"  no values meet the link; closest: {component.closest}")
        return lines
    tuples, cut = report.joint.tuples(component, report.upto)
    shown = ", ".join(f"({', '.join(map(str, item))})" for item in tuples[:20])
    more = f", … ({'more than ' if cut else ''}{len(tuples)} in all)" if len(tuples) > 20 or cut else ""
    lines.append(f"  valid ({names}) up to {report.upto}: {shown or 'none'}{more}")
    return lines


def _render_tried(tried: Tried) -> list[str]:
    if not tried.findings:
        return [f"{_assignment(tried.values)}: valid"]
    lines = [f"{_assignment(tried.values)}: not valid"]
    lines += ["  " + line for line in concise(tried.findings).splitlines()]
    for name, (below, above) in tried.nearest.items():
        if tried.values[name] in tried.valid_sets[name]:
            lines.append(f"  {name} = {tried.values[name]} is valid with other values of the other sizes")
            continue
        options = [f"{name} = {value}" for value in (below, above) if value is not None]
        lines.append(f"  nearest valid: {' or '.join(options) if options else 'none'}")
    return lines


def render_json(report: SizesReport) -> dict:
    """``{"path", "name", "fixed_sizes", "symbols": {NAME: {"valid", "conditions", ...}}, "joint": [...], "try"}``.

    ``valid``: the values of the name valid for some values of the other names, up to
    ``--upto``; ``joint``: per group of coupled names, their conditions together, the
    links between them and the valid tuples with every size up to ``--upto``."""
    symbols = {}
    for solution in report.solutions:
        symbols[solution.name] = {
            "valid": solution.valid.values(report.upto),
            "conditions": solution.valid.describe(solution.name),
            "smallest": solution.valid.smallest(10),
            "period": solution.valid.period,
            "positions": [[name, index] for name, index in report.problem.positions[solution.name]],
        }
        held = report.held_for(solution)
        if held:
            symbols[solution.name]["held"] = held
        if solution.name in report.contracts:
            symbols[solution.name]["contract"] = {"promised": report.contracts[solution.name].describe(),
                                                  "first_invalid": report.broken(solution)}
    joint = []
    for component in report.joint.components:
        if not component.coupled:
            continue
        entry: dict = {"names": component.names, "jointly": component.why_not is None}
        if component.why_not is not None:
            entry["why_not"] = component.why_not
        else:
            tuples, cut = report.joint.tuples(component, report.upto)
            entry.update({"conditions": component.describe(), "links": component.links(),
                          "tuples": [list(item) for item in tuples], "truncated": cut})
            if component.closest:
                entry["closest"] = component.closest
        joint.append(entry)
    data = {"path": report.problem.spec.path, "name": report.problem.spec.name,
            "fixed_sizes": bool(report.problem.declared), "symbols": symbols, "joint": joint}
    if report.tried is not None:
        data["try"] = {
            "values": report.tried.values,
            "valid": not report.tried.findings,
            "findings": [finding.to_json() for finding in report.tried.findings],
            "nearest": {name: list(pair) for name, pair in report.tried.nearest.items()},
        }
    return data


def render_torch_export(report: SizesReport) -> str:
    """Python text that binds ``dynamic_shapes`` for ``torch.export.export``, stating each valid set.

    A set ``{r + p·k : k ≥ m}`` is ``p*Dim("H_p", min=m) + r``; a set that PyTorch's
    ``Dim`` cannot state (several residues, exceptions, no valid size) gets a comment and
    its dim stays static (at the declared or held size).  Keys are the spec's input names,
    so the exported module's ``forward`` takes the inputs under those names.
    """
    problem = report.problem
    lines = [f"# dynamic_shapes for torch.export.export of {problem.spec.name} ({problem.spec.path}),",
             "# the exact valid input sizes found by `convlint sizes`",
             "from torch.export import Dim", ""]
    shapes: dict[str, dict[int, str]] = {decl: {} for decl in problem.spec.inputs}
    for component in report.joint.components:
        if component.coupled and component.why_not is None:
            lines.append(f"# {', '.join(component.names)} are linked ({'; '.join(component.links())}), which a "
                         f"Dim cannot state, so they stay static")
    for solution in report.solutions:
        name, valid = solution.name, solution.valid
        component = report.joint.component_of(name)
        if component.coupled and component.why_not is None:
            continue
        variable = re.sub(r"\W", "_", name)
        dim = _dim_expression(variable, valid)
        if dim is None:
            lines.append(f"# {name}: {valid.describe(name)}; not a Dim expression, so {name} stays static")
            continue
        identifier, least, expression = dim
        lines.append(f'{identifier} = Dim("{identifier}", min={least})  # {valid.describe(name)}')
        for input_name, index in problem.positions[name]:
            shapes[input_name][index] = expression
    entries = ", ".join(f"{json.dumps(input_name)}: {{{', '.join(f'{i}: {e}' for i, e in dims.items())}}}"
                        for input_name, dims in shapes.items())
    lines += ["", f"dynamic_shapes = {{{entries}}}", ""]
    return "\n".join(lines)


def _dim_expression(variable: str, valid: SizeSet) -> tuple[str, int, str] | None:
    """(the ``Dim``'s name, its least value, the expression for the shape) of a set that is one
    residue class from a start; ``None`` for any other set."""
    if valid.extra or len(valid.residues) != 1:
        return None
    [residue] = valid.residues
    period = valid.period
    first = valid.start + (residue - valid.start) % period  # the smallest valid size
    if period == 1:
        return variable, first, variable
    identifier = f"{variable}_{period}"
    offset = first % period
    return identifier, first // period, f"{period} * {identifier}" + (f" + {offset}" if offset else "")
