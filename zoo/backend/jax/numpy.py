"""JAX implementations of the NumPy-named ops (inputs already promoted by zoo.ops)."""
import jax.numpy as jnp

from zoo.backend.jax.core import convert_to_tensor


def add(x1, x2):
    return jnp.add(x1, x2)


def subtract(x1, x2):
    return jnp.subtract(x1, x2)


def multiply(x1, x2):
    return jnp.multiply(x1, x2)


def divide(x1, x2):
    return jnp.true_divide(x1, x2)


def matmul(x1, x2):
    return jnp.matmul(x1, x2)


def reshape(x, newshape):
    return jnp.reshape(convert_to_tensor(x), newshape)
