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
from convlint.render.diagram import Box, Diagram

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


def to_graphviz(diagram: Diagram, rankdir: str = "TB"):
    """The diagram as a ``graphviz.Digraph`` laid out top-to-bottom (``TB``) or left-to-right (``LR``)."""
    graphviz = _graphviz()
    errors = sum(len(box.findings) for box in diagram.boxes.values()) + len(diagram.spec_findings)
    title = f"{diagram.name} · {'' if diagram.params_complete else '≥ '}{diagram.total_params:,} params"
    if errors:
        title += f" · {errors} finding{'s' if errors != 1 else ''} (red)"
    # Node IDs are generated (n0, n1, …): names, which the spec's author chose, appear only in
    # escaped labels and tooltips, so no name can add nodes, edges or attributes to the DOT source.
    ids = {box_id: f"n{number}" for number, box_id in enumerate(diagram.boxes)}
    dot = graphviz.Digraph("network")
    dot.attr("graph", rankdir=rankdir, label=_dot_text(printable(title)), labelloc="t", fontname=FONT, fontsize="14",
             nodesep="0.3", ranksep="0.35", pad="0.2", newrank="true", forcelabels="true")
    dot.attr("node", fontname=FONT, fontsize="10", color=LINE, penwidth="1", margin="0.06,0.03")
    dot.attr("edge", fontname=FONT, fontsize="8", fontcolor=MUTED, color="#8a96a3", arrowsize="0.6")
    first_input = None
    for box in diagram.boxes.values():
        dot.node(ids[box.id], _label(box), **_node_style(box))
        if box.kind == "input" and first_input is None:
            first_input = ids[box.id]
    for edge in diagram.edges:
        label = " " + (edge.label if edge.order is None else f"{edge.order}: {edge.label}") + " "
        weight = "8" if edge.on_spine else "1"
        tooltip = f"{_shown(diagram.boxes[edge.tail].name)} → {_shown(diagram.boxes[edge.head].name)}: {edge.label}"
        attributes = {"tooltip": _dot_text(tooltip),
                      # top to bottom, labels placed after layout keep the ranks close together
                      "xlabel" if rankdir == "TB" and not edge.level else "label": _dot_text(label)}
        if edge.reference:
            attributes["style"] = "dashed"
        tail, head = ids[edge.tail], ids[edge.head]
        if edge.level:
            with dot.subgraph() as same_rank:
                same_rank.attr(rank="same")
                same_rank.edge(tail, head, **attributes)
        elif edge.upward:  # laid out head-first, drawn with the arrow at the head
            dot.edge(head, tail, weight=weight, dir="back", **attributes)
        else:
            dot.edge(tail, head, weight=weight, **attributes)
    _add_legend(dot, diagram, rankdir, first_input)
    if diagram.spec_findings:
        lines = "\n".join(_finding_line(finding) for finding in diagram.spec_findings)
        dot.node("findings", _dot_text(lines), shape="note", style="filled", fillcolor=FINDING_FILL,
                 color=FINDING_LINE, fontcolor="#a00000")
    return dot


def _node_style(box: Box) -> dict:
    style = {"tooltip": _dot_text(_tooltip(box)), "fillcolor": FAMILY_COLOURS.get(box.family, FAMILY_COLOURS["other"])}
    if box.kind in ("input", "output"):
        style.update(shape="box", style="rounded,filled", fontcolor="white", color=style["fillcolor"])
    elif box.role in ("merge", "concat"):
        style.update(shape="ellipse", style="filled", margin="0.02,0.02")
    else:
        style.update(shape="box", style="rounded,filled")
    if box.findings:
        style.update(fillcolor=FINDING_FILL, color=FINDING_LINE, penwidth="2")
    if box.spine is not None:
        style["group"] = box.spine
    return style


def _label(box: Box) -> str:
    """An HTML-like label: name; type and key arguments; folded layers; output shape and parameters."""
    rows = [f"<B>{escape(_shown(box.name))}</B>"]
    if box.kind == "layer":
        kind = escape(_shown(box.type)) + (f' <FONT COLOR="{MUTED}">{escape(_shown(box.args))}</FONT>' if box.args else "")
        rows.append(kind)
        rows += [f'<FONT POINT-SIZE="9" COLOR="{MUTED}">+ {escape(_shown(type_))} {escape(_shown(name))}</FONT>'
                 for type_, name in box.folded]
    if box.kind != "output":
        details = (box.shape_text if box.shape is not None else "shape unknown") + (f" · {box.params:,} params" if box.params else "")
        rows.append(f'<FONT POINT-SIZE="9">{escape(details)}</FONT>')
    if box.findings:
        codes = " ".join(dict.fromkeys(finding.code for finding in box.findings))
        rows.append(f'<FONT POINT-SIZE="9" COLOR="{FINDING_LINE}"><B>{escape(codes)}</B></FONT>')
    cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _finding_line(finding) -> str:
    return f"{finding.code} (line {finding.line}): {_shown(finding.message)}"


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


def draw(diagram: Diagram, fmt: str, rankdir: str = "TB", time_limit: float = DOT_TIME_LIMIT) -> bytes:
    """The diagram in ``fmt`` (one of :data:`FORMATS`) as bytes.

    Raises :class:`DotMissing` when ``dot`` is needed but not installed and
    :class:`DrawError` when the ``graphviz`` package is missing, or ``dot`` fails
    or runs longer than ``time_limit`` seconds (it is then stopped).
    """
    dot = to_graphviz(diagram, rankdir)
    if fmt == "dot":
        return dot.source.encode("utf-8")
    program = shutil.which("dot")
    if program is None:
        raise DotMissing(f"Graphviz's `dot` program was not found on PATH; {INSTALL_HINT}")
    try:
        done = subprocess.run([program, f"-T{fmt}"], input=dot.source.encode("utf-8"), capture_output=True,
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
