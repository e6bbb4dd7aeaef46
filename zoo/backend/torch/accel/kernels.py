"""The CPU products the torch acceleration chooses among, and what the choosing shares.

Two kernels in torch's CPU build multiply rows by a weight laid out once ("packed"):
MKL's (``torch.ops.mkl._mkl_linear``) and oneDNN's (``torch.ops.mkldnn._linear_pointwise``,
which also takes dense, even strided, weights). Which is faster than the plain product
depends on the CPU (MKL runs below its best on AMD CPUs; oneDNN dispatches by instruction
set), so a choice left to ``auto`` is timed by ``best_seconds`` on stand-in tensors.
"""
import time

import torch


class Kernel:
    """A product of rows by a weight laid out once: ``pack(matrix, rows)`` lays out a
    (out, in) matrix for ``rows``-row products, ``run(x, packed, matrix, bias, rows)``
    multiplies (rows, in) by it."""

    def __init__(self, name, pack, run):
        self.name, self.pack, self.run = name, pack, run

    def __repr__(self):
        return f"Kernel({self.name!r})"


def onednn_product(x, weight, bias=None):
    """``x @ weight.T + bias`` through oneDNN; ``weight`` (out, in): packed, dense or
    strided."""
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


def _mkl_run(x, packed, matrix, bias, rows):
    return torch.ops.mkl._mkl_linear(x, packed, matrix, bias, rows)


def _onednn_run(x, packed, matrix, bias, rows):
    return onednn_product(x, packed, bias)


KERNELS = {}  # name -> Kernel, those this torch build has
if torch.backends.mkl.is_available() and hasattr(torch.ops.mkl, "_mkl_linear"):
    KERNELS["mkl"] = Kernel("mkl", torch.ops.mkl._mkl_reorder_linear_weight, _mkl_run)
if torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise"):
    KERNELS["onednn"] = Kernel("onednn", torch.ops.mkldnn._reorder_linear_weight,
                               _onednn_run)


def best_seconds(call, repeats=5, enough=0.02):
    """The fastest of up to ``repeats`` calls after a warm-up, fewer once ``enough``
    seconds were spent (a 4096-row product takes tens of milliseconds). The one place the
    acceleration times anything."""
    call()
    best, spent = float("inf"), 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds = time.perf_counter() - start
        best, spent = min(best, seconds), spent + seconds
        if spent >= enough:
            break
    return best


def row_bucket(rows):
    """The power of two at or above ``rows``: timings are kept per bucket, so inputs of
    many lengths (a server's prompts, dynamic padding) are timed a few times, not once per
    length."""
    return 1 << (rows - 1).bit_length()


def rows_of(x):
    """The number of rows of ``x`` seen as (rows, last dimension)."""
    rows = 1
    for size in x.shape[:-1]:
        rows *= size
    return rows


def weight_of(matrix):
    """The variable tensor (a Parameter) that ``matrix`` is, or is a reshaped view of
    whole (EinsumDense's (in, heads, size) kernel as (in, heads * size)); else None (a
    traced call's stand-in, a tensor computed per call)."""
    if type(matrix) is torch.nn.Parameter:
        return matrix
    base = matrix._base
    if type(base) is torch.nn.Parameter and matrix.is_contiguous() \
            and matrix.numel() == base.numel() and matrix.data_ptr() == base.data_ptr():
        return base
    return None


def float32_cpu(*tensors):
    """Whether every tensor given (None skipped) is float32 on the CPU."""
    return all(t is None or (t.dtype is torch.float32 and t.device.type == "cpu")
               for t in tensors)
