"""Products of 1 to 4096 rows by a weight whose pre-laid-out copy is kept.

A decode step multiplies a few rows (the batch, or the batch times the guessed tokens) by
every weight of the model, and a fixed-shape inference batch (BERT, 8 x 128 tokens) meets
the same weights call after call. A plain SGEMM re-lays the weight into its blocked layout
on every such call; a packed product takes a weight laid out once. Two kernels do that in
torch's CPU build: MKL's (``torch.ops.mkl._mkl_linear``) and oneDNN's
(``torch.ops.mkldnn._linear_pointwise``), and which is faster depends on the CPU.
OPT-125m's 73 products of a decode step, plain / MKL packed / oneDNN packed:

* a 2-core Xeon (avx512, no bf16): 8 rows 41 / 31 ms, 2 rows 37 / 24, one row equal
  (oneDNN was not measured there);
* a 2-core AMD EPYC (avx512_bf16): 8 rows 32 / 33 / 13 ms, 2 rows 31 / 33 / 12, one row
  17 / 16 / 11; the tied head alone (50272 x 768) at 8 rows 18 / 16 / 4.9 ms; one
  3072 x 768 weight at 1024 rows 27 / 27 / 11 ms (MKL runs slower than its best on AMD
  CPUs; oneDNN dispatches by instruction set).

So by default (``kernel="auto"`` in ``zoo.config.set_torch_acceleration``, or
``ZOO_TORCH_PACKED_KERNEL=auto``) the first product packed in a row bucket
(the power of two at or above the row count) times the plain product and each kernel
there, on a stand-in weight with the same input size (64 MiB, so that a few rows stream it
from memory as a decode step streams a model; fewer outputs where many rows make the
product compute-bound), best of a few calls, and keeps the fastest for that bucket;
``mkl`` or ``onednn`` skips the timing and uses that kernel for every row count, ``plain``
packs nothing (zoo/backend/common/acceleration.py has the settings). Either
kernel's results differ from the plain product's only by float32 rounding (summation
order).

What is packed, and for how long:

* a weight is packed for one row count the second time the same tensor, unchanged (its
  version counter), meets that row count: a one-off product (a prompt's forward, a kernel
  computed per call) packs nothing; a decode loop packs on its second step;
* a packed copy costs as much memory as its weight. All copies together stay under
  ``packed_weights_mb`` (default 2048, or ``ZOO_TORCH_PACKED_WEIGHTS_MB``; 0 turns packing
  off). Past it, a new copy
  frees the least recently used ones, but only those unused since the new one's weight
  was last met: a loop whose weights do not all fit (OPT-1.3b at 5 GB) packs what fits
  once and runs the rest plain, rather than freeing and re-packing every weight per step;
* a copy lives as long as its weight and that weight's version: an in-place update (an
  optimizer step, ``Variable.assign``) makes it stale, and the next products pack anew (an
  update that leaves the version as it was calls ``accel.weights_changed_in_place``);
* only float32 CPU products whose result needs no gradient (``torch.no_grad``, or
  operands that require none).
"""

import collections
import functools
import itertools
import threading
import weakref

import torch

from zoo.backend.torch.accel import kernels

MIN_ROWS, MAX_ROWS = 1, 4096
# the timing's stand-in weight: up to 64 MiB (twice a large L3), products up to 0.5 GFLOP
TIMED_BYTES, TIMED_FLOPS = 64 * 2 ** 20, 5 * 10 ** 8


class _Entry:
    __slots__ = ("ref", "version", "size", "kernel", "packed", "last")

    def __init__(self, ref, version, size, now):
        self.ref, self.version, self.size, self.last = ref, version, size, now
        self.kernel = self.packed = None


