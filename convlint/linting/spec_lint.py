"""All lint findings of one parsed spec, numeric or with named input sizes."""
from __future__ import annotations

from convlint.analysis.infer import Analysis, analyze
from convlint.findings import Finding
from convlint.layers.registry import Registry
from convlint.linting.enabled import enabled_findings
from convlint.sizes.contract import CONTRACT_MARKER, contract_findings
from convlint.sizes.named import lint_named_sizes
from convlint.sizes.nearest import with_nearest_sizes
from convlint.spec.model import Spec


def lint_spec(spec: Spec, registry: Registry) -> list[Finding]:
    """All findings for ``spec`` (rules that are off by default excluded), in source order.

    When the declared input size is what fails, the first size finding also names the
    nearest valid input sizes (:mod:`convlint.sizes.nearest`).
    """
    if spec.size_names:
        return enabled_findings(lint_named_sizes(spec, registry), registry)
    return reported_findings(spec, registry, analyze(spec, registry))


def reported_findings(spec: Spec, registry: Registry, analysis: Analysis) -> list[Finding]:
    """The enabled findings of an analysed numeric spec, with the nearest-valid-size hint."""
    findings = enabled_findings(analysis.findings, registry)
    if findings:
        findings = with_nearest_sizes(spec, registry, findings)
    if CONTRACT_MARKER.search(spec.source):  # the sizes the spec promises to accept
        findings = enabled_findings(findings + contract_findings(spec, registry), registry)
    return findings
