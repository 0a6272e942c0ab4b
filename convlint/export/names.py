"""Python names for what a spec names: classes, variables and attributes of the generated source."""
from __future__ import annotations

import ast
import keyword
import re


def class_name(stem: str) -> str:
    """The CamelCase class name of a spec file's stem: ``resnet50`` → ``Resnet50``,
    ``mobilenet_v3_small`` → ``MobilenetV3Small``; ``Net`` is put in front of a name that would start
    with a digit or be empty."""
    words = [word for word in re.split(r"[^A-Za-z0-9]+", stem) if word]
    name = "".join(word[0].upper() + word[1:] for word in words)
    return name if name and not name[0].isdigit() else f"Net{name}"


def identifier(name: str) -> str:
    """A Python variable name for a tensor or layer name: ``layer1.0.conv1`` → ``layer1_0_conv1``,
    ``0`` → ``t0``, ``lambda`` → ``lambda_``."""
    text = re.sub(r"\W", "_", name)
    if not text or text[0].isdigit():
        text = f"t{text}"
    return f"{text}_" if keyword.iskeyword(text) else text


def is_attribute(name: str) -> bool:
    """True when ``name`` can be written as ``self.name`` (an identifier that is no keyword)."""
    return name.isidentifier() and not keyword.iskeyword(name)


def literal(value) -> str:
    """Python source of a YAML value (lists become tuples)."""
    if isinstance(value, list):
        items = [literal(item) for item in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    return repr(value)


class _Booleans(ast.NodeTransformer):
    def visit_Name(self, node: ast.Name):
        if node.id in ("true", "false"):
            return ast.copy_location(ast.Constant(node.id == "true"), node)
        return node


def expression_source(text: str) -> str:
    """Python source of a block expression (the inside of ``$(...)``, or a parameter name): the
    expression language is a subset of Python's, with ``true`` and ``false`` for ``True`` and ``False``."""
    tree = _Booleans().visit(ast.parse(text.strip(), mode="eval"))
    return ast.unparse(tree)


def torch_nn_has(name: str) -> bool:
    """True when ``torch.nn`` has a module class called ``name`` (assumed when torch is not installed)."""
    try:
        import torch.nn
    except ImportError:
        return True
    candidate = getattr(torch.nn, name, None)
    return isinstance(candidate, type) and issubclass(candidate, torch.nn.Module)
