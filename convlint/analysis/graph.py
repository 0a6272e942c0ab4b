"""The spec as a ``networkx.DiGraph``: one node per input and layer, one edge per tensor read.

Node attributes: ``kind`` (``"input"`` or ``"layer"``) and ``decl`` (the
:class:`~convlint.spec.model.InputDecl` or :class:`~convlint.spec.model.Layer`).  Edges
run from producer to consumer.  Unknown references and duplicate names
become findings here; cycles are found by networkx during inference.
"""
from __future__ import annotations

import networkx as nx

from convlint.findings import Finding
from convlint.rules import RULES
from convlint.spec.model import Spec
from convlint.spec.suggest import closest


def _finding(spec: Spec, code: str, message: str, position: tuple[int, int], layer: str | None) -> Finding:
    return Finding(code, RULES[code].severity, message, spec.path, position[0], position[1], layer)


class Suggestions:
    """:func:`~convlint.spec.suggest.closest` within a budget of :data:`MAX_COMPARISONS` name comparisons per spec.

    Each suggestion compares the name with every known one, so a spec with
    thousands of wrong names would take quadratic time without this budget;
    once it is spent, findings come without a suggestion.
    """

    MAX_COMPARISONS = 20_000

    def __init__(self):
        self.left = self.MAX_COMPARISONS

    def closest(self, name: str, known) -> str | None:
        """:func:`~convlint.spec.suggest.closest`, or ``None`` once the budget is spent."""
        if len(known) > self.left:
            return None
        self.left -= len(known)
        return closest(name, known)

    def __call__(self, name: str, known) -> str:
        """`` (did you mean `x`?)`` for the closest known name, or an empty string."""
        found = self.closest(name, known)
        return f" (did you mean `{found}`?)" if found is not None else ""


def build_graph(spec: Spec) -> nx.DiGraph:
    """Build ``spec.graph`` and append wiring findings (G001, G003) to ``spec.findings``."""
    graph = nx.DiGraph()
    suggestions = Suggestions()
    decls: dict = {decl.name: decl for decl in spec.inputs.values()}
    layers = []
    for layer in spec.layers:
        if layer.name in decls:
            spec.findings.append(_finding(
                spec, "G003", f"name `{layer.name}` is already used on line {decls[layer.name].line}",
                layer.position_of("name"), layer.name))
            continue
        decls[layer.name] = layer
        layers.append(layer)
    graph.add_nodes_from((decl.name, {"kind": "input", "decl": decl}) for decl in spec.inputs.values())
    graph.add_nodes_from((layer.name, {"kind": "layer", "decl": layer}) for layer in layers)
    edges = []
    for layer in layers:
        for source in layer.sources:
            if source not in decls:
                spec.findings.append(_finding(
                    spec, "G001", f"`from` names `{source}`, which is no input or layer{suggestions(source, decls)}",
                    layer.position_of("from"), layer.name))
            else:
                edges.append((source, layer.name))
    graph.add_edges_from(edges)
    for output in spec.outputs:
        if output not in decls:
            spec.findings.append(_finding(
                spec, "G001", f"`outputs` names `{output}`, which is no layer{suggestions(output, decls)}",
                spec.outputs_position, None))
    spec.graph = graph
    return graph
