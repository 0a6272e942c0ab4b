"""Output-size arithmetic of sliding windows, one spatial axis at a time.

Pure functions with no I/O, shared by the linter, the executor and the
docs.  Every size is a count of elements along one spatial axis; 1-d, 2-d
and 3-d layers call these once per axis.  The formulas follow PyTorch
exactly (``torch.nn.Conv2d``, ``MaxPool2d``, ``ConvTranspose2d``).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WindowAxis:
    """One axis of a sliding-window layer (conv or pool).

    ``size`` is the input length, ``kernel`` the number of taps,
    ``pad_left``/``pad_right`` the implicit padding in elements,
    ``dilation`` the tap spacing and ``stride`` the window step.
    """

    size: int
    kernel: int
    stride: int = 1
    pad_left: int = 0
    pad_right: int = 0
    dilation: int = 1
    ceil_mode: bool = False

    @property
    def span(self) -> int:
        """Elements covered by one window: ``d·(k−1) + 1``."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def padded(self) -> int:
        """Length of the padded input: ``size + pad_left + pad_right``."""
        return self.size + self.pad_left + self.pad_right

    @property
    def numerator(self) -> int:
        """``size + pads − d·(k−1) − 1``, the quantity divided by the stride."""
        return self.padded - self.span

    @property
    def out(self) -> int:
        """Output length, as PyTorch computes it (may be ≤ 0 for bad input).

        Floor mode: ``⌊numerator/s⌋ + 1``.  Ceil mode (pools): ``⌈numerator/s⌉ + 1``,
        less one when the last window would start past the input and the left
        padding (PyTorch's rule).  With ``c = ⌈n/s⌉`` that start ``c·s`` exceeds
        ``n`` by ``m = c·s − n ∈ [0, s)``, and it lies past the input and the
        left padding exactly when ``m ≥ t = span − pad_right``; the test is
        written as the floor ``⌊(m + s − t)/s⌋`` so that the same code computes
        symbolic sizes (:class:`convlint.sizes.expr.Expr`) as well as integers.
        """
        if not self.ceil_mode:
            return self.numerator // self.stride + 1
        stride, numerator = self.stride, self.numerator
        windows = -(-numerator // stride)
        threshold = self.span - self.pad_right
        if threshold >= stride:
            return windows + 1
        if threshold <= 0:
            return windows
        return windows + 1 - (stride * windows - numerator + stride - threshold) // stride

    @property
    def exact(self) -> bool:
        """True when the windows tile the padded input with nothing left over."""
        return self.numerator % self.stride == 0

    @property
    def unread_tail(self) -> int:
        """Elements at the end of the padded input that no window reads (≥ 0)."""
        out = self.out
        if out < 1:
            return 0
        last_read = (out - 1) * self.stride + self.span
        return max(0, self.padded - last_read)

    @property
    def dropped_input(self) -> int:
        """Real (non-padding) input elements at the end that no window reads."""
        return max(0, self.unread_tail - self.pad_right)

    @property
    def skips_by_design(self) -> bool:
        """True when the stride exceeds the window span, so gaps are intended."""
        return self.stride > self.span

    def formula(self, symbol: str = "H") -> str:
        """The arithmetic with the numbers in it, e.g. ``(5 + 2·0 − 2)/2 + 1 = 2.5``."""
        pads = (
            f"2·{self.pad_left}"
            if self.pad_left == self.pad_right
            else f"{self.pad_left} + {self.pad_right}"
        )
        window = (
            f"{self.dilation}·({self.kernel} − 1) − 1" if self.dilation != 1 else f"{self.kernel}"
        )
        text = f"({self.size} + {pads} − {window})/{self.stride} + 1"
        value = self.numerator / self.stride + 1
        shown = str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0")
        rounding = ""
        if not value.is_integer():
            rounding = f", {'ceil' if self.ceil_mode else 'floored'} to {self.out}"
        return f"{symbol}_out = {text} = {shown}{rounding}"


def transposed_out(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1, output_padding: int = 0
) -> int:
    """Output length of a transposed convolution along one axis.

    ``(size − 1)·s − 2p + d·(k − 1) + output_padding + 1``, as in
    ``torch.nn.ConvTranspose2d``.
    """
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def transposed_formula(
    size: int, kernel: int, stride: int, padding: int, dilation: int, output_padding: int, symbol: str = "H"
) -> str:
    """The transposed-convolution arithmetic with the numbers in it."""
    value = transposed_out(size, kernel, stride, padding, dilation, output_padding)
    return (
        f"{symbol}_out = ({size} − 1)·{stride} − 2·{padding} + {dilation}·({kernel} − 1)"
        f" + {output_padding} + 1 = {value}"
    )


@dataclass(frozen=True)
class TransposedAxis:
    """One axis of a transposed convolution: ``size`` input elements, each stamping ``kernel`` taps
    ``dilation`` apart onto the output at step ``stride``; ``padding`` elements are cut from each end
    of that full output and ``output_padding`` added at the far end."""

    size: int
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    output_padding: int = 0

    @property
    def out(self) -> int:
        """Output length: :func:`transposed_out`."""
        return transposed_out(self.size, self.kernel, self.stride, self.padding, self.dilation, self.output_padding)

    def formula(self, symbol: str = "H") -> str:
        """The arithmetic with the numbers in it: :func:`transposed_formula`."""
        return transposed_formula(self.size, self.kernel, self.stride, self.padding, self.dilation,
                                  self.output_padding, symbol)


def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """PyTorch's ``padding='same'`` split: total ``d·(k−1)``, the extra element on the right."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def adaptive_window(index, size: int, out: int):
    """Start and end (exclusive) of adaptive-pool window ``index`` of ``out`` over ``size`` elements:
    ``⌊i·in/out⌋ .. ⌈(i+1)·in/out⌉``, as PyTorch computes them.  ``index`` may be an int or an
    integer NumPy array (then both ends are arrays)."""
    return (index * size) // out, -((-(index + 1) * size) // out)


@dataclass(frozen=True)
class AxisFix:
    """One change to a window layer along one axis: set ``key`` to ``value`` there.

    ``output`` and ``before`` are the axis's output size after and before the change.
    """

    key: str
    value: int
    output: int
    before: int

    def __str__(self) -> str:
        return f"{self.key}={self.value} (output {'stays' if self.output == self.before else 'becomes'} {self.output})"


def exact_fixes(axis: WindowAxis) -> list[AxisFix]:
    """Changes that make a floor-mode axis read all its input, those keeping its output size first.

    With ``r = numerator mod s`` positions left unread, the last window
    reaches the end when the span grows by ``r`` (kernel_size ``k + r/d``, or
    dilation ``d + r/(k−1)``) or the padding shrinks by ``r/2`` per side; each
    keeps the output size.  Growing the padding by ``(s − r)/2`` per side also
    works but adds one output (offered while the padding stays within half the kernel).
    """
    remainder = axis.numerator % axis.stride
    if remainder == 0 or axis.ceil_mode:
        return []
    out, fixes = axis.out, []
    if remainder % axis.dilation == 0:
        fixes.append(AxisFix("kernel_size", axis.kernel + remainder // axis.dilation, out, out))
    if remainder % 2 == 0 and axis.pad_left == axis.pad_right and axis.pad_left >= remainder // 2:
        fixes.append(AxisFix("padding", axis.pad_left - remainder // 2, out, out))
    if axis.kernel > 1 and remainder % (axis.kernel - 1) == 0:
        fixes.append(AxisFix("dilation", axis.dilation + remainder // (axis.kernel - 1), out, out))
    grow = axis.stride - remainder
    if grow % 2 == 0 and axis.pad_left == axis.pad_right and axis.pad_left + grow // 2 <= axis.kernel // 2:
        fixes.append(AxisFix("padding", axis.pad_left + grow // 2, out + 1, out))
    return fixes


def layer_fixes(axis: WindowAxis, keys=None, kernel_within_input: bool = False) -> list[AxisFix]:
    """The changes of :func:`exact_fixes` a layer can take: only those setting a keyword in ``keys``
    (when given: an AvgPool has no ``dilation``), and no kernel larger than the unpadded input when
    ``kernel_within_input`` (as AvgPool3d requires)."""
    return [fix for fix in exact_fixes(axis)
            if (keys is None or fix.key in keys)
            and not (kernel_within_input and fix.key == "kernel_size" and fix.value > axis.size)]


def padding_fixes(axis: WindowAxis, keys=None, kernel_within_input: bool = False,
                  stride_follows_kernel: bool = False) -> list[str]:
    """Smallest changes that make a floor-mode axis exact, as text, nearest first.

    The changes of :func:`layer_fixes`, then the layer input sizes either side that divide evenly.
    ``stride_follows_kernel``: the stride is not written and defaults to the kernel size (pools),
    so a new kernel size must come with the stride written out.
    """
    remainder = axis.numerator % axis.stride
    if remainder == 0:
        return []
    suggestions = [f"{fix.key}={fix.value} with stride={axis.stride} {str(fix).split(' ', 1)[1]}"
                   if stride_follows_kernel and fix.key == "kernel_size" else str(fix)
                   for fix in layer_fixes(axis, keys, kernel_within_input)]
    suggestions.append(f"a layer input of {axis.size - remainder} or {axis.size + axis.stride - remainder}")
    return suggestions
