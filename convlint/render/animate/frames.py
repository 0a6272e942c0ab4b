"""Which cells each frame of an animation touches, one spatial axis at a time.

An animation draws two panels per spatial axis pair: the *canvas* (the grid the
window slides over) and the *frame panel* (one cell per frame position).  Two views:

- ``gather`` (convolutions, pools, and transposed convolutions drawn as vdumoulin
  draws them): the canvas is the padded input, one frame per output cell, and a
  frame touches the input cells its window reads.
- ``scatter`` (transposed convolutions as they compute): the canvas is the full
  output before ``padding`` is cut, one frame per input cell, and a frame touches
  the output cells that input cell's kernel stamps.

Along one axis, canvas cells are numbered from 0; each has a *kind* (the constants
below) and, when it holds a tensor element, that element's index.  A 2-D frame is a
pair (row frame, column frame) and touches the product of the two axes' taps.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from convlint.analysis.arithmetic import TransposedAxis, WindowAxis

INPUT, PADDING, ZERO, OUTPUT_PADDING, BEYOND = "input", "padding", "zero", "output_padding", "beyond"
"""Canvas kinds of the gather view: a real input element, implicit padding, a zero inserted between the
input elements of a transposed convolution, the padding that ``output_padding`` adds at the far end, and
the overhang of a ``ceil_mode`` window past the padded input (read as nothing)."""
OUTPUT, CROPPED = "output", "cropped"
"""Canvas kinds of the scatter view: an output element, and a full-output element cut by ``padding``
(``OUTPUT_PADDING`` marks the output elements that ``output_padding`` adds)."""
EXTRA = "extra"
"""Frame kind of a ``ceil_mode`` window that floor mode would not have."""

GATHER, SCATTER = "gather", "scatter"

_PRECEDENCE = (BEYOND, CROPPED, OUTPUT_PADDING, EXTRA, PADDING, ZERO, INPUT, OUTPUT)
"""When a 2-D cell's row and column kinds differ, the first in this order names the cell."""


def combined_kind(row: str, column: str) -> str:
    """The kind of the 2-D cell at (row, column): a padding row makes every cell in it padding, etc."""
    return min(row, column, key=_PRECEDENCE.index)


@dataclass(frozen=True)
class AxisFrames:
    """One spatial axis of an animation.

    ``canvas[g]`` is the kind of canvas cell ``g`` and ``index[g]`` the tensor index it holds
    (``None`` for padding, inserted zeros, cropped cells); ``taps[f]`` are the canvas cells frame
    position ``f`` touches, in kernel order; ``frame_kinds[f]`` is that frame position's kind.
    Frame position ``f`` is output element ``f`` in the gather view, input element ``f`` in scatter.
    ``caption`` is the axis's size arithmetic with the numbers in it.
    """

    symbol: str
    canvas: tuple[str, ...]
    index: tuple[int | None, ...]
    taps: tuple[tuple[int, ...], ...]
    frame_kinds: tuple[str, ...]
    caption: str

    @property
    def cells(self) -> int:
        """Number of frame positions along this axis (output cells, or input cells in scatter)."""
        return len(self.taps)

    def never_touched(self, kind: str) -> tuple[int, ...]:
        """Canvas cells of ``kind`` that no frame touches (in the gather view: input never read)."""
        touched = {cell for taps in self.taps for cell in taps}
        return tuple(g for g, cell_kind in enumerate(self.canvas) if cell_kind == kind and g not in touched)


def _canvas(positions: range, kind_of) -> tuple[tuple[str, ...], tuple[int | None, ...]]:
    kinds, indices = zip(*(kind_of(position) for position in positions))
    return tuple(kinds), tuple(indices)


