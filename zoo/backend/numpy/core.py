"""NumPy backend core: tensors are numpy arrays. Inference only (no gradients)."""
import numpy as np

from zoo.backend.common import dtypes
from zoo.backend.common.variables import Variable as BaseVariable

SUPPORTS_GRADIENTS = False
DYNAMIC_SHAPES = True


def _np_dtype(dtype):
    return dtypes.to_numpy_dtype(dtype)


class Variable(BaseVariable):
    # A kernel named by set_product_layout is stored with its contracted axes fastest in
    # memory: the transpose of an (out, in) C array. Its 2-D view (in, out) is then
    # F-contiguous, and matmul multiplies a few rows by it as (out, in) @ (in, rows), which
    # OpenBLAS streams at 1.2-1.5x the speed of (rows, in) @ (in, out) on a C kernel (the
    # 72 layer products of OPT-125m at 8 rows: 29-37 against 37-44 ms on a 2-core Xeon).
    def _to_backend(self, value, dtype):
        tensor = convert_to_tensor(value, dtype)
        laid_out = _product_layout(tensor, self._contracted_axes)
        if laid_out is tensor and isinstance(value, np.ndarray) \
                and np.shares_memory(tensor, value):
            laid_out = tensor.copy(order="K")  # never alias the caller's array
        return laid_out

    def _own(self, tensor):  # deferred init: never keep a view of the caller's array
        return np.array(tensor, copy=True)

    def _adopt(self, array):
        return _product_layout(array, self._contracted_axes)

    def _on_product_layout(self):
        if self._value is not None:
            self._value = _product_layout(self._value, self._contracted_axes)


def _product_layout(tensor, contracted_axes):
    """``tensor`` (same shape and values) with its first ``contracted_axes`` axes fastest in
    memory; floating tensors only."""
    if contracted_axes is None or tensor.dtype.kind != "f" \
            or not 0 < contracted_axes < tensor.ndim:
        return tensor
    order = tuple(range(contracted_axes, tensor.ndim)) + tuple(range(contracted_axes))
    stored = np.transpose(tensor, order)
    if not stored.flags.c_contiguous:
        stored = np.ascontiguousarray(stored)
    return np.transpose(stored, np.argsort(order))


def is_tensor(x):
    return isinstance(x, (np.ndarray, np.generic))


def _default_dtype(x):
    """The dtype zoo gives an input with no dtype asked for (see common/dtypes.py)."""
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, int):
        return "int32"
    if isinstance(x, float):
        return None  # floatx
    return None


def convert_to_tensor(x, dtype=None):
    if isinstance(x, BaseVariable):
        x = x.value
        if dtype is None:
            return x
    if dtype is not None:
        return np.asarray(x, dtype=_np_dtype(dtype))
    if isinstance(x, np.ndarray):
        return x
    array = np.asarray(x)
    if array.dtype == np.float64 and not isinstance(x, (np.ndarray, np.generic)):
        return array.astype(_np_dtype(dtypes.config.floatx()))
    if array.dtype == np.int64 and not isinstance(x, np.generic):
        return array.astype(np.int32)  # Python ints and lists of ints
    return array


def convert_to_numpy(x):
    if isinstance(x, BaseVariable):
        x = x.value
    return np.asarray(x)


def cast(x, dtype):
    x = convert_to_tensor(x)
    dtype = _np_dtype(dtype)
    return x if x.dtype == dtype else x.astype(dtype)


def to_framework_dtype(dtype):
    """zoo dtype name -> numpy dtype."""
    return dtypes.to_numpy_dtype(dtype)


def dtype_of(x):
    return dtypes.standardize_dtype(x.dtype)


def shape(x):
    return tuple(np.shape(x))


def device_name():
    return "cpu"


# -- control flow (called by zoo.ops.control_flow; Python loops) ---------------------------
# (ops.slice / ops.slice_update are dynamic_slice / dynamic_update_slice here, so that the
# builtin `slice` stays usable in this module.)

from zoo.backend.common.python_loops import cond, fori_loop, while_loop  # noqa: E402,F401


def scan(f, init, xs, length, reverse, unroll):
    carry, ys = init, []
    steps = range(int(length) - 1, -1, -1) if reverse else range(int(length))
    for i in steps:
        carry, y = f(carry, [x[i] for x in xs])
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys:  # learn the per-step shapes from one call on zeros
        _, y = f(carry, [np.zeros(x.shape[1:], x.dtype) for x in xs])
        return carry, [np.zeros((0,) + np.shape(v), np.asarray(v).dtype) for v in y]
    return carry, [np.stack([y[j] for y in ys]) for j in range(len(ys[0]))]


def switch(index, branches, *operands):
    index = min(max(int(index), 0), len(branches) - 1)
    return branches[index](*operands)


def _block(inputs, start_indices, shape):
    starts = [min(max(int(s), 0), d - n) for s, d, n in zip(start_indices, inputs.shape, shape)]
    return tuple(slice(s, s + n) for s, n in zip(starts, shape))


def dynamic_slice(inputs, start_indices, shape):
    return inputs[_block(inputs, start_indices, shape)]


def dynamic_update_slice(inputs, start_indices, updates, in_place=False):
    out = inputs if in_place and inputs.flags.writeable else np.array(inputs, copy=True)
    out[_block(inputs, start_indices, updates.shape)] = updates
    return out


def stop_gradient(x):
    return x
