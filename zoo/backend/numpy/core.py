"""NumPy backend core: tensors are numpy arrays. Inference only (no gradients)."""
import numpy as np

from zoo.backend.common import dtypes
from zoo.backend.common.variables import Variable as BaseVariable

SUPPORTS_GRADIENTS = False
DYNAMIC_SHAPES = True


def _np_dtype(dtype):
    return dtypes.to_numpy_dtype(dtype)


class Variable(BaseVariable):
    def _to_backend(self, value, dtype):
        return convert_to_tensor(value, dtype)

    def _cast(self, tensor, dtype):
        return cast(tensor, dtype)


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
        return x.astype(np.float32) if x.dtype == np.float64 else x
    array = np.asarray(x)
    if array.dtype == np.float64:
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


def dtype_of(x):
    return dtypes.standardize_dtype(x.dtype)


def shape(x):
    return tuple(np.shape(x))


def device_name():
    return "cpu"
