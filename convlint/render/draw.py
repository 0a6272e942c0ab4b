"""Drawing a :class:`~convlint.render.diagram.Diagram` with Graphviz: DOT source, and SVG/PNG/PDF through ``dot``.

Uses the ``graphviz`` Python package (the ``render`` extra), imported only
when a diagram is drawn, and Graphviz's ``dot`` program for every format but
DOT itself.  Boxes are coloured by layer family; boxes with findings are red
and carry the messages in their tooltip.  The longest path through the
network is kept straight (one Graphviz ``group``), so branches and skip
connections run beside it instead of bending it.
"""
from __future__ import annotations

import shutil
import subprocess
from html import escape

from convlint.escaping import printable
from convlint.render.collapse import chain
from convlint.render.diagram import Box, Diagram, Edge

DOT_TIME_LIMIT = 60.0
"""Seconds ``dot`` may take to lay out and draw one diagram before it is stopped."""

FORMATS = ("svg", "png", "pdf", "dot")
"""Output formats: the first three are drawn by ``dot``, ``dot`` is the Graphviz source itself."""

FAMILY_COLOURS = {
    "input": "#37474f",
    "output": "#37474f",
    "conv": "#d6e6f5",
    "transposed": "#e4daf2",
    "pool": "#fcefc4",
    "norm": "#fde1c8",
    "activation": "#f9d9e6",
    "dropout": "#e9e9e9",
    "linear": "#d3eee4",
    "merge": "#ffffff",
    "reshape": "#eeeeee",
    "resample": "#e1f0d0",
    "other": "#f5f5f5",
}
"""Fill colour per layer family (:attr:`convlint.LayerType.family`); unknown families use ``other``."""

FINDING_FILL, FINDING_LINE = "#fde2e1", "red"
LINE, MUTED = "#5f6b7a", "#555555"
FONT = "Helvetica"

INSTALL_HINT = ("install Graphviz (Debian/Ubuntu: `sudo apt-get install graphviz`; macOS: `brew install graphviz`; "
                "Windows and others: https://graphviz.org/download/)")
PACKAGE_HINT = "install the `graphviz` Python package: `pip install graphviz`"


class DrawError(Exception):
    """Graphviz cannot draw the diagram; the message says why and what to do."""


class DotMissing(DrawError):
    """The ``dot`` program is not installed (or not on ``PATH``)."""


def _graphviz():
    try:
        import graphviz
    except ImportError:
        raise DrawError(f"the `graphviz` Python package is missing; {PACKAGE_HINT}") from None
    return graphviz


EDGE_LABELS = ("changes", "all", "none")
"""Which edges are labelled with their shape: where the shape changes or at a merge, every edge, none."""

DEFAULT_DPI = 192
"""Pixels per inch of PNG output: twice the usual 96, crisp on high-density screens."""


def to_graphviz(diagram: Diagram, rankdir: str = "TB", edge_labels: str = "changes"):
    """The diagram as a ``graphviz.Digraph`` laid out top-to-bottom (``TB``) or left-to-right (``LR``).

    Block uses in :attr:`~convlint.render.diagram.Diagram.clusters` are drawn as labelled clusters;
    ``edge_labels`` is one of :data:`EDGE_LABELS`.  A box with findings carries a numbered marker,
    explained in the legend of findings under the diagram.
    """
    graphviz = _graphviz()
    numbers = finding_numbers(diagram)
    count = sum(len(box.findings) for box in diagram.boxes.values()) + len(diagram.spec_findings)
    title = f"{diagram.name} · {'' if diagram.params_complete else '≥ '}{diagram.total_params:,} params"
    if count:
        title += f" · {count} finding{'s' if count != 1 else ''} (red, listed below)"
    # Node IDs are generated (n0, n1, …): names, which the spec's author chose, appear only in
    # escaped labels and tooltips, so no name can add nodes, edges or attributes to the DOT source.
    ids = node_ids(diagram)
    dot = graphviz.Digraph("network")
    dot.attr("graph", rankdir=rankdir, label=_dot_text(printable(title)), labelloc="t", fontname=FONT, fontsize="14",
             nodesep="0.3", ranksep="0.35", pad="0.2", newrank="true", forcelabels="true", splines="spline")
    dot.attr("node", fontname=FONT, fontsize="10", color=LINE, penwidth="1", margin="0.06,0.03")
    dot.attr("edge", fontname=FONT, fontsize="8", fontcolor=MUTED, color="#8a96a3", arrowsize="0.6")
    _add_boxes(dot, diagram, ids, numbers)
    shown_in = _shapes_shown(diagram)
    for edge in diagram.edges:
        _add_edge(dot, diagram, edge, ids, rankdir, _edge_text(edge, diagram, shown_in, edge_labels))
    first_input = next((ids[box.id] for box in diagram.boxes.values() if box.kind == "input"), None)
    _add_legend(dot, diagram, rankdir, first_input)
    _add_findings_legend(dot, diagram, ids, numbers)
    return dot


