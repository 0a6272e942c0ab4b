"""Tests of how `convlint render` lays out real networks: block uses as clusters or collapsed boxes,
U layouts of encoder–decoders, dashed `like:` edges, edge labels where shapes change, red mismatch
edges, numbered findings with their legend, `--dpi` and `--rankdir LR`.

Diagrams are read back from Graphviz's SVG: a node is a ``<g class="node">``, a cluster a
``<g class="cluster">`` whose tooltip is ``path · label``, an edge a ``<g class="edge">`` whose
tooltip is ``tail → head: shape``.  Expectations come from the specs' YAML (block uses, repeat
counts, ``like:`` and ``from:``) and from PyTorch, never from convlint's own output.
"""
from __future__ import annotations

import re
import shutil
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from convlint.api import lint
from convlint.cli.main import main

sys.path.insert(0, str(Path(__file__).resolve().parent))
torch = pytest.importorskip("torch")
import torch_reference as tr  # noqa: E402

SPECS = Path(__file__).resolve().parent.parent / "specs"
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


@dataclass
class Item:
    """A node, cluster or edge of the SVG: texts, tooltip, outline bounds and its outline element."""

    texts: list[str]
    tooltip: str
    box: tuple[float, float, float, float]
    outline: ET.Element | None
    label_texts: list[str]

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


def _bounds(element: ET.Element | None) -> tuple[float, float, float, float]:
    if element is None:
        return (0.0, 0.0, 0.0, 0.0)
    numbers = [float(number) for number in re.findall(r"-?\d+(?:\.\d+)?", element.get("d") or element.get("points")
                                                       or f"{element.get('cx')},{element.get('cy')}")]
    xs, ys = numbers[0::2], numbers[1::2]
    if element.tag == SVG + "ellipse":
        rx, ry = float(element.get("rx")), float(element.get("ry"))
        return xs[0] - rx, ys[0] - ry, xs[0] + rx, ys[0] + ry
    return min(xs), min(ys), max(xs), max(ys)


def read_svg(data: bytes) -> dict[str, list[Item]]:
    """The SVG's nodes, clusters and edges."""
    found: dict[str, list[Item]] = {"node": [], "cluster": [], "edge": []}
    for group in ET.fromstring(data).iter(SVG + "g"):
        kind = group.get("class")
        if kind not in found:
            continue
        anchor = next(group.iter(SVG + "a"), None)
        outline = next((element for element in group.iter()
                        if element.tag in (SVG + "polygon", SVG + "ellipse", SVG + "path")), None)
        texts = [text.text.strip() for text in group.iter(SVG + "text") if text.text and text.text.strip()]
        found[kind].append(Item(texts, anchor.get(XLINK + "title", "") if anchor is not None else "",
                                _bounds(outline), outline, texts))
    return found


def render(tmp_path: Path, spec: Path, name: str, *options: str) -> bytes:
    out = tmp_path / name
    assert main(["render", str(spec), "-o", str(out), *options]) in (0, 1)
    return out.read_bytes()


def node_named(svg: dict, name: str) -> Item:
    """The node whose first line (its box's name) is ``name``."""
    (node,) = [node for node in svg["node"] if node.texts and node.texts[0] == name]
    return node


def node_holding(svg: dict, layer: str) -> Item:
    """The node that draws ``layer``: its name, or a folded ``+ Type layer`` line."""
    (node,) = [node for node in svg["node"] if node.texts and (node.texts[0] == layer or any(
        text.startswith("+ ") and text.split()[-1] == layer for text in node.texts))]
    return node


def inside(inner: tuple, outer: tuple) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def block_uses(spec: dict) -> dict[str, str]:
    """The top-level layers of a spec that use a block: name → block name."""
    return {layer["name"]: layer["type"] for layer in spec["layers"] if layer["type"] in spec.get("blocks", {})}


def test_block_uses_are_labelled_clusters_holding_their_layers(tmp_path):
    spec = yaml.safe_load((SPECS / "unet_original.yaml").read_text())
    svg = read_svg(render(tmp_path, SPECS / "unet_original.yaml", "u.svg"))
    clusters = {cluster.tooltip: cluster for cluster in svg["cluster"]}
    for use, block in block_uses(spec).items():
        cluster = clusters[f"{use} · {block}"]
        layers = [node for node in svg["node"] if node.texts and node.texts[0].startswith(use + ".")]
        assert layers, use
        assert all(inside(node.box, cluster.box) for node in layers), use
        # no box of another use lies in it
        others = [node for node in svg["node"] if node.texts and not node.texts[0].startswith(use + ".")
                  and node.tooltip and inside(node.box, cluster.box)]
        assert not others, (use, [node.texts[0] for node in others])
    # nested uses: the DoubleConv inside each Up
    assert inside(clusters["up1.conv · DoubleConv"].box, clusters["up1 · Up"].box)


