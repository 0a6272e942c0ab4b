"""Layers that rearrange a tensor without computing new values: Permute, Reshape/View, Unflatten,
ChannelShuffle, PixelShuffle/PixelUnshuffle, Split/Chunk (several outputs) and Chomp1d (a causal trim)."""
from __future__ import annotations

import math

from convlint import LayerContext, LayerType, hookimpl
from convlint.analysis.infer import format_shape
from convlint.layers.keywords import Int, IntList
from .basic import normalised_dim


class Rearrange(LayerType):
    """Base of the layers here: no parameters, no MACs."""

    family = "reshape"


def permutation(dims: tuple[int, ...], rank: int) -> tuple[int, ...] | None:
    """``dims`` made non-negative, or ``None`` when it is no permutation of ``0..rank-1``."""
    if len(dims) != rank or not all(-rank <= dim < rank for dim in dims) or len({dim % rank for dim in dims}) != rank:
        return None
    return tuple(dim % rank for dim in dims)


class Permute(Rearrange):
    """torchvision's ``ops.misc.Permute`` (``torch.permute``): dim ``k`` of the output is dim ``dims[k]``
    of the input (ConvNeXt's ``[0, 2, 3, 1]`` makes ``(N, C, H, W)`` channels-last)."""

    name = "Permute"
    keywords = {"dims": IntList(doc="the input dim that each output dim takes, a permutation of 0..rank-1")}

    def infer(self, ctx: LayerContext):
        dims = self._dims(ctx)
        return None if dims is None else tuple(ctx.input[dim] for dim in dims)

    def symbolic_shape(self, layer):
        """The input dims in the order of ``dims``; ``None`` when ``dims`` is no permutation.

        Exact wherever the sizes go: a varying size moved into the channel position
        is compared by the next layer's own ``symbolic_shape`` (a convolution's
        ``in_channels``), like any varying channel count."""
        dims = permutation(layer.args["dims"], len(layer.input))
        return None if dims is None else tuple(layer.input[dim] for dim in dims)

    def _dims(self, ctx: LayerContext) -> tuple[int, ...] | None:
        """``dims`` made non-negative, or ``None`` after reporting S032."""
        rank, dims = len(ctx.input), ctx.args["dims"]
        if permutation(dims, rank) is None:
            ctx.report("S032", f"dims {list(dims)} is not a permutation of the {rank} dims of "
                               f"{format_shape(ctx.input)} (each of 0..{rank - 1} exactly once)", "dims")
            return None
        return permutation(dims, rank)

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        return inputs[0].transpose(self._dims(ctx))

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        """Identity along a spatial axis that stays in place; unknown along one that moves."""
        dims = self._dims(ctx)
        assert dims is not None, "input_spans is asked only of layers whose infer succeeded"
        return [(position, position)] if dims[2 + axis] == 2 + axis else None

    # ---- Import (convlint import) ----
    onnx_ops = ("Transpose",)
    torch_functions = ("torch.permute", "torch.Tensor.permute")

    def from_onnx(self, node):
        """``dims`` from ``perm`` (default: the dims reversed)."""
        from convlint.importing.onnx_node import Imported
        rank = node.rank
        perm = node.attribute("perm", list(reversed(range(rank or 0))))
        return Imported({"dims": [int(dim) for dim in perm]}, sources=[0]) if perm else None

    def from_torch_call(self, args, kwargs, ndim, inputs):
        """``x.permute(0, 2, 3, 1)`` or ``torch.permute(x, [0, 2, 3, 1])``."""
        dims = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
        return {"dims": dims} if dims else None

    # --- export (convlint export) ---
    def torch_module(self, args):
        """None: ``Tensor.permute`` in the forward."""
        return None

    def torch_forward(self, module, inputs, args):
        return f"{inputs[0]}.permute({args['dims']})"

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        dims = self._dims(ctx)
        assert dims is not None, "a layer with a known shape has valid dims"
        return graph.node("Transpose", inputs[:1], perm=list(dims))


