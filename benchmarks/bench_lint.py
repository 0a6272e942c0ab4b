"""convlint's speed, each figure with its reference measured in the same run.

- Pre-commit latency: `convlint lint` against `yamllint` on the same 20 bundled-size specs.
- Per-node inference: convlint's shape inference against ONNX's C++ shape inference
  (`onnx.shape_inference.infer_shapes`) on the same network: a chain of 10,000
  Conv+ReLU layers (20,000 nodes) and a 100,000-node DAG with skip connections.
- Linearity: time of load + lint at 1× and 10× the nodes.

Times are CPU seconds (of this process, or of the child for whole commands), best
of several runs, so that other load on the machine does not skew the ratios.
Prints a Markdown table.  Needs the `bench` extra (yamllint, onnx)::

    python -m pip install -e '.[bench]' && python benchmarks/bench_lint.py
"""
from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from convlint.api import default_registry
from convlint.spec.cycle_collector import paused_cycle_collector
from convlint.analysis.graph import build_graph
from convlint.analysis.infer import analyze
from convlint.spec.model import parse_spec

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 5


def best(function, repeats: int = REPEATS) -> float:
    """Least CPU time of ``repeats`` runs of ``function()``, in seconds, with the GC paused as `convlint lint` does."""
    times = []
    for _ in range(repeats):
        with paused_cycle_collector():
            start = time.process_time()
            function()
            times.append(time.process_time() - start)
    return min(times)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best_command(*command: str, repeats: int = REPEATS) -> float:
    """Least CPU time of ``repeats`` runs of the command ``command`` (start-up included), in seconds."""
    times = []
    for _ in range(repeats):
        before = _children_cpu()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(_children_cpu() - before)
    return min(times)


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

def latency(rows: list) -> None:
    with tempfile.TemporaryDirectory() as directory:
        specs = sorted((ROOT / "specs").glob("*.yaml"))
        for i in range(20):
            shutil.copy(specs[i % len(specs)], Path(directory) / f"spec{i:02d}.yaml")
        convlint = best_command(sys.executable, "-m", "convlint", "lint", directory)
        yamllint = best_command(sys.executable, "-m", "yamllint", directory)
    rows.append(("`convlint lint` vs `yamllint`, 20 bundled-size specs (whole command)",
                 convlint, yamllint, convlint / yamllint, "≤ 1"))


def per_node(rows: list, label: str, text: str, model: onnx.ModelProto) -> None:
    registry = default_registry()
    spec = parse_spec(text, "bench.yaml", limited=False)
    build_graph(spec)
    nodes = spec.graph.number_of_nodes() - len(spec.inputs)
    assert not analyze(spec, registry).findings
    ours = best(lambda: analyze(spec, registry))
    inferred = onnx.shape_inference.infer_shapes(model)
    assert len(inferred.graph.value_info) >= len(model.graph.node) - 1
    theirs = best(lambda: onnx.shape_inference.infer_shapes(model))
    rows.append((f"shape inference per node, {label} ({nodes:,} nodes), vs ONNX `infer_shapes`",
                 ours / nodes, theirs / nodes, ours / theirs, "≤ 5"))


def load_and_lint(text: str) -> None:
    spec = parse_spec(text, "bench.yaml", limited=False)
    build_graph(spec)
    analyze(spec, default_registry())


def linearity(rows: list, label: str, make, small: int) -> None:
    small_text, large_text = make(small), make(10 * small)
    one = best(lambda: load_and_lint(small_text))
    ten = best(lambda: load_and_lint(large_text))
    rows.append((f"load + lint, {label}: 10× the nodes", ten, one, ten / one, "≤ 11"))


def whole_file(rows: list) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "chain.yaml"
        path.write_text(chain_spec(10_000))
        seconds = best_command(sys.executable, "-m", "convlint", "lint", str(path))
    rows.append(("`convlint lint` of the 20,000-node chain (whole command)", seconds, 2.0, seconds / 2.0, "≤ 1"))


def main() -> None:
    rows: list = []
    latency(rows)
    per_node(rows, "Conv+ReLU chain", chain_spec(10_000), chain_onnx(10_000))
    per_node(rows, "residual DAG", dag_spec(33_333), dag_onnx(33_333))
    whole_file(rows)
    linearity(rows, "chain", chain_spec, 1_000)
    linearity(rows, "residual DAG", dag_spec, 3_333)
    print(f"Python {sys.version.split()[0]}, onnx {onnx.__version__}; CPU time, best of {REPEATS} runs\n")
    print("| measurement | convlint | reference | ratio | target |")
    print("|---|---|---|---|---|")
    for label, ours, theirs, ratio, target in rows:
        print(f"| {label} | {_time(ours)} | {_time(theirs)} | {ratio:.2f} | {target} |")


def _time(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


if __name__ == "__main__":
    main()
