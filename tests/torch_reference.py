"""Independent PyTorch oracle for convlint specs.

Builds the real ``torch.nn`` network described by a convlint YAML spec so that
tests can compare convlint's shapes, parameter counts and outputs with what
PyTorch itself computes.  This module deliberately does **not** import convlint.

Shapes follow PyTorch conventions: ``[N, C, *spatial]`` for conv-style tensors
and ``[N, features]`` for MLP tensors.  ``in_channels`` / ``in_features`` /
``num_features`` may be omitted in a spec; they are inferred by propagating the
declared input shapes through the network on the ``meta`` device (no data, no
compute), creating each module once its input shape is known.

Example::

    net = build("specs/resnet18.yaml").eval()
    shapes = net.output_shapes()            # {"conv1": (1, 64, 112, 112), ...}
    outs = net(image=torch.randn(1, 3, 224, 224))   # {"conv1": tensor, ...}
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple, Union

import torch
import yaml
from torch import nn

#: Layer types backed by a ``torch.nn`` class of the same name.
MODULE_TYPES = frozenset(
    [f"{b}{d}d" for b in ("Conv", "ConvTranspose", "MaxPool", "AvgPool",
                          "AdaptiveAvgPool", "AdaptiveMaxPool", "BatchNorm")
     for d in (1, 2, 3)]
    + ["Linear", "Flatten", "ReLU", "ReLU6", "LeakyReLU", "Sigmoid", "Tanh",
       "GELU", "SiLU", "Hardswish", "Softmax", "Dropout", "Identity", "Upsample",
       "ELU", "Dropout1d", "Dropout2d", "Dropout3d"]
)
#: Non-module merge layers: ``Concat`` (torch.cat along ``dim``, default 1)
#: and ``Add`` (elementwise sum).
MERGE_TYPES = frozenset(["Concat", "Add"])
_RESERVED = ("name", "type", "from")


class SpecError(ValueError):
    """The spec is malformed (unknown type, bad reference, bad name...)."""


def _infer_kwargs(ltype: str, kwargs: Dict[str, Any], shape: Tuple[int, ...]) -> Dict[str, Any]:
    """Fill in omitted ``in_channels``/``in_features``/``num_features``.

    ``shape`` is the incoming tensor shape: channels are ``shape[1]``,
    features are ``shape[-1]``.
    """
    kw = dict(kwargs)
    if ltype.startswith(("Conv", "ConvTranspose")):
        kw.setdefault("in_channels", shape[1])
    elif ltype == "Linear":
        kw.setdefault("in_features", shape[-1])
    elif ltype.startswith("BatchNorm"):
        kw.setdefault("num_features", shape[1])
    return kw


def _merge(ltype: str, xs: List[torch.Tensor], kwargs: Mapping[str, Any]) -> torch.Tensor:
    """Apply a Concat/Add layer to its input tensors."""
    if ltype == "Concat":
        return torch.cat(xs, dim=kwargs.get("dim", 1))
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def place_module(root: nn.ModuleDict, name: str, module: nn.Module) -> None:
    """Put ``module`` at the dotted path ``name`` under ``root``, creating ModuleDict containers on the way,
    so that ``layer1.0.conv1`` has the state-dict keys ``layer1.0.conv1.weight`` as in torchvision."""
    *parents, leaf = name.split(".")
    for part in parents:
        if part not in root:
            root[part] = nn.ModuleDict()
        root = root[part]
        if not isinstance(root, nn.ModuleDict):
            raise SpecError(f"layer name {name!r} runs through the layer {part!r}")
    root[leaf] = module


class TorchNet(nn.ModuleDict):
    """The PyTorch network of a spec: an ``nn.ModuleDict`` (hence an ``nn.Module``)
    mapping layer name -> module, with no entry for Concat/Add.  Being the
    ModuleDict itself, its ``state_dict()`` keys are ``<layer>.weight``,
    ``<layer>.bias``, ``<layer>.running_mean``...  (``net.layers`` is ``net``.)

    Attributes:
        name: the spec's ``name``.
        input_shapes: input name -> declared shape tuple ``(N, C, *spatial)``.
        layer_types: layer name -> type string, in spec order.
        sources: layer name -> list of names (inputs or earlier layers) it reads.
        output_names: the spec's declared outputs (default: the last layer).
    """

    def __init__(self, spec: Mapping[str, Any]):
        super().__init__()
        self.name = spec.get("name", "")
        self.input_shapes = {k: tuple(v) for k, v in (spec.get("inputs") or {}).items()}
        if not self.input_shapes:
            raise SpecError("spec declares no inputs")
        self.layer_types: Dict[str, str] = {}
        self.sources: Dict[str, List[str]] = {}
        self._merge_kwargs: Dict[str, Dict[str, Any]] = {}
        shapes: Dict[str, Tuple[int, ...]] = dict(self.input_shapes)
        meta = {k: torch.empty(s, device="meta") for k, s in self.input_shapes.items()}
        prev = next(iter(self.input_shapes)) if len(self.input_shapes) == 1 else None

        for i, layer in enumerate(spec.get("layers") or []):
            ltype = layer.get("type")
            name = layer.get("name") or f"{str(ltype).lower()}_{i}"
            if ltype not in MODULE_TYPES | MERGE_TYPES:
                raise SpecError(f"layer {name!r}: unknown type {ltype!r}")
            if name in shapes:
                raise SpecError(f"duplicate layer/input name {name!r}")
            src = layer.get("from", prev)
            if src is None:
                raise SpecError(f"layer {name!r}: no 'from' and no single default input")
            src = [src] if isinstance(src, str) else list(src)
            for s in src:
                if s not in shapes:
                    raise SpecError(f"layer {name!r}: 'from' {s!r} is not an input or earlier layer")
            kwargs = {k: tuple(v) if isinstance(v, list) else v
                      for k, v in layer.items() if k not in _RESERVED}
            xs = [meta[s] for s in src]
            if ltype in MERGE_TYPES:
                self._merge_kwargs[name] = kwargs
                out = _merge(ltype, xs, kwargs)
            else:
                if len(src) != 1:
                    raise SpecError(f"layer {name!r}: {ltype} takes exactly one input, got {src}")
                kwargs = _infer_kwargs(ltype, kwargs, shapes[src[0]])
                with torch.device("meta"):  # shape-only twin; eval() avoids BN batch checks
                    out = getattr(nn, ltype)(**kwargs).eval()(xs[0])
                try:
                    place_module(self, name, getattr(nn, ltype)(**kwargs))
                except KeyError as e:  # name clashes with a Module attribute
                    raise SpecError(f"layer name {name!r} is reserved by nn.Module: {e}") from None
            meta[name], shapes[name] = out, tuple(out.shape)
            self.layer_types[name], self.sources[name] = ltype, src
            prev = name

        if not self.layer_types:
            raise SpecError("spec has no layers")
        outs = spec.get("outputs") or [prev]
        self.output_names: List[str] = [outs] if isinstance(outs, str) else list(outs)
        for o in self.output_names:
            if o not in self.layer_types:
                raise SpecError(f"output {o!r} is not a layer")
        self._shapes = {k: v for k, v in shapes.items() if k in self.layer_types}

    @property
    def layers(self) -> "TorchNet":
        """The layer-name -> module mapping (this ModuleDict itself)."""
        return self

    def forward(self, **inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Run the network.

        Args: one tensor per declared input, keyword = input name, shape
            ``(N, C, *spatial)`` (spatial sizes may differ from the declared ones).
        Returns: layer name -> output tensor, for every layer in spec order.
        """
        if set(inputs) != set(self.input_shapes):
            raise TypeError(f"expected inputs {sorted(self.input_shapes)}, got {sorted(inputs)}")
        vals: Dict[str, torch.Tensor] = dict(inputs)
        outs: Dict[str, torch.Tensor] = {}
        for name, ltype in self.layer_types.items():
            xs = [vals[s] for s in self.sources[name]]
            if ltype in MERGE_TYPES:
                y = _merge(ltype, xs, self._merge_kwargs[name])
            elif getattr(self.get_submodule(name), "inplace", False):
                y = self.get_submodule(name)(xs[0].clone())  # keep the source layer's output intact
            else:
                y = self.get_submodule(name)(xs[0])
            vals[name] = outs[name] = y
        return outs

    def layer_params(self) -> Dict[str, int]:
        """Layer name -> number of parameters (0 for Concat/Add/parameter-free layers)."""
        return {name: 0 if self.layer_types[name] in MERGE_TYPES else
                sum(p.numel() for p in self.get_submodule(name).parameters()) for name in self.layer_types}

    def total_params(self) -> int:
        """Sum of all parameters of the network."""
        return sum(self.layer_params().values())

    def output_shapes(self) -> Dict[str, Tuple[int, ...]]:
        """Layer name -> output shape tuple for the spec's declared input shapes."""
        return dict(self._shapes)


def load_spec(path_or_dict: Union[str, Path, Mapping[str, Any]]) -> Dict[str, Any]:
    """Return the spec as a dict (YAML file parsed with ``yaml.safe_load``)."""
    if isinstance(path_or_dict, Mapping):
        return dict(path_or_dict)
    with open(path_or_dict, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    if not isinstance(spec, dict):
        raise SpecError(f"{path_or_dict}: top level is not a mapping")
    return spec


def build(path_or_dict: Union[str, Path, Mapping[str, Any]]) -> TorchNet:
    """Build the :class:`TorchNet` of a spec file path or an already-parsed dict."""
    return TorchNet(load_spec(path_or_dict))
