"""convlint's speed, each figure against a peer measured in the same run, interleaved round by round.

- Pre-commit latency: `convlint lint` against `yamllint` on the same 20 bundled-size specs.
- Whole file: `convlint lint` of a 20,000-node chain against `yamllint` of the same file.
- `convlint summary` (shapes, MACs, receptive fields) against `convlint lint` of the same chains: a 20,000-node
  chain (target ≤ 2× and ≤ 200 MB peak memory) and a 2,000-node one (target under a second).
- Per-node inference: convlint's shape inference against ONNX's C++ shape inference
  (`onnx.shape_inference.infer_shapes`) on the same network: a chain of Conv+ReLU layers and a DAG with skip
  connections.
- Linearity: load + lint (the lint pipeline on the file's text) at 1× and 10× the nodes.

Each side runs once untimed, then ``--rounds`` times alternating with its peer; the table gives the minimum
and median CPU time (of this process, or of the child for whole commands) and the median wall time.  Lint is
single-threaded, so CPU time is the figure; wall time shows the machine's load.  Prints a Markdown table.
Needs the `bench` extra (yamllint, onnx)::

    python -m pip install -e '.[bench]' && python benchmarks/bench_lint.py [--quick]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import onnx
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import Stats, duration, interleaved, interleaved_commands  # noqa: E402

from convlint.api import default_registry  # noqa: E402
from convlint.spec.cycle_collector import paused_cycle_collector  # noqa: E402
from convlint.analysis.infer import analyze  # noqa: E402
from convlint.linting.runner import check_spec  # noqa: E402
from convlint.spec.model import parse_spec  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


# --- networks as spec text and as ONNX models -------------------------------------------------

def chain_spec(blocks: int) -> str:
    """``blocks`` × (Conv2d 3×3 pad 1 → ReLU) on a 1×3×64×64 image: 2·blocks nodes."""
    lines = ["name: chain", "inputs:", "  image: [1, 3, 64, 64]", "layers:"]
    for i in range(blocks):
        lines.append(f"  - {{name: conv{i}, type: Conv2d, out_channels: 16, kernel_size: 3, padding: 1}}")
        lines.append(f"  - {{name: relu{i}, type: ReLU}}")
    return "\n".join(lines) + "\n"


def dag_spec(blocks: int) -> str:
    """``blocks`` residual blocks (Conv2d → ReLU → Add with the block's input): 3·blocks + 1 nodes."""
    lines = ["name: dag", "inputs:", "  image: [1, 16, 32, 32]", "layers:",
             "  - {name: stem, type: Conv2d, out_channels: 16, kernel_size: 3, padding: 1}"]
    previous = "stem"
    for i in range(blocks):
        lines.append(f"  - {{name: conv{i}, type: Conv2d, from: {previous}, out_channels: 16, kernel_size: 3, "
                     f"padding: 1}}")
        lines.append(f"  - {{name: relu{i}, type: ReLU}}")
        lines.append(f"  - {{name: add{i}, type: Add, from: [relu{i}, {previous}]}}")
        previous = f"add{i}"
    return "\n".join(lines) + "\n"


def _conv(nodes, inputs, name, source, channels_in):
    weight = f"{name}_w"
    inputs.append(helper.make_tensor_value_info(weight, TensorProto.FLOAT, [16, channels_in, 3, 3]))
    nodes.append(helper.make_node("Conv", [source, weight], [name], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))


def chain_onnx(blocks: int) -> onnx.ModelProto:
    """The ONNX model of :func:`chain_spec` (weights as graph inputs with their shapes)."""
    nodes, inputs = [], [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 64, 64])]
    previous, channels = "image", 3
    for i in range(blocks):
        _conv(nodes, inputs, f"conv{i}", previous, channels)
        nodes.append(helper.make_node("Relu", [f"conv{i}"], [f"relu{i}"]))
        previous, channels = f"relu{i}", 16
    output = helper.make_tensor_value_info(previous, TensorProto.FLOAT, None)
    return helper.make_model(helper.make_graph(nodes, "chain", inputs, [output]))


def dag_onnx(blocks: int) -> onnx.ModelProto:
    """The ONNX model of :func:`dag_spec`."""
    nodes, inputs = [], [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 16, 32, 32])]
    _conv(nodes, inputs, "stem", "image", 16)
    previous = "stem"
    for i in range(blocks):
        _conv(nodes, inputs, f"conv{i}", previous, 16)
        nodes.append(helper.make_node("Relu", [f"conv{i}"], [f"relu{i}"]))
        nodes.append(helper.make_node("Add", [f"relu{i}", previous], [f"add{i}"]))
        previous = f"add{i}"
    output = helper.make_tensor_value_info(previous, TensorProto.FLOAT, None)
    return helper.make_model(helper.make_graph(nodes, "dag", inputs, [output]))


# --- measurements -----------------------------------------------------------------------------

Row = tuple[str, str, Stats, str, Stats, str]
"""(measurement, convlint side, its stats, peer, its stats, target on the ratio of median CPU times)."""


def paused(function):
    """``function`` run with the GC paused, as `convlint lint` runs."""
    def run():
        with paused_cycle_collector():
            function()
    return run


