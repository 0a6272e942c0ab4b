"""Which diagram ``convlint render`` draws: the block depth, chosen or given, and the clusters."""
from __future__ import annotations

from dataclasses import dataclass, replace

from convlint.render.collapse import (PAGE_RANKS, block_groups, clusters, collapse, deepest_level, fitting_depth,
                                      merge_runs, page_depth, ranks)
from convlint.render.diagram import Diagram


class TooLarge(Exception):
    """The diagram has more boxes than Graphviz can lay out and no block levels to collapse."""


@dataclass
class Layout:
    """A spec's ``full`` diagram (every layer), the diagram ``drawn`` at block ``depth`` (``None``:
    every layer) with its clusters, the ``groups`` it was collapsed by, and whether the depth was
    ``forced`` by the size limit rather than given or chosen to fit a page."""

    full: Diagram
    drawn: Diagram
    depth: int | None
    groups: dict[str, str]
    forced: bool = False

    @property
    def levels(self) -> int:
        """The deepest block level of the full diagram (0: no blocks)."""
        return deepest_level(self.full, self.groups)

    def at(self, depth: int | None) -> Diagram:
        """The full diagram at block ``depth`` (``None``: every layer), with its clusters."""
        return at_depth(self.full, depth, self.groups)


def at_depth(full: Diagram, depth: int | None, groups: dict[str, str]) -> Diagram:
    """``full`` collapsed at ``depth`` (``None``: not collapsed), the block uses left drawn as clusters."""
    diagram = collapse(full, depth, groups) if depth is not None else replace(
        full, boxes={box_id: replace(box) for box_id, box in full.boxes.items()})
    return replace(diagram, clusters=clusters(diagram, groups))


def layout(full: Diagram, spec_groups: dict[str, str], depth: int | None, limit: int | None) -> Layout:
    """The layout at ``depth`` (``None``: chosen by :func:`~convlint.render.collapse.page_depth` from
    the spec's blocks, with runs of copies of one block merged when it is still too tall for a page),
    collapsed deeper when the diagram has more than ``limit`` boxes (``None``: no limit).

    Raises :class:`TooLarge` when it has more and cannot be collapsed.
    """
    # a spec without blocks is grouped by its name levels only when it must be collapsed
    groups = block_groups(full, spec_groups) if depth is not None else spec_groups
    fit_page = depth is None
    if depth is None:
        depth = page_depth(full, groups)
    forced = False
    if limit is not None and len(at_depth(full, depth, groups).boxes) > limit:
        groups = block_groups(full, spec_groups)
        fitting = fitting_depth(full, limit, groups)
        if fitting is None:
            raise TooLarge(f"{len(full.boxes):,} boxes are more than Graphviz can lay out in time ({limit:,}) and "
                           f"their names have no block levels to collapse; nothing drawn "
                           f"(`--format dot` writes the Graphviz source)")
        depth, forced = fitting, True
    drawn = at_depth(full, depth, groups)
    if fit_page and depth is not None and ranks(drawn) > PAGE_RANKS:
        drawn = merge_runs(drawn)
    return Layout(full, drawn, depth, groups, forced)
