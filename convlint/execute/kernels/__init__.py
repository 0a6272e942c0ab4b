"""NumPy compute kernels of the reference executor, as pure functions.

Importing this package is cheap (it imports nothing); the submodules import
NumPy and are meant to be imported lazily by the executor:

* :mod:`.conv` -- ``conv`` (ConvNd, im2col + one matmul per group, chunked);
* :mod:`.phases` -- ``conv_phases`` (strided convolutions of large maps, on the stride phases of the input);
* :mod:`.depthwise` -- ``conv_same_thin`` (depthwise convolutions that keep the size, from the flat planes);
* :mod:`.transposed` -- ``conv_transpose`` (ConvTransposeNd, matmul + col2im);
* :mod:`.pool` -- ``max_pool``, ``avg_pool``, ``adaptive_avg_pool``, ``adaptive_max_pool``;
* :mod:`.resample` -- ``upsample`` (nearest, nearest-exact, (bi/tri)linear);
* :mod:`.elementwise` -- ``batch_norm``, activations, ``softmax``, ``linear``, ``flatten``, ``erf``;
* :mod:`.init` -- ``kaiming_uniform`` and ``constant_parameters`` (PyTorch's default initialisations).
* :mod:`.parallel` -- ``copyto``, ``run_blocks``, ``map_rows`` (copies, GEMM blocks and element-wise passes
  spread over threads);
* :mod:`.activation` -- ``hardsigmoid``, ``mish``, ``softplus``, ``prelu``;
* :mod:`.norm` -- ``layer_norm``, ``group_norm``, ``instance_norm``;
* :mod:`.rearrange` -- ``pad``, ``pixel_shuffle``, ``pixel_unshuffle``, ``channel_shuffle``;

All kernels take and return ``(N, C, *spatial)`` arrays (1-, 2- or 3-d
spatial), follow ``torch.nn`` semantics in inference mode, and keep the input
dtype (float32 or float64).  ``convlint.execute.kernels.<module>`` attributes are
resolved lazily, so ``from convlint import kernels; kernels.conv.conv(...)``
works too.
"""
from __future__ import annotations

import importlib

__all__ = ["activation", "conv", "depthwise", "elementwise", "init", "norm", "parallel", "phases", "pool", "rearrange",
           "resample", "transposed"]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
