"""torchvision's classification models as the oracle of the bundled torchvision specs.

Why the stub: the torchvision wheel that pairs with torch 2.13 (0.28.0) ships a compiled
extension built against the CUDA build of torch, which does not load beside the CPU build
installed here.  ``import torchvision`` then fails in ``torchvision._meta_registrations``,
the module that registers shape functions for the extension's detection operators
(``torchvision::nms``, ``roi_align``, ...): the operators it refers to do not exist.
The classification models use none of those operators; they are plain ``torch.nn``
modules.  :func:`torchvision_models` therefore puts an empty module in the place of
``torchvision._meta_registrations`` before the first import, and changes nothing else:
every model is torchvision's own code.

Weights: :func:`oracle_model` builds a model with torchvision's initialisation (seeded),
then gives every normalisation random statistics and affine parameters and every
ConvNeXt layer scale a random value of order 1, so that no part of the network is
an identity and a wrong wiring shows in the output.
"""
from __future__ import annotations

import sys
import types

import numpy as np
import torch


def torchvision_models():
    """``torchvision.models``, imported with the extension's operator registrations stubbed (see above)."""
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torchvision.models
    return torchvision.models


def oracle_model(name: str, seed: int = 0, **options) -> torch.nn.Module:
    """``torchvision.models.<name>(**options)`` in eval mode, float64, with the random weights described above;
    ``name`` may name a subpackage's model (``video.r3d_18``)."""
    torch.manual_seed(seed)
    factory = torchvision_models()
    for part in name.split("."):
        factory = getattr(factory, part)
    model = factory(**options)
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for key, value in model.state_dict().items():
            if not value.is_floating_point():
                continue
            leaf = key.rsplit(".", 1)[-1]
            uniform = torch.rand(value.shape, generator=generator, dtype=value.dtype)
            if leaf == "running_var" or leaf == "layer_scale":
                value.copy_(0.5 + uniform)
            elif leaf == "running_mean":
                value.copy_(uniform - 0.5)
            elif value.dim() == 1 and leaf in ("weight", "bias") and _is_norm(model, key):
                value.copy_(0.5 + uniform if leaf == "weight" else uniform - 0.5)
    return model.double().eval()


def _is_norm(model: torch.nn.Module, key: str) -> bool:
    module = model.get_submodule(key.rsplit(".", 1)[0])
    return isinstance(module, (torch.nn.modules.batchnorm._NormBase, torch.nn.LayerNorm, torch.nn.GroupNorm))


def state_dict_arrays(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """The model's state_dict as NumPy arrays (what ``np.savez(path, **arrays)`` stores)."""
    return {key: value.detach().cpu().numpy() for key, value in model.state_dict().items()}


def module_outputs(model: torch.nn.Module, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, tuple]]:
    """The model's output for ``image`` and the output shape of every named module on the way."""
    shapes: dict[str, tuple] = {}
    hooks = [module.register_forward_hook(lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape)))
             for name, module in model.named_modules() if name]
    try:
        with torch.no_grad():
            output = model(image)
    finally:
        for hook in hooks:
            hook.remove()
    return output, shapes
