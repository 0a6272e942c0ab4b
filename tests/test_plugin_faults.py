"""Plugin faults become X001 findings naming the plugin (and the layer); everything else is still checked."""
from __future__ import annotations

from pathlib import Path

import pytest

import convlint
from convlint.cli.main import main
from convlint.layers.keywords import Int, Keyword
from convlint.linting.runner import lint_paths
from convlint.layers.registry import load_registry

SPEC = """\
inputs:
  x: [1, 3, 8, 8]
layers:
  - {name: bad, type: Faulty}
  - {name: conv, type: Conv2d, from: x, out_channels: 4, kernel_size: 2, stride: 2, padding: 0}
  - {name: pool, type: MaxPool2d, kernel_size: 3}
"""
# conv: (8 − 2)/2 + 1 = 4 exactly; pool: (4 − 3)/3 + 1 = 1.33, so rows 4 of 4 are never read (S001).


def plugin_with(layer_type) -> object:
    class Plugin:
        @convlint.hookimpl
        def register_layer_types(register):
            register(layer_type)
    return Plugin


def layer_type(infer=None, count=None, keywords=None, **attributes):
    attributes.setdefault("name", "Faulty")
    methods = {"keywords": keywords or {}, **attributes}
    if infer is not None:
        methods["infer"] = lambda self, ctx: infer(ctx)
    if count is not None:
        methods["count_params"] = lambda self, ctx, output: count
    return type("Faulty", (convlint.LayerType,), methods)()


def lint_with(tmp_path: Path, *plugins):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    registry = load_registry(only_distribution="convlint", extra=plugins)
    return lint_paths([spec], registry).findings


def codes(findings):
    return sorted(f.code for f in findings)


def x001(findings):
    return [f for f in findings if f.code == "X001"]


def raise_error(ctx):
    raise ZeroDivisionError("division by zero in the plugin")


class ExplodingStr(Exception):
    def __str__(self):
        raise RuntimeError("no message")


def raise_unprintable(ctx):
    raise ExplodingStr()


class RaisingKeyword(Keyword):
    def convert(self, value, ndim):
        raise RuntimeError("keyword conversion broke")


@pytest.mark.parametrize("faulty, text", [
    (layer_type(infer=raise_error), "ZeroDivisionError: division by zero in the plugin"),
    (layer_type(infer=raise_unprintable), "ExplodingStr"),
    (layer_type(infer=lambda ctx: "not a shape"), "not a tuple of ints"),
    (layer_type(infer=lambda ctx: (1, 2.5, 3)), "not a tuple of ints"),
    (layer_type(infer=lambda ctx: ["x"] * 10**5), "not a tuple of ints"),
    (layer_type(infer=lambda ctx: ctx.input, count=-1), "count_params() returned -1"),
    (layer_type(infer=lambda ctx: ctx.input, count="many"), "count_params() returned 'many'"),
    (layer_type(infer=lambda ctx: ctx.report("Z999", "unknown code") or ctx.input), "KeyError"),
    (layer_type(infer=lambda ctx: ctx.input, keywords={"k": RaisingKeyword(1)}), "keyword conversion broke"),
    (layer_type(infer=lambda ctx: ctx.input, keywords=None, input_ranks=5), "TypeError"),
])
def test_faulty_layer_is_x001_and_the_rest_is_checked(tmp_path, faulty, text):
    findings = lint_with(tmp_path, ("faulty_plugin", plugin_with(faulty)))
    faults = x001(findings)
    assert len(faults) == 1
    assert faults[0].layer == "bad"
    assert "plugin `faulty_plugin` failed on Faulty" in faults[0].message
    assert text in faults[0].message
    assert len(faults[0].message) < 400
    assert (faults[0].line, faults[0].column) == (4, 17)  # the layer's `type` key
    assert "S001" in codes(findings)  # the pool after it is still checked


def test_hook_that_raises(tmp_path):
    class Raising:
        @convlint.hookimpl
        def register_layer_types(register):
            raise RuntimeError("cannot start")
    findings = lint_with(tmp_path, ("raising", Raising))
    assert [f.message for f in x001(findings)] == ["plugin `raising` raised RuntimeError: cannot start"]
    assert "Y007" in codes(findings) and "S001" in codes(findings)


def test_registering_garbage(tmp_path):
    class Garbage:
        @convlint.hookimpl
        def register_layer_types(register):
            register("Conv2d")
            register(layer_type(name=""))
    findings = lint_with(tmp_path, ("garbage", Garbage))
    assert len(x001(findings)) == 2
    assert all("plugin `garbage` registered" in f.message for f in x001(findings))


def test_type_name_registered_twice(tmp_path):
    twin = layer_type(name="Conv2d", infer=lambda ctx: (1,))
    findings = lint_with(tmp_path, ("twin", plugin_with(twin)))
    (fault,) = x001(findings)
    assert "plugin `twin` registered layer type `Conv2d`, which plugin `conv` already provides" in fault.message
    assert "S001" in codes(findings)  # the built-in Conv2d is kept


