"""SeedGenerator: a random stream whose state is a non-trainable zoo Variable.

The state is a (2,) int32 variable ``[seed, counter]``. Every draw adds 1 to the counter
with ``state.assign``, so inside a StatelessScope (``stateless_call``, ``jax.jit``) the new
state is collected like any other variable update and the caller threads it through.
"""
import random as python_random

import numpy as np

from zoo import backend
from zoo.backend.common.stateless_scope import get_stateless_scope

_GLOBAL = {"generator": None}


class SeedGenerator:
    def __init__(self, seed=None, name=None):
        if seed is None:
            seed = python_random.randint(1, 2**31 - 1)
        if not isinstance(seed, (int, np.integer)):
            raise TypeError(f"SeedGenerator: seed must be an int or None, got {seed!r}.")
        self.seed = int(seed)
        self.name = name or "seed_generator"
        start = np.array([self.seed % 2**31, 0], dtype=np.int32)
        self.state = backend.Variable(lambda shape, dtype: start, shape=(2,), dtype="int32",
                                      trainable=False, name=f"{self.name}_state")

    @property
    def variables(self):
        return [self.state]

    def next(self):
        """Advance the state and return it: a (2,) int32 seed tensor."""
        step = backend.core.convert_to_tensor(np.array([0, 1], np.int32))
        new = backend.numpy.add(backend.core.convert_to_tensor(self.state.value), step)
        if backend.random.is_tracer(new) and get_stateless_scope() is None:
            raise RuntimeError(
                "A SeedGenerator was advanced while tracing a jax function outside a "
                "StatelessScope, which would leak a tracer into its state variable. Pass an "
                "int seed, or run under StatelessScope (stateless_call) and thread the "
                "generator's state variable through."
            )
        self.state.assign(new)
        return new

    def get_config(self):
        return {"seed": self.seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name={self.name} seed={self.seed}>"


def global_seed_generator():
    if _GLOBAL["generator"] is None:
        _GLOBAL["generator"] = SeedGenerator(name="global_seed_generator")
    return _GLOBAL["generator"]


def set_random_seed(seed):
    """Seed Python's ``random``, NumPy's global RNG, the framework's own RNG and zoo's
    global SeedGenerator (used when a random op gets ``seed=None``)."""
    seed = int(seed)
    python_random.seed(seed)
    np.random.seed(seed % 2**32)
    backend.random.set_framework_seed(seed)
    _GLOBAL["generator"] = SeedGenerator(seed, name="global_seed_generator")


def draw_seed(seed):
    """int / SeedGenerator / None -> a (2,) int32 seed tensor for the backend."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        return global_seed_generator().next()
    if isinstance(seed, (int, np.integer)):
        return backend.core.convert_to_tensor(np.array([int(seed) % 2**31, 0], np.int32))
    if backend.core.is_tensor(seed) and tuple(seed.shape) == (2,):
        return backend.core.cast(seed, "int32")
    raise TypeError(f"seed must be an int, a SeedGenerator, a (2,) seed tensor or None; "
                    f"got {seed!r}.")
