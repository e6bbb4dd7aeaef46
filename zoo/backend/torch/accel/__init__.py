"""The torch backend's CPU acceleration, behind one surface.

The rest of the torch backend calls only the functions here:

* ``linear(x, kernel, bias)``: ``x @ kernel + bias`` through a faster product where one
  applies (a packed copy of the weight for products without gradients,
  ``packed_weights.py``; oneDNN for dense products that need gradients,
  ``onednn_training.py``), else None and the caller multiplies as usual;
* ``matmul_left(weight, x)``: ``weight @ x`` for a skinny ``x`` through the weight's
  packed copy, else None;
* ``weights_changed_in_place(tensors)``: an update that wrote into weights without
  bumping their version counters (torch's fused Adam) says so, because packed copies are
  kept per weight version;
* ``packed_kernel_choices()``: which kernel each row bucket uses (benchmarks print it).

Settings come from ``zoo.config.set_torch_acceleration`` (zoo/backend/common/acceleration.py,
with the ``ZOO_TORCH_*`` environment variables as defaults) and apply as they are made.
"""
import torch

from zoo.backend.common import acceleration
from zoo.backend.torch.accel import kernels, onednn_training, packed_weights

matmul_left = packed_weights.matmul_left


def linear(x, kernel, bias):
    out = packed_weights.linear(x, kernel, bias)  # no gradient: the weight's packed copy
    if out is None:
        out = onednn_training.linear(x, kernel, bias)  # gradients, where oneDNN is faster
    return out


def weights_changed_in_place(tensors):
    """Bump the version counters of ``tensors`` (a list), written in place by a kernel
    that left them as they were: their packed copies become stale."""
    torch.autograd.graph.increment_version(tensors)


def available_kernels():
    """The names of the packed kernels this torch build has ("mkl", "onednn")."""
    return sorted(kernels.KERNELS)


def packed_kernel_choices():
    """{row bucket: "mkl" | "onednn" | "plain"} for the row buckets chosen so far."""
    return {rows: kernel.name if kernel is not None else "plain"
            for rows, kernel in sorted(packed_weights.cache().choices.items())}


def configure(settings):
    """Apply a TorchAcceleration (called by zoo.config.set_torch_acceleration): refuses a
    kernel this torch build does not have, before changing anything."""
    if settings.kernel in ("mkl", "onednn") and settings.kernel not in kernels.KERNELS:
        raise ValueError(
            f"torch acceleration kernel={settings.kernel!r} (zoo.config."
            f"set_torch_acceleration or {acceleration.ENVIRONMENT['kernel']}): this torch "
            f"build has no {settings.kernel} kernel (available: "
            f"{available_kernels() or 'none'}; 'auto' or 'plain' work everywhere).")
    if (settings.packed_weights_bytes, settings.kernel) != _configured.get("packed"):
        packed_weights.configure(settings.packed_weights_bytes, settings.kernel)
        _configured["packed"] = (settings.packed_weights_bytes, settings.kernel)
    onednn_training.configure(settings.onednn_training)


_configured = {}
acceleration.on_change(configure)
