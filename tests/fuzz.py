"""Fuzzing convlint: random specs, random YAML and mutated bundled specs must never break it.

Each generated file is linted in-process (and summarised when it is a spec); the
run must produce no internal error (X002), no exception, every finding at a
position (line and column ≥ 1), and finish within :data:`MAX_SECONDS`.  tests/test_fuzz.py runs a short, bounded
round in the test suite; for a long run (nightly)::

    python tests/fuzz.py --minutes 30
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlint.api import summarize
from convlint.report.formatters import concise, lint_json
from convlint.linting.runner import lint_file
from convlint.layers.registry import load_registry

SPECS = Path(__file__).resolve().parent.parent / "specs"
BUNDLED = [path.read_bytes() for path in sorted(SPECS.glob("*.yaml"))]
MAX_SECONDS = 2.0
REGISTRY = load_registry(only_distribution="convlint")
TYPES = sorted(REGISTRY.types) + ["Conv2D", "Nope"]
KEYWORDS = sorted({key for layer_type in REGISTRY.types.values() for key in layer_type.keywords}) + ["strides"]

ints = st.one_of(st.integers(-3, 70), st.integers(), st.just(10**100), st.just(-(2**63)), st.just(2**63))
scalars = st.one_of(ints, st.floats(allow_nan=True), st.booleans(), st.none(), st.text(max_size=8),
                    st.sampled_from(["same", "valid", "zeros", "nearest", "bilinear"]))
values = st.one_of(scalars, st.lists(ints, max_size=4), st.lists(scalars, max_size=3))
names = st.sampled_from(["x", "a", "b", "c", "conv", "relu_1", "y"])


@st.composite
def random_specs(draw) -> bytes:
    """Valid structure, random values: inputs, layers of known (or unknown) types, random keywords."""
    inputs = draw(st.dictionaries(names, st.lists(ints, min_size=0, max_size=6), min_size=0, max_size=3))
    layers = []
    for _ in range(draw(st.integers(0, 8))):
        layer = {"type": draw(st.sampled_from(TYPES))}
        if draw(st.booleans()):
            layer["name"] = draw(names)
        if draw(st.integers(0, 3)) == 0:
            layer["from"] = draw(st.one_of(names, st.lists(names, max_size=3), scalars))
        for key in draw(st.lists(st.sampled_from(KEYWORDS), max_size=4)):
            layer[key] = draw(values)
        layers.append(layer)
    spec: dict = {"inputs": inputs, "layers": layers}
    if draw(st.booleans()):
        spec["outputs"] = draw(st.lists(names, max_size=2))
    return yaml.safe_dump(spec, default_flow_style=draw(st.booleans()), allow_unicode=True).encode("utf-8")


yaml_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=6), ints), inner, max_size=4)), max_leaves=20)


@st.composite
def random_yaml(draw) -> bytes:
    """Arbitrary YAML data under a `layers` key, or arbitrary text that mentions `layers:`."""
    if draw(st.booleans()):
        return yaml.safe_dump({"layers": draw(yaml_values), "inputs": draw(yaml_values)}).encode("utf-8")
    return ("layers:" + draw(st.text(max_size=200))).encode("utf-8", "surrogatepass")


@st.composite
def mutated_specs(draw) -> bytes:
    """A bundled spec with a few random byte-level edits: flips, insertions, deletions, duplications."""
    data = bytearray(draw(st.sampled_from(BUNDLED)))
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["flip", "insert", "delete", "duplicate", "special"]))
        if edit == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif edit == "delete":
            del data[at:at + draw(st.integers(1, 20))]
        elif edit == "duplicate":
            data[at:at] = data[at:at + draw(st.integers(1, 80))]
        else:
            data[at:at] = draw(st.sampled_from([b"&a ", b"*a", b"!!python/object ", b"[", b"{", b"- ", b": ",
                                                b"\n  ", b"<<: ", b"\t", b"---\n", b"9" * 30, b"-1"]))
    return bytes(data)


def check_lint(data: bytes, directory: Path) -> None:
    """Lint ``data`` as a spec file; fail on an internal error, an exception, a finding without position, or slowness."""
    path = directory / "fuzzed.yaml"
    path.write_bytes(data)
    start = time.process_time()
    result = lint_file(path, REGISTRY)
    concise(result.findings), lint_json(result.findings)
    if result.spec is not None and not any(finding.code == "X002" for finding in result.findings):
        json.dumps(summarize(result.spec, REGISTRY))
    seconds = time.process_time() - start
    assert seconds < MAX_SECONDS, f"{seconds:.2f} s"
    for finding in result.findings:
        assert finding.code != "X002", finding.message
        assert finding.line >= 1 and finding.column >= 1, finding


STRATEGIES = {"random specs": random_specs(), "random YAML": random_yaml(), "mutated specs": mutated_specs()}


def fuzz_test(strategy, max_examples: int):
    """A hypothesis test of ``check_lint`` over ``strategy`` with ``max_examples`` examples."""
    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(data):
        with tempfile.TemporaryDirectory() as directory:
            check_lint(data, Path(directory))
    return run


def main(argv: list[str] | None = None) -> int:
    """Fuzz each strategy in turn until ``--minutes`` have passed; a failure raises with its example."""
    parser = argparse.ArgumentParser(prog="python tests/fuzz.py", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to fuzz (default 30)")
    parser.add_argument("--examples", type=int, default=2000, help="examples per strategy per round")
    args = parser.parse_args(argv)
    end = time.monotonic() + 60 * args.minutes
    rounds = 0
    while time.monotonic() < end:
        for name, strategy in STRATEGIES.items():
            fuzz_test(strategy, args.examples)()
            print(f"round {rounds + 1}: {args.examples} {name} passed", flush=True)
        rounds += 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
