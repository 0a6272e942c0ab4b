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


@pytest.mark.parametrize("threads", [2, 3])
def test_depthwise_blocks_over_threads_match_torch(threads):
    """The depthwise path hands runs of blocks to several threads; together they fill the whole output."""
    import threadpoolctl
    import torch

    from convlint.execute.kernels import conv

    rng = np.random.default_rng(threads)        # data of its own: no earlier array holds the result
    x = rng.standard_normal((3, 24, 17, 19))
    w = rng.standard_normal((48, 1, 3, 5))
    b = rng.standard_normal(48)
    with threadpoolctl.threadpool_limits(threads, user_api="blas"):
        assert parallel.threads() == threads
        spread = conv.conv(x, w, b, 1, ((1, 1), (2, 2)), 1, 24, chunk_bytes=20_000)
    expected = torch.nn.functional.conv2d(*map(torch.from_numpy, (x, w, b)), padding=(1, 2), groups=24).numpy()
    np.testing.assert_allclose(spread, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("case", [
    # (input, weight, stride, padding, groups): flat (3×3 stride 1), general (strided), phases (7×7 stride 2
    # stem), a 3-D flat case, and 3-D stacked cases (one sample: its output planes split over the threads)
    ((3, 8, 21, 23), (16, 8, 3, 3), 1, 1, 1),
    ((3, 8, 21, 23), (16, 4, 3, 3), 2, 1, 2),
    ((2, 3, 70, 66), (8, 3, 7, 7), 2, 3, 1),
    ((2, 4, 9, 10, 11), (6, 4, 3, 3, 3), 1, 1, 1),
    ((1, 4, 12, 10, 11), (6, 4, 3, 3, 3), 1, 1, 1),
    ((2, 4, 12, 10, 11), (6, 2, 3, 3, 3), 1, 1, 2),
    ((3, 8, 21, 23), (16, 8, 1, 1), 2, 0, 1),
    ((1, 8, 21, 23), (16, 4, 1, 1), 1, 0, 2),
], ids=["flat", "strided", "stem", "3-d", "3-d stacked, one sample", "3-d stacked, groups", "1×1 strided",
                       "1×1 one sample"])
def test_blocks_over_threads_match_torch(threads, case):
    """Each thread takes a run of the blocks with a buffer of its own and BLAS at one thread; together
    they fill the whole output, and BLAS's thread count is given back afterwards."""
    import threadpoolctl
    import torch

    from convlint.execute.kernels import conv

    x_shape, w_shape, stride, padding, groups = case
    rng = np.random.default_rng(threads)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    torch_conv = {4: torch.nn.functional.conv2d, 5: torch.nn.functional.conv3d}[len(x_shape)]
    expected = torch_conv(*map(torch.from_numpy, (x, w, b)), stride=stride, padding=padding, groups=groups).numpy()
    with threadpoolctl.threadpool_limits(threads, user_api="blas"):
        spread = conv.conv(x, w, b, stride, padding, 1, groups, chunk_bytes=60_000)
        assert parallel.threads() == threads
    np.testing.assert_allclose(spread, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("threads", [2, 3])
def test_element_wise_passes_over_threads_match_torch(threads):
    """ReLU and batch norm of an array over the parallel size split its planes over threads."""
    import threadpoolctl
    import torch

    from convlint.execute.kernels import elementwise

    rng = np.random.default_rng(threads)
    x = rng.standard_normal((3, 5, 150, 151)).astype(np.float32)
    assert x.nbytes >= parallel.MIN_PARALLEL_BYTES
    mean, var, weight, bias = (rng.random(5).astype(np.float32) + 0.5 for _ in range(4))
    with threadpoolctl.threadpool_limits(threads, user_api="blas"):
        relu = elementwise.relu(x)
        normed = elementwise.batch_norm(x, mean, var, weight, bias)
    np.testing.assert_array_equal(relu, torch.relu(torch.from_numpy(x)).numpy())
    expected = torch.nn.functional.batch_norm(*map(torch.from_numpy, (x, mean, var, weight, bias)), eps=1e-5)
    np.testing.assert_allclose(normed, expected.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("threads", [2, 3])
def test_pools_over_threads_match_torch(threads):
    """Max and average pooling of an array over the parallel size take blocks of planes in several threads
    (more blocks than threads, the last one short); together they fill the whole output."""
    import threadpoolctl
    import torch
    import torch.nn.functional as F

    from convlint.execute.kernels import pool

    rng = np.random.default_rng(10 + threads)
    x = rng.standard_normal((3, 14, 180, 181)).astype(np.float32)
    assert x.nbytes >= 4 * pool._POOL_BLOCK_BYTES + parallel.MIN_PARALLEL_BYTES
    with threadpoolctl.threadpool_limits(threads, user_api="blas"):
        assert parallel.threads() == threads
        maxed = pool.max_pool(x, (3, 2), (2, 1), (1, 1), (1, 2), ceil_mode=True)
        averaged = pool.avg_pool(x, 3, 2, 1, count_include_pad=False)
    tx = torch.from_numpy(x)
    np.testing.assert_array_equal(maxed, F.max_pool2d(tx, (3, 2), (2, 1), (1, 1), (1, 2), ceil_mode=True).numpy())
    np.testing.assert_allclose(averaged, F.avg_pool2d(tx, 3, 2, 1, count_include_pad=False).numpy(),
                               rtol=1e-6, atol=1e-6)


def test_convolutions_in_several_threads_give_back_the_blas_thread_count():
    """Convolutions run from two threads at once each lower BLAS to one thread for their blocks; when
    both are done, the count is what it was."""
    import threading

    import threadpoolctl

    from convlint.execute.kernels import conv

    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((4, 8, 30, 30)), rng.standard_normal((8, 8, 3, 3))
    expected = conv.conv(x, w, None, 1, 1)
    results = []
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        runners = [threading.Thread(target=lambda: results.append(conv.conv(x, w, None, 1, 1, chunk_bytes=30_000)))
                   for _ in range(2)]
        for runner in runners:
            runner.start()
        for runner in runners:
            runner.join()
        assert parallel.threads() == 2
    assert len(results) == 2 and all(np.allclose(result, expected) for result in results)

