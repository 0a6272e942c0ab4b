"""Tests of `convlint render`: diagrams checked against PyTorch's shapes, broken specs, formats,
file handling and a missing Graphviz.

Diagrams are read back from Graphviz's SVG (XML): a node is a ``<g class="node">`` whose
``<title>`` is its id, an edge a ``<g class="edge">`` titled ``tail->head``.  Expected shapes
come from the PyTorch oracle (tests/torch_reference.py), never from convlint's own inference.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from convlint.api import lint
from convlint.cli.main import main
from convlint.layers.registry import default_registry

sys.path.insert(0, str(Path(__file__).resolve().parent))
torch = pytest.importorskip("torch")
import torch_reference as tr  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed (apt-get install graphviz)")


def test_graphviz_is_installed():
    """The diagram tests below are skipped without Graphviz; this one says so by failing."""
    assert HAS_DOT, "install Graphviz (apt-get install graphviz) to run the diagram tests"


@dataclass
class SvgItem:
    """A node or edge of a Graphviz SVG: its title, text tokens, tooltip and outline colour."""

    title: str
    texts: list[str]
    tooltip: str
    stroke: str | None
    outline: ET.Element | None

    @property
    def tokens(self) -> set[str]:
        return {token for text in self.texts for token in text.split()}

    def shows_name(self, name: str) -> bool:
        """True when a line of the node is ``name``, or a folded layer's ``+ Type name``."""
        return any(text == name or (text.startswith("+ ") and text.split()[-1] == name) for text in self.texts)


def parse_svg(data: bytes) -> tuple[dict[str, SvgItem], list[SvgItem]]:
    """Nodes by title, and the list of edges, of a Graphviz SVG."""
    root = ET.fromstring(data)
    nodes, edges = {}, []
    for group in root.iter(SVG + "g"):
        kind = group.get("class")
        if kind not in ("node", "edge"):
            continue
        anchor = next(group.iter(SVG + "a"), None)
        outline = next((element for element in group.iter()
                        if element.tag in (SVG + "polygon", SVG + "ellipse", SVG + "path")), None)
        item = SvgItem(group.find(SVG + "title").text,
                       [text.text.strip() for text in group.iter(SVG + "text") if text.text and text.text.strip()],
                       anchor.get(XLINK + "title", "") if anchor is not None else "",
                       outline.get("stroke") if outline is not None else None, outline)
        if kind == "node":
            nodes[item.title] = item
        else:
            edges.append(item)
    return nodes, edges


def render(tmp_path: Path, spec: Path, name: str, *options: str) -> bytes:
    out = tmp_path / name
    code = main(["render", str(spec), "-o", str(out), *options])
    assert code == 0, f"render exited with {code}"
    return out.read_bytes()


def shape_text(shape) -> str:
    return "×".join(str(dim) for dim in shape)


def node_holding(nodes: dict[str, SvgItem], name: str) -> SvgItem:
    """The one node (the legend aside) that shows layer or input ``name``."""
    holders = [node for node in nodes.values() if node.shows_name(name) and node.title != "legend"]
    assert len(holders) == 1, f"{name} is shown in {[node.title for node in holders]}"
    return holders[0]


def edges_between(edges: list[SvgItem], first: str, second: str) -> list[SvgItem]:
    """Edges joining two nodes in either direction (a U layout lays some out head first)."""
    return [edge for edge in edges if set(edge.title.split("->")) == {first, second}]


