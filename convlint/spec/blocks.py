"""Blocks: parameterised sub-graphs used as layer types, expanded into the flat layer list.

A spec may define ``blocks:``, a mapping of block name to ``{params, inputs,
layers, outputs}``.  A layer whose ``type`` is a block name is an *instance*:
its keywords set the block's parameters, its ``from`` binds the block's
inputs, and ``repeat: n`` chains ``n`` copies (``first:`` overrides
parameters of the first copy).  Expansion replaces each instance by copies
of the block's layers, named ``<instance>.<layer>`` like PyTorch module paths
(``layer1.0.conv1``), with parameters substituted (``$name`` or
``$(expression)``) and ``from`` references resolved to full names.  A repeated
instance whose name holds ``{i}`` numbers that part instead (``denselayer{i}``
with ``start: 1`` gives ``denselayer1``, ``denselayer2``, ...), and its keywords
may read ``index``, the number of the copy (0 for the first).  A layer's
``type`` may itself be a parameter (``type: $activation``).  Every
expanded layer keeps the source positions of its line in the block
definition, so findings point there and name the instance path.
"""
from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass, replace

from convlint.layers.keywords import show
from convlint.spec.layer_list import FindingCollector, Layer, parse_layers
from convlint.spec.yaml_source import Node, NodeList
from convlint.suggestions import Suggestions, suggest

MAX_LAYERS = 10_000
"""Expanded layers allowed in one spec before expansion stops (guards against runaway repeats)."""

MAX_NESTING = 50
"""Blocks inside blocks allowed before expansion stops."""

MAX_EXPANSION_STEPS = 2 * MAX_LAYERS
"""Layer templates visited while expanding, counting those ``when: false`` removes and the block
instances themselves, before expansion stops: bounds the work of repeats that remove their layers."""

MAX_EXPRESSION_CHARACTERS = 1000
"""Longest ``$(...)`` expression evaluated (its terms, and so its parse, stay small)."""

MAX_VALUE_BITS = 128
"""Largest magnitude of an integer computed by an expression, in bits: far above any size, and
small enough that repeated multiplication cannot grow numbers without bound."""

_FAILED = object()
"""Stands for a parameter value that could not be computed (already reported)."""

_PARAMETER = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
_EXPRESSION = re.compile(r"^\$\((.*)\)$", re.DOTALL)
_NUMBERED = re.compile(r"^(.*)\.(\d+)$")
NUMBER_PLACEHOLDER = "{i}"
"""In the name of a repeated instance, the part that takes the copy's number."""


def _group_name(path: str) -> str | None:
    """The module path that holds all copies of a repeat: ``stage`` for ``stage`` ×n,
    ``denseblock1`` for ``denseblock1.denselayer{i}``, none for ``block2-{i}``."""
    if NUMBER_PLACEHOLDER not in path:
        return path
    parts = path.split(".")
    holder = next(number for number, part in enumerate(parts) if NUMBER_PLACEHOLDER in part)
    return ".".join(parts[:holder]) or None


@dataclass
class Block:
    """A block definition: parameter defaults, input names, layer templates and its output's local name."""

    name: str
    params: dict
    inputs: list[str]
    layers: list[Layer]
    output: str


@dataclass
class Instance:
    """One expanded copy of a block: its module ``path`` (``layer1.0``), the ``block`` name, the parameter
    values given to it (``params``; the block's defaults stand for the others), the full names of the
    tensors bound to the block's inputs (``sources``, in the block's input order) and of its output."""

    path: str
    block: str
    params: dict
    sources: list[str]
    output: str


class ExpressionError(ValueError):
    """A ``$(...)`` expression that cannot be evaluated; the message says why."""


class UnknownParameter(ExpressionError):
    """An expression names a parameter that does not exist.  The "did you mean" part of the message
    is worked out only when asked for (:meth:`message`), within the caller's budget."""

    def __init__(self, prefix: str, name: str, known):
        super().__init__(prefix)
        self.prefix, self.name, self.known = prefix, name, list(known)

    def message(self, suggestions=suggest) -> str:
        return f"{self.prefix}{suggestions(self.name, self.known)}"

    def __str__(self) -> str:
        return self.message()