def test_resnet50_by_default_fits_a_page_with_each_stage_and_its_repeat_count(tmp_path):
    spec = yaml.safe_load((SPECS / "resnet50.yaml").read_text())
    png = render(tmp_path, SPECS / "resnet50.yaml", "r50.png")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert height / 192 <= 11.7 and width / 192 <= 8.3  # inches at the default dpi: an A4 page
    svg = read_svg(render(tmp_path, SPECS / "resnet50.yaml", "r50.svg"))
    stages = {layer["name"]: layer for layer in spec["layers"] if layer["type"] == "Bottleneck"}
    assert len(stages) == 4
    full = read_svg(render(tmp_path, SPECS / "resnet50.yaml", "full.svg", "--depth", "9"))
    for name, layer in stages.items():
        node = node_named(svg, name)
        assert f"Bottleneck ×{layer['repeat']}" in " ".join(node.texts)
        # the stage's parameters are those of every box inside it when drawn in full
        inner = [node for node in full["node"] if node.texts and node.texts[0].startswith(name + ".")]
        params = sum(int(match.replace(",", "")) for node in inner for text in node.texts
                     for match in re.findall(r"([\d,]+) params", text))
        assert f"{params:,} params" in " ".join(node.texts), name
    assert not any(node.texts[0].startswith("layer3.") for node in svg["node"] if node.texts)


def test_depth_collapses_uses_below_it_and_keeps_the_uses_above_as_clusters(tmp_path):
    spec = yaml.safe_load((SPECS / "resnet50.yaml").read_text())
    svg = read_svg(render(tmp_path, SPECS / "resnet50.yaml", "d2.svg", "--depth", "2"))
    for stage in (layer for layer in spec["layers"] if layer["type"] == "Bottleneck"):
        (cluster,) = [cluster for cluster in svg["cluster"]
                      if cluster.tooltip == f"{stage['name']} · Bottleneck ×{stage['repeat']}"]
        for copy in range(stage["repeat"]):
            node = node_named(svg, f"{stage['name']}.{copy}")
            assert node.texts[1].startswith("Bottleneck") and inside(node.box, cluster.box)


def level(a: Item, b: Item) -> bool:
    return abs(a.centre[1] - b.centre[1]) < 1


@pytest.mark.parametrize("depth", [(), ("--depth", "1")])
def test_original_unet_with_cropped_skips_is_a_u(tmp_path, depth):
    spec = yaml.safe_load((SPECS / "unet_original.yaml").read_text())
    svg = read_svg(render(tmp_path, SPECS / "unet_original.yaml", "u.svg", *depth))
    ups = [layer for layer in spec["layers"] if layer["type"] == "Up"]
    assert len(ups) == 4
    for up in ups:
        skip = up["from"][1]
        if depth:
            encoder, decoder = node_named(svg, skip), node_named(svg, up["name"])
            assert level(encoder, decoder), up["name"]
        else:  # the skip's last box, the crop and the concat on one level
            encoder = max((node for node in svg["node"] if node.texts and node.texts[0].startswith(skip + ".")),
                          key=lambda node: node.centre[1])
            crop, cat = node_named(svg, f"{up['name']}.crop"), node_named(svg, f"{up['name']}.cat")
            assert level(encoder, crop) and level(crop, cat), up["name"]
            decoder = cat
        assert decoder.centre[0] > encoder.centre[0]  # the way up runs beside the way down
    # the way up climbs: the first decoder stage is below the last
    first, last = (node_named(svg, ups[0]["name"] + ("" if depth else ".cat")),
                   node_named(svg, ups[-1]["name"] + ("" if depth else ".cat")))
    assert first.centre[1] > last.centre[1]


