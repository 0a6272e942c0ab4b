"""Fuzzing convlint: random specs, random YAML, mutated bundled specs and mutated ONNX exports must never
break it.

Each generated file (a YAML spec, or an ONNX model mutated from an export) is linted in-process (and
summarised when it is a spec); the run must produce no internal error (X002), no exception, every finding
at a position (line and column ≥ 1; in an ONNX file, 0 for a finding about the whole network), and finish
within :data:`MAX_SECONDS`.  tests/test_fuzz.py runs a short, bounded
round in the test suite; for a long run (nightly)::

    python tests/fuzz.py --minutes 30
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import io
import json
import re
import tempfile
import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlint.report.summary import build_summary
from convlint.report.concise import concise
from convlint.report.full import full
from convlint.report.json_findings import lint_json
from convlint.linting.runner import lint_file
from convlint.layers.registry import load_registry

SPECS = Path(__file__).resolve().parent.parent / "specs"
BUNDLED = [path.read_bytes() for path in sorted(SPECS.glob("*.yaml"))]
MAX_SECONDS = 2.0
"""CPU seconds one example may take in the long run."""
SUITE_MAX_SECONDS = 10.0
"""CPU seconds one example may take in the suite, which shares the machine with other work: the bound
catches work that grows without limit (minutes), not slowness."""
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Characters that must never reach a terminal from a formatter (``\n`` ends each finding)."""
REGISTRY = load_registry(only_distribution="convlint")
TYPES = sorted(REGISTRY.types) + ["Conv2D", "Nope"]
KEYWORDS = sorted({key for layer_type in REGISTRY.types.values() for key in layer_type.keywords}) + ["strides"]

ints = st.one_of(st.integers(-3, 70), st.integers(), st.just(10**100), st.just(-(2**63)), st.just(2**63))
scalars = st.one_of(ints, st.floats(allow_nan=True), st.booleans(), st.none(), st.text(max_size=8),
                    st.sampled_from(["same", "valid", "zeros", "nearest", "bilinear"]))
values = st.one_of(scalars, st.lists(ints, max_size=4), st.lists(scalars, max_size=3))
names = st.sampled_from(["x", "a", "b", "c", "conv", "relu_1", "y"])
hostile_names = st.one_of(names, st.lists(st.sampled_from(
    list("ab.:/\\\"'# -[]{}<>&;") + ["\n", "\r", "\x1b", "\x07", "\x00", "\u2028", "\u202e", "\x9b",
                                           "# convlint: noqa", "->", "..", "$p"]), min_size=1, max_size=8).map("".join))
"""Layer names with control characters, newlines, DOT and YAML syntax, noqa comments and parameters."""
strides = st.one_of(st.integers(1, 4), st.sampled_from([33_300, 1_000_003, 1_000_033, 2**31 - 1, 2**40, 2**62]))
"""Strides and kernel sizes, small or pathological (large, coprime pairs)."""


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
def hostile_specs(draw, sizes=st.integers(1, 4)) -> bytes:
    """Valid structure with hostile names (also in `from`); strides, kernel sizes and input sizes
    drawn from ``sizes`` (pass :data:`strides` for pathological ones)."""
    height = draw(st.one_of(st.integers(1, 64), sizes))
    layers = []
    for _ in range(draw(st.integers(1, 5))):
        layer = {"name": draw(hostile_names), "type": draw(st.sampled_from(
            ["Conv2d", "MaxPool2d", "ConvTranspose2d", "AvgPool2d", "ReLU", "Flatten", "Linear"]))}
        if layer["type"] in ("Conv2d", "ConvTranspose2d"):
            layer["out_channels"] = draw(st.integers(1, 4))
        if layer["type"] != "ReLU":
            layer["kernel_size"] = draw(st.one_of(sizes, st.lists(sizes, min_size=2, max_size=2)))
            layer["stride"] = draw(st.one_of(sizes, st.lists(sizes, min_size=2, max_size=2)))
        if layer["type"] == "Linear":
            layer = {"name": layer["name"], "type": "Linear", "in_features": draw(sizes), "out_features": 2}
        if draw(st.integers(0, 3)) == 0 and layers:
            layer["from"] = draw(st.sampled_from([item["name"] for item in layers]))
        layers.append(layer)
    shape = draw(st.sampled_from([[1, 3, height, height], [1, 3, "H", "W"], [1, 3, height, "W"]]))
    spec = {"inputs": {draw(hostile_names): shape}, "layers": layers}
    return yaml.safe_dump(spec, default_flow_style=draw(st.booleans()), allow_unicode=True).encode("utf-8", "surrogatepass")


