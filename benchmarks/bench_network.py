"""Whole-network executor benchmark: ResNet-18 at 224×224 (or torchvision's 3-D R3D-18 on 16×112×112
clips), convlint against PyTorch eager and ONNX Runtime.

Usage::

    python benchmarks/bench_network.py [--network resnet18|r3d_18] [--batch B] [--rounds R] [--quick]

ResNet-18 is the bundled spec, built in PyTorch by the tests' independent oracle (``tests/torch_reference``);
R3D-18 is torchvision's own model, and its spec the one ``convlint import --torch`` writes for it.

The three run the same weights on the same input, in one process per thread count, alternating call by
call for ``--rounds`` rounds after a warm-up: at one thread (CPU time of the process) and at two threads
(wall time).  The ONNX model is PyTorch's export of the same network.  Prints a Markdown table with the
minimum and median per forward pass and the ratios of convlint to each peer, each side's speed-up from
one thread to two (wall time), the BLAS kernel NumPy uses, and how far the outputs differ; when
``OPENBLAS_CORETYPE`` forces that kernel, the whole run is repeated without it
(``timing.also_with_own_blas_kernel``).  Idle threads of PyTorch and ONNX Runtime sleep instead of
spinning (``timing.IDLE_THREADS_SLEEP``), so that with the three alternating on two cores none holds a
core through the others' calls.  Needs the `bench` extra (onnx, onnxruntime, threadpoolctl).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPECS = ROOT / "specs"

MODELS = {
    # ResNet-18 from the bundled spec, built in PyTorch by the tests' independent oracle
    "resnet18": r"""
