"""Plugins: third-party layer types, registration through entry points, and plugin faults."""
from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import convlint
from convlint.layers import hookspecs
from convlint.layers.keywords import Int
from convlint.linting.runner import lint_file
from convlint.layers.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent


class DepthToSpace(convlint.LayerType):
    """Test layer: (N, C·r², H, W) → (N, C, H·r, W·r)."""

    name = "DepthToSpace"
    family = "resample"
    input_ranks = (4,)
    keywords = {"upscale_factor": Int(minimum=1)}

    def infer(self, ctx):
        n, c, h, w = ctx.input
        r = ctx.args["upscale_factor"]
        if c % (r * r):
            ctx.report("S012", f"channels {c} not divisible by {r * r}", "upscale_factor")
            return None
        return (n, c // (r * r), h * r, w * r)


class ShufflePlugin:
    @convlint.hookimpl
    def register_layer_types(self, register):
        register(DepthToSpace())


SHUFFLE_SPEC = """
inputs: {x: [1, 16, 8, 8]}
layers:
  - {name: shuffle, type: DepthToSpace, upscale_factor: 2}
  - {name: conv, type: Conv2d, out_channels: 3, kernel_size: 3, padding: 1}
  - {name: bad, type: DepthToSpace, upscale_factor: 2}
"""


def test_extra_layer_type_registered_at_run_time(write_spec):
    registry = load_registry(only_distribution="convlint", extra=[("shuffle", ShufflePlugin())])
    assert registry.owners["DepthToSpace"] == "shuffle"
    result = lint_file(write_spec(SHUFFLE_SPEC), registry)
    assert [(f.code, f.layer, f.line) for f in result.findings] == [("S012", "bad", 5)]
    summary = convlint.summarize(result.spec, registry)
    assert summary["layers"][0]["output_shape"] == [1, 4, 16, 16]
    assert summary["layers"][1]["params"] == 3 * 4 * 9 + 3


def test_without_the_plugin_the_type_is_unknown(registry, write_spec):
    codes = [f.code for f in lint_file(write_spec(SHUFFLE_SPEC), registry).findings]
    assert codes == ["Y007", "Y007"]


def test_third_party_package_loads_through_the_entry_point_group(tmp_path, write_spec):
    """A real installed distribution (dist-info with entry_points.txt) is found like the built-ins."""
    package = tmp_path / "site" / "shuffle_layers.py"
    package.parent.mkdir()
    package.write_text(textwrap.dedent('''
        import convlint
        from convlint.layers.keywords import Int

        class DepthToSpace(convlint.LayerType):
            name = "DepthToSpace"
            input_ranks = (4,)
            keywords = {"upscale_factor": Int(minimum=1)}

            def infer(self, ctx):
                n, c, h, w = ctx.input
                r = ctx.args["upscale_factor"]
                return (n, c // (r * r), h * r, w * r)

        @convlint.hookimpl
        def register_layer_types(register):
            register(DepthToSpace())
    '''))
    info = tmp_path / "site" / "shuffle_layers-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shuffle-layers\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[convlint]\nshuffle = shuffle_layers\n")
    spec = write_spec("inputs: {x: [1, 16, 8, 8]}\nlayers:\n  - {type: DepthToSpace, upscale_factor: 2}\n")
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}
    run = lambda *args: subprocess.run([sys.executable, "-m", "convlint", *args], capture_output=True,
                                       text=True, env=env, cwd=ROOT)
    listing = run("plugins")
    assert "shuffle: DepthToSpace" in listing.stdout
    assert "conv: Conv1d, Conv2d, Conv3d" in listing.stdout
    assert run("summary", "--format", "json", str(spec)).stdout.count("[\n          1,\n          4,") == 1
    assert run("lint", str(spec)).returncode == 0
    disabled = run("lint", "-p", "shuffle", str(spec))
    assert disabled.returncode == 1 and "Y007" in disabled.stdout


