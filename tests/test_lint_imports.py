"""`convlint lint` is a pre-commit hook: it must not import numpy or graphviz, nor networkx for specs whose
layers read only earlier tensors (all the bundled ones)."""
from __future__ import annotations

from tests.lint_imports import modules_lint_imports


def test_lint_does_not_import_numpy_or_graphviz():
    assert modules_lint_imports("numpy", "graphviz") == []


def test_the_check_sees_numpy_when_it_is_imported():
    assert modules_lint_imports("numpy", first="numpy")[:1] == ["numpy"]


def test_lint_of_specs_written_in_order_does_not_import_networkx():
    """Importing networkx is more than half of `import convlint`; such specs need no graph algorithm."""
    assert modules_lint_imports("networkx") == []


def test_lint_of_specs_with_no_size_finding_does_not_import_the_size_solver():
    """The solver serves nearest-size hints, contracts and named sizes; the bundled specs need none."""
    assert modules_lint_imports("convlint.sizes.solver", "convlint.sizes.joint", "convlint.sizes.symbolic") == []


def test_a_spec_that_reads_a_later_layer_is_sorted_with_networkx(tmp_path):
    """A layer may read one written after it: the graph (and networkx) sorts such a spec."""
    from convlint.analysis.loading import load_spec_text
    from convlint.analysis.infer import analyze
    from convlint.layers.registry import load_registry

    spec = load_spec_text("inputs: {x: [1, 3, 8, 8]}\nlayers:\n"
                          "  - {name: b, type: ReLU, from: a}\n"
                          "  - {name: a, type: Conv2d, out_channels: 4, kernel_size: 3, from: x}\n")
    analysis = analyze(spec, load_registry(only_distribution="convlint"))
    assert list(analysis.nodes) == ["x", "a", "b"] and analysis.nodes["b"].shape == (1, 4, 6, 6)
    assert not analysis.findings and spec.graph.number_of_edges() == 2

