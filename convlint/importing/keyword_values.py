"""Keyword values read from an imported model, written as a hand-written spec would write them."""
from __future__ import annotations

from typing import Any, Mapping

from convlint.layers.keywords import REQUIRED


PER_AXIS_KINDS = ("ints", "padding", "sizes", "floats")
"""Keyword kinds with one value per spatial axis, written as one value when the axes agree."""


def plain(value: Any) -> Any:
    """``value`` as a YAML value: tuples and lists as lists, a tensor (``module.bias``) as ``true``,
    NumPy and torch scalars as Python numbers; ``None`` stays ``None``."""
    if isinstance(value, (tuple, list)):
        return [plain(item) for item in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "shape") and getattr(value, "ndim", 1) > 0:  # a parameter tensor or array
        return True
    if hasattr(value, "item"):
        return value.item()
    return value


def _same(value: Any, default: Any) -> bool:
    """True when ``value`` says what ``default`` says (``[1, 1]`` for a per-axis default ``1``)."""
    if isinstance(value, list) and not isinstance(default, (list, tuple)):
        return all(_same(item, default) for item in value)
    if isinstance(value, list) and isinstance(default, (list, tuple)):
        return list(value) == list(default)
    return type(value) is type(default) and value == default or (
        isinstance(value, float) and isinstance(default, (int, float)) and not isinstance(default, bool)
        and abs(value - default) <= 1e-9 * max(1.0, abs(default)))


def _short(value: Any) -> Any:
    """A list of equal entries as one entry (``[3, 3]`` → ``3``), as specs write per-axis keywords."""
    if isinstance(value, list) and value and len(set(map(repr, value))) == 1 and not isinstance(value[0], list):
        return value[0]
    return value


def keyword_values(layer_type: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` (keyword → value read from the model) without the keywords in the type's
    ``import_omits`` and those equal to their defaults, the rest written plainly (see :func:`plain`)."""
    kept = {}
    for key, raw in values.items():
        keyword = layer_type.keywords.get(key)
        if keyword is None or key in layer_type.import_omits:
            continue
        value = plain(raw)
        if keyword.kind == "bool" and value is None:  # ``module.bias`` is None without a bias
            value = False
        if keyword.default is not REQUIRED and (_same(value, keyword.default) or value == keyword.default):
            continue
        kept[key] = _short(value) if keyword.kind.split()[-1] in PER_AXIS_KINDS else value
    return kept