def test_a_type_name_registered_twice_names_both_plugins(registry, write_spec):
    class Impostor(convlint.LayerType):
        name = "Conv2d"

    class Plugin:
        @convlint.hookimpl
        def register_layer_types(self, register):
            register(Impostor())

    loaded = load_registry(only_distribution="convlint", extra=[("impostor", Plugin())])
    assert loaded.owners["Conv2d"] == "conv"
    assert loaded.problems == ["plugin `impostor` registered layer type `Conv2d`, which plugin `conv` already provides"]
    findings = lint_file(write_spec("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: ReLU}\n"), loaded).findings
    assert [f.code for f in findings] == ["X001"]
    assert "impostor" in findings[0].message and "conv" in findings[0].message


def test_a_crashing_plugin_is_a_finding_and_other_layers_go_on(write_spec):
    class Broken(convlint.LayerType):
        name = "Broken"

        def infer(self, ctx):
            return 1 // 0

    class Garbage(convlint.LayerType):
        name = "Garbage"

        def infer(self, ctx):
            return "not a shape"

    class Plugin:
        @convlint.hookimpl
        def register_layer_types(self, register):
            register(Broken())
            register(Garbage())

    loaded = load_registry(only_distribution="convlint", extra=[("fragile", Plugin())])
    spec = write_spec("""
        inputs: {x: [1, 3, 8, 8]}
        layers:
          - {name: b, type: Broken}
          - {name: g, type: Garbage, from: x}
          - {name: c, type: Conv2d, out_channels: 4, kernel_size: 2, stride: 2, from: x, padding: 1}
          - {name: ok, type: Conv2d, out_channels: 4, kernel_size: 9, from: x}
    """)
    findings = lint_file(spec, loaded).findings
    assert [(f.code, f.layer) for f in findings] == [("X001", "b"), ("X001", "g"), ("S003", "ok")]
    assert "plugin `fragile` failed on Broken: ZeroDivisionError" in findings[0].message
    assert "not a tuple of ints" in findings[1].message


def test_a_plugin_that_raises_while_registering_is_reported():
    class Plugin:
        @convlint.hookimpl
        def register_layer_types(self, register):
            raise RuntimeError("boom")

    loaded = load_registry(only_distribution="convlint", extra=[("exploding", Plugin())])
    assert loaded.problems == ["plugin `exploding` raised RuntimeError: boom"]
    assert "Conv2d" in loaded.types


def test_register_rules_adds_a_code_for_plugin_findings(write_spec):
    class Odd(convlint.LayerType):
        name = "OddOnly"

        def infer(self, ctx):
            if ctx.input[-1] % 2 == 0:
                ctx.report("P100", "width must be odd")
            return ctx.input

    class Plugin:
        @convlint.hookimpl
        def register_rules(self, register):
            register(convlint.Rule("P100", "Width must be odd", convlint.Severity.WARNING,
                                   "What it does: ...\nWhy it matters: ...\nExample: ...\nFix: ..."))
            register(convlint.Rule("S001", "clash", convlint.Severity.ERROR, ""))

        @convlint.hookimpl
        def register_layer_types(self, register):
            register(Odd())

    loaded = load_registry(only_distribution="convlint", extra=[("odd", Plugin())])
    assert loaded.problems == ["plugin `odd` registered rule S001, which is already defined"]
    findings = lint_file(write_spec("inputs: {x: [1, 3, 8, 8]}\nlayers:\n  - {type: OddOnly}\n"), loaded).findings
    assert [(f.code, f.severity.value) for f in findings if f.code != "X001"] == [("P100", "warning")]


def test_disabling_a_built_in_plugin():
    loaded = load_registry(only_distribution="convlint", disabled=["pool"])
    assert "MaxPool2d" not in loaded.types and "Conv2d" in loaded.types
    assert "pool" not in loaded.plugins


def test_every_hook_is_documented_and_tested():
    hooks = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("register_")]
    assert hooks == ["register_layer_types", "register_rules"]
    readme = (ROOT / "docs" / "plugins-usage.md").read_text()
    this_file = Path(__file__).read_text()
    for hook in hooks:
        assert getattr(hookspecs, hook).__doc__.strip()
        assert f"`{hook}(register)`" in readme
        assert f"def {hook}(self, register)" in this_file
