"""Size contracts: the input sizes a spec promises to accept, proved by lint (S017).

A spec may declare, beside its inputs::

    sizes:
      H: {min: 256, max: 2048, multiple_of: 32}
      W: H                      # the same promise as H
      D: [16, 32, 64]           # or a list of sizes

Every size of the contract must be valid for some values of the other names (the
values :mod:`convlint.sizes.joint` lists per name, as ``convlint sizes`` does).  The proof is
exact and never tries the sizes one by one: below the solver's start the few
sizes are looked up, and beyond it a multiple of ``multiple_of`` is valid
according to its residue modulo the valid set's period, so at most
``period / gcd(period, multiple_of)`` residues decide a contract of any length.
The smallest size that breaks the promise is reported with the finding lint
gives there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from math import gcd
from typing import TYPE_CHECKING

from convlint.findings import Finding
from convlint.layers.keywords import show
from convlint.layers.registry import Registry
from convlint.spec.model import Spec
from convlint.spec.yaml_source import Node, YamlError, load_yaml

if TYPE_CHECKING:  # the solver is imported where a contract is checked: most specs have none
    from convlint.sizes.solver import SizeProblem, SizeSet, Solution

CONTRACT_MARKER = re.compile(r"^sizes\s*:", re.MULTILINE)
"""A spec without a top-level ``sizes:`` line has no contract (the YAML is not read again)."""

MAX_VALUES = 10_000
"""The most sizes a contract may list one by one."""


@dataclass(frozen=True)
class Contract:
    """The sizes promised for one name: ``values`` (a list), or multiples of ``step`` in ``least..most``
    (``most`` ``None``: no upper end); ``line``/``column``: where the promise is written."""

    name: str
    values: tuple[int, ...] | None
    least: int
    most: int | None
    step: int
    line: int
    column: int

    def describe(self) -> str:
        """``256 ≤ H ≤ 2048, multiple of 32`` or ``H in 16, 32, 64``."""
        if self.values is not None:
            return f"{self.name} in {', '.join(map(str, self.values))}"
        text = f"{self.least} ≤ {self.name}" + (f" ≤ {self.most}" if self.most is not None else "")
        return text + (f", multiple of {self.step}" if self.step > 1 else "")

    def first_outside(self, valid: SizeSet) -> int | None:
        """The smallest promised size that ``valid`` does not hold (``None``: all are valid)."""
        if self.values is not None:
            return min((value for value in self.values if value not in valid), default=None)
        size = -(-self.least // self.step) * self.step
        while size < valid.start and (self.most is None or size <= self.most):
            if size not in valid:
                return size
            size += self.step
        for _ in range(valid.period // gcd(valid.period, self.step)):  # residues repeat after this many steps
            if self.most is not None and size > self.most:
                return None
            if size % valid.period not in valid.residues:
                return size
            size += self.step
        return None


def declared_contracts(spec: Spec, names: list[str], registry: Registry) -> tuple[list[Contract], list[Finding]]:
    """The spec's contracts for the size ``names``, and a Y002 finding for each one written wrong."""
    if not CONTRACT_MARKER.search(spec.source):
        return [], []
    try:
        data = load_yaml(spec.source).data
    except YamlError:
        return [], []
    if not isinstance(data, Node) or not isinstance(data.get("sizes"), dict):
        return [], _problem(spec, registry, data, None, "`sizes` must map size names to a contract")
    raw: Node = data["sizes"]
    contracts, findings = {}, []
    for name, value in raw.items():
        if name not in names:
            findings += _problem(spec, registry, raw, name, f"`sizes` names {show(name)}, but the sizes are "
                                                            f"{', '.join(names) or 'none'}")
            continue
        line, column = raw.position_of(name)
        contract = _contract(str(name), raw.get(value) if isinstance(value, str) and value in raw else value,
                             line, column)
        if contract is None:
            findings += _problem(spec, registry, raw, name, f"`sizes.{name}` must be a list of at most "
                                                            f"{MAX_VALUES:,} positive sizes, a mapping with "
                                                            f"`min`, `max` and `multiple_of` (positive integers), "
                                                            f"or another size's name; got {show(value)}")
            continue
        contracts[name] = contract
    return list(contracts.values()), findings


def _contract(name: str, value, line: int, column: int) -> Contract | None:
    def positive(item) -> bool:
        return isinstance(item, int) and not isinstance(item, bool) and item >= 1

    if isinstance(value, list):
        if not value or len(value) > MAX_VALUES or not all(positive(item) for item in value):
            return None
        return Contract(name, tuple(sorted(set(value))), 1, None, 1, line, column)
    if not isinstance(value, dict) or not set(value) <= {"min", "max", "multiple_of"}:
        return None
    least, most, step = value.get("min", 1), value.get("max"), value.get("multiple_of", 1)
    if not all(positive(item) for item in (least, step)) or (most is not None and not positive(most)):
        return None
    return Contract(name, None, least, most, step, line, column)


def _problem(spec: Spec, registry: Registry, node, key, message: str) -> list[Finding]:
    line, column = node.position_of(key if key is not None else "sizes") if isinstance(node, Node) else (1, 1)
    return [Finding("Y002", registry.rules["Y002"].severity, message, spec.path, line, column, None)]


def contract_findings(spec: Spec, registry: Registry, problem: SizeProblem | None = None,
                      solutions: list[Solution] | None = None) -> list[Finding]:
    """S017 for each contract with a size that is not valid (the smallest), and Y002 for a malformed one.

    ``problem`` and ``solutions`` are solved here when not given (a spec with numeric sizes).
    """
    if not CONTRACT_MARKER.search(spec.source):
        return []
    from convlint.sizes.joint import solve_all
    from convlint.sizes.solver import size_problem
    from convlint.sizes.symbolic import Unsupported
    problem = problem or size_problem(spec, registry)
    contracts, findings = declared_contracts(spec, problem.names, registry)
    if not contracts:
        return findings
    try:
        _, solutions = (None, solutions) if solutions is not None else solve_all(problem)
    except Unsupported:
        return findings  # lint reports S016 for a named-size spec; a numeric spec has no proof to give
    by_name = {solution.name: solution for solution in solutions}
    for contract in contracts:
        solution = by_name[contract.name]
        broken = contract.first_outside(solution.valid)
        if broken is None:
            continue
        at = problem.findings({**solution.held, contract.name: broken})
        reason = f": {at[0].code} {at[0].message.split('. ')[0]} [{at[0].layer}]" if at else ""
        place = (at[0].line, at[0].column, at[0].layer) if at else (contract.line, contract.column, None)
        held = "".join(f", {other} = {value}" for other, value in solution.held.items())
        findings.append(Finding("S017", registry.rules["S017"].severity,
                                f"the contract `{contract.describe()}` promises {contract.name} = {broken}, "
                                f"the smallest size it holds that is not valid (with {contract.name} = "
                                f"{broken}{held}){reason}", spec.path, *place))
    return findings