def check_against_torch(svg: bytes, spec: Path) -> None:
    """Every layer and input in one node with its PyTorch shape; every tensor on one edge with its shape."""
    net = tr.build(spec)
    shapes = {**net.input_shapes, **net.output_shapes()}
    nodes, edges = parse_svg(svg)
    holder = {name: node_holding(nodes, name).title for name in shapes}
    for name, shape in shapes.items():
        assert shape_text(shape) in nodes[holder[name]].tokens, (name, nodes[holder[name]].texts)
    tensors = {(source, layer) for layer, sources in net.sources.items() for source in sources}
    for source, layer in tensors:
        if holder[source] == holder[layer]:
            continue  # folded into one box
        found = edges_between(edges, holder[source], holder[layer])
        assert len(found) == 1, (source, layer, [edge.title for edge in found])
        # every edge names its tensor's shape in its tooltip; labels only where the shape changes
        assert shape_text(shapes[source]) in found[0].tooltip.split(), (source, layer, found[0].tooltip)
    outputs = [node.title for node in nodes.values() if node.texts and node.texts[0].startswith("output")]
    for output in net.output_names:
        found = [edge for title in outputs for edge in edges_between(edges, holder[output], title)]
        assert len(found) == 1 and shape_text(shapes[output]) in found[0].tooltip.split()


@needs_dot
@pytest.mark.parametrize("name", ["unet", "resnet18"])
@pytest.mark.parametrize("fold", [True, False])
def test_every_layer_and_tensor_is_drawn_with_its_torch_shape(tmp_path, name, fold):
    svg = render(tmp_path, SPECS / f"{name}.yaml", "d.svg", *(() if fold else ("--no-fold",)))
    check_against_torch(svg, SPECS / f"{name}.yaml")


@needs_dot
def test_folding_draws_resnet_blocks_without_separate_norm_and_relu_boxes(tmp_path):
    layers = yaml.safe_load((SPECS / "resnet18.yaml").read_text())["layers"]
    kept = [layer for layer in layers if layer["type"] not in ("BatchNorm2d", "ReLU")]
    folded, _ = parse_svg(render(tmp_path, SPECS / "resnet18.yaml", "fold.svg"))
    unfolded, _ = parse_svg(render(tmp_path, SPECS / "resnet18.yaml", "all.svg", "--no-fold"))
    boxes = lambda nodes: {title for title, node in nodes.items() if "legend" not in title}
    # one box per kept layer, plus the input and the output
    assert len(boxes(folded)) == len(kept) + 2
    assert len(boxes(unfolded)) == len(layers) + 2
    assert {"conv1", "bn1", "relu"} <= node_holding(folded, "bn1").tokens


@needs_dot
def test_key_arguments_in_short_form(tmp_path):
    spec = tmp_path / "args.yaml"
    spec.write_text("""\
name: args
inputs: {x: [1, 64, 32, 32]}
layers:
  - {name: down, type: Conv2d, out_channels: 64, kernel_size: 3, stride: 2, padding: 1}
  - {name: grouped, type: Conv2d, out_channels: 64, kernel_size: 3, padding: 1, groups: 32}
  - {name: up, type: ConvTranspose2d, out_channels: 32, kernel_size: 2, stride: 2}
  - {name: pool, type: AdaptiveAvgPool2d, output_size: [1, 1]}
""")
    nodes, _ = parse_svg(render(tmp_path, spec, "args.svg"))
    assert "3×3 s2 p1" in node_holding(nodes, "down").texts
    assert "3×3 p1 groups 32" in node_holding(nodes, "grouped").texts
    assert "2×2 ↑2" in node_holding(nodes, "up").texts
    assert "→1×1" in node_holding(nodes, "pool").texts


def first_layer_torch_rejects(spec: dict) -> str:
    """The first layer PyTorch cannot build or run, found by growing the spec one layer at a time."""
    for count in range(1, len(spec["layers"]) + 1):
        try:
            tr.TorchNet({**spec, "layers": spec["layers"][:count], "outputs": None})
        except (RuntimeError, ValueError):
            return spec["layers"][count - 1]["name"]
    raise AssertionError("PyTorch accepts the whole spec")


