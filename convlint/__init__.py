"""convlint: check the size arithmetic of convolutional networks written as YAML specs.

Python API::

    spec = convlint.load("specs/unet.yaml")    # Spec, with spec.graph a networkx.DiGraph
    findings = convlint.lint(spec)             # list of Finding
    table = convlint.summarize(spec)           # dict: layers, shapes, params, diagnostics
    outputs = convlint.run(spec, {"image": x})  # dict: output layer → numpy array

Plugins subclass :class:`LayerType` and register instances through the
``register_layer_types`` hook (``@convlint.hookimpl``); :mod:`convlint.plugin` holds the
whole plugin API (docs/plugins.md).
"""
from __future__ import annotations

from convlint.findings import Finding, Severity
from convlint.layers.hookspecs import hookimpl
from convlint.layers.layer_type import LayerContext, LayerType
from convlint.rules import Rule
from convlint.api import analyze, default_registry, lint, load, run, summarize

__all__ = [
    "Finding", "LayerContext", "LayerType", "Rule", "Severity", "analyze", "default_registry", "hookimpl", "lint",
    "load", "run", "summarize",
]
__version__ = "0.1.0"
