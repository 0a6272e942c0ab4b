"""Copies spread over threads give exactly what one ``np.copyto`` gives, for any split."""
from __future__ import annotations

import numpy as np
import pytest

from convlint.execute.kernels import parallel


@pytest.mark.parametrize("workers", [1, 2, 3, 7])
@pytest.mark.parametrize("shape, order", [((64, 80, 70), (2, 0, 1)), ((3, 5, 200, 300), (0, 1, 3, 2)),
                                          ((1, 1, 2, 400_000), (0, 1, 2, 3)), ((5, 7), (1, 0))])
def test_copy_matches_numpy(shape, order, workers):
    source = np.random.default_rng(0).standard_normal(shape).astype(np.float32).transpose(order)
    expected = np.empty(source.shape, np.float32)
    np.copyto(expected, source)
    destination = np.full(source.shape, np.nan, np.float32)
    parallel.copyto(destination, source, workers)
    np.testing.assert_array_equal(destination, expected)


def test_the_thread_count_follows_the_blas_limit():
    import threadpoolctl

    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert parallel.threads() == 1
