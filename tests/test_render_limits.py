"""`render` stays bounded: ``dot`` is stopped after its time limit, and diagrams too large to lay out are
drawn with block instances collapsed (or refused with a reason when their names have no block levels)."""
from __future__ import annotations

import shutil
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import convlint
from convlint.cli.main import main
from convlint.render import collapse as collapse_module
from convlint.render.diagram import build_diagram
from convlint.render.draw import DrawError, draw

SPECS = Path(__file__).resolve().parent.parent / "specs"
SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def diagram_of(path: Path):
    spec = convlint.spec.model.parse_spec(path.read_text(), str(path))
    convlint.analysis.graph.build_graph(spec)
    registry = convlint.default_registry()
    return spec, build_diagram(convlint.analyze(spec, registry), [], registry)


def test_a_dot_past_its_time_limit_is_stopped_with_a_clear_error(tmp_path, monkeypatch):
    slow = tmp_path / "dot"
    slow.write_text(f"#!/bin/sh\nexec {shutil.which('sleep')} 30\n")
    slow.chmod(slow.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(tmp_path))
    _, diagram = diagram_of(SPECS / "lenet5.yaml")
    with pytest.raises(DrawError, match=r"within 0\.5 s and was stopped"):
        draw(diagram, "svg", time_limit=0.5)


def test_a_failing_dot_reports_its_message(tmp_path, monkeypatch):
    broken = tmp_path / "dot"
    broken.write_text("#!/bin/sh\necho 'syntax error in line 3' >&2\nexit 1\n")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DrawError, match="syntax error in line 3"):
        draw(diagram_of(SPECS / "lenet5.yaml")[1], "svg")


def test_collapse_merges_each_block_instance_into_one_box():
    spec, diagram = diagram_of(SPECS / "resnet50.yaml")
    collapsed = collapse_module.collapse(diagram, 2, spec.groups)
    layer1 = collapsed.boxes["layer1.0"]
    assert layer1.type == spec.groups["layer1.0"]
    assert set(layer1.members) == {name for box in diagram.boxes.values() for name in box.members
                                   if name.startswith("layer1.0.")}
    assert layer1.params == sum(box.params for box in diagram.boxes.values() if box.name.startswith("layer1.0."))
    assert collapsed.boxes["layer4.2"].shape == diagram.boxes[max(
        (box for box in diagram.boxes.values() if box.name.startswith("layer4.2.")),
        key=lambda box: list(diagram.boxes).index(box.id)).id].shape
    assert [(edge.tail, edge.head) for edge in collapsed.edges if edge.head == "layer1.1"] == [("layer1.0", "layer1.1")]
    assert collapsed.total_params == diagram.total_params
    assert all(edge.tail != edge.head for edge in collapsed.edges)


def test_fitting_depth_is_the_deepest_that_fits():
    spec, diagram = diagram_of(SPECS / "resnet50.yaml")
    at = {depth: len(collapse_module.collapse(diagram, depth, spec.groups).boxes) for depth in (1, 2, 3)}
    assert at[1] < at[2] < at[3] <= len(diagram.boxes)
    assert collapse_module.fitting_depth(diagram, at[2], spec.groups) == 2
    assert collapse_module.fitting_depth(diagram, at[2] - 1, spec.groups) == 1
    assert collapse_module.fitting_depth(diagram, at[1] - 1, spec.groups) is None


@needs_dot
def test_render_collapses_a_diagram_too_large_to_lay_out_and_says_so(tmp_path, monkeypatch, capsys):
    spec, diagram = diagram_of(SPECS / "resnet50.yaml")
    fits_at_two = len(collapse_module.collapse(diagram, 2, spec.groups).boxes)
    monkeypatch.setattr("convlint.render.collapse.MAX_BOXES", fits_at_two)
    out = tmp_path / "r.svg"
    main(["render", str(SPECS / "resnet50.yaml"), "-o", str(out), "--depth", "3"])
    assert "drew block instances at depth 2" in capsys.readouterr().err
    nodes = [group for group in ET.fromstring(out.read_bytes()).iter(SVG + "g") if group.get("class") == "node"]
    names = [next(group.iter(SVG + "text")).text for group in nodes]  # a box's first line: its name
    assert "layer3.5" in names and "layer3.5.conv1" not in names
    assert len([group for group in nodes if group.find(SVG + "title").text != "legend"]) == fits_at_two


def test_render_refuses_a_flat_diagram_too_large_to_lay_out(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("convlint.render.collapse.MAX_BOXES", 5)
    out = tmp_path / "v.svg"
    assert main(["render", str(SPECS / "vgg16.yaml"), "-o", str(out)]) == 2
    assert "no block levels to collapse" in capsys.readouterr().err and not out.exists()
