"""TensorFlow backend core: tensors are tf.Tensor; variables wrap a tf.Variable."""
import numpy as np
import tensorflow as tf

from zoo.backend.common import dtypes
from zoo.backend.common.stateless_scope import get_stateless_scope
from zoo.backend.common.variables import Variable as BaseVariable

SUPPORTS_GRADIENTS = True
DYNAMIC_SHAPES = True


class Variable(BaseVariable):
    def _to_backend(self, value, dtype):
        if isinstance(value, tf.Variable):
            value = value.value()
        return convert_to_tensor(value, dtype)

    def _initialize(self, tensor):
        return tf.Variable(tensor, trainable=self.trainable, name=self.name)

    def _direct_assign(self, tensor):
        self._value.assign(tensor)

    def _adopt(self, array):
        # tf.convert_to_tensor copies a NumPy array twice; DLPack wraps it (it must be
        # aligned: TF kernels check) and the new tf.Variable takes over that buffer.
        if not array.flags.c_contiguous or array.ctypes.data % 64 \
                or array.dtype.kind not in "biuf" or array.dtype.name == "bfloat16":
            return None
        try:
            return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
        except (AttributeError, TypeError, ValueError, tf.errors.OpError):
            return None

    # tf.GradientTape and tf.function see the underlying tf.Variable: a zoo Variable acts as
    # a resource variable (TF checks this marker, then differentiates through `handle`).
    _should_act_as_resource_variable = True

    @property
    def handle(self):
        return self._materialize().handle

    @property
    def _unique_id(self):
        return self._materialize()._unique_id

    @property
    def tf_variable(self):
        return self._materialize()

    # tf.convert_to_tensor(variable) and tf ops on a Variable read its current value.
    def _dense_var_to_tensor(self, dtype=None, name=None, as_ref=False):
        value = self.value
        if isinstance(value, tf.Variable):
            value = value.value() if get_stateless_scope() is None else tf.convert_to_tensor(value)
        return tf.cast(value, dtype) if dtype is not None else value


tf.register_tensor_conversion_function(
    Variable, lambda var, dtype=None, name=None, as_ref=False: var._dense_var_to_tensor(dtype)
)


def is_tensor(x):
    return tf.is_tensor(x)


def convert_to_tensor(x, dtype=None):
    if isinstance(x, BaseVariable):
        x = x.value
        if dtype is None:
            return x
    if dtype is not None:
        dtype = dtypes.standardize_dtype(dtype)
        if tf.is_tensor(x):
            return x if x.dtype.name == dtype else tf.cast(x, dtype)
        if isinstance(x, (np.ndarray, np.generic)) or not _is_nested_tensors(x):
            return tf.convert_to_tensor(np.asarray(x, dtype=dtypes.to_numpy_dtype(dtype)))
        return tf.cast(tf.stack(x), dtype) if isinstance(x, (list, tuple)) else tf.cast(x, dtype)
    if tf.is_tensor(x):
        return x
    if isinstance(x, bool):
        return tf.constant(x, dtype="bool")
    if isinstance(x, int):
        return tf.constant(x, dtype="int32")
    if isinstance(x, float):
        return tf.constant(x, dtype=dtypes.config.floatx())
    if isinstance(x, (list, tuple)) and _is_nested_tensors(x):
        return tf.stack([convert_to_tensor(e) for e in x])
    array = np.asarray(x)
    if array.dtype == np.float64 and not isinstance(x, (np.ndarray, np.generic)):
        array = array.astype(dtypes.to_numpy_dtype(dtypes.config.floatx()))
    elif array.dtype == np.int64 and not isinstance(x, (np.ndarray, np.generic)):
        array = array.astype(np.int32)
    return tf.convert_to_tensor(array)


def _is_nested_tensors(x):
    if isinstance(x, (list, tuple)):
        return any(_is_nested_tensors(e) for e in x)
    return tf.is_tensor(x)


def convert_to_numpy(x):
    if isinstance(x, BaseVariable):
        x = x.value
    if isinstance(x, tf.Variable):
        x = x.value()
    if tf.is_tensor(x):
        return x.numpy()
    return np.asarray(x)


def cast(x, dtype):
    x = convert_to_tensor(x)
    dtype = dtypes.standardize_dtype(dtype)
    return x if x.dtype.name == dtype else tf.cast(x, dtype)