class _Failed(ExpressionError):
    """The expression uses a parameter whose own value failed (already reported)."""


def _lookup(env: dict, name: str):
    value = env[name]
    if value is _FAILED:
        raise _Failed(name)
    return value


_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
           ast.Mod: operator.mod, ast.Div: operator.truediv}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge}


def evaluate(expression: str, env: dict):
    """Value of an arithmetic ``expression`` over the parameters in ``env``.

    Allowed: numbers, strings, true/false, parameter names, ``+ - * / // %``,
    comparisons, ``and``/``or``/``not`` and ``a if cond else b``.
    """
    if len(expression) > MAX_EXPRESSION_CHARACTERS:
        raise ExpressionError(f"`$({expression[:40]}…)` has {len(expression):,} characters, more than the "
                              f"{MAX_EXPRESSION_CHARACTERS:,} an expression may have")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
        return _eval(tree.body, env, expression)
    except (SyntaxError, ValueError) as error:
        if isinstance(error, ExpressionError):
            raise
        raise ExpressionError(f"`$({expression})` is not a valid expression") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"`$({expression[:40]}…)` is nested too deeply") from None


def _eval(node, env: dict, text: str):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
        return _bounded(node.value, text)
    if isinstance(node, ast.Name):
        if node.id in ("true", "false"):
            return node.id == "true"
        if node.id not in env:
            raise UnknownParameter(f"`{node.id}` is not a parameter", node.id, env)
        return _lookup(env, node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, env, text), _eval(node.right, env, text)
        if not all(isinstance(value, (int, float)) for value in (left, right)):
            raise ExpressionError(f"`$({text})`: arithmetic needs numbers, got {show(left)} and {show(right)}")
        if isinstance(node.op, ast.Mult) and all(isinstance(value, int) for value in (left, right)) \
                and left.bit_length() + right.bit_length() > MAX_VALUE_BITS + 1:
            _too_large(text)
        try:
            return _bounded(_BINARY[type(node.op)](left, right), text)
        except (TypeError, ZeroDivisionError) as error:
            raise ExpressionError(f"`$({text})`: {error}") from None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        value = _eval(node.operand, env, text)
        if isinstance(node.op, ast.Not):
            return not value
        if not isinstance(value, (int, float)):
            raise ExpressionError(f"`$({text})`: arithmetic needs numbers, got {show(value)}")
        return -value
    if isinstance(node, ast.BoolOp):  # short-circuits like Python, but always gives true or false
        decisive = isinstance(node.op, ast.Or)
        for value in node.values:
            if bool(_eval(value, env, text)) == decisive:
                return decisive
        return not decisive
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _eval(node.left, env, text)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, env, text)
            try:
                holds = _COMPARE[type(op)](left, right)
            except TypeError:
                raise ExpressionError(f"`$({text})`: cannot compare {show(left)} with {show(right)}") from None
            if not holds:
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, env, text) else node.orelse, env, text)
    raise ExpressionError(f"`$({text})` uses something other than parameters, numbers and arithmetic")


def _too_large(text: str):
    raise ExpressionError(f"`$({text[:60]})` computes a number of more than {MAX_VALUE_BITS} bits; "
                          f"sizes need far fewer")


def _bounded(value, text: str):
    """``value``, unless it is an integer of more than :data:`MAX_VALUE_BITS` bits."""
    if isinstance(value, int) and value.bit_length() > MAX_VALUE_BITS:
        _too_large(text)
    return value


def substitute(value, env: dict):
    """``value`` with ``$name`` and ``$(expression)`` strings (also inside lists) replaced."""
    if isinstance(value, list):
        return [substitute(item, env) for item in value]
    if not isinstance(value, str):
        return value
    match = _PARAMETER.match(value)
    if match:
        name = match.group(1)
        if name not in env:
            raise UnknownParameter(f"`{value}`: `{name}` is not a parameter", name, env)
        return _lookup(env, name)
    match = _EXPRESSION.match(value)
    return evaluate(match.group(1), env) if match else value


