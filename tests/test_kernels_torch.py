"""Differential tests of convlint.execute.kernels against torch.nn.functional (CPU).

Every kernel is run on a few hundred seeded random configurations in 1-d, 2-d
and 3-d, in float32 and float64, and compared with PyTorch: the maximum
absolute difference divided by max |torch output| must be <= 1e-4 (float32)
or <= 1e-10 (float64).  Configurations are drawn from fixed seeds, so a
failure is reproducible and its message prints the configuration.
"""
from __future__ import annotations

import importlib.util
import math
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

if importlib.util.find_spec("convlint") is None:  # running from a checkout without install
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from convlint.execute.kernels import conv as conv_mod  # noqa: E402
from convlint.execute.kernels import elementwise as E  # noqa: E402
from convlint.execute.kernels import init as init_mod  # noqa: E402
from convlint.execute.kernels import pool as pool_mod  # noqa: E402
from convlint.execute.kernels import resample as rs_mod  # noqa: E402
from convlint.execute.kernels import transposed as tr_mod  # noqa: E402

TOL = {np.float32: 1e-4, np.float64: 1e-10}
DTYPES = (np.float32, np.float64)
N_CONFIGS = 70          # per kernel and per spatial dimensionality


def _check(ours: np.ndarray, ref, dtype, what) -> None:
    ref = ref.detach().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    assert ours.shape == ref.shape, f"shape {ours.shape} != torch {ref.shape}: {what}"
    assert ours.dtype == np.dtype(dtype), f"dtype {ours.dtype} != {np.dtype(dtype)}: {what}"
    if ref.size == 0:
        return
    both_nan = np.isnan(ours) & np.isnan(ref)
    assert np.array_equal(np.isnan(ours), np.isnan(ref)), f"NaN pattern differs: {what}"
    same_inf = np.isinf(ref) & (ours == ref)
    ok = both_nan | same_inf
    with np.errstate(invalid="ignore"):
        diff = np.where(ok, 0, np.abs(ours.astype(np.float64) - ref.astype(np.float64)))
    scale = np.max(np.where(ok, 0, np.abs(ref.astype(np.float64))), initial=0.0)
    err = diff.max() / max(scale, np.finfo(np.float64).tiny)
    assert err <= TOL[dtype], f"relative error {err:.3g} > {TOL[dtype]:g}: {what}"


def _rand(rng, shape, dtype, low=-1.0, high=1.0):
    return rng.uniform(low, high, shape).astype(dtype)


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


# ----------------------------------------------------------------------------
# worked examples
# ----------------------------------------------------------------------------

EXAMPLE_X = np.array([[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]],
                     dtype=np.float64)[None, None]
EXAMPLE_K = np.array([[1, 2, 1], [0, 1, 0], [2, 1, 0]], dtype=np.float64)[None, None]


