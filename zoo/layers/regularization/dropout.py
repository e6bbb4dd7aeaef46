"""Dropout: in training, zero each element with probability ``rate`` and scale the rest.

The random stream is a ``zoo.random.SeedGenerator`` whose state is one of the layer's
non-trainable variables, so under ``stateless_call`` (e.g. inside ``jax.jit``) the new seed
state comes back with the other non-trainable values. Identity when not training.
"""
from zoo import random as zoo_random
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.layers.layer import Layer


class Dropout(Layer):
    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        rate = float(rate)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate}.")
        self.rate = rate
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        # a public attribute: the layer tracks the generator's state as its own variable
        self.seed_generator = zoo_random.SeedGenerator(seed) if rate > 0 else None
        self.built = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0 or isinstance(inputs, SymbolicTensor):
            return inputs
        # noise_shape: None entries take the input's dimension (Keras semantics)
        return zoo_random.dropout(inputs, self.rate, noise_shape=self.noise_shape,
                                  seed=self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
                "seed": self.seed}
