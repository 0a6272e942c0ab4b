"""The YAML builder, with libyaml's parser and with PyYAML's pure-Python fallback."""
from __future__ import annotations

import datetime

import pytest
import yaml

from convlint.spec import yaml_source as yamlsource
from convlint.spec.yaml_source import MAX_DEPTH, Node, NodeList, YamlError, load_yaml

LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])


@pytest.fixture(params=LOADERS, ids=lambda loader: loader.__name__)
def loader(request, monkeypatch):
    monkeypatch.setattr(yamlsource, "_Loader", request.param)
    return request.param


def error_of(text: str, **limits):
    with pytest.raises(YamlError) as raised:
        load_yaml(text, **limits)
    problem = raised.value.problem
    return problem.code, problem.line, problem.column, problem.message


def test_values_are_those_of_the_safe_loader(loader):
    text = ("a: [1, 0x10, 1_000, -2, 1.5, .inf, true, no, null, ~, '3', \"x\", 2001-12-14, =]\n"
            "b: {c: {d: [e]}}\n")
    data = load_yaml(text).data
    assert data == yaml.load(text.replace(", =]", "]"), Loader=yaml.SafeLoader) | {"a": data["a"]}
    assert data["a"][:13] == [1, 16, 1000, -2, 1.5, float("inf"), True, False, None, None, "3", "x",
                              datetime.date(2001, 12, 14)]
    assert data["a"][13] == "="


def test_positions(loader):
    data = load_yaml("name: n\nlayers:\n  - {type: ReLU, inplace: true}\n  - type: Conv2d\n").data
    assert isinstance(data, Node) and (data.line, data.column) == (1, 1)
    assert data.position_of("layers") == (2, 1)
    layers = data["layers"]
    assert isinstance(layers, NodeList) and layers.item_positions == [(3, 5), (4, 5)]
    assert layers[0].position_of("inplace") == (3, 18)
    assert layers[1].position_of("type") == (4, 5)


def test_duplicate_keys_are_reported_and_the_last_kept(loader):
    document = load_yaml("a: 1\nb: 2\na: 3\n")
    assert document.data == {"a": 3, "b": 2}
    [problem] = document.problems
    assert (problem.code, problem.line, problem.column) == ("Y003", 3, 1)
    assert "first defined on line 1" in problem.message


def test_merge_keys(loader):
    text = ("base: &conv {type: Conv2d, kernel_size: 3, padding: 1}\n"
            "extra: &extra {padding: 2, bias: false}\n"
            "layer:\n  <<: [*conv, *extra]\n  padding: 0\n")
    plain = yaml.load(text, Loader=yaml.SafeLoader)["layer"]
    layer = load_yaml(text).data["layer"]
    assert layer == plain == {"type": "Conv2d", "kernel_size": 3, "padding": 0, "bias": False}
    assert layer.position_of("padding") == (5, 3)
    assert layer.position_of("kernel_size") == (4, 3)  # merged keys point at the `<<`
    assert load_yaml(text).problems == []


def test_merge_key_outside_a_key_is_text(loader):
    assert load_yaml("a: [<<, x]\nb: <<\n").data == {"a": ["<<", "x"], "b": "<<"}


@pytest.mark.parametrize("text, line, column, phrase", [
    ("a: !!python/name:os.system x\n", 1, 4, "not allowed"),
    ("a: !!python/object/new:dict {}\n", 1, 4, "not allowed"),
    ("a: !custom 3\n", 1, 4, "not allowed"),
    ("a: !!omap [b: 1]\n", 1, 4, "not allowed"),
    ("a: &x [1, *x]\n", 1, 11, "contains it"),
    ("a: *nowhere\n", 1, 4, "*nowhere"),
    ("a: 1\n---\nb: 2\n", 2, 1, "one YAML document"),
    ("a: [1, 2\n", None, None, "invalid YAML"),
    ("a: \x07\n", 1, 4, "characters are not allowed"),
    ("é: \x07\n", 1, 4, "characters are not allowed"),
    ("? [a, b]\n: 1\n", 1, 3, "plain value"),
])
def test_refused(loader, text, line, column, phrase):
    code, got_line, got_column, message = error_of(text)
    assert code in ("Y001", "Y002") and phrase in message
    if line is not None:
        assert (got_line, got_column) == (line, column)


def test_depth_limit(loader):
    assert load_yaml("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)).problems == []
    code, line, column, message = error_of("a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert (code, line, column) == ("Y001", 1, 3 + MAX_DEPTH)


def test_alias_expansion_limit(loader):
    # a: 1 + 10 scalars = 11 values; each *a adds 11 more
    text = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: [" + ", ".join(["*a"] * 9) + "]\n"
    # root 1, key a 1, list 11, key b 1, list 1 → 15; *a number k brings 15 + 11k, over 100 at k = 8
    code, line, column, message = error_of(text, max_nodes=100)
    assert (code, line, column) == ("Y001", 2, 5 + 4 * 7)
    assert "alias *a alone stands for 11" in message


def test_no_limit_for_trusted_input(loader):
    text = "a: [" + ", ".join(["1"] * 1000) + "]\n"
    assert len(load_yaml(text, max_nodes=None).data["a"]) == 1000
    assert "more than 500 values" in error_of(text, max_nodes=500)[3]
