"""The spec as a ``networkx.DiGraph``: one node per input and layer, one edge per tensor read.

Node attributes: ``kind`` (``"input"`` or ``"layer"``) and ``decl`` (the
:class:`~convlint.spec.InputDecl` or :class:`~convlint.spec.Layer`).  Edges
run from producer to consumer.  Unknown references and duplicate names
become findings here; cycles are found by networkx during inference.
"""
from __future__ import annotations

import difflib

import networkx as nx

from .findings import Finding
from .rules import RULES
from .spec import Spec


def _finding(spec: Spec, code: str, message: str, position: tuple[int, int], layer: str | None) -> Finding:
    return Finding(code, RULES[code].severity, message, spec.path, position[0], position[1], layer)


def suggest(name: str, known) -> str:
    """`` (did you mean `x`?)`` for the closest known name, or an empty string."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def build_graph(spec: Spec) -> nx.DiGraph:
    """Build ``spec.graph`` and append wiring findings (G001, G003) to ``spec.findings``."""
    graph = nx.DiGraph()
    for decl in spec.inputs.values():
        graph.add_node(decl.name, kind="input", decl=decl)
    for layer in spec.layers:
        if layer.name in graph:
            first = graph.nodes[layer.name]["decl"]
            spec.findings.append(_finding(
                spec, "G003", f"name `{layer.name}` is already used on line {first.line}",
                layer.position_of("name"), layer.name))
            continue
        graph.add_node(layer.name, kind="layer", decl=layer)
    for layer in spec.layers:
        if graph.nodes[layer.name]["decl"] is not layer:
            continue
        for source in layer.sources:
            if source not in graph:
                spec.findings.append(_finding(
                    spec, "G001", f"`from` names `{source}`, which is no input or layer{suggest(source, graph)}",
                    layer.position_of("from"), layer.name))
            else:
                graph.add_edge(source, layer.name)
    for output in spec.outputs:
        if output not in graph:
            spec.findings.append(_finding(
                spec, "G001", f"`outputs` names `{output}`, which is no layer{suggest(output, graph)}",
                spec.outputs_position, None))
    spec.graph = graph
    return graph