def window_caption(axis: WindowAxis, symbol: str) -> str:
    """``H_out = ⌊(7 + 2·1 − 3)/2⌋ + 1 = 4``: the output size of a conv or pool axis, rounding shown."""
    pads = f"2·{axis.pad_left}" if axis.pad_left == axis.pad_right else f"{axis.pad_left} + {axis.pad_right}"
    window = f"{axis.dilation}·({axis.kernel} − 1) − 1" if axis.dilation != 1 else f"{axis.kernel}"
    left, right = ("⌈", "⌉") if axis.ceil_mode else ("⌊", "⌋")
    text = f"{symbol}_out = {left}({axis.size} + {pads} − {window})/{axis.stride}{right} + 1"
    ceiled = -(-axis.numerator // axis.stride) + 1
    if axis.ceil_mode and axis.out != ceiled:
        text += " − 1 (the last window would start in the right padding)"
    return f"{text} = {axis.out}"


def gather_axis(axis: WindowAxis, symbol: str) -> AxisFrames:
    """A conv or pool axis: canvas cell ``g`` is padded-input position ``g − pad_left``; output ``o``
    reads taps ``o·stride + t·dilation``.  A ``ceil_mode`` window that reaches past the padding adds
    ``BEYOND`` cells, and the windows floor mode would not have are ``EXTRA``."""
    out = axis.out
    last = (out - 1) * axis.stride + axis.span
    floor_out = axis.numerator // axis.stride + 1

    def kind_of(g: int):
        if g >= axis.padded:
            return BEYOND, None
        if axis.pad_left <= g < axis.pad_left + axis.size:
            return INPUT, g - axis.pad_left
        return PADDING, None

    canvas, index = _canvas(range(max(axis.padded, last)), kind_of)
    taps = tuple(tuple(o * axis.stride + t * axis.dilation for t in range(axis.kernel)) for o in range(out))
    kinds = tuple(EXTRA if o >= floor_out else OUTPUT for o in range(out))
    return AxisFrames(symbol, canvas, index, taps, kinds, window_caption(axis, symbol))


def transposed_gather_axis(axis: TransposedAxis, symbol: str) -> AxisFrames:
    """A transposed axis drawn as the direct convolution it equals (vdumoulin's view): ``stride − 1``
    zeros between input cells, ``d·(k−1) − padding`` cells of padding before them and as many plus
    ``output_padding`` after, and a stride-1 window of ``kernel`` taps ``dilation`` apart (the kernel
    flipped).  Negative padding crops instead: the windows then start inside the stretched input."""
    stretched = (axis.size - 1) * axis.stride + 1
    before = axis.dilation * (axis.kernel - 1) - axis.padding
    after = before + axis.output_padding
    origin = max(before, 0)  # canvas cell of stretched position 0
    end = stretched + max(after, 0)

    def kind_of(g: int):
        position = g - origin
        if position >= end - axis.output_padding and position >= stretched:
            return OUTPUT_PADDING, None
        if position < 0 or position >= stretched:
            return PADDING, None
        if position % axis.stride:
            return ZERO, None
        return INPUT, position // axis.stride

    canvas, index = _canvas(range(origin + end), kind_of)
    out = axis.out
    first = origin - before
    taps = tuple(tuple(first + o + t * axis.dilation for t in range(axis.kernel)) for o in range(out))
    kinds = tuple(OUTPUT_PADDING if o >= out - axis.output_padding else OUTPUT for o in range(out))
    return AxisFrames(symbol, canvas, index, taps, kinds, axis.formula(symbol))


def scatter_axis(axis: TransposedAxis, symbol: str) -> AxisFrames:
    """A transposed axis as it computes: canvas cell ``u`` is full-output position ``u`` (output index
    ``u − padding``); input ``i`` stamps taps ``i·stride + t·dilation``.  The first and last
    ``padding`` cells of the full output are ``CROPPED``; the last ``output_padding`` output cells
    are ``OUTPUT_PADDING``."""
    out = axis.out
    full = (axis.size - 1) * axis.stride + axis.dilation * (axis.kernel - 1) + 1

    def kind_of(u: int):
        o = u - axis.padding
        if o < 0 or o >= out:
            return CROPPED, None
        return (OUTPUT_PADDING if o >= out - axis.output_padding else OUTPUT), o

    canvas, index = _canvas(range(max(full, axis.padding + out)), kind_of)
    taps = tuple(tuple(i * axis.stride + t * axis.dilation for t in range(axis.kernel)) for i in range(axis.size))
    return AxisFrames(symbol, canvas, index, taps, (INPUT,) * axis.size, axis.formula(symbol))


def single_cell_axis(view: str) -> AxisFrames:
    """The second axis of a 1-D layer: one canvas cell, one frame position, no caption."""
    canvas_kind, frame_kind = (INPUT, OUTPUT) if view == GATHER else (OUTPUT, INPUT)
    return AxisFrames("", (canvas_kind,), (0,), ((0,),), (frame_kind,), "")


@dataclass(frozen=True)
class Frames:
    """All frames of an animation: ``rows`` × ``columns`` frame positions, row-major.

    ``view`` is ``GATHER`` or ``SCATTER``; ``spatial`` the number of spatial axes drawn (1 or 2; a
    1-D layer has ``rows = single_cell_axis(view)``).
    """

    view: str
    rows: AxisFrames
    columns: AxisFrames
    spatial: int

    def positions(self) -> list[tuple[int, int]]:
        """Every frame position ``(row, column)`` in the order drawn."""
        return list(product(range(self.rows.cells), range(self.columns.cells)))

    def touched(self, row: int, column: int) -> list[tuple[int, int]]:
        """Canvas cells touched by frame ``(row, column)``: the kernel footprint, taps in order."""
        return list(product(self.rows.taps[row], self.columns.taps[column]))

    def touched_elements(self, row: int, column: int, kind: str) -> set[tuple[int, int]]:
        """Tensor indices of the touched canvas cells whose kind is ``kind`` in both axes' terms
        (``INPUT`` in the gather view: the input elements read; ``OUTPUT`` in scatter: the outputs
        written, ``OUTPUT_PADDING`` ones included)."""
        kinds = {kind, OUTPUT_PADDING} if kind == OUTPUT else {kind}
        return {(row_index, column_index) for r, c in self.touched(row, column)
                if self.rows.canvas[r] in kinds and self.columns.canvas[c] in kinds
                and (row_index := self.rows.index[r]) is not None
                and (column_index := self.columns.index[c]) is not None}