def node_ids(diagram: Diagram) -> dict[str, str]:
    """The generated DOT (and SVG) id of each box: ``n0``, ``n1``, … in box order."""
    return {box_id: f"n{number}" for number, box_id in enumerate(diagram.boxes)}


def finding_numbers(diagram: Diagram) -> dict[str, int]:
    """The marker number of each box with findings, 1, 2, … in box order."""
    with_findings = [box.id for box in diagram.boxes.values() if box.findings]
    return {box_id: number for number, box_id in enumerate(with_findings, start=1)}


def _add_boxes(dot, diagram: Diagram, ids: dict[str, str], numbers: dict[str, int]) -> None:
    """Every box, inside the nested clusters of the block uses that hold it."""
    inside: dict[str | None, list[Box]] = {}
    for box in diagram.boxes.values():
        inside.setdefault(box.block, []).append(box)
    children: dict[str | None, list[str]] = {}
    for path in diagram.clusters:
        holders = chain(path, diagram.clusters)
        children.setdefault(holders[-1] if holders else None, []).append(path)
    cluster_ids = {path: f"cluster_{number}" for number, path in enumerate(diagram.clusters)}

    def fill(graph, path: str | None) -> None:
        for box in inside.get(path, []):
            graph.node(ids[box.id], _label(box, numbers.get(box.id)), id=ids[box.id], **_node_style(box))
        for child in children.get(path, []):
            with graph.subgraph(name=cluster_ids[child]) as cluster:
                label = f"{_shown(child)} · {_shown(diagram.clusters[child])}"
                cluster.attr(label=_dot_text(label), id=cluster_ids[child], style="rounded,dashed", color="#9aa5b1",
                             fontcolor=MUTED, fontsize="9", labeljust="l", tooltip=_dot_text(label))
                fill(cluster, child)

    fill(dot, None)


def _shapes_shown(diagram: Diagram) -> dict[str, str]:
    """For each box, the shape of the tensor it reads first (its first non-reference input)."""
    first: dict[str, str] = {}
    for edge in diagram.edges:
        if not edge.reference:
            first.setdefault(edge.head, edge.label)
    return first


def _edge_text(edge: Edge, diagram: Diagram, reads: dict[str, str], edge_labels: str) -> str:
    """The label of ``edge``: its shape where it says something (``edge_labels="changes"``): when the
    tensor differs from the shape printed in its tail box, when the tail box changed the shape it
    read, or when it enters a merge (numbered for a concat).  A mismatch shows both shapes."""
    tail, head = diagram.boxes[edge.tail], diagram.boxes[edge.head]
    text = edge.label if not edge.mismatch else f"{edge.label} ≠ {edge.expected}"
    if edge.order is not None:
        text = f"{edge.order}: {text}"
    if edge.mismatch or edge_labels == "all":
        return text
    if edge_labels == "none":
        return ""
    changed = tail.kind == "layer" and edge.tail in reads and reads[edge.tail] != tail.shape_text
    if edge.label != tail.shape_text or changed or head.role in ("merge", "concat", "crop"):
        return text
    return ""


def _add_edge(dot, diagram: Diagram, edge: Edge, ids: dict[str, str], rankdir: str, text: str) -> None:
    weight = "8" if edge.on_spine else "1"
    tooltip = f"{_shown(diagram.boxes[edge.tail].name)} → {_shown(diagram.boxes[edge.head].name)}: {edge.label}"
    if edge.mismatch:
        tooltip += f" (the merge's first input is {edge.expected})"
    attributes = {"tooltip": _dot_text(tooltip)}
    if text:
        # top to bottom, labels placed after layout keep the ranks close together
        attributes["xlabel" if rankdir == "TB" and not edge.level else "label"] = _dot_text(f" {text} ")
    if edge.reference:
        attributes["style"] = "dashed"
    if edge.mismatch:
        attributes.update(color=FINDING_LINE, fontcolor=FINDING_LINE, penwidth="2")
    tail, head = ids[edge.tail], ids[edge.head]
    if edge.level:
        with dot.subgraph() as same_rank:
            same_rank.attr(rank="same")
            same_rank.edge(tail, head, **attributes)
    elif edge.upward:  # laid out head-first, drawn with the arrow at the head
        dot.edge(head, tail, weight=weight, dir="back", **attributes)
    else:
        dot.edge(tail, head, weight=weight, **attributes)


