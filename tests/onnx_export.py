"""Exporting torch modules to ONNX for the import tests, as a user would with ``torch.onnx.export``.

The TorchScript exporter (``dynamo=False``) is used with constant folding off and the training mode
preserved, so that batch norms stay nodes of their own (the default inference export folds them into
the convolutions' weights, which changes the parameter count).  ``dynamic`` names the input's
spatial dims ``H`` and ``W`` (and ``D`` before them for 3-d), left free in the file.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch


def export(module: torch.nn.Module, example: torch.Tensor, path: Path, dynamic: bool = False,
           input_name: str = "image") -> Path:
    """Write ``module`` (in eval mode) traced at ``example`` to ``path``; returns ``path``."""
    axes = None
    if dynamic:
        names = ["D", "H", "W"][-(example.dim() - 2):]
        axes = {input_name: {2 + axis: name for axis, name in enumerate(names)}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (example,), str(path), dynamo=False, do_constant_folding=False,
                          training=torch.onnx.TrainingMode.PRESERVE, input_names=[input_name],
                          dynamic_axes=axes)
    return path
