"""The plugin hooks of convlint.

A plugin is a module (or object) with functions marked ``@convlint.hookimpl``,
published under the ``convlint`` entry-point group.  The built-in layers in
``convlint_plugins`` load exactly this way.
"""
from __future__ import annotations

from typing import Callable

import pluggy

from convlint.layers.layer_type import LayerType
from convlint.rules import Rule

hookspec = pluggy.HookspecMarker("convlint")
hookimpl = pluggy.HookimplMarker("convlint")


@hookspec
def register_layer_types(register: Callable[[LayerType], None]) -> None:
    """Call ``register(layer_type)`` once for each :class:`~convlint.LayerType` the plugin provides.

    :param register: adds one layer type; a type name owned by another plugin is reported as X001.
    """


@hookspec
def register_rules(register: Callable[[Rule], None]) -> None:
    """Call ``register(rule)`` for each new finding code the plugin's layer types report.

    :param register: adds one :class:`~convlint.rules.Rule`; a code already defined is reported as X001.
    """
