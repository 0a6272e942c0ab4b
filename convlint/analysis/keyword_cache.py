"""Keyword conversion, done once per distinct value within one analysis.

A spec with thousands of layers repeats the same few keyword values
(``kernel_size: 3``, ``padding: 1``) and leaves most keywords at their
defaults.  :class:`KeywordCache` converts each default once per layer type
and number of spatial axes, and each written scalar (or list of scalars)
once per keyword, so inference time per layer does not grow with the
number of keywords a type declares.  :meth:`~convlint.layers.keywords.Keyword.convert`
must therefore depend only on its value and ``ndim``.
"""
from __future__ import annotations

from convlint.layers.keywords import Keyword, KeywordError
from convlint.layers.layer_type import LayerType

_SCALARS = (int, str, bool, float, type(None))
MAX_CACHED_LIST = 8
"""Lists up to this long (one value per spatial axis, and then some) are cached."""


def _value_key(value):
    """A hashable stand-in for a YAML value (type-exact, so ``1``, ``1.0`` and ``true`` differ), or None."""
    kind = type(value)
    if kind in _SCALARS:
        return kind, value
    if isinstance(value, list) and len(value) <= MAX_CACHED_LIST and all(type(item) in _SCALARS for item in value):
        return list, tuple((type(item), item) for item in value)
    return None


class KeywordCache:
    """Converted defaults and keyword values, shared by the layers of one analysis.

    Layer types and keywords are keyed by identity; they outlive the analysis
    because the registry holds them.
    """

    def __init__(self):
        self._defaults: dict = {}
        self._values: dict = {}

    def defaults(self, layer_type: LayerType, ndim: int) -> tuple[dict, list[str]]:
        """(every optional keyword's converted default, the names of the required keywords)."""
        key = (id(layer_type), ndim)
        entry = self._defaults.get(key)
        if entry is None:
            args: dict[str, object] = {}
            required: list[str] = []
            for name, keyword in layer_type.keywords.items():
                if keyword.required:
                    required.append(name)
                    args[name] = None
                else:
                    args[name] = None if keyword.default is None else keyword.convert(keyword.default, ndim)
            entry = self._defaults[key] = (args, required)
        return entry

    def convert(self, keyword: Keyword, value, ndim: int) -> tuple[object, str | None]:
        """(converted value, None), or (None, the :class:`KeywordError` message) when ``value`` is wrong."""
        value_key = _value_key(value)
        key = None if value_key is None else (id(keyword), ndim, value_key)
        if key is not None and key in self._values:
            return self._values[key]
        result: tuple[object, str | None]
        try:
            result = (keyword.convert(value, ndim), None)
        except KeywordError as error:
            result = (None, str(error))
        if key is not None:
            self._values[key] = result
        return result