PARAMS = ["p", "q", "k"]


@st.composite
def expressions(draw, depth: int = 0) -> str:
    """A block expression from the grammar: numbers, parameters (also unknown ones), arithmetic,
    comparisons, ``and``/``or``/``not`` and ``a if c else b``."""
    if depth > 3 or draw(st.integers(0, 2)) == 0:
        return draw(st.one_of(st.sampled_from(PARAMS + ["pp", "true", "false", "'s'"]),
                              st.integers(-5, 40).map(str), st.sampled_from(["10**3", "2**64", "0x" + "f" * 40, "1.5"])))
    left, right = draw(expressions(depth + 1)), draw(expressions(depth + 1))
    form = draw(st.sampled_from(["{} + {}", "{} - {}", "{} * {}", "{} // {}", "{} % {}", "{} / {}", "{} == {}",
                                 "{} < {}", "{} and {}", "{} or {}", "not {}", "-{}", "({})", "{} if {} else {}"]))
    if form == "{} if {} else {}":
        return form.format(left, right, draw(expressions(depth + 1)))
    return form.format(left, right) if form.count("{}") == 2 else form.format(left)


parameter_values = st.one_of(st.integers(-2, 9), st.sampled_from(["$p", "$q", "$pp", "$(p*p*p*p)"]),
                             expressions().map(lambda text: f"$({text})"))


@st.composite
def block_specs(draw) -> bytes:
    """Specs with blocks: parameters set by grammar-generated expressions, nested blocks, repeats
    (small, large and invalid), `when` conditions and `first` overrides."""
    blocks = {}
    for number in range(draw(st.integers(1, 3))):
        inner = []
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["Conv2d", "ReLU", "MaxPool2d"] + list(blocks)))
            layer: dict = {"type": kind}
            if kind == "Conv2d":
                layer.update(out_channels=draw(parameter_values), kernel_size=draw(parameter_values))
            elif kind == "MaxPool2d":
                layer["kernel_size"] = draw(parameter_values)
            elif kind in blocks:
                layer["p"] = draw(parameter_values)
                layer["repeat"] = draw(st.one_of(st.integers(1, 3), st.sampled_from([0, 10_000, 10**6, "$p", "$(q*q)"])))
            if draw(st.integers(0, 3)) == 0:
                layer["when"] = draw(st.one_of(st.booleans(), expressions().map(lambda text: f"$({text})")))
            inner.append(layer)
        blocks[f"b{number}"] = {"params": {"p": draw(st.integers(1, 4)), "q": 2, "k": 3}, "layers": inner}
    top = {"type": draw(st.sampled_from(list(blocks))), "p": draw(parameter_values)}
    if draw(st.booleans()):
        top["repeat"] = draw(st.one_of(st.integers(1, 4), st.sampled_from([10_000, 10_001, -1, "$p"])))
    if draw(st.booleans()):
        top["first"] = {"p": draw(parameter_values)}
    spec = {"inputs": {"x": [1, 3, 16, 16]}, "blocks": blocks, "layers": [top]}
    return yaml.safe_dump(spec, default_flow_style=draw(st.booleans())).encode("utf-8")


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


ONNX_BASES = (Path(__file__).resolve().parent / "data" / "every_layer.yaml", SPECS / "tcn.yaml")
"""Specs whose ONNX exports (sizes symbolic) :func:`mutated_onnx` mutates: every kind of layer the export
writes, and a TCN's 1-d dilated convolutions and chomps."""
ONNX_OPS = ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "Relu", "Add", "Mul", "Div", "Pow", "Concat",
            "Reshape", "Flatten", "Gemm", "MatMul", "Resize", "Pad", "Split", "Transpose", "GlobalAveragePool",
            "BatchNormalization", "Clip", "Sigmoid", "Erf", "Tanh", "InstanceNormalization", "Slice", "Gather",
            "Shape", "Unsqueeze", "Squeeze", "Softmax", "LayerNormalization", "GroupNormalization", "Gelu", "Sub",
            "Identity", "Dropout", "ReduceMean", "Cast", "DepthToSpace", "SpaceToDepth", "HardSigmoid", "PRelu")