class PackedWeights:
    """Packed copies keyed by (id of the weight, row count, orientation), least recently
    used first. An entry holds only a weak reference to its weight: a freed weight drops
    its copies. ``kernel``: the Kernel to use for every row count (pinned: nothing is
    timed); None (default) times the plain product and every available kernel once per row
    bucket and keeps the fastest."""

    def __init__(self, budget_bytes, kernel=None):
        self.budget = budget_bytes
        self.kernel = kernel
        self.used = 0
        self.choices = {}  # row bucket -> the Kernel that packs for it, None for plain
        self._entries = collections.OrderedDict()
        self._clock = itertools.count()
        # pipelines may decode in several threads; re-entrant, because a weight freed
        # while this thread holds it runs _drop (a weakref callback) in this thread
        self._lock = threading.RLock()

    def get(self, weight, matrix, rows, transposed):
        """(kernel, packed copy) of ``matrix.T if transposed else matrix`` (out, in) for
        ``rows``-row products, where ``matrix`` is ``weight`` or a view of all of it; None
        while there is none (yet), or where the plain product is the fastest."""
        bucket = kernels.row_bucket(rows)
        if bucket in self.choices and self.choices[bucket] is None:
            return None
        try:
            version = weight._version
        except RuntimeError:  # an inference-mode tensor keeps no version counter
            return None
        key = (id(weight), tuple(matrix.shape), rows, transposed)
        with self._lock:
            now = next(self._clock)
            entry = self._entries.get(key)
            if entry is None or entry.ref() is not weight:
                self._drop(key)
                self._entries[key] = _Entry(weakref.ref(weight, self._dropper(key)),
                                            version, weight.numel() * weight.element_size(),
                                            now)
                return None  # the first meeting packs nothing
            self._entries.move_to_end(key)
            previous, entry.last = entry.last, now
            if entry.version != version:  # changed in place: wait for a second meeting
                self._release(entry)
                entry.version = version
                return None
            if entry.packed is None:
                oriented = matrix.detach().t() if transposed else matrix.detach()
                kernel = self._kernel_for(oriented.shape[1], rows)
                if kernel is None or not self._make_room(entry.size, previous):
                    return None
                entry.kernel, entry.packed = kernel, kernel.pack(oriented, rows)
                self.used += entry.size
            return entry.kernel, entry.packed

    def _kernel_for(self, in_features, rows):
        """The kernel for ``rows``-row products (None: plain), timed once per row bucket."""
        bucket = kernels.row_bucket(rows)
        if bucket not in self.choices:
            self.choices[bucket] = self.kernel or self._fastest(in_features, bucket)
        return self.choices[bucket]

    def _fastest(self, in_features, rows):
        """Times the plain product and each kernel on a stand-in weight: larger than the
        CPU's caches where few rows make the product stream the weight from memory (as a
        decode step does), small where many rows make it compute-bound."""
        outputs = max(256, min(TIMED_BYTES // (4 * in_features),
                               TIMED_FLOPS // (2 * rows * in_features)))
        weight = torch.ones(outputs, in_features)
        x = torch.ones(rows, in_features)
        best, best_seconds = None, kernels.best_seconds(
            functools.partial(torch.nn.functional.linear, x, weight))
        for kernel in kernels.KERNELS.values():
            packed = kernel.pack(weight, rows)
            seconds = kernels.best_seconds(functools.partial(kernel.run, x, packed, weight,
                                                             None, rows))
            if seconds < best_seconds:
                best, best_seconds = kernel, seconds
        return best

    def _make_room(self, size, since):
        """Frees copies, least recently used first, among those unused since ``since``."""
        for entry in list(self._entries.values()):  # (a callback may drop some meanwhile)
            if self.used + size <= self.budget or entry.last >= since:
                break
            self._release(entry)
        return self.used + size <= self.budget

    def _release(self, entry):
        if entry.packed is not None:
            entry.kernel = entry.packed = None
            self.used -= entry.size

    def _dropper(self, key):
        cache = weakref.ref(self)

        def drop(_ref):
            live = cache()
            if live is not None:
                live._drop(key)
        return drop

    def _drop(self, key):
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None:
                self._release(entry)


_cache = PackedWeights(0)  # replaced by configure() when accel is imported


def configure(budget_bytes, kernel):
    """A fresh cache (the copies made so far are dropped): ``kernel`` "auto" (timed),
    "plain" (nothing packed) or the name of an available kernel (pinned, never timed)."""
    global _cache
    if kernel == "plain" or not kernels.KERNELS:
        _cache = PackedWeights(0)
    else:
        _cache = PackedWeights(budget_bytes, None if kernel == "auto" else kernels.KERNELS[kernel])


def cache():
    """The PackedWeights in use."""
    return _cache


def _eligible(cache, matrix, rows, *tensors):
    """A float32 CPU product of 1 to 4096 rows by a 2-D weight, whose result needs no
    gradient."""
    if not (cache.budget > 0 and MIN_ROWS <= rows <= MAX_ROWS and matrix.ndim == 2):
        return False
    if not kernels.float32_cpu(*tensors):
        return False
    return not (torch.is_grad_enabled() and any(t is not None and t.requires_grad
                                                    for t in tensors))


def linear(x, kernel, bias):
    """``x @ kernel + bias`` (kernel (in, out)) through the packed copy of ``kernel``, or
    None where there is none: the caller then multiplies as usual."""
    cache, rows = _cache, kernels.rows_of(x)
    weight = kernels.weight_of(kernel) if _eligible(cache, kernel, rows, x, kernel, bias) \
        else None
    if weight is None:
        return None
    found = cache.get(weight, kernel, rows, True)
    if found is None:
        return None
    product, packed = found
    flat = x.reshape(rows, x.shape[-1]).contiguous()
    out = product.run(flat, packed, kernel.detach().t(), bias, rows)
    return out.reshape(*x.shape[:-1], kernel.shape[1])


def matmul_left(weight, x):
    """``weight @ x`` for a weight (out, in) and a skinny x (in, rows), through the packed
    copy of ``weight`` (as ``(x.T @ weight.T).T``), or None where there is none."""
    if x.ndim != 2:
        return None
    cache, rows = _cache, x.shape[1]
    owner = kernels.weight_of(weight) if _eligible(cache, weight, rows, weight, x) else None
    if owner is None:
        return None
    found = cache.get(owner, weight, rows, False)
    if found is None:
        return None
    product, packed = found
    return product.run(x.t().contiguous(), packed, weight.detach(), None, rows).t()
