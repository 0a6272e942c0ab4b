"""``convlint render -o net.html``: one self-contained page to explore a diagram (no network access).

The page holds the diagram's SVG at every block depth (from 1 to the deepest, and every layer),
each drawn by ``dot`` as ``convlint render`` draws it, and shows one at a time with pan (drag) and
zoom (wheel, buttons).  A collapsed block expands (its box's *Expand* button, or a double click)
by showing the next depth; a cluster collapses (a click on its label) by showing its own depth.
A click on a box shows its findings and its layers' arithmetic, parameters, MACs and receptive fields, from
:func:`convlint.report.summary.build_summary`.  The findings are listed, each linked to its box,
and the summary table closes the page.
"""
from __future__ import annotations

import json
from html import escape

from convlint.analysis.window_findings import axis_symbols
from convlint.layers.registry import Registry
from convlint.render.collapse import MAX_BOXES, chain
from convlint.render.diagram import Diagram
from convlint.render.draw import draw, node_ids
from convlint.render.layout import Layout
from convlint.report.summary import build_summary


def page(spec, checked, layout: Layout, registry: Registry, rankdir: str = "TB", edge_labels: str = "changes") -> bytes:
    """The HTML page of ``spec`` (UTF-8), from the lint pipeline's ``checked`` result and its ``layout``."""
    summary = build_summary(spec, checked, registry)
    views = []
    for depth in [*range(1, layout.levels + 1), None]:
        diagram = layout.drawn if depth == layout.depth else layout.at(depth)
        if len(diagram.boxes) > MAX_BOXES:
            continue
        svg = draw(diagram, "svg", rankdir, edge_labels=edge_labels).decode("utf-8")
        views.append({"depth": depth, "svg": svg[svg.index("<svg"):], "boxes": _boxes(diagram),
                      "clusters": {f"cluster_{number}": {"path": path, "depth": len(chain(path, layout.groups)) + 1}
                                   for number, path in enumerate(diagram.clusters)}})
    data = {
        "name": spec.name,
        "start": next((index for index, view in enumerate(views) if view["depth"] == layout.depth), len(views) - 1),
        "views": views,
        "layers": {row["name"]: {**row, "arithmetic": _arithmetic(checked.analysis, registry, row["name"])}
                   for row in summary["layers"]},
        "findings": summary["diagnostics"],
    }
    # no `<` in the script element, so no name can end it or open a comment inside it
    payload = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    title = escape(f"{spec.name} · convlint")
    return (PAGE.replace("{{title}}", title).replace("{{table}}", _table(summary))
            .replace("{{data}}", payload)).encode("utf-8")


def _boxes(diagram: Diagram) -> dict:
    """Per SVG node id: the box's name, type, layers, the findings' layers and its collapsed layer count."""
    ids = node_ids(diagram)
    return {ids[box.id]: {"name": box.name, "type": box.type, "kind": box.kind, "members": box.members,
                          "collapsed": box.collapsed, "shape": box.shape_text, "params": box.params}
            for box in diagram.boxes.values()}


def _arithmetic(analysis, registry: Registry, name: str) -> list[str]:
    """The output-size arithmetic of layer ``name`` along each spatial axis (``H_out = (56 + 2·1 − 3)/2 + 1
    = 28``); empty for a layer without a sliding window."""
    node = analysis.nodes.get(name)
    layer_type = registry.types.get(node.type) if node is not None else None
    if layer_type is None or node.context is None:
        return []
    axes = layer_type.window_axes(node.context) or []
    return [axis.formula(symbol) for axis, symbol in zip(axes, axis_symbols(len(axes)))]


def _cell(value) -> str:
    if value is None:
        return "?"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return "×".join(str(item) for item in value)
    return str(value)


