"""The spec's wiring, and the spec as a ``networkx.DiGraph``: one node per input and layer, one edge per
tensor read.

Node attributes: ``kind`` (``"input"`` or ``"layer"``) and ``decl`` (the
:class:`~convlint.spec.model.InputDecl` or :class:`~convlint.spec.model.Layer`).  Edges
run from producer to consumer.  Unknown references and duplicate names
become findings here; cycles are found by networkx during inference.

:func:`wire` lists the nodes and edges without networkx, and ``spec.graph`` builds the
``networkx.DiGraph`` from them when first asked for.  Importing networkx takes about 140 ms, more than
half of ``import convlint`` (measured with ``python -X importtime``), and a lint of a spec whose layers
read only tensors written before them (the usual case) needs no graph algorithm: its dependency order
is the order it is written in (:func:`dependency_order`).  So ``convlint lint`` of such specs, a pre-commit
hook run on every commit, does not import networkx; everything that walks the graph gets it from
``spec.graph``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from convlint.findings import Finding
from convlint.rules import RULES
from convlint.spec.model import InputDecl, Spec
from convlint.suggestions import Suggestions

if TYPE_CHECKING:
    import networkx as nx


@dataclass
class Wiring:
    """The graph's nodes (name → attributes ``kind`` and ``decl``: inputs first, then layers as written,
    duplicates left out) and edges (producer, consumer), without networkx."""

    nodes: dict[str, dict]
    edges: list[tuple[str, str]]

    def digraph(self) -> nx.DiGraph:
        """The wiring as a ``networkx.DiGraph`` (networkx is imported here)."""
        import networkx as nx

        graph: nx.DiGraph = nx.DiGraph()
        graph.add_nodes_from(self.nodes.items())
        graph.add_edges_from(self.edges)
        return graph

    def with_inputs(self, inputs: dict[str, InputDecl]) -> Wiring:
        """The same wiring with the declarations of ``inputs`` in place of the old ones."""
        nodes = {name: {**data, "decl": inputs[name]} if name in inputs else data for name, data in self.nodes.items()}
        return Wiring(nodes, self.edges)


def _finding(spec: Spec, code: str, message: str, position: tuple[int, int], layer: str | None) -> Finding:
    return Finding(code, RULES[code].severity, message, spec.path, position[0], position[1], layer)


def producer(source: str, known) -> tuple[str, int | None]:
    """The node that makes tensor ``source``, and which of its outputs (``None``: its only one).

    ``source`` names a node of ``known``, or one output of a layer with several
    outputs (``Split``, ``Chunk``) as ``<layer>.<index>``: ``split1.0`` →
    ``("split1", 0)`` when ``split1`` is a node and ``split1.0`` is not.
    """
    if source in known:
        return source, None
    stem, dot, number = source.rpartition(".")
    if dot and number.isdigit() and stem in known:
        return stem, int(number)
    return source, None


def wire(spec: Spec) -> Wiring:
    """Make ``spec.wiring`` and append wiring findings (G001, G003) to ``spec.findings``."""
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
    nodes = {decl.name: {"kind": "input", "decl": decl} for decl in spec.inputs.values()}
    nodes.update((layer.name, {"kind": "layer", "decl": layer}) for layer in layers)
    edges = []
    for layer in layers:
        for source in layer.sources:
            source, _ = producer(source, decls)
            if source not in decls:
                spec.findings.append(_finding(
                    spec, "G001", f"`from` names `{source}`, which is no input or layer{suggestions(source, decls)}",
                    layer.position_of("from"), layer.name))
            else:
                edges.append((source, layer.name))
    for output in spec.outputs:
        if producer(output, decls)[0] not in decls:
            spec.findings.append(_finding(
                spec, "G001", f"`outputs` names `{output}`, which is no layer{suggestions(output, decls)}",
                spec.outputs_position, None))
    spec.wiring = Wiring(nodes, edges)
    return spec.wiring


def build_graph(spec: Spec) -> nx.DiGraph:
    """:func:`wire` ``spec`` (unless it is wired already) and return ``spec.graph``."""
    if spec.wiring is None:
        wire(spec)
    return spec.graph


def _written_order(spec: Spec, nodes: dict[str, dict]) -> list[str] | None:
    """Inputs, then layers as written, when every layer reads only earlier tensors (the usual case).

    ``nodes`` maps each node to its attributes (:attr:`Wiring.nodes`).  ``None`` when some layer
    reads a later one (or itself); then the graph must be sorted.
    """
    order = list(spec.inputs)
    seen = set(order)
    for layer in spec.layers:
        if nodes[layer.name]["decl"] is not layer:  # a duplicate name: not in the graph
            continue
        for source in layer.sources:
            if source not in seen and source in nodes:
                return None
        seen.add(layer.name)
        order.append(layer.name)
    return order


def dependency_order(spec: Spec) -> list[str] | None:
    """Every node of ``spec`` (wired if it is not yet) after the nodes it reads: the written order when
    every layer reads only earlier tensors, else ``spec.graph`` sorted by networkx; ``None`` when the
    graph has a cycle."""
    wiring = spec.wiring if spec.wiring is not None else wire(spec)
    written = _written_order(spec, wiring.nodes)
    if written is not None:
        return written
    import networkx as nx

    return list(nx.topological_sort(spec.graph)) if nx.is_directed_acyclic_graph(spec.graph) else None