def _node_style(box: Box) -> dict:
    style = {"tooltip": _dot_text(_tooltip(box)), "fillcolor": FAMILY_COLOURS.get(box.family, FAMILY_COLOURS["other"])}
    if box.kind in ("input", "output"):
        style.update(shape="box", style="rounded,filled", fontcolor="white", color=style["fillcolor"])
    elif box.collapsed:
        style.update(shape="box3d", style="filled")
    elif box.role in ("merge", "concat"):
        style.update(shape="ellipse", style="filled", margin="0.02,0.02")
    else:
        style.update(shape="box", style="rounded,filled")
    if box.findings:
        style.update(fillcolor=FINDING_FILL, color=FINDING_LINE, penwidth="2")
    if box.spine is not None:
        style["group"] = box.spine
    return style


def _label(box: Box, marker: int | None = None) -> str:
    """An HTML-like label: name; type and key arguments (or a block's label and layer count); folded
    layers; output shape and parameters; finding codes, with the finding marker ``marker`` beside the name."""
    rows = [f"<B>{escape(_shown(box.name))}</B>"]
    if box.kind == "layer":
        args = box.args or (f"{box.collapsed} layers" if box.collapsed else "")
        kind = escape(_shown(box.type)) + (f' <FONT COLOR="{MUTED}">{escape(_shown(args))}</FONT>' if args else "")
        rows.append(kind)
        rows += [f'<FONT POINT-SIZE="9" COLOR="{MUTED}">+ {escape(_shown(type_))} {escape(_shown(name))}</FONT>'
                 for type_, name in box.folded]
    if box.kind != "output":
        details = (box.shape_text if box.shape is not None else "shape unknown") + (f" · {box.params:,} params" if box.params else "")
        rows.append(f'<FONT POINT-SIZE="9">{escape(details)}</FONT>')
    if box.findings:
        codes = " ".join(dict.fromkeys(finding.code for finding in box.findings))
        rows.append(f'<FONT POINT-SIZE="9" COLOR="{FINDING_LINE}"><B>{escape(codes)}</B></FONT>')
    if marker is None:
        cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    else:
        badge = (f'<TD BGCOLOR="{FINDING_LINE}" STYLE="ROUNDED">'
                 f'<FONT COLOR="white" POINT-SIZE="9"><B> {marker} </B></FONT></TD>')
        cells = f"<TR><TD>{rows[0]}</TD>{badge}</TR>" + "".join(f'<TR><TD COLSPAN="2">{row}</TD></TR>'
                                                                for row in rows[1:])
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _add_findings_legend(dot, diagram: Diagram, ids: dict[str, str], numbers: dict[str, int]) -> None:
    """The findings under the diagram: one row per finding, after its box's marker number
    (``–`` for a finding that belongs to no box)."""
    rows = [(str(numbers[box.id]), finding) for box in diagram.boxes.values() for finding in box.findings]
    rows += [("–", finding) for finding in diagram.spec_findings]
    if not rows:
        return
    cells = "".join(
        f'<TR><TD BGCOLOR="{FINDING_LINE}" VALIGN="TOP"><FONT COLOR="white"><B>{escape(number)}</B></FONT></TD>'
        f'<TD ALIGN="LEFT" BALIGN="LEFT">{_wrapped(_legend_line(finding))}</TD></TR>'
        for number, finding in rows)
    label = (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">'
             f'<TR><TD COLSPAN="2" ALIGN="LEFT"><B>Findings</B></TD></TR>{cells}</TABLE>>')
    dot.node("findings", label, shape="plaintext", fontsize="9", fontcolor="#a00000", id="findings",
             tooltip="findings")
    tails = {edge.tail for edge in diagram.edges}
    for box_id, box in diagram.boxes.items():  # below every box that ends a path or lies on the spine
        if box_id not in tails or box.spine is not None:
            dot.edge(ids[box_id], "findings", style="invis")


def _finding_line(finding) -> str:
    return f"{finding.code} (line {finding.line}): {_shown(finding.message)}"


LEGEND_TEXT = 600
"""Most characters of one finding shown in the legend (wrapped at :data:`LEGEND_WIDTH`)."""

