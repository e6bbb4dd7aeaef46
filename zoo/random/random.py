"""The random ops; each draws its seed (see seed_generator.py) and calls the backend."""
from zoo import backend
from zoo.backend.common import dtypes
from zoo.ops import shape_rules as rules
from zoo.ops.operation import op
from zoo.random.seed_generator import draw_seed


def _shape(shape):
    return tuple(int(d) for d in shape)


def _float_dtype(dtype):
    dtype = dtypes.standardize_dtype(dtype)
    if not dtypes.is_float(dtype):
        raise ValueError(f"expected a float dtype, got {dtype}.")
    return dtype


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev**2)."""
    return backend.random.normal(_shape(shape), mean, stddev, _float_dtype(dtype),
                                 draw_seed(seed))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of U[minval, maxval)."""
    return backend.random.uniform(_shape(shape), minval, maxval, _float_dtype(dtype),
                                  draw_seed(seed))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples with values beyond two standard deviations redrawn."""
    return backend.random.truncated_normal(_shape(shape), mean, stddev, _float_dtype(dtype),
                                           draw_seed(seed))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers uniform in [minval, maxval)."""
    dtype = dtypes.standardize_dtype(dtype)
    if not dtypes.is_int(dtype):
        raise ValueError(f"randint: expected an integer dtype, got {dtype}.")
    return backend.random.randint(_shape(shape), int(minval), int(maxval), dtype,
                                  draw_seed(seed))


def _categorical_rule(logits, num_samples, dtype="int32", seed=None):
    return rules.symbolic(rules.shape_of(logits)[:-1] + (num_samples,),
                          dtypes.standardize_dtype(dtype))


@op(_categorical_rule)
def categorical(logits, num_samples, dtype="int32", seed=None):
    """Class ids sampled from (batch, num_classes) logits -> (batch, num_samples)."""
    logits = backend.core.convert_to_tensor(logits)
    if len(logits.shape) != 2:
        raise ValueError("categorical: logits must be (batch, num_classes).")
    return backend.random.categorical(logits, int(num_samples), dtypes.standardize_dtype(dtype),
                                      draw_seed(seed))


def _dropout_rule(inputs, rate, noise_shape=None, seed=None):
    return rules.elementwise_unary_float(inputs)


@op(_dropout_rule)
def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero each element with probability ``rate`` and scale the rest by 1 / (1 - rate).

    ``noise_shape`` broadcasts the keep-mask (its None dims take the input's size).
    """
    inputs = backend.core.convert_to_tensor(inputs)
    if not dtypes.is_float(backend.core.dtype_of(inputs)):
        inputs = backend.core.cast(inputs, dtypes.config.floatx())
    rate = float(rate)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}.")
    shape = backend.core.shape(inputs)
    if noise_shape is None:
        noise_shape = shape
    else:
        noise_shape = tuple(s if n is None else int(n) for n, s in zip(noise_shape, shape))
    if rate == 0:
        return inputs
    return backend.random.dropout(inputs, rate, tuple(noise_shape), draw_seed(seed))


@op(rules.elementwise_unary)
def shuffle(x, axis=0, seed=None):
    """Randomly permute ``x`` along ``axis``."""
    x = backend.core.convert_to_tensor(x)
    axis = rules.normalize_axis(axis, len(x.shape))
    return backend.random.shuffle(x, axis, draw_seed(seed))