@pytest.mark.parametrize("dtype", DTYPES)
def test_worked_example_conv(dtype):
    x, k = EXAMPLE_X.astype(dtype), EXAMPLE_K.astype(dtype)
    cases = [
        (dict(stride=1), [[10, 12, 12], [18, 16, 16], [13, 9, 3]]),
        (dict(stride=2), [[10, 12], [13, 3]]),
        (dict(stride=2, padding=1), [[1, 4, 8], [7, 16, 8], [14, 9, 4]]),
    ]
    for kwargs, expected in cases:
        kw = dict(kwargs)
        pad = kw.pop("padding", 0)
        out = conv_mod.conv(x, k, None, padding=((pad, pad), (pad, pad)), **kw)
        assert out.dtype == dtype
        np.testing.assert_array_equal(out[0, 0], np.array(expected, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_worked_example_max_pool(dtype):
    x = EXAMPLE_X.astype(dtype)
    np.testing.assert_array_equal(pool_mod.max_pool(x, 3, ceil_mode=True)[0, 0], [[2, 3], [5, 1]])
    np.testing.assert_array_equal(pool_mod.max_pool(x, 3, ceil_mode=False)[0, 0], [[2]])


# ----------------------------------------------------------------------------
# convolution
# ----------------------------------------------------------------------------

_CONV_F = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_TORCH_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def _conv_config(rng, nd):
    kind = rng.choice(["plain", "groups", "depthwise"], p=[0.5, 0.25, 0.25])
    if kind == "plain":
        g, cg, coutg = 1, int(rng.integers(1, 5)), int(rng.integers(1, 6))
    elif kind == "groups":
        g, cg, coutg = int(rng.integers(2, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    else:
        g, cg, coutg = int(rng.integers(2, 7)), 1, int(rng.integers(1, 3))   # channel multiplier
    kmax = 4 if nd < 3 else 3
    kernel = tuple(int(v) for v in rng.integers(1, kmax + 1, nd))
    dilation = tuple(int(v) for v in rng.integers(1, 4 if nd < 3 else 3, nd))
    stride = tuple(int(v) for v in rng.integers(1, 4, nd))
    mode = str(rng.choice(["zeros", "reflect", "replicate", "circular"]))
    same = mode == "zeros" and rng.random() < 0.15
    if same:
        stride = (1,) * nd
    pads, sizes = [], []
    for k, d in zip(kernel, dilation):
        span = d * (k - 1) + 1
        left, right = int(rng.integers(0, 4)), int(rng.integers(0, 4))
        lo = max(1, span - left - right, left + 1 if mode == "reflect" else 1, max(left, right))
        size = int(rng.integers(lo, lo + (6 if nd < 3 else 3)))
        if mode == "reflect":
            left, right = min(left, size - 1), min(right, size - 1)
        pads.append((left, right))
        sizes.append(size)
    for a, (k, d) in enumerate(zip(kernel, dilation)):     # make sure the output is non-empty
        span = d * (k - 1) + 1
        if sizes[a] + sum(pads[a]) < span:
            sizes[a] = span
    padding = "same" if same else tuple(pads)
    return dict(n=int(rng.integers(1, 4)), g=g, cg=cg, coutg=coutg, kernel=kernel, stride=stride,
                dilation=dilation, padding=padding, mode=mode, sizes=tuple(sizes), bias=bool(rng.random() < 0.7),
                dtype=DTYPES[int(rng.integers(0, 2))],
                chunk=int(rng.choice([64, 1000, 20000, conv_mod.DEFAULT_CHUNK_BYTES])))


def _torch_conv(x, w, b, cfg):
    nd = len(cfg["kernel"])
    if cfg["padding"] == "same":
        return _CONV_F[nd](_t(x), _t(w), None if b is None else _t(b), stride=1, padding="same",
                           dilation=cfg["dilation"], groups=cfg["g"])
    flat = []
    for left, right in reversed(cfg["padding"]):
        flat += [left, right]
    xt = _t(x)
    if any(flat):
        xt = F.pad(xt, flat, mode=_TORCH_PAD_MODE[cfg["mode"]])
    return _CONV_F[nd](xt, _t(w), None if b is None else _t(b), stride=cfg["stride"],
                       dilation=cfg["dilation"], groups=cfg["g"])


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_matches_torch(nd):
    rng = np.random.default_rng(1000 + nd)
    for i in range(N_CONFIGS):
        cfg = _conv_config(rng, nd)
        dt = cfg["dtype"]
        c_in, c_out = cfg["g"] * cfg["cg"], cfg["g"] * cfg["coutg"]
        x = _rand(rng, (cfg["n"], c_in) + cfg["sizes"], dt)
        w = _rand(rng, (c_out, cfg["cg"]) + cfg["kernel"], dt)
        b = _rand(rng, (c_out,), dt) if cfg["bias"] else None
        ours = conv_mod.conv(x, w, b, cfg["stride"], cfg["padding"], cfg["dilation"], cfg["g"], cfg["mode"],
                             chunk_bytes=cfg["chunk"])
        _check(ours, _torch_conv(x, w, b, cfg), dt, f"config {i}: {cfg}")


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_dense_layers_match_torch(nd):
    """Bigger channel counts (the dense, BLAS-heavy path and the batch-merged layout)."""
    rng = np.random.default_rng(7 + nd)
    spatial = {1: (37,), 2: (13, 11), 3: (6, 7, 5)}[nd]
    for dt in DTYPES:
        for n, c_in, c_out, g in [(3, 16, 24, 1), (2, 12, 18, 3), (4, 16, 16, 16)]:
            x = _rand(rng, (n, c_in) + spatial, dt)
            w = _rand(rng, (c_out, c_in // g) + (3,) * nd, dt)
            b = _rand(rng, (c_out,), dt)
            ours = conv_mod.conv(x, w, b, 1, ((1, 1),) * nd, 1, g)
            ref = _CONV_F[nd](_t(x), _t(w), _t(b), padding=1, groups=g)
            _check(ours, ref, dt, (nd, n, c_in, c_out, g, dt))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_strided_convs_of_large_maps_match_torch(nd):
    """Strides above 1 on maps of at least 1,024 output positions: the phase-split path, with every split
    of the taps (grid and remainder), odd and even input sizes, groups, all padding modes, and blocks of a
    few output rows (the general path where even one output row exceeds ``chunk_bytes``)."""
    rng = np.random.default_rng(40 + nd)
    spatial = {1: (3203,), 2: (100, 103), 3: (31, 32, 34)}[nd]
    cases = [((7,) * nd, (2,) * nd, 3, 1), ((3,) * nd, (2,) * nd, 1, 2), ((5,) * nd, (3,) * nd, 2, 1),
             ((2,) * nd, (2,) * nd, 0, 1), ((4, 3, 1)[:nd], (1, 2, 2)[-nd:], 1, 1)]
    for i, (kernel, stride, pad, g) in enumerate(cases):
        dt = DTYPES[i % 2]
        mode = ["zeros", "reflect", "replicate", "circular"][i % 4]
        x = _rand(rng, (2, 2 * g) + spatial, dt)
        w = _rand(rng, (3 * g, 2) + kernel, dt)
        b = _rand(rng, (3 * g,), dt) if i % 3 else None
        cfg = dict(kernel=kernel, stride=stride, dilation=(1,) * nd, padding=((pad, pad),) * nd, mode=mode, g=g)
        ref = _torch_conv(x, w, b, cfg)
        assert math.prod(ref.shape[2:]) >= 1024
        row_bytes = (2 * math.prod(kernel) + 1) * g * math.prod(ref.shape[3:]) * np.dtype(dt).itemsize
        for chunk in (64, 3 * row_bytes, conv_mod.DEFAULT_CHUNK_BYTES):     # one position, 3 rows, all
            ours = conv_mod.conv(x, w, b, stride, ((pad, pad),) * nd, 1, g, mode, chunk_bytes=chunk)
            _check(ours, ref, dt, f"case {i} chunk {chunk}: {cfg}")


@pytest.mark.parametrize("nd", [2, 3])
def test_stride_one_convs_with_many_junk_columns_match_torch(nd, monkeypatch):
    """Stride 1, zero padding, maps of at least 1,024 output positions whose padding makes over 8 % of the
    flat layout's columns junk (the stacked path), with the trailing sizes kept (unfolded from the flat
    planes) and changed (from the padded input): first-axis kernels of 2 to 5 taps, dilation, asymmetric
    and one-sided padding, padding wider than the kernel reaches, trailing kernels wider than the input,
    groups, no bias, and blocks from one plane to whole samples."""
    from convlint.execute.kernels import stacked
    calls = []
    monkeypatch.setattr(stacked, "conv_stacked", lambda *a, _run=stacked.conv_stacked: calls.append(1) or _run(*a))
    rng = np.random.default_rng(60 + nd)
    spatial = {2: (60, 20), 3: (11, 12, 10)}[nd]
    cases = [  # (kernel, dilation, padding, groups)
        ((3,) * nd, (1,) * nd, ((1, 1),) * nd, 1),
        ((5, 2, 3)[:nd], (1, 2, 1)[:nd], ((2, 2), (0, 1), (1, 1))[:nd], 2),
        ((2, 3, 3)[:nd], (2, 1, 1)[:nd], ((0, 3), (2, 2), (1, 2))[:nd], 1),
        ((4, 3, 3)[:nd], (1, 1, 1)[:nd], ((4, 1), (0, 0), (3, 0))[:nd], 3),
        ((3, 4, 3)[:nd], (2, 1, 2)[:nd], ((0, 2), (1, 2), (2, 2))[:nd], 1),
        ((2, 21, 13)[:nd], (1, 1, 1)[:nd], ((1, 0), (10, 10), (6, 6))[:nd], 1)]
    kept = []
    for i, (kernel, dilation, pads, g) in enumerate(cases):
        dt = DTYPES[i % 2]
        x = _rand(rng, (1 + i % 3, 5 * g) + spatial, dt)     # five channels a group: not depthwise-thin
        w = _rand(rng, (3 * g, 5) + kernel, dt)
        b = _rand(rng, (3 * g,), dt) if i % 2 else None
        cfg = dict(kernel=kernel, stride=(1,) * nd, dilation=dilation, padding=pads, mode="zeros", g=g)
        ref = _torch_conv(x, w, b, cfg)
        assert math.prod(ref.shape[2:]) >= 1024
        kept.append(ref.shape[3:] == x.shape[3:])
        plane = stacked.plane_bytes(w.shape, g, math.prod(ref.shape[3:]), np.dtype(dt).itemsize,
                                     ref.shape[3:] == x.shape[3:])
        for chunk in (plane, 3 * plane, conv_mod.DEFAULT_CHUNK_BYTES):
            calls.clear()
            ours = conv_mod.conv(x, w, b, 1, pads, dilation, g, chunk_bytes=chunk)
            assert calls, f"case {i}: not the stacked path"
            _check(ours, ref, dt, f"case {i} chunk {chunk}: {cfg}")
    assert set(kept) == {True, False}, "both unfolds"


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_depthwise_convs_keeping_the_size_match_torch(nd):
    """Stride 1, groups of one or two channels, zero padding that keeps the size of every axis but the
    first (the depthwise path): reads above and below the plane and reads wrapping round a row, kernels
    wider than the input, dilation, asymmetric padding, channel multipliers, and blocks from one output
    row to whole samples."""
    rng = np.random.default_rng(50 + nd)
    for i in range(12):
        kernel = tuple(int(v) for v in rng.integers(1, 6, nd))
        dilation = tuple(int(v) for v in rng.integers(1, 3, nd))
        sizes = tuple(int(v) for v in rng.integers(2, 9 if nd < 3 else 6, nd))
        pads = []
        for a, (k, d) in enumerate(zip(kernel, dilation)):
            total = d * (k - 1)
            left = int(rng.integers(0, total + 1))
            right = total - left if a else int(rng.integers(0, 3))   # the first axis may change size
            right = max(right, total + 1 - sizes[a] - left)            # at least one output
            pads.append((left, right))
        g, cg, coutg = int(rng.integers(2, 9)), int(rng.integers(1, 3)), int(rng.integers(1, 3))
        dt = DTYPES[i % 2]
        x = _rand(rng, (int(rng.integers(1, 4)), g * cg) + sizes, dt)
        w = _rand(rng, (g * coutg, cg) + kernel, dt)
        b = _rand(rng, (g * coutg,), dt) if i % 3 else None
        cfg = dict(kernel=kernel, stride=(1,) * nd, dilation=dilation, padding=tuple(pads), mode="zeros", g=g)
        ref = _torch_conv(x, w, b, cfg)
        assert ref.shape[3:] == x.shape[3:]
        for chunk in (64, 3000, conv_mod.DEFAULT_CHUNK_BYTES):
            ours = conv_mod.conv(x, w, b, 1, tuple(pads), dilation, g, chunk_bytes=chunk)
            _check(ours, ref, dt, f"case {i} chunk {chunk}: {cfg} sizes {sizes}")


def test_conv_chunking_gives_the_same_result():
    rng = np.random.default_rng(5)
    for nd, spatial in [(1, (29,)), (2, (17, 15)), (3, (7, 6, 8))]:
        for g, cg, coutg in [(1, 5, 6), (3, 2, 2), (8, 1, 2)]:
            x = _rand(rng, (3, g * cg) + spatial, np.float64)
            w = _rand(rng, (g * coutg, cg) + (3,) * nd, np.float64)
            b = _rand(rng, (g * coutg,), np.float64)
            for stride in (1, 2):
                args = (w, b, stride, ((1, 2),) * nd, 1, g)
                full = conv_mod.conv(x, *args)
                for chunk in (1, 200, 5000, 60000):
                    np.testing.assert_allclose(conv_mod.conv(x, *args, chunk_bytes=chunk), full,
                                               rtol=1e-13, atol=1e-13)


def test_chunking_bounds_the_temporaries():
    """The peak of traced allocations stays within output + padded input + chunk_bytes
    (+ 256 KiB for NumPy's own iteration buffers and the reshaped weights)."""
    rng = np.random.default_rng(6)
    x = _rand(rng, (4, 16, 40, 40), np.float32)
    w = _rand(rng, (32, 16, 3, 3), np.float32)
    padded = 4 * 16 * 42 * 42 * 4
    out_bytes = 4 * 32 * 40 * 40 * 4
    for chunk in (50_000, 400_000, 2_000_000):
        conv_mod.conv(x, w, None, 1, 1, chunk_bytes=chunk)     # warm up
        tracemalloc.start()
        try:
            conv_mod.conv(x, w, None, 1, 1, chunk_bytes=chunk)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak <= padded + out_bytes + chunk + 256 * 1024, (chunk, peak)


def test_conv_transpose_chunking_gives_the_same_result():
    rng = np.random.default_rng(8)
    for nd, spatial in [(1, (11,)), (2, (7, 6)), (3, (4, 3, 5))]:
        for g in (1, 2):
            x = _rand(rng, (3, 2 * g) + spatial, np.float64)
            w = _rand(rng, (2 * g, 3) + (3,) * nd, np.float64)
            args = (w, None, 2, 1, 1, 1, g)
            full = tr_mod.conv_transpose(x, *args)
            for chunk in (1, 300, 4000):
                np.testing.assert_allclose(tr_mod.conv_transpose(x, *args, chunk_bytes=chunk), full,
                                           rtol=1e-13, atol=1e-13)


def test_blocks_tile_exactly():
    rng = np.random.default_rng(9)
    for _ in range(200):
        shape = tuple(int(v) for v in rng.integers(1, 6, rng.integers(1, 4)))
        unit = int(rng.integers(1, 50))
        limit = int(rng.integers(1, 2000))
        seen = np.zeros(shape, int)
        for blk in conv_mod._blocks(shape, unit, limit):
            seen[blk] += 1
            size = seen[blk].size
            assert size * unit <= limit or size == 1
        assert (seen == 1).all()


def test_conv_padding_helpers():
    assert conv_mod.resolve_padding("same", (3, 4), (1, 1)) == ((1, 1), (1, 2))
    assert conv_mod.resolve_padding("same", (3, 4), (1, 2)) == ((1, 1), (3, 3))
    assert conv_mod.resolve_padding("valid", (3,)) == ((0, 0),)
    assert conv_mod.resolve_padding(2, (3, 3)) == ((2, 2), (2, 2))
    assert conv_mod.resolve_padding((1, (0, 2)), (3, 3)) == ((1, 1), (0, 2))
    with pytest.raises(ValueError):
        conv_mod.conv(np.zeros((1, 1, 3)), np.zeros((1, 1, 5)))          # output would be empty
    with pytest.raises(ValueError):
        conv_mod.conv(np.zeros((1, 4, 3)), np.zeros((2, 3, 1)), groups=2)  # wrong weight channels


# ----------------------------------------------------------------------------
# transposed convolution
# ----------------------------------------------------------------------------

_CONVT_F = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_transpose_matches_torch(nd):
    rng = np.random.default_rng(2000 + nd)
    for i in range(N_CONFIGS):
        dt = DTYPES[int(rng.integers(0, 2))]
        kind = rng.choice(["plain", "groups", "depthwise"], p=[0.5, 0.25, 0.25])
        if kind == "plain":
            g, cing, coutg = 1, int(rng.integers(1, 5)), int(rng.integers(1, 5))
        elif kind == "groups":
            g, cing, coutg = int(rng.integers(2, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        else:
            g, cing, coutg = int(rng.integers(2, 6)), 1, int(rng.integers(1, 3))
        kernel = tuple(int(v) for v in rng.integers(1, 5 if nd < 3 else 4, nd))
        stride = tuple(int(v) for v in rng.integers(1, 4, nd))
        dilation = tuple(int(v) for v in rng.integers(1, 3, nd))
        out_pad = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        sizes, padding = [], []
        for k, s, d, op in zip(kernel, stride, dilation, out_pad):
            size = int(rng.integers(1, 7 if nd < 3 else 4))
            full = (size - 1) * s + d * (k - 1) + op + 1
            p = int(rng.integers(0, min(3, (full - 1) // 2) + 1))
            sizes.append(size)
            padding.append(p)
        n = int(rng.integers(1, 4))
        x = _rand(rng, (n, g * cing) + tuple(sizes), dt)
        w = _rand(rng, (g * cing, coutg) + kernel, dt)
        b = _rand(rng, (g * coutg,), dt) if rng.random() < 0.7 else None
        chunk = int(rng.choice([50, 3000, tr_mod.DEFAULT_CHUNK_BYTES]))
        ours = tr_mod.conv_transpose(x, w, b, stride, tuple(padding), out_pad, dilation, g, chunk_bytes=chunk)
        ref = _CONVT_F[nd](_t(x), _t(w), None if b is None else _t(b), stride=stride, padding=tuple(padding),
                           output_padding=out_pad, groups=g, dilation=dilation)
        _check(ours, ref, dt, f"config {i}: g={g} cing={cing} coutg={coutg} k={kernel} s={stride} "
                              f"d={dilation} p={padding} op={out_pad} sizes={sizes} n={n} bias={b is not None}")


def test_conv_transpose_rejects_bad_output_padding():
    with pytest.raises(ValueError):
        tr_mod.conv_transpose(np.zeros((1, 1, 4)), np.zeros((1, 1, 3)), stride=2, output_padding=2)


# ----------------------------------------------------------------------------
# pooling
# ----------------------------------------------------------------------------

_MAXP_F = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVGP_F = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _pool_sizes(rng, nd, kernel, stride, padding, dilation, ceil_mode):
    sizes = []
    for k, s, p, d in zip(kernel, stride, padding, dilation):
        lo = max(1, d * (k - 1) + 1 - 2 * p)
        while pool_mod.pool_output_size(lo, k, s, p, d, ceil_mode) < 1:
            lo += 1
        sizes.append(int(rng.integers(lo, lo + (7 if nd < 3 else 4))))
    return tuple(sizes)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_pool_matches_torch(nd):
    rng = np.random.default_rng(3000 + nd)
    for i in range(N_CONFIGS):
        dt = DTYPES[int(rng.integers(0, 2))]
        kernel = tuple(int(v) for v in rng.integers(1, 5 if nd < 3 else 4, nd))
        stride = tuple(int(v) for v in rng.integers(1, 4, nd))
        padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
        dilation = tuple(int(v) for v in rng.integers(1, 3, nd))
        ceil_mode = bool(rng.random() < 0.5)
        sizes = _pool_sizes(rng, nd, kernel, stride, padding, dilation, ceil_mode)
        x = _rand(rng, (int(rng.integers(1, 3)), int(rng.integers(1, 4))) + sizes, dt)
        ours = pool_mod.max_pool(x, kernel, stride, padding, dilation, ceil_mode)
        ref = _MAXP_F[nd](_t(x), kernel, stride, padding, dilation, ceil_mode=ceil_mode)
        _check(ours, ref, dt, f"config {i}: k={kernel} s={stride} p={padding} d={dilation} "
                              f"ceil={ceil_mode} sizes={sizes}")


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_avg_pool_matches_torch(nd):
    rng = np.random.default_rng(4000 + nd)
    for i in range(N_CONFIGS):
        dt = DTYPES[int(rng.integers(0, 2))]
        kernel = tuple(int(v) for v in rng.integers(1, 5 if nd < 3 else 4, nd))
        stride = tuple(int(v) for v in rng.integers(1, 4, nd))
        padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
        ceil_mode = bool(rng.random() < 0.5)
        cip = bool(rng.random() < 0.5)
        div = int(rng.integers(1, 10)) if rng.random() < 0.3 else None
        sizes = _pool_sizes(rng, nd, kernel, stride, padding, (1,) * nd, ceil_mode)
        if nd == 3:  # PyTorch's AvgPool3d also insists on input >= kernel per axis
            sizes = tuple(max(s, k) for s, k in zip(sizes, kernel))
        x = _rand(rng, (int(rng.integers(1, 3)), int(rng.integers(1, 4))) + sizes, dt)
        ours = pool_mod.avg_pool(x, kernel, stride, padding, ceil_mode, cip, div)
        if nd == 1 and div is not None:   # avg_pool1d has no divisor_override: use a 1 x L 2-d pool
            ref = F.avg_pool2d(_t(x)[..., None, :], (1,) + kernel, (1,) + stride, (0,) + padding, ceil_mode,
                               cip, div)[..., 0, :]
        elif nd == 1:
            ref = F.avg_pool1d(_t(x), kernel, stride, padding, ceil_mode, cip)
        else:
            ref = _AVGP_F[nd](_t(x), kernel, stride, padding, ceil_mode, cip, div)
        _check(ours, ref, dt, f"config {i}: k={kernel} s={stride} p={padding} ceil={ceil_mode} "
                              f"count_include_pad={cip} divisor_override={div} sizes={sizes}")


def test_avg_pool_ceil_mode_divisors():
    """Windows that run past the right padding: the divisor never counts the overhang."""
    x = np.arange(1, 6, dtype=np.float64)[None, None]   # [1, 2, 3, 4, 5]
    for cip in (True, False):
        ours = pool_mod.avg_pool(x, 2, 2, 1, ceil_mode=True, count_include_pad=cip)
        ref = F.avg_pool1d(_t(x), 2, 2, 1, ceil_mode=True, count_include_pad=cip)
        _check(ours, ref, np.float64, cip)


_AAVG_F = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
_AMAX_F = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pools_match_torch(nd, kind):
    rng = np.random.default_rng(5000 + nd + (10 if kind == "max" else 0))
    ours_f = pool_mod.adaptive_avg_pool if kind == "avg" else pool_mod.adaptive_max_pool
    ref_f = (_AAVG_F if kind == "avg" else _AMAX_F)[nd]
    for i in range(N_CONFIGS):
        dt = DTYPES[int(rng.integers(0, 2))]
        sizes = tuple(int(v) for v in rng.integers(1, 12 if nd < 3 else 7, nd))
        outs = tuple(int(rng.integers(1, s + 3)) for s in sizes)        # includes out > in, non-divisible
        if nd > 1 and rng.random() < 0.3:
            outs = tuple(None if rng.random() < 0.5 else o for o in outs)
        out_arg = outs[0] if nd == 1 else outs
        x = _rand(rng, (int(rng.integers(1, 3)), int(rng.integers(1, 4))) + sizes, dt)
        _check(ours_f(x, out_arg), ref_f(_t(x), out_arg), dt, f"config {i}: sizes={sizes} output={outs}")


def test_pools_propagate_nan():
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 1, 2] = np.nan
    _check(pool_mod.max_pool(x, 2), F.max_pool2d(_t(x), 2), np.float64, "max_pool NaN")
    _check(pool_mod.adaptive_max_pool(x, 3), F.adaptive_max_pool2d(_t(x), 3), np.float64, "adaptive NaN")


# ----------------------------------------------------------------------------
# resampling
# ----------------------------------------------------------------------------

_LINEAR_MODE = {1: "linear", 2: "bilinear", 3: "trilinear"}
_SCALES = [0.5, 0.75, 1.0, 1.05, 1.3, 1.5, 2.0, 2.3, 2.5, 3.0, 1 / 3, 0.3]


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_upsample_matches_torch(nd):
    rng = np.random.default_rng(6000 + nd)
    for i in range(N_CONFIGS + 30):
        dt = DTYPES[int(rng.integers(0, 2))]
        mode = str(rng.choice(["nearest", "nearest-exact", _LINEAR_MODE[nd]]))
        sizes = tuple(int(v) for v in rng.integers(1, 10 if nd < 3 else 6, nd))
        size = scale = None
        recompute = None
        if rng.random() < 0.4:
            size = tuple(int(v) for v in rng.integers(1, 14 if nd < 3 else 8, nd))
        else:
            scale = tuple(float(rng.choice(_SCALES)) for _ in range(nd))
            if any(math.floor(s * f) < 1 for s, f in zip(sizes, scale)):
                scale = tuple(max(f, 1.0) for f in scale)
            recompute = bool(rng.random() < 0.3)
        align = bool(rng.random() < 0.5) if mode in _LINEAR_MODE.values() else None
        x = _rand(rng, (int(rng.integers(1, 3)), int(rng.integers(1, 3))) + sizes, dt)
        ours = rs_mod.upsample(x, size=size, scale_factor=scale, mode=mode, align_corners=align,
                               recompute_scale_factor=recompute)
        ref = F.interpolate(_t(x), size=size, scale_factor=scale, mode=mode, align_corners=align,
                            recompute_scale_factor=recompute)
        _check(ours, ref, dt, f"config {i}: mode={mode} sizes={sizes} size={size} scale={scale} "
                              f"align_corners={align} recompute={recompute}")


def test_upsample_nearest_uses_the_inverse_scale_factor():
    # with scale_factor, PyTorch's nearest scale is 1/scale_factor, not in/out (5 -> 5 here, not identity)
    x = np.arange(5, dtype=np.float32)[None, None]
    ours = rs_mod.upsample(x, scale_factor=1.05)
    np.testing.assert_array_equal(ours[0, 0], [0, 0, 1, 2, 3])
    np.testing.assert_array_equal(ours, F.interpolate(_t(x), scale_factor=1.05).numpy())
    # ... except in PyTorch's 2-d kernel, which keeps an unchanged size as the identity
    x2 = np.broadcast_to(x[..., None, :], (1, 1, 2, 5)).copy()
    ours2 = rs_mod.upsample(x2, scale_factor=1.05)
    np.testing.assert_array_equal(ours2, F.interpolate(_t(x2), scale_factor=1.05).numpy())
    np.testing.assert_array_equal(ours2[0, 0, 0], [0, 1, 2, 3, 4])


# ----------------------------------------------------------------------------
# element-wise
# ----------------------------------------------------------------------------

def _activation_pairs():
    return [
        ("relu", E.relu, F.relu),
        ("relu6", E.relu6, F.relu6),
        ("leaky_relu", E.leaky_relu, F.leaky_relu),
        ("leaky_relu(0.2)", lambda x: E.leaky_relu(x, 0.2), lambda t: F.leaky_relu(t, 0.2)),
        ("sigmoid", E.sigmoid, torch.sigmoid),
        ("tanh", E.tanh, torch.tanh),
        ("gelu", E.gelu, F.gelu),
        ("gelu(tanh)", lambda x: E.gelu(x, "tanh"), lambda t: F.gelu(t, approximate="tanh")),
        ("silu", E.silu, F.silu),
        ("hardswish", E.hardswish, F.hardswish),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
def test_activations_match_torch(dtype):
    rng = np.random.default_rng(7000)
    for shape, spread in [((3, 4, 9, 9), 4.0), ((2, 5), 30.0), ((2, 3, 4, 5, 6), 1.0), ((7,), 200.0)]:
        x = _rand(rng, shape, dtype, -spread, spread)
        x.flat[0] = 0.0
        for name, ours_f, ref_f in _activation_pairs():
            _check(ours_f(x), ref_f(_t(x)), dtype, f"{name} shape={shape} spread={spread}")


def test_erf_accuracy():
    xs = np.concatenate([np.linspace(-7, 7, 20001), np.geomspace(1e-300, 7, 5000),
                         -np.geomspace(1e-12, 7, 2000), [0.0, 1.0, 2.5, 4.0, 6.0, -6.0, np.inf, -np.inf]])
    ref = np.array([math.erf(v) for v in xs])
    ours = E.erf(xs)
    assert np.max(np.abs(ours - ref)) < 5e-15
    nz = ref != 0
    assert np.max(np.abs(ours[nz] - ref[nz]) / np.abs(ref[nz])) < 5e-15
    assert np.isnan(E.erf(np.array([np.nan]))).all()
    assert E.erf(np.float32([0.5])).dtype == np.float32


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_linear_flatten_match_torch(dtype):
    rng = np.random.default_rng(7100)
    for shape in [(4, 10), (2, 3, 5, 6), (2, 3, 2, 3, 4)]:
        x = _rand(rng, shape, dtype, -10, 10)
        for dim in range(-len(shape), len(shape)):
            _check(E.softmax(x, dim), F.softmax(_t(x), dim=dim), dtype, f"softmax {shape} dim={dim}")
        for start in range(len(shape)):
            for end in range(start, len(shape)):
                ours = E.flatten(x, start, end)
                assert ours.shape == tuple(torch.flatten(_t(x), start, end).shape)
                np.testing.assert_array_equal(ours, torch.flatten(_t(x), start, end).numpy())
        assert E.flatten(x).shape == tuple(torch.nn.Flatten()(_t(x)).shape)
    for lead in [(5,), (2, 3), (2, 3, 4)]:
        x = _rand(rng, lead + (7,), dtype)
        w = _rand(rng, (4, 7), dtype)
        b = _rand(rng, (4,), dtype)
        _check(E.linear(x, w, b), F.linear(_t(x), _t(w), _t(b)), dtype, f"linear {lead}")
        _check(E.linear(x, w), F.linear(_t(x), _t(w)), dtype, f"linear {lead} no bias")


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_matches_torch(dtype):
    rng = np.random.default_rng(7200)
    # the last shape's planes are larger than the block batch_norm computes at a time
    for shape in [(4, 3), (2, 3, 7), (2, 4, 5, 6), (2, 2, 3, 4, 5), (2, 3, 190, 190)]:
        c = shape[1]
        x = _rand(rng, shape, dtype, -3, 3)
        mean, var = _rand(rng, (c,), dtype), _rand(rng, (c,), dtype, 0.1, 2.0)
        w, b = _rand(rng, (c,), dtype), _rand(rng, (c,), dtype)
        for eps in (1e-5, 1e-3):
            for affine in (True, False):
                ours = E.batch_norm(x, mean, var, w if affine else None, b if affine else None, eps)
                ref = F.batch_norm(_t(x), _t(mean), _t(var), _t(w) if affine else None,
                                   _t(b) if affine else None, training=False, eps=eps)
                _check(ours, ref, dtype, f"batch_norm {shape} eps={eps} affine={affine}")


# ----------------------------------------------------------------------------
# initialisation
# ----------------------------------------------------------------------------

def test_default_parameters_follow_torch():
    torch.manual_seed(0)
    modules = [
        ("Conv2d", torch.nn.Conv2d(6, 8, (3, 5), groups=2)),
        ("Conv1d", torch.nn.Conv1d(3, 4, 7)),
        ("Conv3d", torch.nn.Conv3d(4, 4, 3, groups=4, bias=False)),
        ("ConvTranspose2d", torch.nn.ConvTranspose2d(8, 6, 4, groups=2)),
        ("ConvTranspose1d", torch.nn.ConvTranspose1d(2, 5, 3)),
        ("Linear", torch.nn.Linear(20, 3)),
    ]
    rng = np.random.default_rng(0)
    for name, module in modules:
        shapes = {k: tuple(p.shape) for k, p in module.named_parameters()}
        params = init_mod.kaiming_uniform(shapes, rng)
        assert list(params) == list(shapes)
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(module.weight)
        assert init_mod.fan_in(shapes["weight"]) == fan_in
        bound = 1 / math.sqrt(fan_in)
        for key, value in params.items():
            assert value.shape == shapes[key] and value.dtype == np.float32
            assert np.abs(value).max() <= bound
            # torch's own draws respect the same bound
            assert float(getattr(module, key).detach().abs().max()) <= bound * (1 + 1e-6)
    big = init_mod.kaiming_uniform({"weight": (64, 32, 3, 3)}, rng)["weight"]
    bound = 1 / math.sqrt(32 * 9)
    assert abs(big.std() - bound / math.sqrt(3)) < 0.02 * bound and big.max() > 0.99 * bound


def _context(type_name: str, input_shape: tuple[int, ...], **written):
    """The layer type of ``type_name`` and a context for one layer of it reading ``input_shape``."""
    from convlint.layers.layer_type import LayerContext
    from convlint.layers.registry import default_registry
    from convlint.spec.model import Layer

    layer_type = default_registry().types[type_name]
    ndim = len(input_shape) - 2
    args = {key: keyword.convert(written.get(key, keyword.default), ndim) for key, keyword in layer_type.keywords.items()}
    return layer_type, LayerContext(Layer("layer", type_name, ["x"], written, 0, 1, 1), [input_shape], args, ndim, "t.yaml")


@pytest.mark.parametrize("type_name,module,input_shape,written", [
    ("Conv2d", torch.nn.Conv2d(6, 8, (3, 5), groups=2), (1, 6, 9, 9), {"out_channels": 8, "kernel_size": [3, 5], "groups": 2}),
    ("ConvTranspose1d", torch.nn.ConvTranspose1d(2, 5, 3), (1, 2, 9), {"out_channels": 5, "kernel_size": 3}),
    ("Linear", torch.nn.Linear(20, 3), (1, 20), {"out_features": 3}),
])
def test_layer_types_initialise_as_torch(type_name, module, input_shape, written):
    """Each built-in type with weights draws them in PyTorch's bound, with PyTorch's state-dict keys and shapes."""
    layer_type, ctx = _context(type_name, input_shape, **written)
    params = layer_type.initial_parameters(ctx, np.random.default_rng(0))
    assert {key: value.shape for key, value in params.items()} == {k: tuple(p.shape) for k, p in module.named_parameters()}
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(module.weight)
    assert all(np.abs(value).max() <= 1 / math.sqrt(fan_in) for value in params.values())
    assert np.abs(params["weight"]).max() > 0.5 / math.sqrt(fan_in)


def test_default_parameters_batchnorm_matches_torch():
    bn = torch.nn.BatchNorm2d(5)
    layer_type, ctx = _context("BatchNorm2d", (1, 5, 4, 4))
    params = layer_type.initial_parameters(ctx, np.random.default_rng(0))
    assert set(params) == set(bn.state_dict()) - {"num_batches_tracked"}
    for key, value in params.items():
        np.testing.assert_array_equal(value, bn.state_dict()[key].numpy())
    counted = init_mod.constant_parameters({"num_batches_tracked": ()}, {})["num_batches_tracked"]
    assert counted.dtype == np.int64 and counted == bn.state_dict()["num_batches_tracked"].item()
    layer_type, ctx = _context("ReLU", (1, 5, 4, 4))
    assert layer_type.initial_parameters(ctx, 0) == {}
    with pytest.raises(ValueError):
        init_mod.kaiming_uniform({"kernel": (3, 3)}, 0)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_pointwise_conv_matches_torch(nd):
    """1×…×1 kernels without padding (the GEMM straight on the input), with strides, groups and biases."""
    rng = np.random.default_rng(50 + nd)
    for stride, groups, bias, dt in [(1, 1, True, np.float32), (2, 1, False, np.float32), (3, 2, True, np.float64),
                                     (1, 4, False, np.float64)]:
        x = _rand(rng, (3, 8) + (7,) * nd, dt)
        w = _rand(rng, (12, 8 // groups) + (1,) * nd, dt)
        b = _rand(rng, (12,), dt) if bias else None
        ours = conv_mod.conv(x, w, b, stride, 0, 1, groups)
        theirs = _CONV_F[nd](_t(x), _t(w), None if b is None else _t(b), stride=stride, groups=groups)
        _check(ours, theirs, dt, f"stride {stride}, groups {groups}, bias {bias}")