ODD_INTS = (0, -1, 1, 2, 3, 7, -7, 10**9, 2**62, -(2**63))


@functools.cache
def onnx_bases() -> tuple[bytes, ...]:
    """The ONNX files ``convlint export --to onnx`` writes for :data:`ONNX_BASES` (sizes symbolic)."""
    from convlint.cli.main import main as convlint_main
    models = []
    with tempfile.TemporaryDirectory() as directory:
        for spec in ONNX_BASES:
            path = Path(directory) / f"{spec.stem}.onnx"
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                assert convlint_main(["export", str(spec), "--to", "onnx", "-o", str(path)]) == 0
            models.append(path.read_bytes())
    return tuple(models)


class MutatedOnnx(bytes):
    """An ONNX file's bytes, shown (in hypothesis's report of a failing example) as its base and its edits."""

    description: str

    def __repr__(self) -> str:
        return f"<ONNX {self.description}>"


@st.composite
def mutated_onnx(draw) -> bytes:
    """An exported bundled spec with one to three edits to its graph: an attribute set to an odd value or
    cleared, an initializer of another type, length, value or rank, a node of another op, an input
    rewired, dropped or removed, a node removed, the input's dims changed."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    base = draw(st.integers(0, len(ONNX_BASES) - 1))
    model = onnx.load_from_string(onnx_bases()[base])
    graph, edits = model.graph, []
    for _ in range(draw(st.integers(1, 3))):
        node = graph.node[draw(st.integers(0, len(graph.node) - 1))]
        edit = draw(st.sampled_from(["attribute", "initializer", "op", "input", "remove", "dims", "clear", "drop"]))
        edits.append(f"{edit} of {node.name or node.op_type}")
        if edit == "attribute" and node.attribute:
            attribute = node.attribute[draw(st.integers(0, len(node.attribute) - 1))]
            if attribute.type == onnx.AttributeProto.INT:
                attribute.i = draw(st.sampled_from(ODD_INTS))
            elif attribute.type == onnx.AttributeProto.INTS and attribute.ints:
                attribute.ints[draw(st.integers(0, len(attribute.ints) - 1))] = draw(st.sampled_from(ODD_INTS))
            elif attribute.type == onnx.AttributeProto.FLOAT:
                attribute.f = draw(st.sampled_from([0.0, -1.0, float("nan"), float("inf"), 1e30]))
            elif attribute.type == onnx.AttributeProto.STRING:
                attribute.s = draw(st.sampled_from([b"", b"bogus", b"SAME_UPPER", b"reflect", b"cubic"]))
        elif edit == "initializer" and graph.initializer:
            index = draw(st.integers(0, len(graph.initializer) - 1))
            array = numpy_helper.to_array(graph.initializer[index])
            change = draw(st.sampled_from(["type", "length", "value", "rank"]))
            if change == "type":
                dtype = draw(st.sampled_from([TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.INT64,
                                              TensorProto.INT32, TensorProto.BOOL, TensorProto.UINT8]))
                array = array.astype(helper.tensor_dtype_to_np_dtype(dtype))
            elif change == "length":
                array = array.reshape(-1)[:draw(st.integers(0, array.size))]
            elif change == "value" and array.dtype.kind in "fiu":
                array = np.full(array.shape, draw(st.sampled_from([0, -1, 3]))).astype(array.dtype)
            elif change == "rank":
                array = array.reshape((1,) + array.shape)
            graph.initializer[index].CopyFrom(numpy_helper.from_array(array, graph.initializer[index].name))
        elif edit == "op":
            node.op_type = draw(st.sampled_from(ONNX_OPS))
        elif edit == "input" and node.input:
            tensors = [name for other in graph.node for name in other.output] + ["", "nowhere", graph.input[0].name]
            node.input[draw(st.integers(0, len(node.input) - 1))] = draw(st.sampled_from(tensors))
        elif edit == "remove" and len(graph.node) > 1:
            graph.node.remove(node)
        elif edit == "dims" and graph.input[0].type.tensor_type.shape.dim:
            dims = graph.input[0].type.tensor_type.shape.dim
            dim = dims[draw(st.integers(0, len(dims) - 1))]
            dim.Clear()
            size = draw(st.one_of(st.sampled_from([0, 1, 2, 3, 5, 1000, 2**40]),
                                  st.sampled_from(["H", "W", "N", "?", "", "1x"])))
            if isinstance(size, int):
                dim.dim_value = size
            else:
                dim.dim_param = size
        elif edit == "clear":
            node.ClearField("attribute")
        elif edit == "drop" and len(node.input) > 1:
            del node.input[-1]
    mutated = MutatedOnnx(model.SerializeToString())
    mutated.description = f"{ONNX_BASES[base].stem}: {'; '.join(edits)}"
    return mutated


def check_lint(data: bytes, directory: Path, max_seconds: float = MAX_SECONDS, suffix: str = ".yaml") -> None:
    """Lint ``data`` as a file ending in ``suffix`` (a spec, or an ONNX model); fail on an internal error,
    an exception, a finding without position, or more than ``max_seconds`` of CPU time."""
    path = directory / f"fuzzed{suffix}"
    path.write_bytes(data)
    gc.disable()  # a collection of the garbage earlier examples left is not this example's time
    try:
        seconds = _checked_seconds(path)
    finally:
        gc.enable()
    assert seconds < max_seconds, f"{seconds:.2f} s"


def _checked_seconds(path: Path) -> float:
    """CPU seconds to lint ``path``, print its findings in every format and summarise it; asserts the
    output is well formed and no finding is an internal error (X002)."""
    start = time.process_time()
    result = lint_file(path, REGISTRY)
    text = concise(result.findings)
    assert text.count("\n") == len(result.findings), "a finding spans more than one line"
    assert not UNSAFE.search(text), "a control character reaches the terminal"
    json.loads(lint_json(result.findings))
    if result.spec is not None:
        shown = full(result.findings, {result.path: result.spec}, REGISTRY.rules)
        assert not UNSAFE.search(shown.replace("\n", "")), "a control character reaches the terminal"
    if result.checked is not None:  # the summary of the same lint, as `convlint summary` makes it
        json.dumps(build_summary(result.spec, result.checked, REGISTRY, None, False))
    seconds = time.process_time() - start
    for finding in result.findings:
        assert finding.code != "X002", finding.message
        whole_onnx_network = path.suffix == ".onnx" and finding.layer is None  # at line 0: docs/import.md
        assert finding.line >= 1 and finding.column >= 1 or whole_onnx_network and finding.line == 0, finding
    return seconds


STRATEGIES = {"random specs": random_specs(), "random YAML": random_yaml(), "mutated specs": mutated_specs(),
              "hostile names": hostile_specs(), "block specs": block_specs(),
              "pathological strides": hostile_specs(strides), "mutated ONNX": mutated_onnx()}
SUFFIXES = {"mutated ONNX": ".onnx"}
"""The file name ending of each strategy's examples that are no YAML specs."""
IN_SUITE = list(STRATEGIES)
"""The strategies tests/test_fuzz.py runs: all of them.  Pathological strides and kernels are bounded
like everything else: a transposed layer's receptive field costs the same for any kernel size, and a
spec's size problem is solved once per lint, its summary made from that same lint."""


