"""Random ops for the numpy backend. ``seed`` is a (2,) integer array; same seed, same numbers."""
import numpy as np

from zoo.backend.common import dtypes


def _rng(seed):
    s = np.asarray(seed).astype(np.int64) & 0xFFFFFFFF
    return np.random.default_rng([int(s[0]), int(s[1])])


def _np(dtype):
    return dtypes.to_numpy_dtype(dtype)


def is_tracer(x):
    return False


def set_framework_seed(seed):
    pass


def normal(shape, mean, stddev, dtype, seed):
    out = _rng(seed).standard_normal(shape) * stddev + mean
    return np.asarray(out).astype(_np(dtype))


def uniform(shape, minval, maxval, dtype, seed):
    out = np.asarray(_rng(seed).uniform(size=shape) * (maxval - minval) + minval).astype(_np(dtype))
    top = np.asarray(maxval, out.dtype)  # rounding to a narrow dtype may reach maxval
    return np.where(out >= top, np.nextafter(top, np.asarray(minval, out.dtype)), out)


def truncated_normal(shape, mean, stddev, dtype, seed):
    rng = _rng(seed)
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while np.any(bad):  # resample beyond two standard deviations
        out[bad] = rng.standard_normal(int(np.sum(bad)))
        bad = np.abs(out) > 2
    return np.asarray(out * stddev + mean).astype(_np(dtype))


def randint(shape, minval, maxval, dtype, seed):
    return np.asarray(_rng(seed).integers(minval, maxval, size=shape)).astype(_np(dtype))


def categorical(logits, num_samples, dtype, seed):
    logits = np.asarray(logits, np.float64)
    gumbel = -np.log(-np.log(_rng(seed).uniform(size=(num_samples,) + logits.shape)))
    samples = np.argmax(logits[None] + gumbel, axis=-1)  # (num_samples, batch)
    return np.moveaxis(samples, 0, -1).astype(_np(dtype))


def dropout(inputs, rate, noise_shape, seed):
    keep = _rng(seed).uniform(size=noise_shape) >= rate
    return np.where(keep, inputs / np.asarray(1 - rate, inputs.dtype), 0).astype(inputs.dtype)


def shuffle(x, axis, seed):
    return _rng(seed).permutation(x, axis=axis)
