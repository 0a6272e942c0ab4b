"""What both exports start from: the spec checked by the one lint pipeline, refused when it has errors.

A spec with lint errors is not exported (:class:`SpecRefused` carries its findings); its warnings are
kept by layer, for the generated code to carry them as comments.  For a spec whose inputs have
sizes to solve, the valid sizes come from the size solver (:mod:`convlint.sizes`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from convlint.analysis.infer import Analysis, NodeInfo
from convlint.findings import Finding, Severity
from convlint.layers.layer_type import LayerContext, LayerType
from convlint.layers.registry import Registry
from convlint.linting.config import Config
from convlint.linting.runner import check_spec
from convlint.spec.model import Spec

SIZES_SHOWN = 64
"""Valid sizes are described as sets; this bounds the sizes the solver lists in examples."""


class SpecRefused(Exception):
    """The spec has lint errors; ``findings`` lists them."""

    def __init__(self, findings: list[Finding]):
        super().__init__(f"the spec has {len(findings)} lint error(s); fix them before exporting it")
        self.findings = findings


@dataclass
class Prepared:
    """A spec ready to export.

    ``analysis``: the inference of every layer (for a spec with named sizes, at the sizes ``sizes_at``);
    ``warnings``: layer name → the warnings lint reports on it; ``valid_sizes``: one line per size the
    solver follows, such as ``H: H is a multiple of 8 (with W = 128)``; ``size_names``: where each
    solved size sits, as ``(input name, dim) → size name``.
    """

    spec: Spec
    registry: Registry
    analysis: Analysis
    warnings: dict[str, list[Finding]]
    sizes_at: dict[str, int] = field(default_factory=dict)
    valid_sizes: list[str] = field(default_factory=list)
    size_names: dict[tuple[str, int], str] = field(default_factory=dict)

    def context(self, name: str) -> tuple[LayerType, LayerContext, NodeInfo]:
        """The type, context and inference of layer ``name``."""
        node = self.analysis.nodes[name]
        assert node.context is not None, f"layer {name} was not inferred"
        return self.registry.types[node.type], node.context, node


def prepare(spec: Spec, registry: Registry, config: Config | None = None) -> Prepared:
    """Check ``spec`` (built graph) with :func:`~convlint.linting.runner.check_spec`; raises
    :class:`SpecRefused` when it has errors."""
    checked = check_spec(spec, registry, config)
    errors = [finding for finding in checked.findings if finding.severity is Severity.ERROR]
    if errors:
        raise SpecRefused(errors)
    warnings: dict[str, list[Finding]] = {}
    for finding in checked.findings:
        warnings.setdefault(finding.layer or "", []).append(finding)
    prepared = Prepared(spec, registry, checked.analysis, warnings, checked.sizes_at)
    _solve_sizes(prepared)
    return prepared


def _solve_sizes(prepared: Prepared) -> None:
    """Fill in ``valid_sizes`` and ``size_names`` from the size solver (a note when it cannot follow a layer)."""
    from convlint.sizes.report import SizesError, sizes_report
    try:
        report = sizes_report(prepared.spec, prepared.registry, {}, SIZES_SHOWN)
    except SizesError as error:
        prepared.valid_sizes = [f"not known: {error}"]
        return
    for name, places in report.problem.positions.items():
        for place in places:
            prepared.size_names[place] = name
    for solution in report.solutions:
        held = ", ".join(f"{name} = {value}" for name, value in solution.held.items())
        prepared.valid_sizes.append(f"{solution.name}: {solution.valid.describe(solution.name)}"
                                    + (f" (with {held})" if held else ""))
