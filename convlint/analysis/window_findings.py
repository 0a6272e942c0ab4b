"""Findings shared by every sliding-window layer (conv and pool), one spatial axis at a time.

Turns :class:`~convlint.analysis.arithmetic.WindowAxis` results into findings that show
the arithmetic with the layer's own numbers and say what to change.
"""
from __future__ import annotations

from dataclasses import replace
from itertools import islice
from typing import Iterable

from convlint.analysis.arithmetic import WindowAxis, layer_fixes, padding_fixes
from convlint.findings import Fix
from convlint.layers.layer_type import LayerContext

AXIS_SYMBOLS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
AXIS_UNITS = {"L": ("position", "positions"), "H": ("row", "rows"), "W": ("column", "columns"),
              "D": ("slice", "slices")}


def axis_symbols(ndim: int) -> tuple[str, ...]:
    """Names of the spatial axes: ``L`` for 1-d, ``H, W`` for 2-d, ``D, H, W`` for 3-d."""
    symbols = AXIS_SYMBOLS.get(ndim)
    return symbols if symbols is not None else tuple(f"X{i}" for i in range(ndim))


def check_windows(ctx: LayerContext, axes: list[WindowAxis], is_conv: bool,
                  kernel_within_input: bool = False) -> tuple[int, ...] | None:
    """Output sizes of ``axes``, reporting S002/S003 (errors), S001/S013 (lost input) and S014.

    ``kernel_within_input``: the layer needs each kernel to fit the unpadded input (AvgPool3d), so
    no fix suggests a larger one.

    Returns ``None`` when some axis has no valid output size.
    """
    sizes = []
    lost: list[tuple[str, WindowAxis]] = []
    padding_only: list[tuple[str, WindowAxis]] = []
    for symbol, axis in zip(axis_symbols(len(axes)), axes):
        if is_conv and axis.padded < axis.span:
            ctx.report("S003", f"{symbol}: the kernel spans {axis.span} but the padded input is only "
                               f"{axis.size} + {axis.pad_left + axis.pad_right} = {axis.padded}; "
                               f"pad the input, use a smaller kernel, or downsample less before this layer",
                       "kernel_size")
            return None
        out = axis.out
        if out < 1:
            ctx.report("S002", f"{axis.formula(symbol)}: the output would be empty; use a larger input, "
                               f"less downsampling before this layer, or more padding", "kernel_size")
            return None
        if axis.dropped_input:
            lost.append((symbol, axis))
        elif axis.unread_tail and not axis.skips_by_design:
            padding_only.append((symbol, axis))
        sizes.append(out)
    _report_lost_input(ctx, axes, lost, kernel_within_input)
    if padding_only:
        ctx.report("S014", "; ".join(f"{axis.formula(symbol)}: the last {axis.unread_tail} unread "
                                     f"position{'s are' if axis.unread_tail != 1 else ' is'} right padding only"
                                     for symbol, axis in padding_only), "padding")
    return tuple(sizes)


def _describe_loss(symbol: str, axis: WindowAxis) -> str:
    lost = axis.dropped_input
    one, many = AXIS_UNITS.get(symbol, ("position", "positions"))
    which = f"{one} {axis.size}" if lost == 1 else f"{many} {axis.size - lost + 1}–{axis.size}"
    return f"{axis.formula(symbol)}: input {which} of {axis.size} {'is' if lost == 1 else 'are'} never read"


