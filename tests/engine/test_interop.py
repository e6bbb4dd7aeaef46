"""A zoo model inside each framework's own low-level loop."""
import numpy as np
import pytest

import zoo
from zoo import layers, ops

from tests.conftest import BACKEND

rng = np.random.RandomState(1)
X = rng.randn(16, 4).astype("float32")
Y = (X @ rng.randn(4, 1)).astype("float32")


def model():
    zoo.config.set_random_seed(0)
    return zoo.Sequential([zoo.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(1)])


@pytest.mark.skipif(BACKEND != "jax", reason="jax interop")
def test_jax_grad_and_jit_over_stateless_call():
    import jax
    import jax.numpy as jnp

    m = model()
    trainable = [v.value for v in m.trainable_variables]
    non_trainable = [v.value for v in m.non_trainable_variables]

    def loss_fn(tv, ntv, x, y):
        pred, ntv = m.stateless_call(tv, ntv, x)
        return jnp.mean((pred - y) ** 2), ntv

    @jax.jit
    def step(tv, ntv, x, y):
        (loss, ntv), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv, ntv, x, y)
        return [w - 0.05 * g for w, g in zip(tv, grads)], ntv, loss

    losses = []
    for _ in range(30):
        trainable, non_trainable, loss = step(trainable, non_trainable, X, Y)
        losses.append(float(loss))
    assert losses[-1] < losses[0] * 0.5
    assert step._cache_size() == 1  # no retracing between steps
    for v, value in zip(m.trainable_variables, trainable):
        v.assign(value)
    np.testing.assert_allclose(float(np.mean((np.asarray(m(X)) - Y) ** 2)),
                               float(loss_fn(trainable, non_trainable, X, Y)[0]), rtol=1e-5)


@pytest.mark.skipif(BACKEND != "torch", reason="torch interop")
def test_torch_module_trains_with_torch_optim():
    import torch

    m = model()
    assert isinstance(m, torch.nn.Module)
    params = list(m.parameters())
    assert len(params) == 4 and all(p.requires_grad for p in params)
    assert list(m.state_dict()) == ["dense.kernel", "dense.bias", "dense_1.kernel", "dense_1.bias"]
    optimizer = torch.optim.AdamW(m.parameters(), lr=0.02)
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    first = None
    for _ in range(40):
        optimizer.zero_grad()
        loss = torch.mean((m(x) - y) ** 2)
        loss.backward()
        optimizer.step()
        first = first if first is not None else loss.item()
    assert loss.item() < first * 0.5
    # the zoo variables see the torch updates (they share storage)
    np.testing.assert_allclose(m.variables[0].numpy(), params[0].detach().numpy())


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tensorflow interop")
def test_tf_gradient_tape_under_tf_function():
    import tensorflow as tf

    m = model()
    optimizer_lr = 0.05

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((m(x) - y) ** 2)
        grads = tape.gradient(loss, m.trainable_variables)
        for v, g in zip(m.trainable_variables, grads):
            v.assign_sub(optimizer_lr * g)
        return loss

    losses = [float(step(X, Y)) for _ in range(30)]
    assert losses[-1] < losses[0] * 0.5


@pytest.mark.skipif(BACKEND == "numpy", reason="no autodiff on numpy")
def test_stateless_call_is_pure_under_framework_tracing():
    m = model()
    values = [v.value for v in m.trainable_variables]
    out1, _ = m.stateless_call(values, [], X)
    out2, _ = m.stateless_call(values, [], X)
    np.testing.assert_array_equal(np.asarray(ops.convert_to_numpy(out1)),
                                  np.asarray(ops.convert_to_numpy(out2)))