def test_fcn_skips_through_a_1x1_conv_are_a_u(tmp_path):
    svg = read_svg(render(tmp_path, SPECS / "fcn.yaml", "fcn.svg"))
    for fuse, stage in (("fuse_pool4", "stage4"), ("fuse_pool3", "stage3")):
        pool, score, add = (node_named(svg, f"{stage}.pool"), node_named(svg, f"{fuse}.score"),
                            node_named(svg, f"{fuse}.fuse"))
        assert level(pool, score) and level(score, add) and add.centre[0] > pool.centre[0]


@pytest.mark.parametrize("spec_name,pairs", [
    ("unet.yaml", [("enc1_conv2", "cat1"), ("enc2_conv2", "cat2"), ("enc3_conv2", "cat3")]),
    ("diffusion_unet.yaml", [("down.0.block.add", "up.0.cat"), ("down.1.block.add", "up.1.cat")]),
])
def test_straight_skips_are_level(tmp_path, spec_name, pairs):
    svg = read_svg(render(tmp_path, SPECS / spec_name, "s.svg"))
    for encoder, decoder in pairs:
        assert level(node_holding(svg, encoder), node_holding(svg, decoder)), (encoder, decoder)


def test_a_residual_network_stays_one_column(tmp_path):
    svg = read_svg(render(tmp_path, SPECS / "resnet50.yaml", "r.svg"))
    stages = [node_named(svg, f"layer{number}") for number in range(1, 5)]
    assert [stage.centre[1] for stage in stages] == sorted(stage.centre[1] for stage in stages)


def test_like_edges_are_dashed_and_others_solid(tmp_path):
    spec = yaml.safe_load((SPECS / "unet_original.yaml").read_text())
    (crop,) = [layer for layer in spec["blocks"]["Up"]["layers"] if "like" in layer]
    svg = read_svg(render(tmp_path, SPECS / "unet_original.yaml", "u.svg"))
    for edge in svg["edge"]:
        tail, head = edge.tooltip.split(":")[0].split(" → ")
        like = head.endswith("." + crop["name"]) and tail.endswith("." + crop["like"])
        assert (edge.outline.get("stroke-dasharray") is not None) == like, edge.tooltip


def test_edges_are_labelled_where_the_shape_changes_or_at_a_merge(tmp_path):
    spec = SPECS / "resnet18.yaml"
    net = tr.build(spec)
    shapes = {**net.input_shapes, **net.output_shapes()}
    merges = {layer["name"] for layer in yaml.safe_load(spec.read_text())["layers"]
              if layer["type"] in ("Add", "Concat")}
    svg = read_svg(render(tmp_path, spec, "r.svg", "--no-fold"))
    checked = 0
    for edge in svg["edge"]:
        tail, head = edge.tooltip.split(":")[0].split(" → ")
        if head not in net.sources:
            continue
        read = net.sources.get(tail, [])
        changed = bool(read) and shapes[read[0]] != shapes[tail]
        assert bool(edge.texts) == (changed or head in merges), (edge.tooltip, edge.texts)
        checked += 1
    assert checked > 50
    every = read_svg(render(tmp_path, spec, "all.svg", "--no-fold", "--edge-labels", "all"))
    assert all(edge.texts for edge in every["edge"])
    bare = read_svg(render(tmp_path, spec, "none.svg", "--no-fold", "--edge-labels", "none"))
    assert not any(edge.texts for edge in bare["edge"])


MISMATCH = """\
name: mismatch
inputs: {x: [1, 3, 16, 16]}
layers:
  - {name: a, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {name: b, type: Conv2d, from: x, out_channels: 8, kernel_size: 3}
  - {name: add, type: Add, from: [a, b]}
"""


def test_a_mismatch_edge_is_red_with_both_shapes_and_findings_are_numbered_in_a_legend(tmp_path):
    spec = tmp_path / "mismatch.yaml"
    spec.write_text(MISMATCH)
    with pytest.raises(RuntimeError):  # PyTorch refuses the sum: the shapes differ
        torch.nn.Conv2d(3, 8, 3, padding=1)(torch.zeros(1, 3, 16, 16)) + torch.nn.Conv2d(3, 8, 3)(
            torch.zeros(1, 3, 16, 16))
    svg = read_svg(render(tmp_path, spec, "m.svg"))
    (red,) = [edge for edge in svg["edge"] if edge.outline.get("stroke") == "red"]
    assert red.tooltip.startswith("b → add") and "1×8×14×14 ≠ 1×8×16×16" in " ".join(red.texts)
    findings = [finding for finding in lint(spec) if finding.severity.value != "info"]
    assert findings
    add = node_named(svg, "add")
    assert "1" in add.texts  # the marker
    (legend,) = [node for node in svg["node"] if node.texts and node.texts[0] == "Findings"]
    for finding in findings:  # the legend wraps long lines at spaces
        assert finding.message in " ".join(legend.texts), finding.message
    assert legend.centre[1] > add.centre[1]  # under the diagram