class Reshape(Rearrange):
    """``Tensor.reshape(shape)`` as a layer (``View``: ``Tensor.view``): the whole shape, batch included;
    one entry may be ``-1`` (the size that keeps the number of elements)."""

    keywords = {"shape": IntList(doc="the output shape, batch included; at most one -1", minimum=-1)}

    def __init__(self, name: str):
        self.name = name

    def infer(self, ctx: LayerContext):
        shape = ctx.args["shape"]
        total = math.prod(ctx.input)
        known = math.prod(size for size in shape if size != -1)
        unknown = shape.count(-1)
        if unknown > 1 or 0 in shape:
            ctx.report("S012", f"shape {list(shape)} may hold one -1 and no 0", "shape")
            return None
        if (unknown and (known == 0 or total % known)) or (not unknown and known != total):
            ctx.report("S034", f"shape {list(shape)} does not hold the {total:,} elements of "
                               f"{format_shape(ctx.input)} from `{ctx.layer.sources[0]}`", "shape")
            return None
        return tuple(total // known if size == -1 else size for size in shape)

    def symbolic_shape(self, layer):
        """``shape`` with ``-1`` as the element count divided by the others; the count is compared with
        their product, or (with ``-1``) its remainder by it is tracked.  Unsupported: a ``-1`` over
        a product of several varying sizes (not affine)."""
        from convlint.sizes.expr import multiply
        shape = layer.args["shape"]
        if shape.count(-1) > 1 or 0 in shape:
            return None
        known = math.prod(size for size in shape if size != -1)
        total = multiply(list(layer.input))
        if -1 not in shape:
            if isinstance(total, int) and total != known:
                return None
            layer.compare(total, known)
            return tuple(shape)
        part = whole_parts(layer, total, known, "the element count")
        return None if part is None else tuple(part if size == -1 else size for size in shape)

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        return inputs[0].reshape(self.infer(ctx))

    # ---- Import (convlint import) ----
    @property
    def onnx_ops(self):  # type: ignore[override]
        """``Reshape`` (for the type named so; ``View`` imports nothing)."""
        return ("Reshape",) if self.name == "Reshape" else ()

    def from_onnx(self, node):
        """A constant target shape; a 0 entry (copy the input's dim) and a size name equal to the input's
        dim at its place become that dim, or ``-1`` when the input's dim is a size name itself."""
        from convlint.importing.onnx_node import Imported
        target, shape = node.shape_constant(1), node.input_shape(0)
        if target is None or shape is None or target.ndim != 1 or node.attribute("allowzero", 0):
            return None
        entries = []
        for index, entry in enumerate(target.tolist()):
            copied = index < len(shape) and (entry == 0 or entry == shape[index])
            entry = shape[index] if copied else entry
            entries.append(entry if isinstance(entry, int) else -1)
        if entries.count(-1) > 1:
            return None
        return Imported({"shape": entries}, sources=[0])

    # --- export (convlint export) ---
    def torch_module(self, args):
        """None: ``Tensor.reshape`` (``Tensor.view``) in the forward."""
        return None

    def torch_forward(self, module, inputs, args):
        return f"{inputs[0]}.{self.name.lower()}({args['shape']})"

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        return graph.node("Reshape", [inputs[0], graph.constant(list(ctx.args["shape"]))])


class Unflatten(Rearrange):
    """``torch.nn.Unflatten``: dim ``dim`` split into ``unflattened_size`` (one entry may be ``-1``)."""

    name = "Unflatten"
    keywords = {"dim": Int(doc="the dim to split"),
                "unflattened_size": IntList(doc="the sizes it splits into; at most one -1", minimum=-1)}

    def infer(self, ctx: LayerContext):
        dim = normalised_dim(ctx, "dim", ctx.args["dim"], len(ctx.input))
        if dim is None:
            return None
        sizes = ctx.args["unflattened_size"]
        size = ctx.input[dim]
        known = math.prod(item for item in sizes if item != -1)
        if sizes.count(-1) > 1 or 0 in sizes:
            ctx.report("S012", f"unflattened_size {list(sizes)} may hold one -1 and no 0", "unflattened_size")
            return None
        if (-1 in sizes and size % known) or (-1 not in sizes and known != size):
            ctx.report("S034", f"unflattened_size {list(sizes)} does not multiply to {size}, the size of dim {dim} "
                               f"of {format_shape(ctx.input)}", "unflattened_size")
            return None
        sizes = tuple(size // known if item == -1 else item for item in sizes)
        return (*ctx.input[:dim], *sizes, *ctx.input[dim + 1:])

    def symbolic_shape(self, layer):
        """``dim`` replaced by ``unflattened_size``, as :class:`Reshape` does with the whole shape."""
        rank, dim, sizes = len(layer.input), layer.args["dim"], layer.args["unflattened_size"]
        if not -rank <= dim < rank or sizes.count(-1) > 1 or 0 in sizes:
            return None
        dim %= rank
        size = layer.input[dim]
        known = math.prod(item for item in sizes if item != -1)
        if -1 in sizes:
            part = whole_parts(layer, size, known, f"dim {dim}")
            if part is None:
                return None
            sizes = tuple(part if item == -1 else item for item in sizes)
        elif isinstance(size, int) and size != known:
            return None
        else:
            layer.compare(size, known)
        return (*layer.input[:dim], *sizes, *layer.input[dim + 1:])

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        return inputs[0].reshape(self.infer(ctx))

    # --- export (convlint export) ---
    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``Reshape`` to the sizes before ``dim``, ``unflattened_size``, and those after."""
        x, rank = inputs[0], len(ctx.input)
        dim = ctx.args["dim"] % rank
        shape = graph.node("Concat", [graph.shape_of(x, 0, dim), graph.constant(list(ctx.args["unflattened_size"])),
                                      graph.shape_of(x, dim + 1)], axis=0)
        return graph.node("Reshape", [x, shape])


def whole_parts(layer, size, part: int, what: str):
    """``size // part`` for a ``-1`` entry, its remainder tracked (it must be 0); ``None`` when ``size``
    is an int that ``part`` does not divide.  A product of several varying sizes is followed when
    ``part`` divides its constant factor (``[N, -1]`` after a convolution); else unsupported."""
    from convlint.sizes.expr import Product, multiply
    if isinstance(size, int):
        return None if size % part else size // part
    if isinstance(size, Product):
        factor = math.prod(item for item in size.factors if isinstance(item, int))
        if factor % part:
            layer.unsupported(f"-1 stands for {what} {size} divided by {part}, a product of several varying "
                              f"sizes: not affine")
        return multiply([factor // part, *(item for item in size.factors if not isinstance(item, int))])
    layer.track(remainder(size, part))
    return size // part


def remainder(size, divisor: int):
    """``size mod divisor`` for an int or an affine form (``size − divisor·⌊size/divisor⌋``)."""
    return size - (size // divisor) * divisor


def shuffle_chain(reshape) -> tuple[int, list] | None:
    """``(groups, [transpose, reshape back])`` when ONNX node ``reshape`` starts a channel shuffle:
    its input ``(N, C, …)`` viewed as ``(N, groups, C/groups, …)`` (each entry of the target the input's
    dim, ``0`` or ``-1`` where it may be), dims 1 and 2 swapped, and viewed back as ``(N, C, …)``; each
    intermediate read by the next node only.  ``None`` otherwise."""
    shape, target = reshape.input_shape(0), reshape.shape_constant(1)
    if shape is None or len(shape) < 3 or not isinstance(shape[1], int) or target is None \
            or target.shape != (len(shape) + 1,):
        return None
    entries = target.tolist()
    groups, channels = entries[1], shape[1]
    if not isinstance(groups, int) or groups < 1 or channels % groups or entries[2] not in (-1, channels // groups):
        return None
    if not all(entry in (dim, 0) or entry == -1 and entries[2] != -1
               for entry, dim in zip(entries[:1] + entries[3:], shape[:1] + shape[2:])):
        return None
    transpose = reshape.only_consumer()
    perm = [0, 2, 1, *range(3, len(shape) + 1)]
    if transpose is None or transpose.op != "Transpose" or list(transpose.attribute("perm") or []) != perm:
        return None
    back = transpose.only_consumer()
    if back is None or back.op != "Reshape" or not _views_as(back.shape_constant(1), shape):
        return None
    return groups, [transpose, back]


def _views_as(target, shape) -> bool:
    """True when Reshape target ``target`` (a constant, or ``None``) gives back ``shape``: each entry the
    dim at its place or ``0``, and one entry at most ``-1``."""
    if target is None or target.shape != (len(shape),):
        return False
    entries = target.tolist()
    return entries.count(-1) <= 1 and all(entry in (dim, 0, -1) for entry, dim in zip(entries, shape))


class ChannelShuffle(Rearrange):
    """``torch.nn.ChannelShuffle``: channels viewed as ``(groups, C/groups)`` and transposed (ShuffleNet)."""

    name = "ChannelShuffle"
    preserves_shape = True
    input_ranks = (3, 4, 5)
    keywords = {"groups": Int(doc="groups the channels are shuffled across", minimum=1)}

    def infer(self, ctx: LayerContext):
        groups, channels = ctx.args["groups"], ctx.input[1]
        if channels % groups:
            ctx.report("S030", f"groups={groups} does not divide the {channels} channels", "groups")
            return None
        return ctx.input

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels.rearrange import channel_shuffle
        return channel_shuffle(inputs[0], ctx.args["groups"])

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        return [(position, position)]

    # ---- Import (convlint import) ----
    onnx_patterns = ("Reshape",)

    def from_onnx(self, node):
        """``groups`` of the pattern convlint's export and PyTorch's write: ``Reshape (N, groups, C/groups
        or -1, …) → Transpose`` of dims 1 and 2 ``→ Reshape`` back to the input's shape."""
        from convlint.importing.onnx_node import Imported
        found = shuffle_chain(node)
        return None if found is None else Imported({"groups": found[0]}, sources=[0], absorbs=found[1])

    # --- export (convlint export) ---
    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """Channels viewed as ``(groups, C/groups)``, transposed, and viewed back."""
        x = inputs[0]
        grouped = graph.node("Concat", [graph.shape_of(x, 0, 1), graph.constant([ctx.args["groups"], -1]),
                                        graph.shape_of(x, 2)], axis=0)
        perm = [0, 2, 1, *range(3, len(ctx.input) + 1)]
        swapped = graph.node("Transpose", [graph.node("Reshape", [x, grouped])], perm=perm)
        return graph.node("Reshape", [swapped, graph.node("Shape", [x])])


class PixelShuffle(Rearrange):
    """``torch.nn.PixelShuffle``: ``(N, C·r², H, W)`` → ``(N, C, H·r, W·r)``."""

    name = "PixelShuffle"
    family = "resample"
    input_ranks = (4,)
    keywords = {"upscale_factor": Int(doc="r: the factor H and W grow by", minimum=1)}

    def infer(self, ctx: LayerContext):
        factor = ctx.args["upscale_factor"]
        batch, channels, height, width = ctx.input
        if channels % (factor * factor):
            ctx.report("S030", f"the {channels} channels of `{ctx.layer.sources[0]}` are not divisible by "
                               f"upscale_factor² = {factor * factor}", "upscale_factor")
            return None
        return (batch, channels // (factor * factor), height * factor, width * factor)

    def symbolic_shape(self, layer):
        """``(N, C/r², H·r, W·r)``; the remainder of the channels by ``r²`` is tracked."""
        square = layer.args["upscale_factor"] ** 2
        batch, channels, height, width = layer.input
        if isinstance(channels, int) and channels % square:
            return None
        layer.track(remainder(channels, square))
        factor = layer.args["upscale_factor"]
        return (batch, channels // square, height * factor, width * factor)

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels.rearrange import pixel_shuffle
        return pixel_shuffle(inputs[0], ctx.args["upscale_factor"])

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        return [(position // ctx.args["upscale_factor"],) * 2]

    # ---- Import (convlint import) ----
    onnx_ops = ("DepthToSpace",)

    def from_onnx(self, node):
        """``upscale_factor`` of a ``DepthToSpace`` in ``CRD`` order (``DCR``, its default, orders the
        channels otherwise)."""
        from convlint.importing.onnx_node import Imported
        if node.rank != 4 or node.attribute("mode", "DCR") != "CRD" or node.attribute("blocksize") is None:
            return None
        return Imported({"upscale_factor": int(node.attribute("blocksize"))}, sources=[0])

    # --- export (convlint export) ---
    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``DepthToSpace`` in ``CRD`` order (PyTorch's)."""
        return graph.node("DepthToSpace", inputs[:1], blocksize=ctx.args["upscale_factor"], mode="CRD")


class PixelUnshuffle(Rearrange):
    """``torch.nn.PixelUnshuffle``: ``(N, C, H·r, W·r)`` → ``(N, C·r², H, W)``."""

    name = "PixelUnshuffle"
    family = "resample"
    input_ranks = (4,)
    keywords = {"downscale_factor": Int(doc="r: the factor H and W shrink by", minimum=1)}

    def infer(self, ctx: LayerContext):
        factor = ctx.args["downscale_factor"]
        batch, channels, height, width = ctx.input
        if height % factor or width % factor:
            ctx.report("S030", f"downscale_factor={factor} does not divide the size {height}×{width} of "
                               f"`{ctx.layer.sources[0]}`", "downscale_factor")
            return None
        return (batch, channels * factor * factor, height // factor, width // factor)

    def symbolic_shape(self, layer):
        """``(N, C·r², H/r, W/r)``; the remainders of H and W by ``r`` are tracked."""
        factor = layer.args["downscale_factor"]
        batch, channels, height, width = layer.input
        for size in (height, width):
            if isinstance(size, int) and size % factor:
                return None
            layer.track(remainder(size, factor))
        return (batch, channels * factor * factor, height // factor, width // factor)

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        from convlint.execute.kernels.rearrange import pixel_unshuffle
        return pixel_unshuffle(inputs[0], ctx.args["downscale_factor"])

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        factor = ctx.args["downscale_factor"]
        return [(position * factor, position * factor + factor - 1)]

    # ---- Import (convlint import) ----
    onnx_patterns = ("SpaceToDepth",)

    def from_onnx(self, node):
        """``downscale_factor`` of the pattern convlint's export writes: ``SpaceToDepth`` of block ``r``,
        then a channel shuffle of ``r²`` groups (see :func:`shuffle_chain`), which reorders the channels
        to PyTorch's."""
        from convlint.importing.onnx_node import Imported
        factor, reshape = node.attribute("blocksize"), node.only_consumer()
        if node.rank != 4 or factor is None or reshape is None or reshape.op != "Reshape":
            return None
        found = shuffle_chain(reshape)
        if found is None or found[0] != int(factor) ** 2:
            return None
        return Imported({"downscale_factor": int(factor)}, sources=[0], absorbs=[reshape, *found[1]])

    # --- export (convlint export) ---
    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``SpaceToDepth`` (its channel order is ``(i·r + j)·C + c``), the channels then reordered to
        PyTorch's ``c·r² + i·r + j``."""
        x, square = inputs[0], ctx.args["downscale_factor"] ** 2
        moved = graph.node("SpaceToDepth", [x], blocksize=ctx.args["downscale_factor"])
        split = graph.node("Concat", [graph.shape_of(moved, 0, 1), graph.constant([square, -1]),
                                      graph.shape_of(moved, 2)], axis=0)
        swapped = graph.node("Transpose", [graph.node("Reshape", [moved, split])], perm=[0, 2, 1, 3, 4])
        return graph.node("Reshape", [swapped, graph.node("Shape", [moved])])


class Pieces(Rearrange):
    """A layer with several outputs, the pieces of its input along ``dim``: read them as ``name.0``, ``name.1``…"""

    multiple_outputs = True

    def sizes(self, ctx: LayerContext, size: int) -> list[int] | None:
        """The sizes of the pieces of a dim of ``size``, or ``None`` after reporting why there are none."""
        raise NotImplementedError

    def infer(self, ctx: LayerContext):
        dim = normalised_dim(ctx, "dim", ctx.args["dim"], len(ctx.input))
        if dim is None:
            return None
        sizes = self.sizes(ctx, ctx.input[dim])
        if sizes is None:
            return None
        return [(*ctx.input[:dim], size, *ctx.input[dim + 1:]) for size in sizes]

    def piece_sizes(self, layer, size):
        """:meth:`sizes` for a symbolic layer: the piece sizes of ``dim`` of ``size`` (an int or a
        varying form), ``None`` when there are none at any size."""
        raise NotImplementedError

    def symbolic_shape(self, layer):
        """One shape per piece.  A varying size cut into pieces of a given size makes a number of
        pieces that changes with the size: unsupported (pieces listed by size are followed)."""
        rank, dim = len(layer.input), layer.args["dim"]
        if not -rank <= dim < rank:
            return None
        dim %= rank
        sizes = self.piece_sizes(layer, layer.input[dim])
        if sizes is None:
            return None
        return [(*layer.input[:dim], size, *layer.input[dim + 1:]) for size in sizes]

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        import numpy
        dim = ctx.args["dim"] % len(ctx.input)
        sizes = self.sizes(ctx, ctx.input[dim])
        assert sizes is not None, "forward runs only on layers whose infer succeeded"
        ends = numpy.cumsum(sizes)[:-1]
        return numpy.split(inputs[0], ends, axis=dim)

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        """Identity when cutting batch or channels; unknown when cutting a spatial axis."""
        return None if ctx.args["dim"] % len(ctx.input) >= 2 else [(position, position)]

    # --- export (convlint export) ---
    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        """``Split`` into the pieces' sizes (those of a spatial dim only at fixed input sizes)."""
        dim = ctx.args["dim"] % len(ctx.input)
        if dim >= 2:
            graph.fixed_sizes(f"{self.name} along dim {dim}")
        sizes = self.sizes(ctx, ctx.input[dim])
        assert sizes is not None, "a layer with a known shape has valid pieces"
        if len(sizes) == 1:
            return [graph.node("Identity", inputs[:1])]
        return graph.node("Split", [inputs[0], graph.constant(sizes)], outputs=len(sizes), axis=dim)


class Split(Pieces):
    """``torch.split(x, split_size_or_sections, dim)``: pieces of one size (the last may be smaller),
    or of the listed sizes, which must add up to the size of ``dim``."""

    name = "Split"
    keywords = {"split_size_or_sections": IntList(doc="size of each piece, or the list of sizes", minimum=1,
                                                  scalar=True),
                "dim": Int(1, "dim to cut (1: channels)")}

    def sizes(self, ctx: LayerContext, size: int):
        written = ctx.args["split_size_or_sections"]
        if isinstance(ctx.layer.kwargs.get("split_size_or_sections"), list):
            if sum(written) != size:
                ctx.report("S031", f"split_size_or_sections {list(written)} adds up to {sum(written)}, but the dim "
                                   f"has {size}", "split_size_or_sections")
                return None
            return list(written)
        return equal_pieces(size, written[0])

    def piece_sizes(self, layer, size):
        """Listed sizes: constant pieces, their sum compared with ``size``; one size: needs ``size`` constant."""
        from convlint.sizes.symbolic import varies
        written = layer.args["split_size_or_sections"]
        if isinstance(layer.layer.kwargs.get("split_size_or_sections"), list):
            if isinstance(size, int) and sum(written) != size:
                return None
            layer.compare(size, sum(written))
            return list(written)
        if varies(size):
            layer.unsupported(f"Split of the varying size {size} into pieces of {written[0]}: the number of "
                              f"pieces changes with the size")
        return equal_pieces(size, written[0])

    # ---- Import (convlint import) ----
    onnx_ops = ("Split",)
    torch_functions = ("torch.split", "torch.Tensor.split")

    def from_onnx(self, node):
        """``split_size_or_sections`` from the ``split`` sizes (input or attribute), or ``num_outputs`` equal
        pieces of a known size; ``dim`` from ``axis``."""
        from convlint.importing.onnx_node import Imported
        sizes = node.constant(1)
        sizes = [int(size) for size in sizes.flat] if sizes is not None else node.attribute("split")
        axis = int(node.attribute("axis", 0))
        shape = node.input_shape(0)
        count = node.attribute("num_outputs", len(node.output_names))
        if sizes is None and shape is not None and -len(shape) <= axis < len(shape) \
                and isinstance(shape[axis], int) and shape[axis] > 0 and count > 0:
            sizes = [-(-shape[axis] // count)] * (shape[axis] // -(-shape[axis] // count))
            sizes += [shape[axis] - sum(sizes)] if sum(sizes) < shape[axis] else []
        if not sizes:
            return None
        keywords = {"split_size_or_sections": [int(size) for size in sizes]}
        if axis != 1:
            keywords["dim"] = axis
        return Imported(keywords, sources=[0])

    # --- export (convlint export) ---
    def torch_module(self, args):
        """None: ``torch.split`` in the forward."""
        return None

    def torch_forward(self, module, inputs, args):
        return f"torch.split({inputs[0]}, {args['split_size_or_sections']}, dim={args.get('dim', 1)})"


class Chunk(Pieces):
    """``torch.chunk(x, chunks, dim)``: pieces of ``⌈size / chunks⌉`` (the last may be smaller; fewer than
    ``chunks`` pieces when the size does not allow them, as PyTorch)."""

    name = "Chunk"
    keywords = {"chunks": Int(doc="number of pieces", minimum=1), "dim": Int(1, "dim to cut (1: channels)")}

    def sizes(self, ctx: LayerContext, size: int):
        return equal_pieces(size, -(-size // ctx.args["chunks"]))

    def piece_sizes(self, layer, size):
        """Needs ``size`` constant: the number of pieces of a varying size changes with it."""
        from convlint.sizes.symbolic import varies
        if varies(size):
            layer.unsupported(f"Chunk of the varying size {size}: the number and size of the pieces change "
                              f"with the size")
        return equal_pieces(size, -(-size // layer.args["chunks"]))

    # --- export (convlint export) ---
    def torch_module(self, args):
        """None: ``torch.chunk`` in the forward."""
        return None

    def torch_forward(self, module, inputs, args):
        return f"torch.chunk({inputs[0]}, {args['chunks']}, dim={args.get('dim', 1)})"


def equal_pieces(size: int, piece: int) -> list[int]:
    """Pieces of ``piece`` along a dim of ``size``, the last one smaller when ``piece`` does not divide it."""
    return [piece] * (size // piece) + ([size % piece] if size % piece else [])


class Chomp1d(Rearrange):
    """The causal trim of a TCN (Bai et al., 2018): ``x[:, :, :-chomp_size]`` drops the last
    ``chomp_size`` positions, which a symmetrically padded Conv1d computed from future inputs."""

    name = "Chomp1d"
    input_ranks = (3,)
    keywords = {"chomp_size": Int(doc="positions dropped at the end", minimum=1)}

    def infer(self, ctx: LayerContext):
        batch, channels, length = ctx.input
        return (batch, channels, length - ctx.args["chomp_size"])

    def symbolic_shape(self, layer):
        """The length less ``chomp_size`` (no check besides a length ≥ 1)."""
        batch, channels, length = layer.input
        return (batch, channels, length - layer.args["chomp_size"])

    def forward(self, ctx: LayerContext, inputs: list, params: dict):
        return inputs[0][:, :, :-ctx.args["chomp_size"]]

    def input_spans(self, ctx: LayerContext, axis: int, position: int):
        return [(position, position)]

    # ---- Import (convlint import) ----
    onnx_ops = ("Slice",)

    def from_onnx(self, node):
        """``chomp_size`` ``k`` of a ``Slice`` of a 3-d tensor from 0 to ``-k`` along its last axis, by
        steps of 1 (PyTorch's export of ``x[:, :, :-k]``, and convlint's)."""
        from convlint.importing.onnx_node import Imported
        starts, ends, axes, steps = (node.constant(index) for index in (1, 2, 3, 4))
        if node.rank != 3 or starts is None or ends is None or axes is None:
            return None
        if [starts.tolist(), axes.tolist()] not in ([[0], [2]], [[0], [-1]]) or ends.shape != (1,) \
                or not -(2 ** 31) < int(ends[0]) < 0 or (steps is not None and steps.tolist() != [1]):
            return None
        return Imported({"chomp_size": -int(ends[0])}, sources=[0])

    # --- export (convlint export) ---
    def torch_module(self, args):
        """None: a slice in the forward."""
        return None

    def torch_forward(self, module, inputs, args):
        return f"{inputs[0]}[:, :, :-{args['chomp_size']}]"

    def onnx_lower(self, ctx: LayerContext, graph, inputs: list, params: dict):
        return graph.node("Slice", [inputs[0], graph.constant([0]), graph.constant([-ctx.args["chomp_size"]]),
                                    graph.constant([2])])


@hookimpl
def register_layer_types(register):
    for layer_type in (Permute(), Reshape("Reshape"), Reshape("View"), Unflatten(), ChannelShuffle(), PixelShuffle(),
                       PixelUnshuffle(), Split(), Chunk(), Chomp1d()):
        register(layer_type)