LEGEND_WIDTH = 110
"""Characters per line of the legend of findings."""


def _legend_line(finding) -> str:
    """``layer · CODE (line N): message``, with up to :data:`LEGEND_TEXT` characters of the message."""
    where = f"{printable(finding.layer, 200)} · " if finding.layer else ""
    return f"{where}{finding.code} (line {finding.line}): {printable(finding.message, LEGEND_TEXT)}"


def _wrapped(text: str) -> str:
    """``text`` escaped for an HTML-like label, wrapped at :data:`LEGEND_WIDTH` into left-aligned lines."""
    import textwrap

    return '<BR ALIGN="LEFT"/>'.join(escape(line) for line in textwrap.wrap(text, LEGEND_WIDTH)) + '<BR ALIGN="LEFT"/>'


def _shown(text: str) -> str:
    """Untrusted text (a name, a message) with control characters escaped and its length bounded."""
    return printable(text, 200)


def _tooltip(box: Box) -> str:
    """The findings' messages for a box with findings; otherwise what the box holds."""
    if box.findings:
        return "\n".join(_finding_line(finding) for finding in box.findings)
    if box.kind != "layer":
        return f"{box.kind} {_shown(box.name)}: {box.shape_text}"
    members = [(box.type, box.name)] + box.folded
    return "\n".join(f"{_shown(name)}: {_shown(type_)}" for type_, name in members) + f"\n→ {box.shape_text}"


def _dot_text(text: str):
    """A plain-text DOT attribute value: backslashes doubled, since DOT reads ``\\N``, ``\\l`` and the
    like as escapes, and marked as no HTML-like label (even if it starts with ``<``)."""
    return _graphviz().nohtml(text.replace("\\", "\\\\"))


def _add_legend(dot, diagram: Diagram, rankdir: str, anchor: str | None) -> None:
    """A small table of the families drawn (plus the finding colour), beside the first input."""
    entries = [(family, FAMILY_COLOURS.get(family, FAMILY_COLOURS["other"]), LINE) for family in diagram.families()]
    if any(box.findings for box in diagram.boxes.values()):
        entries.append(("finding", FINDING_FILL, FINDING_LINE))
    if not entries:
        return
    cells = [f'<TD BGCOLOR="{fill}" COLOR="{line}">{escape(_shown(name))}</TD>' for name, fill, line in entries]
    rows = "<TR>" + "".join(cells) + "</TR>" if rankdir == "TB" else "".join(f"<TR>{cell}</TR>" for cell in cells)
    label = (f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="2" CELLPADDING="2" STYLE="ROUNDED">'
             f'{rows}</TABLE>>')
    legend = "legend"
    dot.node(legend, label, shape="plaintext", fontsize="8", tooltip="layer families")
    if anchor is not None:
        with dot.subgraph() as same_rank:
            same_rank.attr(rank="same")
            same_rank.node(anchor)
            same_rank.node(legend)


def draw(diagram: Diagram, fmt: str, rankdir: str = "TB", time_limit: float = DOT_TIME_LIMIT,
         edge_labels: str = "changes", dpi: int = DEFAULT_DPI) -> bytes:
    """The diagram in ``fmt`` (one of :data:`FORMATS`) as bytes; a PNG at ``dpi`` pixels per inch.

    Raises :class:`DotMissing` when ``dot`` is needed but not installed and
    :class:`DrawError` when the ``graphviz`` package is missing, or ``dot`` fails
    or runs longer than ``time_limit`` seconds (it is then stopped).
    """
    dot = to_graphviz(diagram, rankdir, edge_labels)
    if fmt == "dot":
        return dot.source.encode("utf-8")
    program = shutil.which("dot")
    if program is None:
        raise DotMissing(f"Graphviz's `dot` program was not found on PATH; {INSTALL_HINT}")
    command = [program, f"-T{fmt}"] + ([f"-Gdpi={dpi}"] if fmt == "png" else [])
    try:
        done = subprocess.run(command, input=dot.source.encode("utf-8"), capture_output=True,
                              timeout=time_limit, check=False)
    except subprocess.TimeoutExpired:
        raise DrawError(f"Graphviz's `dot` did not lay out {len(diagram.boxes):,} boxes within {time_limit:g} s "
                        f"and was stopped; `--format dot` writes the Graphviz source") from None
    except OSError as error:
        raise DrawError(f"Graphviz's `dot` could not be run: {error}") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip()
        raise DrawError(f"Graphviz's `dot` failed: {detail or f'exit status {done.returncode}'}")
    return done.stdout
