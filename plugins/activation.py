"""Activations beyond those of :mod:`convlint_plugins.basic`: Hardsigmoid, Mish, Softplus and PReLU."""
from __future__ import annotations

from convlint import LayerContext, LayerType, hookimpl
from convlint.layers.keywords import Choice, Float, Int
from .basic import INPLACE, Elementwise


class Activation(Elementwise):
    """A shape-preserving activation run by a function of :mod:`convlint.execute.kernels.activation`."""

    preserves_shape = True

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels import activation
        assert self.kernel is not None, "every Activation names its kernel"
        function = getattr(activation, self.kernel)
        return function(inputs[0], **{name: ctx.args[key] for name, key in self.kernel_args.items()})

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        assert self.kernel is not None, "every Activation names its kernel"
        return ONNX_ACTIVATIONS[self.kernel](graph, inputs[0], ctx.args)


def _softplus(graph, x: str, args) -> str:
    """PyTorch's Softplus: ``log(1 + exp(β·x)) / β``, and ``x`` itself where ``β·x > threshold``."""
    scaled = graph.node("Mul", [x, graph.scalar(args["beta"])])
    smooth = graph.node("Div", [graph.node("Softplus", [scaled]), graph.scalar(args["beta"])])
    return graph.node("Where", [graph.node("Greater", [scaled, graph.scalar(args["threshold"])]), x, smooth])


ONNX_ACTIVATIONS = {
    "hardsigmoid": lambda graph, x, args: graph.node("HardSigmoid", [x], alpha=1 / 6, beta=0.5),
    "mish": lambda graph, x, args: graph.node("Mul", [x, graph.node("Tanh", [graph.node("Softplus", [x])])]),
    "softplus": _softplus,
}
"""Kernel name → the function that adds its ONNX nodes: ``(graph, input, args) → output``."""


def activation_types() -> list[LayerType]:
    """Hardsigmoid, Mish and Softplus, each with the keywords of its torch.nn class."""
    return [
        Activation("Hardsigmoid", "activation", {"inplace": INPLACE}, "hardsigmoid").importing(
            ("HardSigmoid",), ("torch.nn.functional.hardsigmoid",), requires={"alpha": (1 / 6, 0.2), "beta": (0.5, 0.5)}),
        Activation("Mish", "activation", {"inplace": INPLACE}, "mish"),
        Activation("Softplus", "activation", {"beta": Float(1.0, "sharpness: log(1 + exp(beta·x)) / beta"),
                                              "threshold": Float(20.0, "above beta·x > threshold, the identity")},
                   "softplus", {"beta": "beta", "threshold": "threshold"}),
    ]


class PReLU(LayerType):
    """``torch.nn.PReLU``: ``x`` where ``x ≥ 0``, else a learnt slope times ``x``.

    Parameters: ``num_parameters`` slopes, 1 (shared) or one per channel (dim 1), initialised to ``init``.
    """

    name = "PReLU"
    family = "activation"
    preserves_shape = True
    keywords = {
        "num_parameters": Int(1, "1 slope for all channels, or one per channel", minimum=1),
        "init": Float(0.25, "initial slope"),
    }

    def infer(self, ctx: LayerContext):
        count = ctx.args["num_parameters"]
        if count != 1:
            channels = ctx.input[1] if len(ctx.input) > 1 else 1
            if count != channels:
                ctx.report("S008", f"num_parameters is {count}, but `{ctx.layer.sources[0]}` gives {channels} "
                                   f"channels; set num_parameters: {channels} or 1", "num_parameters")
                return None
        return ctx.input

    def parameter_shapes(self, ctx: LayerContext) -> dict:
        return {"weight": (ctx.args["num_parameters"],)}

    def initial_parameters(self, ctx: LayerContext, rng) -> dict:
        import numpy
        return {"weight": numpy.full((ctx.args["num_parameters"],), ctx.args["init"], numpy.float32)}

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels.activation import prelu
        return prelu(inputs[0], params["weight"])

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        return [(position, position)]

    # ---- Import (convlint import) ----
    onnx_ops = ("PRelu",)

    def from_onnx(self, node):
        """The slope, one or one per channel (broadcast as ``(C, 1, 1)``), as ``weight``."""
        from convlint.importing.onnx_node import Imported
        slope = node.constant(1)
        if slope is None or (slope.size > 1 and slope.reshape(-1).size != slope.shape[0]):
            return None
        keywords = {} if slope.size == 1 else {"num_parameters": int(slope.size)}
        return Imported(keywords, {"weight": slope.reshape(-1).copy()}, sources=[0])

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``PRelu``, the slopes shaped to broadcast over the channels."""
        return graph.node("PRelu", [inputs[0], graph.per_channel(params["weight"], len(ctx.input))])


class StochasticDepth(Elementwise):
    """``torchvision.ops.StochasticDepth``: drops whole residual branches in training, the identity at inference."""

    preserves_shape = True

    def __init__(self):
        super().__init__("StochasticDepth", "dropout", {
            "p": Float(doc="probability of dropping the branch", minimum=0, maximum=1),
            "mode": Choice(("batch", "row"), doc="drop for the whole batch or per sample"),
        })

    # --- export (convlint export) ---
    torch_imports = ("torchvision.ops",)

    def torch_module(self, args):
        """``torchvision.ops.StochasticDepth``."""
        return f"torchvision.ops.StochasticDepth({', '.join(f'{key}={value}' for key, value in args.items())})"


@hookimpl
def register_layer_types(register):
    for layer_type in (*activation_types(), PReLU(), StochasticDepth()):
        register(layer_type)