@needs_dot
def test_broken_spec_renders_with_the_failing_layer_red_and_its_message(tmp_path):
    text = (SPECS / "unet.yaml").read_text()
    assert "image: [1, 3, 128, 128]" in text
    spec = tmp_path / "broken.yaml"
    spec.write_text(text.replace("image: [1, 3, 128, 128]", "image: [1, 3, 100, 100]"))
    data = yaml.safe_load(spec.read_text())
    failing = first_layer_torch_rejects(data)
    assert main(["render", str(spec), "-o", str(tmp_path / "broken.svg")]) == 1  # errors: exit 1, still drawn
    nodes, _ = parse_svg((tmp_path / "broken.svg").read_bytes())
    messages = [finding.message for finding in lint(spec) if finding.layer == failing]
    node = node_holding(nodes, failing)
    assert messages and node.stroke == "red"
    assert all(message in node.tooltip for message in messages)
    assert node_holding(nodes, "enc1_conv1").stroke != "red"
    for layer in data["layers"]:  # every layer is still drawn, before and after the break
        node_holding(nodes, layer["name"])
    upstream = tr.TorchNet({**data, "layers": data["layers"][:[l["name"] for l in data["layers"]].index(failing)],
                            "outputs": None}).output_shapes()
    for name, shape in upstream.items():
        assert shape_text(shape) in node_holding(nodes, name).tokens


@needs_dot
def test_unet_is_drawn_as_a_u_with_level_skip_connections(tmp_path):
    nodes, edges = parse_svg(render(tmp_path, SPECS / "unet.yaml", "u.svg"))
    for concat, skip in (("cat1", "enc1"), ("cat2", "enc2"), ("cat3", "enc3")):
        (edge,) = edges_between(edges, node_holding(nodes, skip).title, node_holding(nodes, concat).title)
        points = edge.outline.get("d").replace("M", "").replace("C", " ").split()
        (_, y_start), (_, y_end) = (map(float, points[0].split(",")), map(float, points[-1].split(",")))
        assert abs(y_start - y_end) < 1, (concat, edge.outline.get("d"))


@pytest.mark.parametrize("args,expected", [
    ({"kernel_size": (3, 3), "stride": (1, 1), "padding": "same", "dilation": (2, 2)}, "3×3 same d2"),
    ({"kernel_size": (3, 1), "stride": (2, 1), "padding": (1, 0)}, "3×1 s2×1 p1×0"),
    ({"kernel_size": (3, 3), "stride": None, "padding": (0, 0), "ceil_mode": True}, "3×3 s3 ceil"),
    ({"scale_factor": (2.0, 2.0), "mode": "bilinear"}, "×2 bilinear"),
    ({"output_size": (None, 7)}, "→·×7"),
])
def test_short_argument_notation(args, expected):
    type_name = "MaxPool2d" if "ceil_mode" in args else "Conv2d"
    assert default_registry().types[type_name].label(args) == expected


@needs_dot
@pytest.mark.parametrize("fmt,magic", [("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF-")])
def test_png_and_pdf_are_valid_files(tmp_path, fmt, magic):
    data = render(tmp_path, SPECS / "lenet5.yaml", f"lenet5.{fmt}")
    assert data.startswith(magic)
    if fmt == "png":
        assert data[12:16] == b"IHDR" and int.from_bytes(data[16:20], "big") > 100
        assert data.endswith(b"IEND\xaeB`\x82")
    else:
        assert data.rstrip().endswith(b"%%EOF") and b"/Page" in data


@needs_dot
def test_format_option_overrides_the_suffix_and_dash_writes_to_stdout(tmp_path, capsysbinary):
    assert render(tmp_path, SPECS / "lenet5.yaml", "lenet5.diagram", "--format", "png").startswith(b"\x89PNG")
    assert main(["render", str(SPECS / "lenet5.yaml"), "-o", "-"]) == 0
    nodes, _ = parse_svg(capsysbinary.readouterr().out)
    assert node_holding(nodes, "c1")