def fuzz_test(name: str, max_examples: int, in_suite: bool = False):
    """A hypothesis test of ``check_lint`` over strategy ``name`` with ``max_examples`` examples.

    ``in_suite`` draws the same examples on every run (so the suite's result depends on the code alone) and
    allows :data:`SUITE_MAX_SECONDS` per example; the long run draws new examples each time."""
    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=in_suite,
              suppress_health_check=list(HealthCheck))
    @given(STRATEGIES[name])
    def run(data):
        with tempfile.TemporaryDirectory() as directory:
            check_lint(data, Path(directory), SUITE_MAX_SECONDS if in_suite else MAX_SECONDS,
                       SUFFIXES.get(name, ".yaml"))
    return run


def main(argv: list[str] | None = None) -> int:
    """Fuzz each strategy in turn until ``--minutes`` have passed; a failure raises with its example."""
    parser = argparse.ArgumentParser(prog="python tests/fuzz.py", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to fuzz (default 30)")
    parser.add_argument("--examples", type=int, default=200, help="examples per strategy per round")
    args = parser.parse_args(argv)
    end = time.monotonic() + 60 * args.minutes
    rounds = 0
    while time.monotonic() < end:  # every strategy in turn, so that each gets its share of the time
        for name in STRATEGIES:
            if time.monotonic() >= end:
                break
            fuzz_test(name, args.examples)()
            print(f"round {rounds + 1}: {args.examples} {name} passed", flush=True)
        rounds += 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
