"""Diagram roles and labels come from the layer type: a plugin type drawn like a built-in one of its role."""
from __future__ import annotations

from convlint.analysis.loading import analyze_numeric, load_spec_text
from convlint.layers.registry import load_registry
from convlint.plugin import LayerType, hookimpl
from convlint.render.diagram import build_diagram


class Stack(LayerType):
    """Concatenates channels (a plugin's own Concat)."""

    name = "Stack"
    family = "merge"
    diagram_role = "concat"
    min_inputs, max_inputs = 2, None

    def infer(self, ctx):
        first = ctx.inputs[0]
        return (first[0], sum(shape[1] for shape in ctx.inputs), *first[2:])


class Squash(LayerType):
    """A shape-preserving activation that folds into the box before it, labelled with its own text."""

    name = "Squash"
    family = "activation"
    diagram_role = "fold"

    def infer(self, ctx):
        return ctx.input


class Resize(LayerType):
    """Takes the spatial size of its second input, which it only reads for that size."""

    name = "Resize"
    diagram_role = "crop"
    max_inputs = 2

    def infer(self, ctx):
        return (*ctx.inputs[0][:2], *ctx.inputs[1][2:])

    def label(self, args):
        return "to size"


class Plugin:
    @hookimpl
    def register_layer_types(self, register):
        for layer_type in (Stack(), Squash(), Resize()):
            register(layer_type)


REGISTRY = load_registry(only_distribution="convlint", extra=[("roles", Plugin())])
SPEC = """
inputs: {x: [1, 3, 16, 16]}
layers:
  - {name: a, type: Conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {name: act, type: Squash}
  - {name: b, type: Conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {name: fit, type: Resize, from: b, like: act}
  - {name: cat, type: Stack, from: [fit, act]}
"""


def _diagram(fold: bool = True):
    spec = load_spec_text(SPEC, "roles.yaml")
    return build_diagram(analyze_numeric(spec, REGISTRY), [], REGISTRY, fold=fold)


def test_a_plugin_fold_role_draws_it_inside_the_box_before_it():
    diagram = _diagram()
    assert "act" not in diagram.boxes and diagram.boxes["a"].folded == [("Squash", "act")]
    assert "act" in _diagram(fold=False).boxes


def test_a_plugin_concat_role_numbers_its_inputs():
    orders = {edge.tail: edge.order for edge in _diagram().edges if edge.head == "cat"}
    assert orders == {"fit": 1, "a": 2}
    assert _diagram().boxes["cat"].role == "concat"


def test_a_plugin_crop_role_marks_its_size_input_and_its_label_is_its_own():
    diagram = _diagram()
    references = {(edge.tail, edge.head): edge.reference for edge in diagram.edges if edge.head == "fit"}
    assert references == {("b", "fit"): False, ("a", "fit"): True}
    assert diagram.boxes["fit"].args == "to size"


def test_an_unknown_role_is_a_plugin_fault():
    class Odd(LayerType):
        name = "Odd"
        diagram_role = "sideways"

        def infer(self, ctx):
            return ctx.input

    class OddPlugin:
        @hookimpl
        def register_layer_types(self, register):
            register(Odd())

    registry = load_registry(only_distribution="convlint", extra=[("odd", OddPlugin())])
    assert "Odd" not in registry.types
    assert registry.problems == ["plugin `odd` registered layer type `Odd` with diagram_role 'sideways'; "
                                 "use one of box, fold, merge, concat, crop"]