def png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_dpi_scales_png_pixels(tmp_path):
    low = png_size(render(tmp_path, SPECS / "lenet5.yaml", "low.png", "--dpi", "96"))
    default = png_size(render(tmp_path, SPECS / "lenet5.yaml", "default.png"))
    assert abs(default[0] / low[0] - 2) < 0.05 and abs(default[1] / low[1] - 2) < 0.05


def test_rankdir_lr_lays_the_stages_left_to_right(tmp_path):
    svg = read_svg(render(tmp_path, SPECS / "resnet50.yaml", "lr.svg", "--rankdir", "LR"))
    stages = [node_named(svg, f"layer{number}") for number in range(1, 5)]
    xs = [stage.centre[0] for stage in stages]
    assert xs == sorted(xs) and all(level(stage, stages[0]) for stage in stages)


def test_named_sizes_draw_as_expressions_in_a_u(tmp_path):
    text = (SPECS / "unet_original.yaml").read_text()
    assert "image: [1, 1, 572, 572]" in text
    spec = tmp_path / "named.yaml"
    spec.write_text(text.replace("image: [1, 1, 572, 572]", "image: [N, 1, H, W]"))
    svg = read_svg(render(tmp_path, spec, "named.svg"))
    # two unpadded 3×3 convs: H − 4 (as PyTorch gives 568 from 572)
    net = tr.TorchNet({"inputs": {"x": [1, 1, 572, 572]}, "layers": [
        {"name": "c1", "type": "Conv2d", "out_channels": 64, "kernel_size": 3},
        {"name": "c2", "type": "Conv2d", "out_channels": 64, "kernel_size": 3}]})
    assert net.output_shapes()["c2"][2] == 572 - 4
    assert any("N×64×(H − 4)×(W − 4)" in text for text in node_holding(svg, "inc.conv2").texts)
    encoder = node_holding(svg, "inc.conv2")
    assert level(encoder, node_named(svg, "up4.crop")) and level(encoder, node_named(svg, "up4.cat"))
    resnet = (SPECS / "resnet50.yaml").read_text().replace("image: [1, 3, 224, 224]", "image: [N, 3, H, W]")
    (tmp_path / "r.yaml").write_text(resnet)
    collapsed = read_svg(render(tmp_path, tmp_path / "r.yaml", "r.svg"))
    assert any("Bottleneck ×6" in text for text in node_named(collapsed, "layer3").texts)
    assert any(text.startswith("N×1024×") for text in node_named(collapsed, "layer3").texts[-1:]
               + [" ".join(node_named(collapsed, "layer3").texts)])


def test_mobilenet_v2_by_default_draws_each_repeat_as_one_box(tmp_path):
    """Its repeats are numbered on (``features.4`` ×3 is ``features.4``, ``.5``, ``.6``), leaving no group
    to collapse: the copies are merged into one box when the page needs it."""
    spec = yaml.safe_load((SPECS / "mobilenetv2.yaml").read_text())
    default = read_svg(render(tmp_path, SPECS / "mobilenetv2.yaml", "m.svg"))
    one_each = read_svg(render(tmp_path, SPECS / "mobilenetv2.yaml", "d1.svg", "--depth", "1"))
    params = lambda node: int(re.search(r"([\d,]+) params", " ".join(node.texts)).group(1).replace(",", ""))
    repeats = [layer for layer in spec["layers"] if layer.get("repeat", 1) > 1]
    assert repeats
    for layer in repeats:
        first = int(layer["name"].split(".")[1])
        copies = [f"features.{first + number}" for number in range(layer["repeat"])]
        node = node_named(default, f"{copies[0]}–{first + layer['repeat'] - 1}")
        assert f"{layer['type']} ×{layer['repeat']}" in " ".join(node.texts)
        assert params(node) == sum(params(node_named(one_each, copy)) for copy in copies)
    single = [layer["name"] for layer in spec["layers"]
              if layer.get("repeat", 1) == 1 and layer["type"] in spec["blocks"]]
    assert all(node_named(default, name) for name in single)