import torch_reference
class Forward(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net
    def forward(self, image):
        return self.net(image=image)["fc"]
inner = torch_reference.build({spec!r})
net = Forward(inner).eval()
""",
    # torchvision's 3-D ResNet-18; its spec is what `convlint import --torch` writes for it
    "r3d_18": r"""
from torchvision_oracle import torchvision_models
inner = net = torchvision_models().video.r3d_18().eval()
""",
}
"""Per network, code that defines ``net`` (the PyTorch model: input tensor → logits) and ``inner`` (the
module whose ``state_dict`` keys are the spec's)."""

NETWORKS = {"resnet18": ("ResNet-18", "image", "fc", (3, 224, 224)),
            "r3d_18": ("R3D-18 (3-D)", "x", "fc", (3, 16, 112, 112))}
"""Per network: its name in the output, the spec's input and output names, and the input shape without
the batch."""

PREPARE = r"""
import sys, numpy as np, torch
sys.path.insert(0, {tests!r})
torch.manual_seed(0)
{model}
if {imported}:
    from convlint.api import default_registry
    from convlint.importing.spec_writer import spec_text
    from convlint.importing.torch_trace import import_torch
    found = import_torch("torchvision.models.video:{network}", default_registry(), ({batch},) + {shape!r})
    assert not found.problems, found.problems
    open({spec!r}, "w", encoding="utf-8").write(spec_text(found, "{network}"))
np.savez({weights!r}, **{{k: v.numpy() for k, v in inner.state_dict().items()}})
torch.onnx.export(net, (torch.zeros((1,) + {shape!r}),), {model_file!r}, dynamo=False, input_names=[{input!r}],
                  output_names=[{output!r}], dynamic_axes={{{input!r}: {{0: "batch"}}}})
"""

CHILD = r"""
import json, sys
sys.path.insert(0, {tests!r})
sys.path.insert(0, {here!r})
batch, rounds, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
import numpy as np, onnxruntime, torch, convlint
from timing import blas_report, interleaved, limited_threads, torch_report
weights = dict(np.load({weights!r}))
x = np.random.default_rng(0).standard_normal((batch,) + {shape!r}).astype(np.float32)
{model}
inner.load_state_dict({{k: torch.from_numpy(v) for k, v in weights.items()}})
tx = torch.from_numpy(x)
options = onnxruntime.SessionOptions()
options.intra_op_num_threads = threads
options.inter_op_num_threads = 1
options.add_session_config_entry("session.intra_op.allow_spinning", "0")
session = onnxruntime.InferenceSession({model_file!r}, options, providers=["CPUExecutionProvider"])
spec = convlint.load({spec!r})
def with_torch():
    with torch.no_grad():
        return net(tx).numpy()
sides = {{"convlint": lambda: convlint.run(spec, {{{input!r}: x}}, weights)[{output!r}], "torch": with_torch,
         "onnxruntime": lambda: session.run(None, {{{input!r}: x}})[0]}}
with limited_threads(threads):
    outputs = {{name: function() for name, function in sides.items()}}
    stats = interleaved(sides, rounds, warm_up=2)
    blas = blas_report()
scale = float(np.abs(outputs["torch"]).max())
print(json.dumps({{"stats": {{name: [s.cpu, s.wall] for name, s in stats.items()}}, "blas": blas,
                  "torch": torch_report(), "onnxruntime": onnxruntime.__version__,
                  "difference": {{name: float(np.abs(out - outputs["torch"]).max()) / scale
                                 for name, out in outputs.items()}}}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", choices=sorted(NETWORKS), default="resnet18")
    parser.add_argument("--batch", type=int, default=None, help="samples a pass (default 8; 2 for r3d_18)")
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds per thread count (at least 10)")
    parser.add_argument("--quick", action="store_true", help="batch 2, 10 rounds")
    args = parser.parse_args()
    title, input_name, output_name, shape = NETWORKS[args.network]
    imported = args.network != "resnet18"
    batch = 2 if args.quick or (args.batch is None and imported) else args.batch or 8
    rounds = 10 if args.quick else max(10, args.rounds)
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / "convlint-bench-network"
    workdir.mkdir(exist_ok=True)
    spec = workdir / f"{args.network}.yaml" if imported else SPECS / f"{args.network}.yaml"
    fields = {"tests": str(ROOT / "tests"), "here": str(HERE), "spec": str(spec), "network": args.network,
              "weights": str(workdir / f"{args.network}.npz"), "model_file": str(workdir / f"{args.network}.onnx"),
              "input": input_name, "output": output_name, "shape": shape, "batch": batch, "imported": imported}
    fields["model"] = MODELS[args.network].format(**fields)
    prepared = subprocess.run([sys.executable, "-c", PREPARE.format(**fields)], capture_output=True, text=True)
    if prepared.returncode:
        sys.exit(f"preparing {args.network} failed:\n{prepared.stderr[-3000:]}")
    sys.path.insert(0, str(HERE))
    from timing import IDLE_THREADS_SLEEP, Stats, duration

    results = {}
    for threads in (1, 2):
        done = subprocess.run([sys.executable, "-c", CHILD.format(**fields), str(batch), str(rounds), str(threads)],
                              check=True, capture_output=True, text=True, env={**os.environ, **IDLE_THREADS_SLEEP})
        results[threads] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{title} forward, batch {batch}, {'×'.join(map(str, shape[1:]))}, float32; {rounds} interleaved rounds "
          "per thread count")
    print(f"NumPy's BLAS: {results[1]['blas']}; torch: {results[1]['torch']}; "
          f"ONNX Runtime {results[1]['onnxruntime']}")
    print("max difference of the logits from PyTorch's, relative to their largest: " + ", ".join(
        f"{name} {value:.1e}" for name, value in results[1]["difference"].items() if name != "torch"))
    print()
    print("| threads (time) | convlint min / median | PyTorch min / median | ONNX Runtime min / median "
          "| convlint / PyTorch | convlint / ONNX Runtime |")
    print("|---|---|---|---|---:|---:|")
    sides = ("convlint", "torch", "onnxruntime")
    stats = {threads: {name: Stats(*values) for name, values in results[threads]["stats"].items()}
             for threads in (1, 2)}
    for threads, kind in ((1, "cpu"), (2, "wall")):
        cells = " | ".join(f"{duration(stats[threads][name].min(kind))} / {duration(stats[threads][name].median(kind))}"
                           for name in sides)
        ours = stats[threads]["convlint"].median(kind)
        print(f"| {threads} ({'CPU' if kind == 'cpu' else 'wall'}) | {cells} | "
              f"{ours / stats[threads]['torch'].median(kind):.2f} | "
              f"{ours / stats[threads]['onnxruntime'].median(kind):.2f} |")
    print()
    print("1→2 threads speed-up (median wall time at one thread / at two): " + ", ".join(
        f"{name} {stats[1][name].median('wall') / stats[2][name].median('wall'):.2f}" for name in sides))


if __name__ == "__main__":
    main()
    sys.path.insert(0, str(HERE))
    from timing import also_with_own_blas_kernel
    also_with_own_blas_kernel()
