"""Shared helpers for the saving tests: deterministic variable values, comparisons."""
import zlib

import numpy as np

from tests.testing import to_numpy  # noqa: F401  (imported from here too)
from zoo.backend.common import dtypes


def fill(model, seed=0):
    """Give every float variable of a built ``model`` values fixed by (seed, path)."""
    for path, variable in model.variable_paths().items():
        if not dtypes.is_float(variable.dtype):
            continue
        rng = np.random.RandomState((zlib.crc32(path.encode()) + 7919 * seed) % 2**32)
        low, high = (0.5, 1.5) if "variance" in path else (-0.5, 0.5)
        value = rng.uniform(low, high, variable.shape).astype("float32")
        variable.assign(value.astype(dtypes.to_numpy_dtype(variable.dtype)))
    return model


def values(model):
    return {path: np.array(v.numpy()) for path, v in model.variable_paths().items()}


def assert_same_values(a, b):
    assert a.keys() == b.keys()
    for path in a:
        np.testing.assert_array_equal(a[path], b[path], err_msg=path)