def parse_blocks(data: Node, found: FindingCollector) -> dict[str, Block]:
    """The ``blocks:`` mapping of a spec's top-level ``data``; structure problems become C001 findings."""
    raw = data.get("blocks")
    if not isinstance(raw, Node):
        found.add("C001", "`blocks` must map each block name to {params, inputs, layers, outputs}",
                  data.position_of("blocks"))
        return {}
    blocks = {}
    for name, body in raw.items():
        where = raw.position_of(name)
        if not isinstance(name, str) or not isinstance(body, Node) or not isinstance(body.get("layers"), NodeList) \
                or not body["layers"]:
            found.add("C001", f"block {show(name)} must be a mapping with a non-empty `layers` list", where)
            continue
        unknown = [key for key in body if key not in ("params", "inputs", "layers", "outputs")]
        for key in unknown:
            found.add("C001", f"block `{name}` has an unknown key {show(key)} (expected params, inputs, layers, "
                              f"outputs)", body.position_of(key))
        params = body.get("params", {})
        if not isinstance(params, dict) or not all(isinstance(key, str) for key in params):
            found.add("C001", f"`params` of block `{name}` must map parameter names to default values",
                      body.position_of("params"))
            params = {}
        inputs = body.get("inputs", ["x"])
        if not isinstance(inputs, list) or not inputs or not all(isinstance(item, str) for item in inputs):
            found.add("C001", f"`inputs` of block `{name}` must be a list of names", body.position_of("inputs"))
            inputs = ["x"]
        for item in body["layers"]:
            if isinstance(item, Node) and isinstance(item.get("name"), int) and not isinstance(item["name"], bool):
                item["name"] = str(item["name"])  # Sequential-style names such as `0`, `1`
        layers = parse_layers(body, dict.fromkeys(inputs), found)
        if layers:  # otherwise every item was malformed, and reported
            blocks[name] = Block(name, dict(params), list(inputs), layers, _block_output(name, body, layers, found))
    return blocks


def _block_output(name: str, body: Node, layers: list[Layer], found: FindingCollector) -> str:
    """The local name of the block's output: its one ``outputs`` entry, or its last layer."""
    if "outputs" not in body:
        return layers[-1].name
    outputs = body["outputs"]
    outputs = outputs if isinstance(outputs, list) else [outputs]
    known = {layer.name for layer in layers}
    if len(outputs) != 1 or outputs[0] not in known:
        found.add("C001", f"`outputs` of block `{name}` must name exactly one of its layers, got {show(outputs)}"
                          f"{suggest(str(outputs[0]), known) if len(outputs) == 1 else ''}",
                  body.position_of("outputs"))
        return layers[-1].name
    return outputs[0]


