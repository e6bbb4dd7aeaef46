"""A zoo model inside each framework's own low-level training loop (the seed's
"universal training loop"): JAX with optax + jax.value_and_grad + jax.jit over
`stateless_call`; torch with torch.optim.AdamW over `model.parameters()`; TensorFlow with
tf.GradientTape and a TF optimizer over `model.trainable_variables`.

    ZOO_BACKEND=jax|torch|tensorflow python examples/interop_loops.py
"""
import numpy as np

import zoo


def make_model_and_data():
    zoo.config.set_random_seed(0)
    model = zoo.Sequential([zoo.Input((8,)), zoo.layers.Dense(32, activation="relu"),
                            zoo.layers.Dense(1)])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1))).astype("float32")
    return model, x, y


def jax_loop(steps=100):
    import jax
    import jax.numpy as jnp
    import optax

    model, x, y = make_model_and_data()
    tx = optax.adam(1e-2)
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    opt_state = tx.init(trainable)

    def loss_fn(trainable, non_trainable, x, y):
        y_pred, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
        return jnp.mean((y_pred - y) ** 2), non_trainable

    @jax.jit
    def step(trainable, non_trainable, opt_state, x, y):
        (loss, non_trainable), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            trainable, non_trainable, x, y)
        updates, opt_state = tx.update(grads, opt_state, trainable)
        return optax.apply_updates(trainable, updates), non_trainable, opt_state, loss

    for _ in range(steps):
        trainable, non_trainable, opt_state, loss = step(trainable, non_trainable, opt_state, x, y)
    for variable, value in zip(model.trainable_variables, trainable):
        variable.assign(value)
    return float(loss)


def torch_loop(steps=100):
    import torch

    model, x, y = make_model_and_data()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.mean((model(x) - y) ** 2)
        loss.backward()
        optimizer.step()
    return float(loss.detach())


def tensorflow_loop(steps=100):
    import tensorflow as tf

    model, x, y = make_model_and_data()
    optimizer = tf.compat.v1.train.AdamOptimizer(1e-2)  # TensorFlow's own optimizer
    variables = [v.tf_variable for v in model.trainable_variables]

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(x) - y) ** 2)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, variables))
        return loss

    for _ in range(steps):
        loss = step(x, y)
    return float(loss)


def main():
    backend = zoo.config.backend()
    loop = {"jax": jax_loop, "torch": torch_loop, "tensorflow": tensorflow_loop}.get(backend)
    if loop is None:
        raise SystemExit("The numpy backend has no autodiff: run with jax, torch or tensorflow.")
    print(f"{backend}: final loss {loop():.5f}")


if __name__ == "__main__":
    main()