def _report_lost_input(ctx: LayerContext, axes: list[WindowAxis], lost: list[tuple[str, WindowAxis]],
                       kernel_within_input: bool) -> None:
    """One S001 (or S013 for stride > window) finding covering every axis of ``axes`` that loses input."""
    by_design = [(symbol, axis) for symbol, axis in lost if axis.skips_by_design]
    real = [(symbol, axis) for symbol, axis in lost if not axis.skips_by_design]
    if by_design:
        stride, span = by_design[0][1].stride, by_design[0][1].span
        ctx.report("S013", "; ".join(_describe_loss(symbol, axis) for symbol, axis in by_design)
                   + f" (stride {stride} exceeds the window of {span}: a strided subsample by design)", "stride")
    if real:
        tied = stride_follows_kernel(ctx)
        fixes = []
        for symbol, axis in real:
            options = padding_fixes(axis, ctx.args, kernel_within_input, tied)
            if options:
                fixes.append(f"{symbol}: {' or '.join(options)}")
        fix = (f". For an exact size use {'; '.join(fixes)}; `convlint sizes` lists the network input sizes "
               f"that need no change" if fixes else "")
        key = "stride" if ctx.written("stride") else "kernel_size"
        ctx.report("S001", "; ".join(_describe_loss(symbol, axis) for symbol, axis in real) + fix, key,
                   _structured_fix(ctx, axes, kernel_within_input))


def stride_follows_kernel(ctx: LayerContext) -> bool:
    """True when the layer's stride is not written and defaults to its kernel size (as a pool's does)."""
    return not ctx.written("stride") and "stride" in ctx.args and ctx.args["stride"] is None


def as_written(values: list[int]) -> object:
    """One int when every axis has the same value, else the per-axis list (as a spec writes a
    per-axis keyword)."""
    return values[0] if len(set(values)) == 1 else list(values)


FIX_CANDIDATES = 64
"""Most values of one keyword that a fix tries per axis (a kernel of 2**40 must not mean 2**39 tries)."""


def padding_fix(ctx: LayerContext, axes: list[WindowAxis], candidates: list[Iterable[int] | None]) -> Fix | None:
    """A ``padding`` for every axis of ``axes`` (same padding on both sides) that makes the layer read
    all its input with nothing left over, or ``None`` when some axis has no such value.

    ``candidates[i]`` are the paddings axis ``i`` may take, best first (the first
    :data:`FIX_CANDIDATES` are tried); ``None`` keeps the axis's padding.  A value qualifies when the padded input holds one window, the output is not empty and
    no input or padding is left unread (so neither S001, S002, S003 nor S014 follows).
    """
    pads, changed = [], []
    for axis, allowed in zip(axes, candidates):
        if allowed is None:
            pads.append(axis.pad_left)
            changed.append(axis)
            continue
        fitting = next((trial for trial in (replace(axis, pad_left=pad, pad_right=pad) for pad in islice(allowed, FIX_CANDIDATES))
                        if trial.padded >= trial.span and trial.out >= 1 and trial.unread_tail == 0), None)
        if fitting is None:
            return None
        pads.append(fitting.pad_left)
        changed.append(fitting)
    shape = "×".join(str(axis.out) for axis in changed)
    return Fix(ctx.layer.name, (("padding", as_written(pads)),), f"output becomes {shape}")


def _structured_fix(ctx: LayerContext, axes: list[WindowAxis], kernel_within_input: bool) -> Fix | None:
    """One change of the layer's keywords that makes every axis read all its input and keeps the
    output size, or ``None`` when some axis has no such change (then only the input size can help).

    Each axis takes its first output-keeping change (kernel size, padding or dilation).  When the
    stride defaults to the kernel size, a new kernel size comes with the old stride written out.
    """
    changes: dict[str, list[int]] = {}
    for index, axis in enumerate(axes):
        if not axis.dropped_input or axis.skips_by_design:
            continue
        keeping = [fix for fix in layer_fixes(axis, ctx.args, kernel_within_input) if fix.output == fix.before]
        current = {"kernel_size": axis.kernel, "padding": axis.pad_left, "dilation": axis.dilation}
        if not keeping:
            return None
        change = keeping[0]
        values = changes.setdefault(change.key, [current[change.key] for _ in axes])
        if change.key == "padding" and any(a.pad_left != a.pad_right for a in axes):
            return None
        values[index] = change.value
    if not changes:
        return None
    edits = [(key, as_written(values)) for key, values in changes.items()]
    if "kernel_size" in changes and stride_follows_kernel(ctx):
        edits.append(("stride", as_written([axis.stride for axis in axes])))
    shape = "×".join(str(axis.out) for axis in axes)
    return Fix(ctx.layer.name, tuple(edits), f"output stays {shape}")
