"""Shared pieces of the callback tests: data, a small model, recording callbacks."""
import numpy as np
import pytest

import zoo
import zoo.optimizers  # zoo.optimizers.SGD below, whether or not zoo/__init__ imports it
from tests.conftest import BACKEND

needs_training = pytest.mark.skipif(BACKEND == "numpy", reason="the numpy backend cannot train")


def regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ rng.normal(size=(4, 1)) + 0.3).astype("float32")
    return x, y


def small_model(seed=0, dropout=None, optimizer=None):
    """The brief's MLP (4 -> 8 relu -> 1), compiled with SGD(0.05) and mse."""
    zoo.config.set_random_seed(seed)
    hidden = [zoo.layers.Dense(8, activation="relu")]
    if dropout:
        hidden.append(zoo.layers.Dropout(dropout))
    model = zoo.Sequential([zoo.Input((4,))] + hidden + [zoo.layers.Dense(1)])
    model.compile(optimizer=optimizer if optimizer is not None else zoo.optimizers.SGD(0.05),
                  loss="mse")
    return model


class InjectLogs(zoo.callbacks.Callback):
    """Puts ``values[epoch]`` into the epoch logs under ``key`` (place it first)."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, list(values)

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


class RecordWeights(zoo.callbacks.Callback):
    """``weights[epoch]``: the model's weights at the end of that epoch."""

    def __init__(self):
        super().__init__()
        self.weights = {}
        self.batches = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(batch)

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch] = [np.array(w) for w in self.model.get_weights()]


def assert_weights_equal(a, b, atol=0.0):
    assert len(a) == len(b)
    for wa, wb in zip(a, b):
        np.testing.assert_allclose(np.asarray(wa), np.asarray(wb), rtol=0, atol=atol)


def weights_differ(a, b):
    return any(not np.array_equal(np.asarray(wa), np.asarray(wb)) for wa, wb in zip(a, b))
