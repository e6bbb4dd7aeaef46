"""NumPy implementations of the NumPy-named ops (inputs already promoted by zoo.ops)."""
import numpy as np

from zoo.backend.numpy.core import convert_to_tensor


def add(x1, x2):
    return np.add(x1, x2)


def subtract(x1, x2):
    return np.subtract(x1, x2)


def multiply(x1, x2):
    return np.multiply(x1, x2)


def divide(x1, x2):
    return np.true_divide(x1, x2)


def matmul(x1, x2):
    return np.matmul(x1, x2)


def reshape(x, newshape):
    return np.reshape(convert_to_tensor(x), newshape)
