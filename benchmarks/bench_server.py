"""Latency of `convlint server` after an edit, against one `convlint lint` of the same file.

Usage::

    python benchmarks/bench_server.py [--rounds R]

A 500-layer spec (250 × Conv2d 3×3 pad 1 → ReLU) is opened; then one keystroke changes a
kernel size in the middle of it.  Three things are timed, round by round (A, B, C, A, B, C, …) for
``--rounds`` rounds (at least 10), each as CPU time and wall time; the table gives the minimum and median
of each and the ratio of medians to the peer:

- server: re-analysing the changed text and building the answers an editor asks for at once
  (diagnostics and the inlay hints of the whole file), as the server's handlers do, in a document
  that had only the original text before;
- server, undo: the same for the original text again, in a document that has seen both (the earlier
  text's analysis is re-used);
- peer: `convlint lint FILE` as a command (interpreter start-up and plugin loading included; the
  child's CPU time), what a save hook or an editor without the server runs.

Target: the change answered in under 100 ms (median wall time).  Needs the `server` extra::

    python -m pip install -e '.[server]' && python benchmarks/bench_server.py
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from pygls.workspace.position_codec import PositionCodec

from convlint.api import default_registry
from convlint.server.document import DocumentState
from convlint.server.features import Codec, diagnostics, inlay_hints

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import Stats, command, duration  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (at least 10)")
    rounds = max(10, parser.parse_args().rounds)
    registry = default_registry()
    original, edited = chain_text(BLOCKS), chain_text(BLOCKS, changed=BLOCKS // 2)
    stats = {name: Stats([], []) for name in ("change", "undo", "peer")}

    def timed(name: str, function) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        function()
        stats[name].cpu.append(time.process_time() - cpu)
        stats[name].wall.append(time.perf_counter() - wall)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chain.yaml"
        path.write_text(original)
        seen_both = DocumentState(path)
        seen_both.update(original, registry)
        seen_both.update(edited, registry)
        command(sys.executable, "-m", "convlint", "lint", str(path))        # untimed: warm the file cache
        for _ in range(rounds):
            fresh = DocumentState(path)
            fresh.update(original, registry)
            timed("change", lambda: answer(fresh, edited, registry))
            timed("undo", lambda: answer(seen_both, original, registry))
            cpu, wall = command(sys.executable, "-m", "convlint", "lint", str(path))
            stats["peer"].cpu.append(cpu)
            stats["peer"].wall.append(wall)
    peer = stats["peer"]
    print(f"{rounds} interleaved rounds; CPU time min / median, wall time median")
    print()
    print(f"| measure ({2 * BLOCKS} layers) | CPU min / median | wall median | ratio of median CPU to the peer |")
    print("|---|---|---|---:|")
    for name, label in (("change", "server: one change answered"), ("undo", "server: undo answered"),
                        ("peer", "peer: `convlint lint FILE`")):
        row = stats[name]
        print(f"| {label} | {duration(row.min())} / {duration(row.median())} | {duration(row.median('wall'))} | "
              f"{row.median() / peer.median():.3f} |")
    met = stats["change"].median("wall") < 0.1
    print(f"target: a change answered in under 100 ms (median wall time): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
