"""Differential tests against PyTorch: output shapes, parameter counts and refusals.

Hundreds of random Conv / ConvTranspose / MaxPool / AvgPool configurations in 1-d, 2-d and 3-d,
edge cases included.  For each, PyTorch (CPU) builds the module and runs it on a zero tensor;
convlint lints the same layer.  Either both refuse (PyTorch raises, convlint reports an error)
or both give the same output shape and parameter count.
"""
from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlint.findings import Severity
from convlint.analysis.graph import build_graph
from convlint.analysis.infer import analyze
from convlint.spec.model import parse_spec

torch = pytest.importorskip("torch")

EXAMPLES = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def torch_outcome(type_name: str, kwargs: dict, input_shape: list[int]):
    """(shape, params) from PyTorch, or None when PyTorch refuses the layer or the input.

    An empty output (a dimension of 0, which ConvTranspose returns instead of raising) counts
    as a refusal: convlint reports it as S002, since no following layer can use it.
    """
    try:
        module = getattr(torch.nn, type_name)(**kwargs)
        with torch.no_grad():
            out = module(torch.zeros(input_shape))
    except (RuntimeError, ValueError, TypeError, NotImplementedError):
        return None
    if 0 in out.shape:
        return None
    return list(out.shape), sum(p.numel() for p in module.parameters())


def convlint_outcome(registry, type_name: str, kwargs: dict, input_shape: list[int]):
    """(shape, params) from convlint, or None when it reports an error."""
    spec_data = {"inputs": {"x": input_shape}, "layers": [{"name": "layer", "type": type_name, **kwargs}]}
    spec = parse_spec(yaml.safe_dump(spec_data), "random.yaml")
    build_graph(spec)
    analysis = analyze(spec, registry)
    if any(f.severity is Severity.ERROR for f in analysis.findings):
        return None
    node = analysis.nodes["layer"]
    return list(node.shape), node.params


def per_axis(draw, ndim: int, values) -> int | list[int]:
    """An int, or a list of one value per axis."""
    if draw(st.booleans()):
        return draw(values)
    return [draw(values) for _ in range(ndim)]


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def window_input(draw, channels=None):
    ndim = draw(st.integers(1, 3))
    top = {1: 14, 2: 11, 3: 6}[ndim]
    sizes = [draw(st.integers(1, top)) for _ in range(ndim)]
    c = channels if channels is not None else draw(st.sampled_from([1, 2, 3, 4, 6, 8]))
    return ndim, [2, c, *sizes]


@st.composite
def conv_case(draw):
    ndim, shape = draw(window_input())
    groups = draw(st.sampled_from(divisors(shape[1]) * 3 + [2, 3]))  # mostly valid, sometimes not
    out_channels = draw(st.one_of(st.integers(1, 3).map(lambda k: k * groups), st.sampled_from([1, 2, 4, 6, 8])))
    kwargs = {
        "in_channels": shape[1], "out_channels": out_channels,
        "kernel_size": per_axis(draw, ndim, st.integers(1, 5)),
        "stride": per_axis(draw, ndim, st.integers(1, 4)),
        "dilation": per_axis(draw, ndim, st.integers(1, 3)),
        "groups": groups,
        "bias": draw(st.booleans()),
        "padding_mode": draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"])),
    }
    padding = draw(st.one_of(st.sampled_from(["same", "valid"]), st.integers(0, 3)))
    kwargs["padding"] = padding if isinstance(padding, str) else per_axis(draw, ndim, st.integers(0, 3))
    return f"Conv{ndim}d", kwargs, shape


@st.composite
def transposed_case(draw):
    ndim, shape = draw(window_input())
    groups = draw(st.sampled_from(divisors(shape[1])))
    kwargs = {
        "in_channels": shape[1], "out_channels": groups * draw(st.integers(1, 3)),
        "kernel_size": per_axis(draw, ndim, st.integers(1, 5)),
        "stride": per_axis(draw, ndim, st.integers(1, 4)),
        "padding": per_axis(draw, ndim, st.integers(0, 4)),
        "output_padding": per_axis(draw, ndim, st.integers(0, 3)),
        "dilation": per_axis(draw, ndim, st.integers(1, 3)),
        "groups": groups,
        "bias": draw(st.booleans()),
    }
    return f"ConvTranspose{ndim}d", kwargs, shape