class Expander:
    """Turns layers that use blocks into the flat list of layers, collecting findings on the way.

    ``groups`` maps each instance path (``layer1.0``) and repeat group (``layer1``) to a label
    such as ``Bottleneck`` or ``Bottleneck ×3``, for folding summaries.
    """

    def __init__(self, blocks: dict[str, Block], found: FindingCollector):
        self.blocks = blocks
        self.found = found
        self.layers: list[Layer] = []
        self.groups: dict[str, str] = {}
        self.instances: list[Instance] = []
        self._reported: set[tuple[str, int, int]] = set()
        self._too_large = False
        self.steps = 0
        self.suggestions = Suggestions()

    def report(self, code: str, message: str, position: tuple[int, int], layer: str | None) -> None:
        """Add a finding once per code and source position (a block used 16 times reports once)."""
        key = (code, *position)
        if key not in self._reported:
            self._reported.add(key)
            self.found.add(code, message, position, layer)

    def scope(self, templates: list[Layer], prefix: str, env: dict, names: dict[str, str],
              stack: tuple[str, ...]) -> dict[str, str]:
        """Expand ``templates`` under the name ``prefix``; returns the scope's local → full tensor names."""
        names = dict(names)
        for template in templates:
            if self._too_large:
                break
            self.steps += 1
            if self.steps > MAX_EXPANSION_STEPS:
                self._too_large = True
                self.report("C001", f"expanding blocks visits more than {MAX_EXPANSION_STEPS:,} layers (counting "
                                    f"those `when: false` removes); check `repeat`",
                            template.position_of("type"), prefix + template.name)
                break
            local = template.name
            full = prefix + local
            sources = [names.get(source, prefix + source if prefix else source) for source in template.sources]
            kwargs = dict(template.kwargs)
            if "when" in kwargs:
                condition = self._value(kwargs.pop("when"), env, template, "when", full)
                if condition is not True and condition is not False:
                    if condition is not _FAILED:
                        self.report("C001", f"`when` must be true or false, got {show(condition)}",
                                    template.position_of("when"), full)
                elif not condition:
                    names[local] = sources[0] if sources else full
                    continue
            layer_type = self._layer_type(template, env, full)
            if layer_type in self.blocks:
                output = self.instance(replace(template, type=layer_type), full, sources, kwargs, env, stack)
                names[local] = output
                continue
            kwargs = {key: self._value(value, env, template, key, full) for key, value in kwargs.items()}
            failed = any(value is _FAILED for value in kwargs.values())
            # a layer whose parameters failed is kept without a type, so nothing more is reported on it
            self.emit(replace(template, name=full, sources=sources, kwargs=kwargs,
                              type=None if failed or layer_type is _FAILED else layer_type))
            names[local] = full
        return names

    def emit(self, layer: Layer) -> None:
        """Append one expanded layer, numbered in expansion order."""
        if len(self.layers) >= MAX_LAYERS:
            self._too_large = True
            self.report("C001", f"blocks expand to more than {MAX_LAYERS} layers; check `repeat`",
                        (layer.line, layer.column), layer.name)
            return
        layer.index = len(self.layers)
        self.layers.append(layer)

    def _layer_type(self, template: Layer, env: dict, full: str):
        """The layer's ``type``, read from a parameter when written ``$name`` or ``$(expression)``;
        :data:`_FAILED` after reporting C001."""
        if not isinstance(template.type, str) or not template.type.startswith("$"):
            return template.type
        value = self._value(template.type, env, template, "type", full)
        if value is not _FAILED and not isinstance(value, str):
            self.report("C001", f"`type` must name a layer type or block, got {show(value)}",
                        template.position_of("type"), full)
            return _FAILED
        return value

    def _value(self, value, env: dict, template: Layer, key: str, full: str):
        """``value`` with parameters substituted, or :data:`_FAILED` after reporting C001."""
        try:
            return substitute(value, env)
        except _Failed:
            return _FAILED
        except UnknownParameter as error:
            position = template.position_of(key)
            if ("C001", *position) not in self._reported:  # the suggestion is worked out once per place
                self.report("C001", error.message(self.suggestions), position, full)
            return _FAILED
        except ExpressionError as error:
            self.report("C001", str(error), template.position_of(key), full)
            return _FAILED

    def instance(self, template: Layer, path: str, sources: list[str], kwargs: dict, env: dict,
                 stack: tuple[str, ...]) -> str:
        """Expand one use of a block (with its repeats); returns the full name of its output tensor."""
        assert template.type is not None, "the caller found the type among the blocks"
        block = self.blocks[template.type]
        if block.name in stack:
            cycle = " → ".join((*stack[stack.index(block.name):], block.name))
            self.report("C002", f"block `{block.name}` uses itself: {cycle}", template.position_of("type"), path)
            return self._placeholder(template, path, sources)
        if len(stack) >= MAX_NESTING:
            self.report("C001", f"blocks are nested more than {MAX_NESTING} deep", template.position_of("type"), path)
            return self._placeholder(template, path, sources)
        repeat = self._value(kwargs.pop("repeat", 1), env, template, "repeat", path)
        if repeat is _FAILED:
            repeat = 1
        elif not isinstance(repeat, int) or isinstance(repeat, bool) or not 1 <= repeat <= MAX_LAYERS:
            self.report("C001", f"`repeat` must be an integer from 1 to {MAX_LAYERS}, got {show(repeat)}",
                        template.position_of("repeat"), path)
            repeat = 1
        start = self._value(kwargs.pop("start", 0), env, template, "start", path)
        if start is _FAILED:
            start = 0
        elif not isinstance(start, int) or isinstance(start, bool) or start < 0:
            self.report("C001", f"`start` must be a non-negative integer, got {show(start)}",
                        template.position_of("start"), path)
            start = 0
        first = kwargs.pop("first", {})
        if not isinstance(first, dict):
            self.report("C001", f"`first` must map parameters of the first copy to values, got {show(first)}",
                        template.position_of("first"), path)
            first = {}
        if len(sources) != len(block.inputs):
            self.report("C001", f"block `{block.name}` takes {len(block.inputs)} input(s) "
                                f"({', '.join(block.inputs)}), `from` gives {len(sources)}",
                        template.position_of("from"), path)
            return self._placeholder(template, path, sources)
        paths = self._copy_paths(path, repeat if "repeat" in template.kwargs else None, start)
        group = _group_name(path)
        if paths[0] != path and group is not None:
            self.groups[group] = f"{block.name} ×{repeat}"
        output = sources[0]
        for number, copy_path in enumerate(paths):
            if self._too_large:
                break
            self.groups[copy_path] = block.name
            copy_env = {**env, "index": number}
            params = self._params(block, template, kwargs, copy_env, path)
            first_params = self._params(block, template, first, copy_env, path) if number == 0 else {}
            inner_env = {**block.params, **params, **first_params}
            bound = dict(zip(block.inputs, sources if number == 0 else [output] + sources[1:]))
            names = self.scope(block.layers, copy_path + ".", inner_env, bound, (*stack, block.name))
            output = names.get(block.output, f"{copy_path}.{block.output}")  # missing only after MAX_LAYERS
            self.instances.append(Instance(copy_path, block.name, {**params, **first_params},
                                           list(bound.values()), output))
        return output

    def _placeholder(self, template: Layer, path: str, sources: list[str]) -> str:
        """Stand-in for a use that could not be expanded (already reported): a layer without a type,
        so the layers reading it are not checked either."""
        self.emit(replace(template, name=path, sources=sources, kwargs={}, type=None))
        return path

    def _params(self, block: Block, template: Layer, given: dict, env: dict, path: str) -> dict:
        params = {}
        for key, value in given.items():
            if key not in block.params:
                self.report("C001", f"block `{block.name}` has no parameter `{key}`{self.suggestions(key, block.params)}"
                                    f" (its parameters: {', '.join(block.params) or 'none'})",
                            template.position_of(key), path)
                continue
            params[key] = self._value(value, env, template, key, path)
        return params

    @staticmethod
    def _copy_paths(path: str, repeat: int | None, start: int = 0) -> list[str]:
        """``layer1`` ×3 → ``layer1.0 … layer1.2``; ``features.2`` ×2 → ``features.2, features.3``;
        ``denselayer{i}`` ×2 from 1 → ``denselayer1, denselayer2``."""
        if NUMBER_PLACEHOLDER in path:
            return [path.replace(NUMBER_PLACEHOLDER, str(start + number)) for number in range(repeat or 1)]
        if repeat is None:
            return [path]
        numbered = _NUMBERED.match(path)
        if numbered:
            stem, start = numbered.group(1), int(numbered.group(2))
            return [f"{stem}.{start + number}" for number in range(repeat)]
        return [f"{path}.{number}" for number in range(repeat)]


def expand_blocks(data: Node, layers: list[Layer], found: FindingCollector) -> tuple[list[Layer], dict, dict,
                                                                                   list[Instance]]:
    """Expand the block instances among a spec's top-level ``layers``.

    Returns the flat layer list (names are full paths, ``from`` lists full
    names), the groups map of :class:`Expander`, the top-level names
    (an instance name → the full name of its output tensor) and every expanded :class:`Instance`
    (inner ones before the instance that holds them).
    """
    expander = Expander(parse_blocks(data, found), found)
    names = expander.scope(layers, "", {}, {}, ())
    return expander.layers, expander.groups, names, expander.instances
