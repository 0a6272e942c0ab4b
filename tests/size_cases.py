"""What the size-solver tests share: a spec from YAML text, and the brute-force oracle of a size's valid values."""
from __future__ import annotations

from convlint.analysis.graph import build_graph
from convlint.api import lint_at_declared_sizes
from convlint.spec.model import Spec, parse_spec


def spec_from(text: str) -> Spec:
    """``text`` parsed as a spec, its graph built (as the size solver needs it)."""
    spec = parse_spec(text, "test.yaml")
    build_graph(spec)
    return spec


def brute_force(problem, name: str, held: dict[str, int], upto: int, registry) -> list[int]:
    """Every value of size ``name`` from 1 to ``upto``, the other sizes at ``held``, at which lint (under
    ``registry``) reports nothing: the solver's answer, found by linting each size."""
    return [x for x in range(1, upto + 1)
            if not lint_at_declared_sizes(problem.instantiate({**held, name: x}), registry)]
