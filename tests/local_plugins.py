"""Local plugin modules the tests write: one layer type whose output has its input's shape, with a
``forward`` of the test's choosing, loaded by path (``-p layers.py``) or module name."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

_TEMPLATE = '''\
import sys
from convlint.plugin import LayerType, hookimpl


class {name}(LayerType):
    """{doc}"""

    name = "{name}"
    preserves_shape = True

    def infer(self, ctx):
        return ctx.input

    def forward(self, ctx, inputs, params):
{forward}


@hookimpl
def register_layer_types(register):
    register({name}())
'''


def plugin_source(name: str, forward: str = "return inputs[0] * 2",
                  doc: str = "Doubles its input: shape in = shape out.") -> str:
    """The source of a plugin module that registers the layer type ``name`` (also its class name): its
    ``infer`` returns the input shape, its ``forward`` is the statements ``forward`` (written unindented)."""
    return _TEMPLATE.format(name=name, doc=doc, forward=textwrap.indent(forward, " " * 8))


def write_plugin(path: Path, name: str, forward: str = "return inputs[0] * 2",
                 doc: str = "Doubles its input: shape in = shape out.") -> None:
    """Write :func:`plugin_source` to ``path``."""
    path.write_text(plugin_source(name, forward, doc))


def enter_project(root: Path, monkeypatch, spec: str) -> Path:
    """Make ``root`` the current directory, holding ``spec.yaml`` with the text ``spec``, and let the test
    import local plugins from it (``sys.path`` is restored afterwards).  Returns ``root``."""
    monkeypatch.chdir(root)
    monkeypatch.setattr(sys, "path", list(sys.path))
    (root / "spec.yaml").write_text(spec)
    return root
