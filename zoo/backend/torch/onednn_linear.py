"""Dense-layer products that need gradients, through oneDNN where it is the faster GEMM.

torch's float32 ``addmm``/``mm`` on the CPU are MKL's, which runs well below its best on
AMD CPUs: on a 2-core AMD EPYC, a BERT-base training batch's (1024 x 768) @ (768 x 3072)
takes 27 ms in MKL and 11-12 ms in oneDNN (``torch.ops.mkldnn._linear_pointwise``, which
takes dense, even strided, weights). A training step runs three products per dense layer:
the forward ``x @ kernel``, and in the backward ``g @ kernel.T`` and ``x.T @ g``.

The first product of each shape (rows, in, out), rows rounded up to a power of two, times
those three products both ways on stand-in tensors of that shape and keeps the faster way
for it, so a CPU where MKL
is the faster (a Xeon) keeps the plain products. The backward of a oneDNN product runs
plain differentiable products when a second derivative is being recorded (``create_graph``).
Packed copies (``packed_gemm``) serve products without gradients; this module serves the
rest.
"""
import os

import torch

from zoo.backend.torch import packed_gemm
from zoo.backend.torch.packed_gemm import onednn_product

MIN_ROWS = 64  # fewer rows: the products are small and memory-bound either way
_AVAILABLE = "onednn" in packed_gemm.KERNELS
_FASTER = {}  # (row bucket, in, out) -> whether oneDNN's three products beat the plain ones


class _Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, kernel, bias):
        ctx.save_for_backward(x, kernel)
        ctx.has_bias = bias is not None
        return onednn_product(x, kernel.t(), bias)

    @staticmethod
    def backward(ctx, grad):
        x, kernel = ctx.saved_tensors
        need_x, need_kernel, need_bias = ctx.needs_input_grad
        if torch.is_grad_enabled():  # create_graph: differentiable products
            grad_x = grad @ kernel.t() if need_x else None
            grad_kernel = x.t() @ grad if need_kernel else None
        else:
            grad = grad.contiguous()
            grad_x = onednn_product(grad, kernel) if need_x else None
            grad_kernel = onednn_product(x.t(), grad.t()) if need_kernel else None
        grad_bias = grad.sum(0) if ctx.has_bias and need_bias else None
        return grad_x, grad_kernel, grad_bias


def _enabled():
    value = os.environ.get("ZOO_TORCH_ONEDNN_TRAINING", "auto").strip().lower()
    if value not in ("auto", "0", "off"):
        raise ValueError(f"ZOO_TORCH_ONEDNN_TRAINING={value!r}: expected auto (time "
                         "oneDNN against the plain products per shape) or 0 (off).")
    return value == "auto"


_ENABLED = _AVAILABLE and _enabled()


def _faster(rows, in_features, out_features):
    rows = packed_gemm.row_bucket(rows)
    key = (rows, in_features, out_features)
    if key not in _FASTER:
        x, kernel = torch.ones(rows, in_features), torch.ones(in_features, out_features)
        bias, grad = torch.ones(out_features), torch.ones(rows, out_features)

        def plain():
            torch.addmm(bias, x, kernel), grad @ kernel.t(), x.t() @ grad

        def onednn():
            onednn_product(x, kernel.t(), bias), onednn_product(grad, kernel), \
                onednn_product(x.t(), grad.t())

        with torch.no_grad():
            _FASTER[key] = packed_gemm._best_seconds(onednn) < packed_gemm._best_seconds(plain)
    return _FASTER[key]


def linear(x, kernel, bias):
    """``x @ kernel + bias`` (kernel (in, out)) through oneDNN, recorded for autograd,
    where the product needs a gradient and oneDNN is the faster for its shape; else
    None: the caller multiplies as usual."""
    if not (_ENABLED and torch.is_grad_enabled() and kernel.ndim == 2
            and (x.requires_grad or kernel.requires_grad
                 or (bias is not None and bias.requires_grad))):
        return None
    if packed_gemm._weight_of(kernel) is None:  # a traced call's stand-in, not a variable
        return None
    if not packed_gemm.float32_cpu(x, kernel, bias):
        return None
    rows = packed_gemm.rows_of(x)
    if rows < MIN_ROWS or not _faster(rows, kernel.shape[0], kernel.shape[1]):
        return None
    flat = x.reshape(rows, x.shape[-1]).contiguous()
    out = _Linear.apply(flat, kernel, bias)
    return out.reshape(*x.shape[:-1], kernel.shape[1])
