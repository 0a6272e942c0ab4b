"""Exporting torch modules to ONNX for the import tests, as a user would with ``torch.onnx.export``.

The TorchScript exporter (``dynamo=False``) is used with constant folding off and the training mode
preserved, so that batch norms stay nodes of their own (the default inference export folds them into
the convolutions' weights, which changes the parameter count).  ``dynamic`` names the input's
spatial dims ``H`` and ``W`` (and ``D`` before them for 3-d), left free in the file.
"""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import torch

from convlint.cli.main import main


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


def valid_sizes(path: Path, capsys) -> dict:
    """Each named size of the spec or model at ``path`` → its valid values up to 256 (``convlint sizes``)."""
    main(["sizes", str(path), "--format", "json", "--upto", "256"])
    return {name: symbol["valid"] for name, symbol in json.loads(capsys.readouterr().out)["symbols"].items()}


def with_named_sizes(spec: Path, directory: Path) -> Path:
    """A copy of ``spec`` in ``directory`` with its input's spatial sizes named H and W, as an export with
    dynamic H and W leaves them."""
    text = re.sub(r"(\n  \w+: \[1, \d+, )\d+, \d+\]", r"\1H, W]", spec.read_text(encoding="utf-8"), count=1)
    path = directory / spec.name
    path.write_text(text, encoding="utf-8")
    return path