@st.composite
def pool_case(draw):
    ndim, shape = draw(window_input())
    kind = draw(st.sampled_from(["Max", "Avg"]))
    kwargs = {
        "kernel_size": per_axis(draw, ndim, st.integers(1, 5)),
        "padding": per_axis(draw, ndim, st.integers(0, 3)),
        "ceil_mode": draw(st.booleans()),
    }
    if draw(st.booleans()):
        kwargs["stride"] = per_axis(draw, ndim, st.integers(1, 4))
    if kind == "Max":
        kwargs["dilation"] = per_axis(draw, ndim, st.integers(1, 3))
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
        if ndim > 1 and draw(st.booleans()):
            kwargs["divisor_override"] = draw(st.integers(1, 9))
    return f"{kind}Pool{ndim}d", kwargs, shape


@st.composite
def adaptive_case(draw):
    ndim, shape = draw(window_input())
    kind = draw(st.sampled_from(["Max", "Avg"]))
    output_size = [draw(st.one_of(st.none(), st.integers(1, 8))) for _ in range(ndim)]
    return f"Adaptive{kind}Pool{ndim}d", {"output_size": output_size}, shape


def check_agreement(registry, case):
    type_name, kwargs, shape = case
    expected = torch_outcome(type_name, kwargs, shape)
    actual = convlint_outcome(registry, type_name, kwargs, shape)
    assert actual == expected, f"{type_name}({kwargs}) on {shape}: torch {expected}, convlint {actual}"


@pytest.mark.slow
@EXAMPLES
@given(case=conv_case())
def test_conv_matches_torch(registry, case):
    check_agreement(registry, case)


@pytest.mark.slow
@EXAMPLES
@given(case=transposed_case())
def test_transposed_conv_matches_torch(registry, case):
    check_agreement(registry, case)


@pytest.mark.slow
@EXAMPLES
@given(case=pool_case())
def test_pool_matches_torch(registry, case):
    check_agreement(registry, case)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(case=adaptive_case())
def test_adaptive_pool_matches_torch(registry, case):
    check_agreement(registry, case)


@pytest.mark.parametrize("type_name, kwargs, shape", [
    ("Conv2d", {"in_channels": 3, "out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3}, [1, 3, 224, 224]),
    ("Conv2d", {"in_channels": 3, "out_channels": 3, "kernel_size": 3, "groups": 3, "padding": "same"}, [1, 3, 9, 9]),
    ("Conv2d", {"in_channels": 4, "out_channels": 4, "kernel_size": 4, "padding": "same", "dilation": 2}, [1, 4, 9, 9]),
    ("Conv1d", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "stride": 2, "padding": "same"}, [1, 2, 9]),
    ("Conv2d", {"in_channels": 1, "out_channels": 1, "kernel_size": 7}, [1, 1, 5, 5]),
    ("Conv2d", {"in_channels": 1, "out_channels": 1, "kernel_size": 3, "padding": 3, "padding_mode": "reflect"}, [1, 1, 3, 3]),
    ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, [1, 1, 5, 5]),
    ("MaxPool2d", {"kernel_size": 2, "padding": 2}, [1, 1, 8, 8]),
    ("MaxPool2d", {"kernel_size": 2}, [1, 1, 1, 1]),
    ("AvgPool2d", {"kernel_size": 2, "stride": 2, "ceil_mode": True}, [1, 1, 5, 5]),
    ("ConvTranspose2d", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "stride": 2, "output_padding": 2},
     [1, 2, 4, 4]),
    ("ConvTranspose2d", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "stride": 1, "dilation": 3,
                         "output_padding": 2}, [1, 2, 4, 4]),
    ("ConvTranspose1d", {"in_channels": 1, "out_channels": 1, "kernel_size": 1, "padding": 2}, [1, 1, 3]),
])
def test_edge_cases_match_torch(registry, type_name, kwargs, shape):
    check_agreement(registry, (type_name, kwargs, shape))