def test_rule_code_registered_twice(tmp_path):
    class Rules:
        @convlint.hookimpl
        def register_rules(register):
            register(convlint.Rule("S001", "again", convlint.Severity.ERROR, "doc"))
    (fault,) = x001(lint_with(tmp_path, ("rules", Rules)))
    assert "plugin `rules` registered rule S001, which is already defined" in fault.message


def test_hook_with_a_wrong_signature(tmp_path):
    class WrongSignature:
        @convlint.hookimpl
        def register_layer_types(add, extra):
            pass
    (fault,) = x001(lint_with(tmp_path, ("wrong", WrongSignature)))
    assert "plugin `wrong` cannot be registered" in fault.message


def test_plugin_fault_makes_the_cli_exit_2(tmp_path, monkeypatch, capsys):
    import convlint.cli.plugin_option as cli
    faulty = layer_type(infer=raise_error)
    monkeypatch.setattr(cli, "load_registry", lambda disabled=(), local=(): load_registry(
        disabled, only_distribution="convlint", extra=[("faulty_plugin", plugin_with(faulty))], local=local))
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    other = tmp_path / "other.yaml"
    other.write_text("inputs: {x: [1, 3, 5, 5]}\nlayers:\n  - {type: Conv2d, out_channels: 4, kernel_size: 2, stride: 2}\n")
    assert main(["lint", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "X001 plugin `faulty_plugin` failed on Faulty" in out
    assert "other.yaml:3:" in out and "S001" in out  # the other file is still linted


def test_valid_plugin_layer_works(tmp_path):
    """The fault tests above are meaningful: the same spec with a working plugin has no X001."""
    working = layer_type(infer=lambda ctx: ctx.input, keywords={"k": Int(1)})
    findings = lint_with(tmp_path, ("fine", plugin_with(working)))
    assert codes(findings) == ["S001"]


def exit_zero(ctx):
    raise SystemExit(0)


def interrupt(ctx):
    raise KeyboardInterrupt


def hang(ctx):
    while True:
        try:
            pass
        except Exception:  # a plugin's own handlers cannot swallow the time limit
            pass


@pytest.mark.parametrize("faulty, text", [
    (layer_type(infer=exit_zero), "raised SystemExit(0)"),
    (layer_type(infer=interrupt), "raised KeyboardInterrupt"),
    (layer_type(infer=hang), "ran for more than 1 s"),
    (layer_type(infer=lambda ctx: ctx.input, count=10**5000), "count_params() returned"),
], ids=["exit", "interrupt", "hang", "huge-count"])
def test_plugin_that_stops_hangs_or_overflows_is_x001(tmp_path, faulty, text):
    findings = lint_with(tmp_path, ("faulty_plugin", plugin_with(faulty)))
    (fault,) = x001(findings)
    assert fault.layer == "bad" and "plugin `faulty_plugin` failed on Faulty" in fault.message
    assert text in fault.message and len(fault.message) < 400
    assert "S001" in codes(findings)  # the pool after it is still checked


def test_plugin_output_stays_off_machine_readable_stdout(tmp_path, monkeypatch, capsys):
    import json
    import convlint.cli.plugin_option as cli

    def chatty(ctx):
        print("hello from the plugin\x1b]0;pwned\x07")
        return ctx.input
    monkeypatch.setattr(cli, "load_registry", lambda disabled=(), local=(): load_registry(
        disabled, only_distribution="convlint", extra=[("chatty", plugin_with(layer_type(infer=chatty)))],
        local=local))
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    for format_ in ("json", "sarif"):
        assert main(["lint", "--format", format_, str(spec)]) == 1
        captured = capsys.readouterr()
        json.loads(captured.out)  # stdout is JSON only
        assert "hello from the plugin" in captured.err and "\x1b" not in captured.err


def test_plugin_exit_while_registering_is_x001(tmp_path):
    class Exiting:
        @convlint.hookimpl
        def register_layer_types(register):
            raise SystemExit(3)
    (fault,) = x001(lint_with(tmp_path, ("exiting", Exiting)))
    assert fault.message == "plugin `exiting` raised SystemExit(3), which would end the program"


def test_no_garbage_collection_runs_inside_a_plugin_call():
    """A collection walks every object of the process (on a large spec it can take longer than a
    plugin's whole limit), so the cycle collector is paused while plugin code runs, and restored after."""
    import gc
    from convlint.layers.registry import plugin_call

    class Cycle:
        def __init__(self):
            self.me = self

    collections = []
    gc.callbacks.append(lambda phase, info: collections.append(phase) if phase == "start" else None)
    try:
        assert gc.isenabled()
        with plugin_call("cyclic"):
            assert not gc.isenabled()
            for _ in range(20 * gc.get_threshold()[0]):  # enough new objects to start several collections
                Cycle()
        assert gc.isenabled() and collections == []
        for _ in range(20 * gc.get_threshold()[0]):
            Cycle()
        assert collections  # the same work outside a plugin call does start collections
        gc.disable()
        with plugin_call("cyclic"):
            pass
        assert not gc.isenabled()  # a paused collector stays paused
    finally:
        gc.callbacks.pop()
        gc.enable()
