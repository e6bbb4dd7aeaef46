"""``zoo.random``: seeded random ops that work eagerly and inside ``jax.jit``/``tf.function``.

A ``seed`` is an int (the same numbers on every call), a ``SeedGenerator`` (each call draws
a fresh seed and advances the generator's state variable) or None (the global generator,
reset by ``set_random_seed``).
"""
from zoo.random.random import (  # noqa: F401
    categorical, dropout, normal, randint, shuffle, truncated_normal, uniform,
)
from zoo.random.seed_generator import SeedGenerator, draw_seed, set_random_seed  # noqa: F401
