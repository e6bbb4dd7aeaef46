"""JAX backend core: tensors are jax.Array; variables hold an immutable array they swap."""
import jax
import jax.numpy as jnp
import numpy as np

from zoo.backend.common import dtypes
from zoo.backend.common.variables import Variable as BaseVariable

SUPPORTS_GRADIENTS = True
DYNAMIC_SHAPES = False


class Variable(BaseVariable):
    def _to_backend(self, value, dtype):
        return convert_to_tensor(value, dtype)

    def _cast(self, tensor, dtype):
        return cast(tensor, dtype)

    # JAX transformations see the current value when a Variable is passed directly.
    def __jax_array__(self):
        return self.value


def is_tensor(x):
    return isinstance(x, jax.Array)


def convert_to_tensor(x, dtype=None):
    if isinstance(x, BaseVariable):
        x = x.value
        if dtype is None:
            return x
    if dtype is not None:
        dtype = dtypes.standardize_dtype(dtype)
        if isinstance(x, jax.Array) and x.dtype == dtype:
            return x
        return jnp.asarray(x, dtype=dtype)
    if isinstance(x, jax.Array):
        return x
    if isinstance(x, bool):
        return jnp.asarray(x, dtype="bool")
    if isinstance(x, int):
        return jnp.asarray(x, dtype="int32")
    if isinstance(x, float):
        return jnp.asarray(x, dtype=dtypes.config.floatx())
    array = np.asarray(x)
    if array.dtype == np.float64:
        return jnp.asarray(array, dtype=dtypes.config.floatx())
    if array.dtype == np.int64 and not isinstance(x, (np.ndarray, np.generic)):
        return jnp.asarray(array, dtype="int32")
    return jnp.asarray(array)


def convert_to_numpy(x):
    if isinstance(x, BaseVariable):
        x = x.value
    return np.asarray(x)


def cast(x, dtype):
    x = convert_to_tensor(x)
    dtype = dtypes.standardize_dtype(dtype)
    return x if x.dtype == dtype else x.astype(dtype)


def dtype_of(x):
    return dtypes.standardize_dtype(x.dtype)


def shape(x):
    return tuple(x.shape)


def device_name():
    return jax.devices()[0].platform
