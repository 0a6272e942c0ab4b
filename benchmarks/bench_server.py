"""Latency of `convlint server` after an edit, against one `convlint lint` of the same file.

A 500-layer spec (250 × Conv2d 3×3 pad 1 → ReLU) is opened; then one keystroke changes a
kernel size in the middle of it.  Measured, best of several runs, wall-clock seconds:

- server: re-analysing the changed text and building the answers an editor asks for at once
  (diagnostics and the inlay hints of the whole file), as the server's handlers do;
- server, undo: the same after undoing the change (the earlier text's analysis is re-used);
- peer: `convlint lint FILE` as a command (interpreter start-up and plugin loading included),
  what a save hook or an editor without the server runs.

Target: the change answered in under 100 ms.  Needs the `server` extra::

    python -m pip install -e '.[server]' && python benchmarks/bench_server.py
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pygls.workspace.position_codec import PositionCodec

from convlint.api import default_registry
from convlint.server.document import DocumentState
from convlint.server.features import Codec, diagnostics, inlay_hints

REPEATS = 7
BLOCKS = 250


def chain_text(blocks: int, changed: int | None = None) -> str:
    """``blocks`` × (Conv2d → ReLU) on a 1×3×64×64 image; block ``changed`` has kernel_size 5."""
    lines = ["name: chain", "inputs:", "  image: [1, 3, 64, 64]", "layers:"]
    for i in range(blocks):
        kernel = 5 if i == changed else 3
        lines.append(f"  - {{name: conv{i}, type: Conv2d, out_channels: 16, kernel_size: {kernel}, padding: 1}}")
        lines.append(f"  - {{name: relu{i}, type: ReLU}}")
    return "\n".join(lines) + "\n"


def answer(state: DocumentState, text: str, registry) -> int:
    """What the server does for one change: analyse, then diagnostics and every inlay hint."""
    facts = state.update(text, registry)
    codec = Codec(PositionCodec(), text.splitlines())
    return len(diagnostics(facts, codec)) + len(inlay_hints(state.good, codec, 0, len(codec.lines)))


def best(function, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    registry = default_registry()
    original, edited = chain_text(BLOCKS), chain_text(BLOCKS, changed=BLOCKS // 2)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chain.yaml"
        path.write_text(original)

        def change() -> None:
            state = DocumentState(path)
            state.update(original, registry)
            start = time.perf_counter()
            answer(state, edited, registry)
            timings.append(time.perf_counter() - start)

        timings: list[float] = []
        for _ in range(REPEATS):
            change()
        server = min(timings)
        state = DocumentState(path)
        state.update(original, registry)
        state.update(edited, registry)
        undo = best(lambda: answer(state, original, registry))
        peer = best(lambda: subprocess.run([sys.executable, "-m", "convlint", "lint", str(path)],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), repeats=3)
    print(f"| measure ({2 * BLOCKS} layers) | seconds | vs `convlint lint` |")
    print("|---|---|---|")
    print(f"| server: one change answered | {server * 1000:.1f} ms | {server / peer:.3f}× |")
    print(f"| server: undo answered | {undo * 1000:.2f} ms | {undo / peer:.4f}× |")
    print(f"| peer: `convlint lint FILE` | {peer * 1000:.0f} ms | 1× |")
    print(f"target: a change answered in under 100 ms: {'met' if server < 0.1 else 'NOT met'}")


if __name__ == "__main__":
    main()