def to_framework_dtype(dtype):
    """zoo dtype name -> tf.DType."""
    return tf.dtypes.as_dtype(dtypes.standardize_dtype(dtype))


def dtype_of(x):
    return dtypes.standardize_dtype(x.dtype)


def shape(x):
    """Static dims as ints; a dim unknown while tracing a tf.function is a scalar tensor."""
    static = x.shape.as_list()
    if None in static:
        dynamic = tf.shape(x)
        return tuple(dynamic[i] if d is None else d for i, d in enumerate(static))
    return tuple(static)


def device_name():
    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


# -- control flow (called by zoo.ops.control_flow) -----------------------------------------
# Eagerly these run as Python control flow; inside tf.function they build tf.cond /
# tf.while_loop. (ops.slice / ops.slice_update are dynamic_slice / dynamic_update_slice here,
# so that the builtin `slice` stays usable in this module.)

def cond(pred, true_fn, false_fn):
    if tf.executing_eagerly():
        return true_fn() if bool(pred) else false_fn()
    return tf.cond(tf.reshape(tf.cast(pred, tf.bool), []), true_fn, false_fn)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    out = tf.while_loop(cond, lambda *v: tuple(body(*v)), loop_vars,
                        maximum_iterations=maximum_iterations)
    return tuple(out)


def fori_loop(lower, upper, body_fun, init_val):
    if tf.executing_eagerly():
        val = init_val
        for i in range(int(lower), int(upper)):
            val = body_fun(i, val)
        return val
    lower = tf.cast(lower, tf.int32)
    _, val = tf.while_loop(lambda i, v: i < upper, lambda i, v: (i + 1, body_fun(i, v)),
                           (lower, init_val))
    return val


def scan(f, init, xs, length, reverse, unroll):
    if tf.executing_eagerly():
        carry, ys = init, []
        steps = range(int(length) - 1, -1, -1) if reverse else range(int(length))
        for i in steps:
            carry, y = f(carry, [x[i] for x in xs])
            ys.append(y)
        if reverse:
            ys.reverse()
        if ys:
            return carry, [tf.stack([y[j] for y in ys]) for j in range(len(ys[0]))]
        _, y = f(carry, [tf.zeros(tf.shape(x)[1:], x.dtype) for x in xs])
        return carry, [tf.zeros(tf.concat([[0], tf.shape(v)], 0), v.dtype) for v in y]

    def index(i):
        return length - 1 - i if reverse else i

    # The first step runs outside the loop to learn the structure and dtypes of y.
    carry, y0 = f(init, [tf.gather(x, index(0)) for x in xs])
    arrays = [tf.TensorArray(v.dtype, size=length, element_shape=v.shape).write(index(0), v)
              for v in y0]

    def body(i, carry, arrays):
        carry, y = f(list(carry), [tf.gather(x, index(i)) for x in xs])
        return i + 1, carry, [a.write(index(i), v) for a, v in zip(arrays, y)]

    _, carry, arrays = tf.while_loop(lambda i, c, a: i < length, body,
                                     (tf.constant(1), carry, arrays))
    return list(carry), [a.stack() for a in arrays]


def switch(index, branches, *operands):
    index = tf.clip_by_value(tf.cast(index, tf.int32), 0, len(branches) - 1)
    return tf.switch_case(index, [lambda b=b: b(*operands) for b in branches])


def _clamped_starts(inputs, start_indices, shape):
    starts = tf.stack([tf.cast(s, tf.int32) for s in start_indices]) \
        if isinstance(start_indices, (list, tuple)) else tf.cast(start_indices, tf.int32)
    return tf.clip_by_value(starts, 0, tf.shape(inputs) - tf.cast(shape, tf.int32))


def dynamic_slice(inputs, start_indices, shape):
    return tf.slice(inputs, _clamped_starts(inputs, start_indices, shape), shape)


def dynamic_update_slice(inputs, start_indices, updates, in_place=False):
    size = tf.shape(updates)
    starts = _clamped_starts(inputs, start_indices, size)
    grids = tf.meshgrid(*[tf.range(size[i]) for i in range(updates.shape.rank)], indexing="ij")
    indices = tf.stack(grids, axis=-1) + starts
    return tf.tensor_scatter_nd_update(inputs, indices, updates)


def stop_gradient(x):
    return tf.stop_gradient(x)
