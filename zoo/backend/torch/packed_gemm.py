"""Skinny products (2 to 128 rows) with a weight whose MKL-packed copy is kept.

A decode step multiplies a few rows (the batch, or the batch times the guessed tokens) by
every weight of the model. MKL's plain SGEMM re-lays the weight into its blocked layout on
every such call; ``torch.ops.mkl._mkl_linear`` takes a weight laid out once. OPT-125m's 73
products of a decode step: 8 rows 41 ms plain, 31 ms packed; 2 rows 37 against 24 (one
row is a GEMV, which lays out nothing: equal, so one row is never packed). On this
machine the results equal the plain product's bit for bit (OPT-125m's shapes, 2 to 256
rows); the tests hold them to float32 rounding.

What is packed, and for how long:

* a weight is packed for one row count the second time the same tensor, unchanged (its
  version counter), meets that row count: a one-off product (a prompt's forward, a kernel
  computed per call) packs nothing; a decode loop packs on its second step;
* a packed copy costs as much memory as its weight. All copies together stay under
  ``ZOO_TORCH_PACKED_WEIGHTS_MB`` (default 2048; 0 turns packing off). Past it, a new copy
  frees the least recently used ones, but only those unused since the new one's weight
  was last met: a loop whose weights do not all fit (OPT-1.3b at 5 GB) packs what fits
  once and runs the rest plain, rather than freeing and re-packing every weight per step;
* a copy lives as long as its weight and that weight's version: an in-place update (an
  optimizer step, ``Variable.assign``) makes it stale, and the next products pack anew;
* only float32 CPU products whose result needs no gradient (``torch.no_grad``, or
  operands that require none).
"""
import collections
import itertools
import os
import threading
import weakref

import torch

MIN_ROWS, MAX_ROWS = 2, 128
_AVAILABLE = torch.backends.mkl.is_available() and hasattr(torch.ops.mkl, "_mkl_linear")


def _budget_bytes():
    value = os.environ.get("ZOO_TORCH_PACKED_WEIGHTS_MB", "2048").strip()
    try:
        megabytes = float(value)
    except ValueError:
        raise ValueError(f"ZOO_TORCH_PACKED_WEIGHTS_MB={value!r} is not a number of "
                         "megabytes (0 turns packed weights off).") from None
    return int(megabytes * 2 ** 20)


class _Entry:
    __slots__ = ("ref", "version", "size", "packed", "last")

    def __init__(self, ref, version, size, now):
        self.ref, self.version, self.size, self.packed, self.last = \
            ref, version, size, None, now


class PackedWeights:
    """Packed copies keyed by (id of the weight, row count, orientation), least recently
    used first. An entry holds only a weak reference to its weight: a freed weight drops
    its copies."""

    def __init__(self, budget_bytes):
        self.budget = budget_bytes
        self.used = 0
        self._entries = collections.OrderedDict()
        self._clock = itertools.count()
        # pipelines may decode in several threads; re-entrant, because a weight freed
        # while this thread holds it runs _drop (a weakref callback) in this thread
        self._lock = threading.RLock()

    def get(self, weight, matrix, rows, transposed):
        """The packed copy of ``matrix.T if transposed else matrix`` (out, in) for
        ``rows``-row products, where ``matrix`` is ``weight`` or a view of all of it; None
        while there is none (yet)."""
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
            if entry.packed is None and self._make_room(entry.size, previous):
                source = matrix.detach()
                entry.packed = torch.ops.mkl._mkl_reorder_linear_weight(
                    source.t() if transposed else source, rows)
                self.used += entry.size
            return entry.packed

    def _make_room(self, size, since):
        """Frees copies, least recently used first, among those unused since ``since``."""
        for entry in list(self._entries.values()):  # (a callback may drop some meanwhile)
            if self.used + size <= self.budget or entry.last >= since:
                break
            self._release(entry)
        return self.used + size <= self.budget

    def _release(self, entry):
        if entry.packed is not None:
            entry.packed = None
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


_CACHE = PackedWeights(_budget_bytes())


def _rows(x):
    rows = 1
    for size in x.shape[:-1]:
        rows *= size
    return rows


def _weight_of(matrix):
    """The variable tensor (a Parameter) that ``matrix`` is, or is a reshaped view of
    whole (EinsumDense's (in, heads, size) kernel as (in, heads * size)); else None."""
    if type(matrix) is torch.nn.Parameter:
        return matrix
    base = matrix._base
    if type(base) is torch.nn.Parameter and matrix.is_contiguous() \
            and matrix.numel() == base.numel() and matrix.data_ptr() == base.data_ptr():
        return base
    return None


def _eligible(matrix, rows, *tensors):
    """A float32 CPU product of 2 to 128 rows by a 2-D weight, whose result needs no
    gradient."""
    if not (_AVAILABLE and MIN_ROWS <= rows <= MAX_ROWS and matrix.ndim == 2
            and _CACHE.budget > 0):
        return False
    for t in tensors:
        if t is not None and (t.dtype is not torch.float32 or t.device.type != "cpu"):
            return False
    return not (torch.is_grad_enabled() and any(t is not None and t.requires_grad
                                                    for t in tensors))


def linear(x, kernel, bias):
    """``x @ kernel + bias`` (kernel (in, out)) through the packed copy of ``kernel``, or
    None where there is none: the caller then multiplies as usual."""
    rows = _rows(x)
    weight = _weight_of(kernel) if _eligible(kernel, rows, x, kernel, bias) else None
    if weight is None:
        return None
    packed = _CACHE.get(weight, kernel, rows, True)
    if packed is None:
        return None
    flat = x.reshape(rows, x.shape[-1]).contiguous()
    out = torch.ops.mkl._mkl_linear(flat, packed, kernel.detach().t(), bias, rows)
    return out.reshape(*x.shape[:-1], kernel.shape[1])


def matmul_left(weight, x):
    """``weight @ x`` for a weight (out, in) and a skinny x (in, rows), through the packed
    copy of ``weight`` (as ``(x.T @ weight.T).T``), or None where there is none."""
    if x.ndim != 2:
        return None
    rows = x.shape[1]
    owner = _weight_of(weight) if _eligible(weight, rows, weight, x) else None
    if owner is None:
        return None
    packed = _CACHE.get(owner, weight, rows, False)
    if packed is None:
        return None
    return torch.ops.mkl._mkl_linear(x.t().contiguous(), packed, weight.detach(), None,
                                     rows).t()
