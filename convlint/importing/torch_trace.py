"""A ``torch.nn.Module`` → :class:`~convlint.importing.model.ImportedModel`, by ``torch.fx`` tracing, or by
``torch.export`` where ``torch.fx`` fails (Python control flow on sizes).

Modules whose class is named like a registered layer type are kept whole (their keywords read by the
type's ``from_torch``); other modules are traced through.  Functional calls (``F.relu``, ``torch.cat``,
``x + y``) become the type whose ``torch_functions`` name them.  Anything else is the fallback stand-in
with the output shape PyTorch computes for ``input_shape``.  Repeated sub-modules that compute the same
layers become blocks (:mod:`convlint.importing.torch_blocks`).  ``torch`` is imported here only.
"""
from __future__ import annotations

import importlib
from typing import Any

from convlint.importing.model import ImportedLayer, ImportedModel, clean_name


class TorchImportError(Exception):
    """The reference cannot be imported, built or traced; the message says why."""


def build_module(reference: str):
    """The module that ``package.module:factory`` makes: the factory called without arguments (a class
    instantiated so)."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise TorchImportError(f"{reference!r}: expected package.module:factory")
    try:
        import torch
        factory = getattr(importlib.import_module(module_name), attribute)
        model = factory()
    except Exception as error:
        raise TorchImportError(f"{reference}: cannot build the model: {type(error).__name__}: {error}") from None
    if not isinstance(model, torch.nn.Module):
        raise TorchImportError(f"{reference}: the factory returned a {type(model).__name__}, not a torch.nn.Module")
    return model.eval()


def _qualified(node) -> str:
    from torch.fx.node import _get_qualified_name
    if node.op == "call_method":
        return f"torch.Tensor.{node.target}"
    return _get_qualified_name(node.target).replace("_operator.", "operator.")


def _scope(node) -> str:
    """The module path the call was made in (``layer1.0``), or ``""`` at the top."""
    stack = node.meta.get("nn_module_stack") or {}
    paths = [value[0] if isinstance(value, tuple) else key for key, value in stack.items()]
    return paths[-1] if paths else ""


def trace(model, registry, input_shape: tuple[int, ...], name: str) -> tuple[ImportedModel, Any]:
    """The imported model of ``model`` (traced with ``torch.fx``, else :func:`exported`) for an input of
    ``input_shape``, and the traced graph module (``None`` from ``torch.export``)."""
    import torch
    from torch.fx.passes.shape_prop import ShapeProp

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, module, qualified_name):
            return registered_type(module, registry) is not None or super().is_leaf_module(module, qualified_name)

    try:
        graph = Tracer().trace(model)
        traced = torch.fx.GraphModule(model, graph)
        ShapeProp(traced).propagate(torch.zeros(input_shape))
    except Exception as fx_error:
        try:
            return exported(model, registry, input_shape, name), None
        except Exception as error:
            raise TorchImportError(f"neither torch.fx ({type(fx_error).__name__}: {fx_error}) nor torch.export "
                                   f"({type(error).__name__}: {error}) can trace the model; export it with "
                                   f"torch.onnx.export and import the ONNX file instead") from None
    functions = _functions(registry)
    fallback = _fallback(registry)
    result = ImportedModel(name, name, {}, [], [])
    tensors: dict[Any, str] = {}
    unique = _namer()

    def shape(node) -> tuple | None:
        meta = node.meta.get("tensor_meta")
        return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None

    for node in traced.graph.nodes:
        if node.op == "placeholder":
            tensors[node] = unique(clean_name(node.name, "x"))
            result.inputs[tensors[node]] = list(input_shape)
            continue
        if node.op == "output":
            outputs = node.args[0] if isinstance(node.args[0], (list, tuple)) else [node.args[0]]
            result.outputs = [tensors[item] for item in outputs if item in tensors]
            continue
        if node.op == "get_attr" or shape(node) is None:
            continue
        flat = _flatten(node.args)
        sources = [item for item in flat if item in tensors]
        others = tuple(arg for arg in node.args if not _holds_tensor(arg, tensors))
        first = shape(sources[0]) if sources else None
        ndim = len(first) - 2 if first else 0
        layer_type, keywords, origin = None, None, ""
        if node.op == "call_module":
            module = traced.get_submodule(node.target)
            layer_type = registered_type(module, registry)
            keywords = layer_type.from_torch(module) if layer_type is not None else None
            layer_name, origin = str(node.target), f"module `{node.target}` ({type(module).__name__})"
        elif node.op in ("call_function", "call_method"):
            qualified = _qualified(node)
            for layer_type in functions.get(qualified, []):
                keywords = layer_type.from_torch_call(others, dict(node.kwargs), ndim, len(sources))
                if keywords is not None:
                    break
            scope = _scope(node)
            base = qualified.rsplit(".", 1)[-1].strip("_")
            layer_name, origin = f"{scope}.{base}" if scope else base, f"call `{qualified}`"
        else:
            continue
        if keywords is None:
            result.problems.append(f"{origin}: no layer type imports it; imported as a stand-in layer")
            if fallback is None:
                raise TorchImportError(f"{origin}: no layer type imports it, and no stand-in type is installed")
            layer_type = fallback
            keywords = {"op": origin.split("`")[1], "shape": list(shape(node) or ())}
        assert layer_type is not None  # set with the keywords
        name = unique(clean_name(layer_name, "layer"))
        tensors[node] = name
        result.layers.append(ImportedLayer(name, layer_type.name, [tensors[item] for item in sources], keywords,
                                           origin))
    return result, traced


def _functions(registry) -> dict[str, list]:
    """Qualified function name → the layer types that name it in ``torch_functions``, in registry order."""
    functions: dict[str, list] = {}
    for layer_type in registry.types.values():
        for function in getattr(layer_type, "torch_functions", ()):
            functions.setdefault(function, []).append(layer_type)
    return functions


def _fallback(registry):
    return next((t for t in registry.types.values() if getattr(t, "onnx_fallback", False)), None)


def _namer():
    """A function that makes names unique (``relu``, ``relu_1``, …)."""
    taken: set[str] = set()

    def unique(text: str) -> str:
        candidate, count = text, 0
        while candidate in taken:
            count += 1
            candidate = f"{text}_{count}"
        taken.add(candidate)
        return candidate
    return unique


def exported(model, registry, input_shape: tuple[int, ...], name: str) -> ImportedModel:
    """The imported model from ``torch.export``'s graph of ATen operators: the operators a module of a
    registered type runs (by the module stack PyTorch records) make one layer of that type, the others
    the type whose ``torch_functions`` name the operator (``aten.add.Tensor``)."""
    import torch
    program = torch.export.export(model, (torch.zeros(input_shape),))
    signature = program.graph_signature
    functions = _functions(registry)
    fallback = _fallback(registry)
    result = ImportedModel(name, name, {}, [], [])
    unique = _namer()
    tensors: dict[Any, str] = {}
    produced_by: dict[Any, str] = {}
    """Node → the module path whose layer made it."""
    for node in program.graph.nodes:
        if node.op == "placeholder":
            if node.name in signature.user_inputs:
                tensors[node] = unique(clean_name(node.name, "x"))
                result.inputs[tensors[node]] = list(input_shape)
            continue
        if node.op == "output":
            result.outputs = [tensors[item] for item in _flatten(node.args) if item in tensors]
            continue
        value = node.meta.get("val")
        if node.op != "call_function" or not hasattr(value, "shape") and not isinstance(value, (list, tuple)):
            continue
        path = _leaf_path(node, model, registry)
        sources = [item for item in _flatten(node.args) if item in tensors]
        if path is not None and sources and all(produced_by.get(item) == path for item in sources):
            tensors[node], produced_by[node] = tensors[sources[0]], path  # a later step of the same call
            continue
        first = getattr(sources[0].meta.get("val"), "shape", None) if sources else None
        ndim = len(first) - 2 if first is not None else 0
        keywords, layer_type = None, None
        if path is not None:
            module = model.get_submodule(path)
            layer_type = registered_type(module, registry)
            assert layer_type is not None  # _leaf_path found it
            keywords, layer_name = layer_type.from_torch(module), path
            origin = f"module `{path}` ({type(module).__name__})"
        else:
            qualified = str(node.target)
            others = tuple(arg for arg in node.args if not _holds_tensor(arg, tensors))
            for layer_type in functions.get(qualified, []):
                keywords = layer_type.from_torch_call(others, dict(node.kwargs), ndim, len(sources))
                if keywords is not None:
                    break
            scope = _scope(node)
            base = qualified.split(".")[1].strip("_") if "." in qualified else qualified
            layer_name, origin = f"{scope}.{base}" if scope else base, f"operator `{qualified}`"
        if keywords is None:
            result.problems.append(f"{origin}: no layer type imports it; imported as a stand-in layer")
            if fallback is None:
                raise TorchImportError(f"{origin}: no layer type imports it, and no stand-in type is installed")
            layer_type = fallback
            keywords = {"op": origin.split("`")[1], "shape": list(getattr(value, "shape", ()))}
        assert layer_type is not None  # set with the keywords
        tensors[node] = unique(clean_name(layer_name, "layer"))
        if path is not None:
            produced_by[node] = path
        result.layers.append(ImportedLayer(tensors[node], layer_type.name, [tensors[item] for item in sources],
                                           keywords, origin))
    return result


def registered_type(module, registry):
    """The layer type registered under the name of ``module``'s class, else under the name of the
    ``torch.nn`` class it extends without changing ``forward`` (torchvision's ``Conv3DSimple`` is an
    ``nn.Conv3d`` with its own constructor); ``None`` for any other module."""
    cls = type(module)
    if cls.__name__ in registry.types:
        return registry.types[cls.__name__]
    for base in cls.__mro__[1:]:
        if base.__module__.startswith("torch.nn.") and base.__name__ in registry.types:
            return registry.types[base.__name__] if cls.forward is base.forward else None
    return None


def _leaf_path(node, model, registry) -> str | None:
    """The path of the outermost module of a registered type the operator runs in, if any."""
    for value in (node.meta.get("nn_module_stack") or {}).values():
        path = value[0] if isinstance(value, tuple) else ""
        if path and registered_type(model.get_submodule(path), registry) is not None:
            return path
    return None


def _flatten(args) -> list:
    items: list = []
    for arg in args:
        if isinstance(arg, (list, tuple)):
            items += _flatten(arg)
        else:
            items.append(arg)
    return items


def _holds_tensor(arg, tensors) -> bool:
    return any(item in tensors for item in _flatten([arg]))


def import_torch(reference: str, registry, input_shape: tuple[int, ...]) -> ImportedModel:
    """Build the model ``package.module:factory`` names and import it (see :func:`trace`), with blocks."""
    from convlint.importing.torch_blocks import make_blocks
    model = build_module(reference)
    result, _ = trace(model, registry, input_shape, clean_name(reference.rpartition(":")[2], "model"))
    result.weights = {key: value.detach().cpu().numpy() for key, value in model.state_dict().items()
                      if value.is_floating_point()}  # not counters such as BatchNorm's batches seen
    make_blocks(result, model)
    return result
