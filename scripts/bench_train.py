"""Training speed: zoo's ``fit`` against a hand-written loop in the same framework.

Both sides train the same zoo model on the same batches with Adam and MSE / cross-entropy;
the hand-written loop is what a framework user would write around the model:

    jax         optax.adam + jax.value_and_grad + jax.jit over model.stateless_call
    torch       torch.optim.Adam over model.parameters(), loss.backward()
    tensorflow  tf.GradientTape under tf.function, Adam written with tf ops

so the ratio isolates what fit adds (data handling, metrics, callbacks, the state plumbing).
Printed: steps/s of each and the ratio fit / hand-written (higher is better; 1.0 = equal).

    ZOO_BACKEND=jax python scripts/bench_train.py [--rounds 5]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import zoo  # noqa: E402
from zoo import layers, ops  # noqa: E402

BACKEND = zoo.config.backend()


class EncoderBlock(zoo.Layer):
    def __init__(self, dim, heads, **kwargs):
        super().__init__(**kwargs)
        self.attention = layers.MultiHeadAttention(heads, dim // heads, name="attention")
        self.norm1 = layers.LayerNormalization(name="norm1")
        self.ffn_in = layers.Dense(dim * 2, activation="gelu", name="ffn_in")
        self.ffn_out = layers.Dense(dim, name="ffn_out")
        self.norm2 = layers.LayerNormalization(name="norm2")

    def call(self, x):
        x = self.norm1(ops.add(x, self.attention(x, x)))
        return self.norm2(ops.add(x, self.ffn_out(self.ffn_in(x))))


def make_mlp():
    zoo.config.set_random_seed(0)
    model = zoo.Sequential([zoo.Input((32,)), layers.Dense(256, activation="relu"),
                            layers.Dense(256, activation="relu"), layers.Dense(10)])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4096, 32)).astype("float32")
    y = rng.integers(0, 10, 4096).astype("int32")
    return model, x, y, 64


def make_transformer():
    zoo.config.set_random_seed(0)
    inputs = zoo.Input((32, 64))
    h = inputs
    for i in range(4):
        h = EncoderBlock(64, 4, name=f"block_{i}")(h)
    outputs = layers.Dense(10)(layers.GlobalAveragePooling1D()(h))
    model = zoo.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1024, 32, 64)).astype("float32")
    y = rng.integers(0, 10, 1024).astype("int32")
    return model, x, y, 32


def batches(x, y, batch_size, steps):
    n = len(x) // batch_size
    for step in range(steps):
        i = step % n
        yield x[i * batch_size:(i + 1) * batch_size], y[i * batch_size:(i + 1) * batch_size]


def fit_runner(make):
    """A function that runs one epoch of ``fit`` and returns its number of steps."""
    model, x, y, batch_size = make()
    model.compile(optimizer=zoo.optimizers.Adam(1e-3),
                  loss=zoo.losses.SparseCategoricalCrossentropy(from_logits=True))
    n = len(x) // batch_size
    x, y = x[:n * batch_size], y[:n * batch_size]
    model.fit(x, y, batch_size=batch_size, epochs=1, steps_per_epoch=5, verbose=0, shuffle=False)

    def run():
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
        return n

    return run


def best_rates(runners, rounds):
    """Alternate the runners ``rounds`` times; each one's best steps/s (robust to noise
    from other processes: a slow round is a disturbed round)."""
    best = [0.0] * len(runners)
    for _ in range(rounds):
        for i, run in enumerate(runners):
            start = time.perf_counter()
            steps = run()
            best[i] = max(best[i], steps / (time.perf_counter() - start))
    return best


def hand_loop_jax(make):
    import jax
    import jax.numpy as jnp
    import optax

    model, x, y, batch_size = make()
    model(x[:batch_size])
    tx = optax.adam(1e-3)
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    opt_state = tx.init(trainable)

    def loss_fn(trainable, non_trainable, x, y):
        logits, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y)), non_trainable

    @jax.jit
    def step(trainable, non_trainable, opt_state, x, y):
        (loss, non_trainable), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            trainable, non_trainable, x, y)
        updates, opt_state = tx.update(grads, opt_state, trainable)
        return optax.apply_updates(trainable, updates), non_trainable, opt_state, loss

    state = [trainable, non_trainable, opt_state]
    n = len(x) // batch_size
    for bx, by in batches(x, y, batch_size, 5):
        *state, loss = step(*state, bx, by)
    loss.block_until_ready()

    def run():
        loss = None
        for bx, by in batches(x, y, batch_size, n):
            *state[:], loss = step(*state, bx, by)
        loss.block_until_ready()
        return n

    return run


def hand_loop_torch(make):
    import torch
    import torch.nn.functional as F

    model, x, y, batch_size = make()
    model(torch.from_numpy(x[:batch_size]))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def run(n):
        for bx, by in batches(x, y, batch_size, n):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(torch.from_numpy(bx)), torch.from_numpy(by).long())
            loss.backward()
            optimizer.step()

    run(5)
    n = len(x) // batch_size
    return lambda: run(n) or n


def hand_loop_tensorflow(make):
    import tensorflow as tf

    model, x, y, batch_size = make()
    model(x[:batch_size])
    variables = [v.tf_variable for v in model.trainable_variables]
    m = [tf.Variable(tf.zeros_like(v)) for v in variables]
    s = [tf.Variable(tf.zeros_like(v)) for v in variables]
    t = tf.Variable(0.0)

    @tf.function
    def step(bx, by):
        with tf.GradientTape() as tape:
            logits = model(bx, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(by, logits))
        grads = tape.gradient(loss, model.trainable_variables)
        t.assign_add(1.0)
        lr = 1e-3 * tf.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        for v, g, mi, si in zip(variables, grads, m, s):
            mi.assign(0.9 * mi + 0.1 * g)
            si.assign(0.999 * si + 0.001 * g * g)
            v.assign_sub(lr * mi / (tf.sqrt(si) + 1e-7))
        return loss

    for bx, by in batches(x, y, batch_size, 5):
        step(tf.constant(bx), tf.constant(by))
    n = len(x) // batch_size

    def run():
        for bx, by in batches(x, y, batch_size, n):
            loss = step(tf.constant(bx), tf.constant(by))
        loss.numpy()
        return n

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating rounds of one epoch each; the best round counts")
    args = parser.parse_args()
    if BACKEND == "numpy":
        raise SystemExit("The numpy backend cannot train: pick jax, torch or tensorflow.")
    hand = {"jax": hand_loop_jax, "torch": hand_loop_torch,
            "tensorflow": hand_loop_tensorflow}[BACKEND]
    print(f"backend={BACKEND}")
    for label, make in (("mlp", make_mlp), ("transformer-4", make_transformer)):
        fit_rate, hand_rate = best_rates([fit_runner(make), hand(make)], args.rounds)
        print(f"{label:14s} fit {fit_rate:8.1f} steps/s  hand-written {hand_rate:8.1f} steps/s  "
              f"ratio {fit_rate / hand_rate:5.3f}")


if __name__ == "__main__":
    main()
