"""Whole-network executor benchmark: ResNet-18 at batch 8, 224×224, convlint against PyTorch CPU.

Usage::

    python benchmarks/bench_network.py [--threads N] [--repeats R] [--batch B]

Both run the same weights on the same input with the same number of threads (set before NumPy
and torch are imported).  Each side runs in its own child process so that its peak resident
memory (``ru_maxrss``) is its own; times are medians of ``--repeats`` forward passes after one
warm-up.  Prints a Markdown table with the time ratio and both peaks.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "resnet18.yaml"

CHILD = r"""
import json, os, resource, statistics, sys, time
sys.path.insert(0, {tests!r})
import numpy as np
side, batch, repeats, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
weights = dict(np.load({weights!r}))
x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32)
if side == "torch":
    import torch, torch_reference
    torch.set_num_threads(threads)
    net = torch_reference.build({spec!r}).eval()
    net.load_state_dict({{k: torch.from_numpy(v) for k, v in weights.items()}})
    tx = torch.from_numpy(x)
    def forward():
        with torch.no_grad():
            return net(image=tx)["fc"].numpy()
else:
    import convlint
    spec = convlint.load({spec!r})
    def forward():
        return convlint.run(spec, {{"image": x}}, weights)["fc"]
out = forward()
times = []
for _ in range(repeats):
    start = time.perf_counter()
    forward()
    times.append(time.perf_counter() - start)
np.save(sys.argv[5], out)
print(json.dumps({{"seconds": statistics.median(times),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    env = {**os.environ, **{name: str(args.threads) for name in
                            ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / "convlint-bench-network"
    workdir.mkdir(exist_ok=True)
    weights = workdir / "resnet18.npz"
    subprocess.run([sys.executable, "-c", (
        "import sys, numpy as np, torch; sys.path.insert(0, %r); import torch_reference;"
        "torch.manual_seed(0); net = torch_reference.build(%r);"
        "np.savez(%r, **{k: v.numpy() for k, v in net.state_dict().items()})"
    ) % (str(ROOT / "tests"), str(SPEC), str(weights))], check=True, env=env)
    code = CHILD.format(tests=str(ROOT / "tests"), weights=str(weights), spec=str(SPEC))
    results = {}
    for side in ("torch", "convlint"):
        done = subprocess.run([sys.executable, "-c", code, side, str(args.batch), str(args.repeats),
                               str(args.threads), str(workdir / f"{side}.npy")],
                              check=True, capture_output=True, text=True, env=env)
        results[side] = json.loads(done.stdout.strip().splitlines()[-1])
    import numpy as np
    ours, theirs = np.load(workdir / "convlint.npy"), np.load(workdir / "torch.npy")
    error = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
    print(f"ResNet-18 forward, batch {args.batch}, 224×224, float32, {args.threads} thread(s)\n")
    print("| | convlint | PyTorch | ratio |")
    print("|---|---|---|---|")
    print(f"| median time (s) | {results['convlint']['seconds']:.3f} | {results['torch']['seconds']:.3f} | "
          f"{results['convlint']['seconds'] / results['torch']['seconds']:.2f} |")
    print(f"| peak RSS (MB) | {results['convlint']['peak_mb']:.0f} | {results['torch']['peak_mb']:.0f} | "
          f"{results['convlint']['peak_mb'] / results['torch']['peak_mb']:.2f} |")
    print(f"\nmax relative difference of the logits: {error:.2e}")


if __name__ == "__main__":
    main()