def _table(summary: dict) -> str:
    """The summary table: one row per layer, then the totals."""
    columns = ("name", "type", "output_shape", "params", "macs", "receptive_field")
    head = "".join(f"<th>{escape(column.replace('_', ' '))}</th>" for column in columns)
    rows = "".join("<tr>" + "".join(f"<td>{escape(_cell(row.get(column)))}</td>" for column in columns) + "</tr>"
                   for row in summary["layers"])
    total = (f"<tr class='total'><td>total</td><td></td><td></td><td>{summary['total_params']:,}</td>"
             f"<td>{_cell(summary.get('total_macs'))}</td><td></td></tr>")
    return f"<table id='summary'><thead><tr>{head}</tr></thead><tbody>{rows}{total}</tbody></table>"


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{title}}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #222; }
header { padding: 8px 12px; background: #37474f; color: white; display: flex; gap: 12px; align-items: center; }
header button, header select { font-size: 13px; }
main { display: flex; height: 72vh; border-bottom: 1px solid #ccc; }
#view { flex: 1; overflow: hidden; position: relative; cursor: grab; background: #fafafa; }
#view svg { width: 100%; height: 100%; }
#side { width: 360px; overflow: auto; padding: 8px 12px; border-left: 1px solid #ccc; font-size: 13px; }
#details h3 { margin: 4px 0; }
#details pre { background: #f3f3f3; padding: 4px; white-space: pre-wrap; }
#findings li { cursor: pointer; color: #a00000; margin-bottom: 4px; }
#details p.finding { color: #a00000; }
g.node.selected polygon, g.node.selected path, g.node.selected ellipse { stroke: #ff9800; stroke-width: 4; }
g.node { cursor: pointer; }
g.cluster text { cursor: pointer; text-decoration: underline; }
table { border-collapse: collapse; font-size: 12px; margin: 12px; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: left; }
tr.total { font-weight: bold; }
</style></head>
<body>
<header><b>{{title}}</b>
<label>depth <select id="depth"></select></label>
<button id="zoom-in">+</button><button id="zoom-out">−</button><button id="fit">fit</button>
<span>drag to pan · wheel to zoom · click a box · double-click a block to expand · click a cluster label to collapse</span>
</header>
<main><div id="view"></div>
<aside id="side"><div id="details"><p>Click a box to see its layers.</p></div>
<h3>Findings</h3><ol id="findings"></ol></aside></main>
<h2 style="margin:12px">Summary</h2>
{{table}}
<script type="application/json" id="data">{{data}}</script>
<script>
const data = JSON.parse(document.getElementById("data").textContent);
const view = document.getElementById("view");
const select = document.getElementById("depth");
let current = data.start, box = null, selected = null;

data.views.forEach((v, i) => {
  const option = document.createElement("option");
  option.value = i; option.textContent = v.depth === null ? "every layer" : v.depth;
  select.appendChild(option);
});
select.addEventListener("change", () => show(Number(select.value)));

function svg() { return view.querySelector("svg"); }
function setBox(b) { box = b; svg().setAttribute("viewBox", b.join(" ")); }

function show(index, focus) {
  current = index; select.value = index;
  view.innerHTML = data.views[index].svg;
  const s = svg();
  s.removeAttribute("width"); s.removeAttribute("height");
  const b = s.viewBox.baseVal; setBox([b.x, b.y, b.width, b.height]);
  s.querySelectorAll("g.node").forEach(node => {
    node.addEventListener("click", () => pick(node.id));
    node.addEventListener("dblclick", () => expand(node.id));
  });
  s.querySelectorAll("g.cluster").forEach(cluster => {
    const text = cluster.querySelector("text");  // the label, inside its tooltip link
    if (text) text.addEventListener("click", () => collapseTo(cluster.id));
  });
  if (focus) pickLayer(focus);
}

function holder(layer) {
  const boxes = data.views[current].boxes;
  return Object.keys(boxes).find(id => boxes[id].members.includes(layer));
}

function pickLayer(layer) {
  const id = holder(layer);
  if (id) { pick(id); centre(id); }
}

function centre(id) {
  const node = document.getElementById(id);
  if (!node) return;
  const r = node.getBBox(), s = svg();
  const m = s.getScreenCTM().inverse().multiply(node.getScreenCTM());
  // the node's centre in the SVG's user units (the viewBox's), through the graph's transform
  const p = new DOMPoint(r.x + r.width / 2, r.y + r.height / 2).matrixTransform(m);
  const factor = Math.min(1, r.width * 5 / box[2]);  // zoom in until the box is a fifth of the view wide
  const w = box[2] * factor, h = box[3] * factor;
  setBox([p.x - w / 2, p.y - h / 2, w, h]);
}

function pick(id) {
  if (selected) selected.classList.remove("selected");
  selected = document.getElementById(id);
  if (selected) selected.classList.add("selected");
  const b = data.views[current].boxes[id];
  if (!b) return;
  const details = document.getElementById("details");
  details.innerHTML = "";
  const title = document.createElement("h3");
  title.textContent = b.name + " · " + b.type;
  details.appendChild(title);
  const line = document.createElement("p");
  line.textContent = "output " + b.shape + (b.params ? " · " + b.params.toLocaleString("en") + " params" : "");
  details.appendChild(line);
  if (b.collapsed) {
    const button = document.createElement("button");
    button.id = "expand"; button.textContent = "Expand " + b.name + " (" + b.collapsed + " layers)";
    button.addEventListener("click", () => expand(id));
    details.appendChild(button);
  }
  data.findings.filter(f => b.members.includes(f.layer)).forEach(f => {
    const line = document.createElement("p");
    line.className = "finding";
    line.textContent = f.layer + " · " + f.code + " (line " + f.line + "): " + f.message;
    details.appendChild(line);
  });
  b.members.forEach(name => {
    const layer = data.layers[name];
    if (!layer) return;
    const section = document.createElement("div");
    section.className = "layer";
    const parts = [name + ": " + layer.type,
      "output " + (layer.output_shape ? layer.output_shape.join("×") : "?"),
      "params " + (layer.params === null ? "?" : layer.params.toLocaleString("en")),
      "MACs " + (layer.macs === null ? "?" : layer.macs.toLocaleString("en")),
      "receptive field " + (layer.receptive_field ? layer.receptive_field.join("×") : "?")]
      .concat(layer.arithmetic);
    const pre = document.createElement("pre");
    pre.textContent = parts.join("\\n");
    section.appendChild(pre);
    details.appendChild(section);
  });
}

function expand(id) {
  const b = data.views[current].boxes[id];
  if (!b || !b.collapsed || current + 1 >= data.views.length) return;
  show(current + 1, b.members[0]);
}

function collapseTo(clusterId) {
  const cluster = data.views[current].clusters[clusterId];
  const index = data.views.findIndex(v => v.depth === cluster.depth);
  if (index >= 0) show(index, Object.values(data.layers).map(l => l.name).find(n => n.startsWith(cluster.path + ".")));
}

function zoom(factor, cx, cy) {
  if (cx === undefined) { cx = box[0] + box[2] / 2; cy = box[1] + box[3] / 2; }
  setBox([cx - (cx - box[0]) * factor, cy - (cy - box[1]) * factor, box[2] * factor, box[3] * factor]);
}
view.addEventListener("wheel", event => {
  event.preventDefault();
  const r = view.getBoundingClientRect();
  const cx = box[0] + (event.clientX - r.left) / r.width * box[2];
  const cy = box[1] + (event.clientY - r.top) / r.height * box[3];
  zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, cx, cy);
}, { passive: false });
let drag = null;
view.addEventListener("mousedown", event => { drag = [event.clientX, event.clientY, box.slice()]; });
window.addEventListener("mouseup", () => { drag = null; });
view.addEventListener("mousemove", event => {
  if (!drag) return;
  const r = view.getBoundingClientRect(), scale = Math.max(drag[2][2] / r.width, drag[2][3] / r.height);
  setBox([drag[2][0] - (event.clientX - drag[0]) * scale, drag[2][1] - (event.clientY - drag[1]) * scale,
          drag[2][2], drag[2][3]]);
});
document.getElementById("zoom-in").addEventListener("click", () => zoom(1 / 1.3));
document.getElementById("zoom-out").addEventListener("click", () => zoom(1.3));
document.getElementById("fit").addEventListener("click", () => show(current));

const list = document.getElementById("findings");
data.findings.forEach(finding => {
  const item = document.createElement("li");
  item.textContent = (finding.layer ? finding.layer + " · " : "") + finding.code + " (line " + finding.line + "): "
    + finding.message;
  if (finding.layer) { item.dataset.layer = finding.layer; item.addEventListener("click", () => pickLayer(finding.layer)); }
  list.appendChild(item);
});
if (!data.findings.length) list.outerHTML = "<p>No findings.</p>";
show(current);
</script></body></html>
"""
