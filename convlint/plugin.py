"""Everything a plugin author needs, importable from one module: ``from convlint.plugin import ...``.

See docs/plugins.md.  What is listed in ``__all__`` is the public plugin API: the hook
markers and hook specifications, :class:`LayerType` and :class:`LayerContext`, the keyword
kinds, rules and findings, and the helpers the built-in layers use for window arithmetic,
window findings and diagram labels.  Importing it imports neither NumPy nor Graphviz
(plugins load on the lint path); NumPy helpers for ``forward`` and ``initial_parameters``
live in :mod:`convlint.execute.kernels` and are imported inside those methods.
"""
from __future__ import annotations

from convlint.analysis.arithmetic import TransposedAxis, WindowAxis, adaptive_window, same_padding, transposed_out
from convlint.analysis.infer import format_shape
from convlint.analysis.window_findings import as_written, axis_symbols, check_windows, padding_fix
from convlint.findings import Finding, Fix, Severity
from convlint.layers.hookspecs import hookimpl, hookspec, register_layer_types, register_rules
from convlint.layers.keywords import (Bool, Choice, Float, FloatTuple, Int, IntList, IntTuple, Keyword, KeywordError,
                                      Optional, Padding, SizeTuple)
from convlint.layers.layer_type import DIAGRAM_ROLES, FAMILIES, LayerContext, LayerType, NotExportable, Shape
from convlint.render.labels import args_label
from convlint.rules import SECTIONS, Rule

HOOKS = (register_layer_types, register_rules)
"""The hook specifications a plugin may implement (with ``@hookimpl``)."""

__all__ = [
    "Bool", "Choice", "DIAGRAM_ROLES", "FAMILIES", "Finding", "Fix", "Float", "FloatTuple", "HOOKS", "Int", "IntList", "IntTuple",
    "Keyword", "KeywordError", "LayerContext", "LayerType", "NotExportable", "Optional", "Padding", "Rule", "SECTIONS", "Severity",
    "Shape", "SizeTuple", "TransposedAxis", "WindowAxis", "adaptive_window", "args_label", "as_written", "axis_symbols", "check_windows",
    "format_shape", "hookimpl", "hookspec", "padding_fix", "same_padding", "transposed_out",
]
