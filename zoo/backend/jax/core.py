"""JAX backend core: tensors are jax.Array; variables hold an immutable array they swap."""
import jax
import jax.numpy as jnp
import numpy as np

from zoo.backend.common import dtypes
from zoo.backend.common.variables import Variable as BaseVariable

SUPPORTS_GRADIENTS = True
DYNAMIC_SHAPES = False


_HOST_VALUES = (np.ndarray, np.generic, int, float, bool, list, tuple)


class Variable(BaseVariable):
    _sharding = None  # the NamedSharding of a distributed variable, made when first needed

    def _to_backend(self, value, dtype):
        if self._distribution is not None and isinstance(value, _HOST_VALUES):
            # stays on the host: _place cuts it into per-device slices
            return np.asarray(value, dtype=dtypes.to_numpy_dtype(dtype or self._dtype))
        if isinstance(value, np.ndarray):  # never alias the caller's (mutable) array
            return jnp.array(value, dtype=to_framework_dtype(dtype) if dtype else None,
                             copy=True)
        return convert_to_tensor(value, dtype)

    # Deferred init. jnp.asarray(x, dtype) may alias an aligned NumPy array on CPU: a value
    # given to assign() is copied; an array handed over by the weights loader is adopted.
    def _own(self, tensor):
        if self._distribution is not None:
            return tensor  # _place copies each slice
        return jnp.array(tensor, copy=True)

    def _adopt(self, array):
        if self._distribution is not None:
            return array
        return jnp.asarray(array, dtype=array.dtype)

    # Distributed variables (zoo.distribution): every value they hold has their sharding.
    def _target_sharding(self):
        if self._sharding is None:
            from zoo.backend.jax import distribution

            self._sharding = distribution.sharding(self._layout(),
                                                   self._distribution.device_mesh)
        return self._sharding

    def _place(self, tensor):
        if self._distribution is None:
            return tensor
        from zoo.backend.jax import distribution

        return distribution.place(tensor, self._target_sharding())

    def _initialize(self, tensor):
        return self._place(tensor)

    def _direct_assign(self, tensor):
        self._value = self._place(tensor) if self._distribution is not None else tensor

    def _on_path_changed(self):
        if self._distribution is not None:
            self._sharding = None
            if self._value is not None:
                self._value = self._place(self._value)

    def _assign_loaded_slices(self, read):
        if self._distribution is None or self._value is not None:
            return super()._assign_loaded_slices(read)
        from zoo.backend.jax import distribution

        self._set_initial(distribution.place_from_reader(
            self._shape, dtypes.to_numpy_dtype(self._dtype), self._target_sharding(), read))

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
    if array.dtype == np.float64 and not isinstance(x, (np.ndarray, np.generic)):
        return jnp.asarray(array, dtype=dtypes.config.floatx())
    if array.dtype == np.int64 and not isinstance(x, (np.ndarray, np.generic)):
        return jnp.asarray(array, dtype="int32")
    return jnp.asarray(array)


def convert_to_numpy(x):
    if isinstance(x, BaseVariable):
        x = x.value
    if isinstance(x, jax.Array) and not x.is_fully_addressable:  # shards in other processes
        from zoo.backend.jax import distribution

        return distribution.gather(x)
    return np.asarray(x)


def cast(x, dtype):
    x = convert_to_tensor(x)
    dtype = dtypes.standardize_dtype(dtype)
    return x if x.dtype == dtype else x.astype(dtype)


def to_framework_dtype(dtype):
    """zoo dtype name -> the jnp dtype."""
    return jnp.dtype(dtypes.to_numpy_dtype(dtype))


def dtype_of(x):
    return dtypes.standardize_dtype(x.dtype)


def shape(x):
    return tuple(x.shape)


def device_name():
    return jax.devices()[0].platform


# -- control flow (called by zoo.ops.control_flow) -----------------------------------------
# (ops.slice / ops.slice_update are dynamic_slice / dynamic_update_slice here, so that the
# builtin `slice` stays usable in this module.)

def cond(pred, true_fn, false_fn):
    if not isinstance(pred, jax.core.Tracer):
        return true_fn() if bool(pred) else false_fn()
    return jax.lax.cond(jnp.reshape(pred, ()), true_fn, false_fn)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    if maximum_iterations is None:
        return jax.lax.while_loop(lambda v: cond(*v), lambda v: tuple(body(*v)), loop_vars)

    def counted_cond(state):
        i, v = state
        return jnp.logical_and(i < maximum_iterations, cond(*v))

    def counted_body(state):
        i, v = state
        return i + 1, tuple(body(*v))

    return jax.lax.while_loop(counted_cond, counted_body, (jnp.int32(0), loop_vars))[1]


def fori_loop(lower, upper, body_fun, init_val):
    return jax.lax.fori_loop(lower, upper, body_fun, init_val)


def scan(f, init, xs, length, reverse, unroll):
    def step(carry, x):
        new_carry, y = f(carry, x if x is not None else [])
        return new_carry, y

    return jax.lax.scan(step, init, xs if xs else None, length=length, reverse=reverse,
                        unroll=unroll)


def switch(index, branches, *operands):
    return jax.lax.switch(index, branches, *operands)


def _start_list(starts, n):
    if not isinstance(starts, (list, tuple)):
        starts = [starts[i] for i in range(n)]
    return [jnp.asarray(s, "int32") for s in starts]


def dynamic_slice(inputs, start_indices, shape):
    return jax.lax.dynamic_slice(inputs, _start_list(start_indices, inputs.ndim), shape)


def dynamic_update_slice(inputs, start_indices, updates, in_place=False):
    return jax.lax.dynamic_update_slice(inputs, updates, _start_list(start_indices, inputs.ndim))


def stop_gradient(x):
    return jax.lax.stop_gradient(x)
