"""An ONNX file read in place of a spec (``convlint lint model.onnx``, ``summary``, ``sizes``, ``render``).

The file is imported in memory and its spec text parsed as a spec would be.  Findings then point at
the ONNX file: their line is the node's 1-based position in the graph's node list (the order
Netron and ``onnx.helper.printable_graph`` show), column 1, and their message starts with the node's
name and op: ``resnet18.onnx:23:1: S003 node `/layer1/layer1.0/conv1/Conv` (Conv): …``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from convlint.findings import Finding
from convlint.importing.model import ImportedModel
from convlint.importing.onnx_graph import OnnxImportError, import_onnx
from convlint.importing.spec_writer import spec_text

ONNX_SUFFIX = ".onnx"


def is_onnx(path: Path) -> bool:
    """True for a path named ``*.onnx``."""
    return path.suffix.lower() == ONNX_SUFFIX


def imported_spec_text(model: ImportedModel) -> str:
    """The spec text of an imported ONNX model, with a header naming its file."""
    return spec_text(model, f"Imported from {Path(model.source).name} by convlint import.")


def relocated(findings: list[Finding], model: ImportedModel) -> list[Finding]:
    """``findings`` placed at the ONNX nodes their layers came from (see the module's docstring)."""
    placed = []
    for finding in findings:
        origin = model.origins.get(finding.layer or "")
        if origin is None:
            placed.append(dataclasses.replace(finding, path=model.source, line=0, column=0))
            continue
        position, described = origin
        placed.append(dataclasses.replace(finding, path=model.source, line=position, column=1,
                                          message=f"{described}: {finding.message}"))
    return placed


def load_onnx(path: Path, registry=None):
    """``(model, spec text)`` of the ONNX file at ``path``; :class:`OnnxImportError` when it cannot be read."""
    from convlint.layers.registry import default_registry
    model = import_onnx(path, registry or default_registry())
    return model, imported_spec_text(model)


__all__ = ["OnnxImportError", "is_onnx", "load_onnx", "relocated"]