def test_dot_source_needs_no_graphviz_program(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    source = render(tmp_path, SPECS / "unet.yaml", "unet.gv", "--rankdir", "LR").decode()
    assert source.startswith("digraph") and "rankdir=LR" in source and "enc1_conv1" in source


@needs_dot
def test_every_bundled_spec_renders_into_a_directory(tmp_path):
    (tmp_path / "specs").mkdir()
    for spec in SPECS.glob("*.yaml"):
        shutil.copy(spec, tmp_path / "specs")
    (tmp_path / "specs" / "settings.yaml").write_text("learning_rate: 0.1\n")  # not a spec: skipped
    assert main(["render", str(tmp_path / "specs"), "-o", str(tmp_path / "out")]) == 0
    drawn = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert drawn == sorted(f"{spec.stem}.svg" for spec in SPECS.glob("*.yaml"))
    for spec in SPECS.glob("*.yaml"):
        if "\nblocks:" not in spec.read_text():  # the oracle builds flat specs only
            check_against_torch((tmp_path / "out" / f"{spec.stem}.svg").read_bytes(), spec)


def test_missing_dot_writes_the_source_and_says_how_to_install(tmp_path):
    target = tmp_path / "unet.svg"
    target.write_text("old diagram")
    env = {**os.environ, "PATH": str(tmp_path)}  # no dot here
    result = subprocess.run([sys.executable, "-m", "convlint", "render", str(SPECS / "unet.yaml"), "-o", str(target)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "apt-get install graphviz" in result.stderr and str(tmp_path / "unet.dot") in result.stderr
    assert (tmp_path / "unet.dot").read_text().startswith("digraph")
    assert target.read_text() == "old diagram"  # untouched
    assert sorted(path.name for path in tmp_path.iterdir()) == ["unet.dot", "unet.svg"]  # no temporary files


@pytest.mark.parametrize("argv,complaint", [
    (["specs/unet.yaml", "-o", "unet.txt"], "cannot tell the format"),
    (["specs", "-o", "-"], "writes one diagram"),
    (["docs", "-o", "out"], "no *.yaml"),
])
def test_usage_errors_exit_2_with_a_message(argv, complaint, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["render", *argv]) == 2
    assert complaint in capsys.readouterr().err


def test_a_yaml_file_that_is_not_a_spec_is_refused(tmp_path, capsys):
    (tmp_path / "settings.yaml").write_text("learning_rate: 0.1\n")
    assert main(["render", str(tmp_path / "settings.yaml"), "-o", str(tmp_path / "x.svg")]) == 2
    assert "not a spec" in capsys.readouterr().err


def test_lint_does_not_import_graphviz():
    code = ("import sys; from convlint.cli.main import main; main(['lint', 'specs/unet.yaml']); "
            "sys.exit('graphviz' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=60).returncode == 0


def normalized_svg(data: bytes) -> list:
    """What a diagram shows, without coordinates: each node's and edge's title, texts, tooltip and colours."""
    nodes, edges = parse_svg(data)
    items = list(nodes.values()) + edges
    invisible = lambda colour: "none" if colour in ("none", "transparent") else colour
    return sorted((item.title, item.texts, item.tooltip, invisible(item.stroke),
                   invisible(item.outline.get("fill")) if item.outline is not None else None) for item in items)


@needs_dot
@pytest.mark.parametrize("name", ["resnet50", "unet_original"])
def test_readme_diagrams_are_up_to_date(tmp_path, name):
    assert f'src="docs/{name}.svg"' in (ROOT / "README.md").read_text()
    fresh = render(tmp_path, SPECS / f"{name}.yaml", f"{name}.svg")
    committed = (ROOT / "docs" / f"{name}.svg").read_bytes()
    assert normalized_svg(committed) == normalized_svg(fresh), (
        f"docs/{name}.svg is out of date: run `convlint render specs/{name}.yaml -o docs/{name}.svg`")


def test_missing_graphviz_package_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    assert main(["render", str(SPECS / "lenet5.yaml"), "-o", str(tmp_path / "lenet5.svg")]) == 2
    assert "pip install graphviz" in capsys.readouterr().err
    assert not (tmp_path / "lenet5.svg").exists()