def latency(rows: list[Row], rounds: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        specs = sorted((ROOT / "specs").glob("*.yaml"))
        for i in range(20):
            (Path(directory) / f"spec{i:02d}.yaml").write_bytes(specs[i % len(specs)].read_bytes())
        stats = interleaved_commands({"lint": (PYTHON, "-m", "convlint", "lint", directory),
                                      "yamllint": (PYTHON, "-m", "yamllint", directory)}, rounds)
    rows.append(("20 bundled-size specs (whole command)", "`convlint lint`", stats["lint"], "`yamllint`",
                 stats["yamllint"], "≤ 1"))


def whole_file(rows: list[Row], rounds: int, blocks: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "chain.yaml"
        path.write_text(chain_spec(blocks))
        stats = interleaved_commands({"lint": (PYTHON, "-m", "convlint", "lint", str(path)),
                                      "yamllint": (PYTHON, "-m", "yamllint", str(path))}, rounds)
    rows.append((f"{2 * blocks:,}-node chain (whole command)", "`convlint lint`", stats["lint"], "`yamllint`",
                 stats["yamllint"], "≤ 1"))


def summary(rows: list[Row], rounds: int, blocks: int, target: str) -> int:
    """`convlint summary` against `convlint lint` of the same chain; returns summary's peak RSS in MB."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "chain.yaml"
        path.write_text(chain_spec(blocks))
        stats = interleaved_commands({"summary": (PYTHON, "-m", "convlint", "summary", str(path)),
                                      "lint": (PYTHON, "-m", "convlint", "lint", str(path))}, rounds)
        peak = json.loads(subprocess.run(
            [PYTHON, "-c", "import contextlib, io, json, resource, sys; from convlint.cli.main import main; "
                           "contextlib.redirect_stdout(io.StringIO()).__enter__(); main(['summary', sys.argv[1]]); "
                           "print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024), file=sys.stderr)", str(path)],
            capture_output=True, text=True, check=True).stderr.splitlines()[-1])
    rows.append((f"{2 * blocks:,}-node chain (whole command; summary's peak {peak} MB)", "`convlint summary`",
                 stats["summary"], "`convlint lint`", stats["lint"], target))
    return peak


def per_node(rows: list[Row], rounds: int, label: str, text: str, model: onnx.ModelProto) -> None:
    registry = default_registry()
    spec = parse_spec(text, "bench.yaml", limited=False)
    nodes = len(spec.layers)
    with paused_cycle_collector():      # as `convlint lint` runs: a collection would count against a plugin
        assert not analyze(spec, registry).findings
    inferred = onnx.shape_inference.infer_shapes(model)
    assert len(inferred.graph.value_info) >= len(model.graph.node) - 1
    stats = interleaved({"ours": paused(lambda: analyze(spec, registry)),
                         "onnx": lambda: onnx.shape_inference.infer_shapes(model)}, rounds)
    for side in stats.values():  # per node
        side.cpu = [seconds / nodes for seconds in side.cpu]
        side.wall = [seconds / nodes for seconds in side.wall]
    rows.append((f"shape inference per node, {label} ({nodes:,} nodes)", "convlint", stats["ours"],
                 "ONNX `infer_shapes`", stats["onnx"], "≤ 5"))


def load_and_lint(text: str) -> None:
    """What `convlint lint` does with a file's text: parse it (beyond the layer limit) and run the lint
    pipeline (:func:`convlint.linting.runner.check_spec`)."""
    check_spec(parse_spec(text, "bench.yaml", limited=False), default_registry())


def linearity(rows: list[Row], rounds: int, label: str, make, small: int) -> None:
    small_text, large_text = make(small), make(10 * small)
    stats = interleaved({"ten": paused(lambda: load_and_lint(large_text)),
                         "one": paused(lambda: load_and_lint(small_text))}, rounds)
    rows.append((f"load + lint, {label}", "10× the nodes", stats["ten"], "1× the nodes", stats["one"], "≤ 11"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per measurement (default 15)")
    parser.add_argument("--quick", action="store_true", help="10 rounds, and the per-node networks at ⅓ size")
    args = parser.parse_args()
    rounds = 10 if args.quick else max(10, args.rounds)
    scale = 3 if args.quick else 1
    rows: list[Row] = []
    latency(rows, rounds)
    whole_file(rows, rounds, 10_000)
    summary(rows, rounds, 10_000, "≤ 2")
    summary(rows, rounds, 1_000, "summary < 1 s")
    per_node(rows, rounds, "Conv+ReLU chain", chain_spec(10_000 // scale), chain_onnx(10_000 // scale))
    per_node(rows, rounds, "residual DAG", dag_spec(33_333 // scale), dag_onnx(33_333 // scale))
    linearity(rows, rounds, "chain", chain_spec, 1_000)
    linearity(rows, rounds, "residual DAG", dag_spec, 3_333)
    print(f"Python {sys.version.split()[0]}, onnx {onnx.__version__}; {rounds} interleaved rounds per row; "
          f"CPU time min / median, wall time median\n")
    print("| measurement | convlint side: CPU min / median (wall) | peer: CPU min / median (wall) "
          "| ratio of median CPU | target |")
    print("|---|---|---|---|---|")
    for label, ours_name, ours, peer_name, peer, target in rows:
        print(f"| {label} | {ours_name}: {duration(ours.min())} / {duration(ours.median())} "
              f"({duration(ours.median('wall'))}) | {peer_name}: {duration(peer.min())} / "
              f"{duration(peer.median())} ({duration(peer.median('wall'))}) | "
              f"{ours.median() / peer.median():.2f} | {target} |")


if __name__ == "__main__":
    main()
