"""Dense-layer products that need gradients, through oneDNN where it is the faster GEMM.

torch's float32 ``addmm``/``mm`` on the CPU are MKL's, which runs well below its best on
AMD CPUs: on a 2-core AMD EPYC, a BERT-base training batch's (1024 x 768) @ (768 x 3072)
takes 27 ms in MKL and 11-12 ms in oneDNN (``torch.ops.mkldnn._linear_pointwise``, which
takes dense, even strided, weights). A training step runs three products per dense layer:
the forward ``x @ kernel``, and in the backward ``g @ kernel.T`` and ``x.T @ g``.

With ``onednn_training="auto"`` (the default), the first product of each shape (rows, in,
out), rows rounded up to a power of two, times those three products both ways on stand-in
tensors of that shape and keeps the faster way for it, so a CPU where MKL is the faster (a
Xeon) keeps the plain products; ``"on"`` takes oneDNN for every shape it serves and
``"off"`` never, with no timing. The backward of a oneDNN product runs plain differentiable
products when a second derivative is being recorded (``create_graph``). Packed copies
(``packed_weights``) serve products without gradients; this module serves the rest.
"""
import torch

from zoo.backend.torch.accel import kernels
from zoo.backend.torch.accel.kernels import onednn_product

MIN_ROWS = 64  # fewer rows: the products are small and memory-bound either way
AVAILABLE = "onednn" in kernels.KERNELS
_mode = "off"  # "auto" | "on" | "off", set by configure()
_faster = {}  # (row bucket, in, out) -> whether oneDNN's three products beat the plain ones


class OneDNNLinear(torch.autograd.Function):
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


def configure(mode):
    """``mode``: "auto" (timed per shape), "on" or "off" (pinned)."""
    global _mode
    _mode = mode if AVAILABLE else "off"


def mode():
    return _mode


def timed_shapes():
    """{(row bucket, in, out): whether oneDNN was the faster} of the shapes timed so far."""
    return dict(_faster)


def _onednn_is_faster(rows, in_features, out_features):
    if _mode == "on":
        return True
    key = (kernels.row_bucket(rows), in_features, out_features)
    if key not in _faster:
        rows = key[0]
        x, kernel = torch.ones(rows, in_features), torch.ones(in_features, out_features)
        bias, grad = torch.ones(out_features), torch.ones(rows, out_features)

        def plain():
            torch.addmm(bias, x, kernel), grad @ kernel.t(), x.t() @ grad

        def onednn():
            onednn_product(x, kernel.t(), bias), onednn_product(grad, kernel), \
                onednn_product(x.t(), grad.t())

        with torch.no_grad():
            _faster[key] = kernels.best_seconds(onednn) < kernels.best_seconds(plain)
    return _faster[key]


def linear(x, kernel, bias):
    """``x @ kernel + bias`` (kernel (in, out)) through oneDNN, recorded for autograd,
    where the product needs a gradient and oneDNN is chosen for its shape; else None: the
    caller multiplies as usual."""
    if not (_mode != "off" and torch.is_grad_enabled() and kernel.ndim == 2
            and (x.requires_grad or kernel.requires_grad
                 or (bias is not None and bias.requires_grad))):
        return None
    if kernels.weight_of(kernel) is None:  # a traced call's stand-in, not a variable
        return None
    if not kernels.float32_cpu(x, kernel, bias):
        return None
    rows = kernels.rows_of(x)
    if rows < MIN_ROWS or not _onednn_is_faster(rows, kernel.shape[0], kernel.shape[1]):
        return None
    flat = x.reshape(rows, x.shape[-1]).contiguous()
    out = OneDNNLinear.apply(flat, kernel, bias)
    return out.reshape(*x.shape[:-1], kernel.shape[1])
