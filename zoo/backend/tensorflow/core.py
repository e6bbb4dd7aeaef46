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

    def _cast(self, tensor, dtype):
        return cast(tensor, dtype)

    # tf.GradientTape and tf.function see the underlying tf.Variable: a zoo Variable acts as
    # a resource variable (TF checks this marker, then differentiates through `handle`).
    _should_act_as_resource_variable = True

    @property
    def handle(self):
        return self._value.handle

    @property
    def _unique_id(self):
        return self._value._unique_id

    @property
    def tf_variable(self):
        return self._value

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
    if array.dtype == np.float64:
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
