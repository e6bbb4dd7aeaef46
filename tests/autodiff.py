"""Gradients through the active framework, for tests (tests may import frameworks)."""
import numpy as np

import zoo

BACKEND = zoo.config.backend()


def grad(fn, args):
    """d sum(fn(*args)) / d args, as NumPy arrays, using the backend's own autodiff."""
    from zoo import ops

    if BACKEND == "jax":
        import jax

        tensors = [ops.convert_to_tensor(a) for a in args]
        grads = jax.grad(lambda *t: ops.sum(fn(*t)).astype("float64"),
                         argnums=tuple(range(len(args))))(*tensors)
        return [np.asarray(g) for g in grads]
    if BACKEND == "torch":

        tensors = [ops.convert_to_tensor(a).clone().requires_grad_(True) for a in args]
        ops.sum(fn(*tensors)).backward()
        return [t.grad.detach().numpy() if t.grad is not None else np.zeros(t.shape) for t in tensors]
    if BACKEND == "tensorflow":
        import tensorflow as tf

        tensors = [tf.convert_to_tensor(ops.convert_to_tensor(a)) for a in args]
        with tf.GradientTape() as tape:
            for t in tensors:
                tape.watch(t)
            out = ops.sum(fn(*tensors))
        return [np.zeros(t.shape) if g is None else np.asarray(tf.convert_to_tensor(g))
                for t, g in zip(tensors, tape.gradient(out, tensors))]
    raise RuntimeError("the numpy backend has no autodiff")


def numerical_grad(reference, args, eps=1e-6):
    """Central differences of sum(reference(*args)) in float64."""
    args = [np.asarray(a, dtype=np.float64) for a in args]
    grads = []
    for i, a in enumerate(args):
        g = np.zeros_like(a)
        flat = a.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            plus = np.sum(reference(*args))
            flat[j] = old - eps
            minus = np.sum(reference(*args))
            flat[j] = old
            g.reshape(-1)[j] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads
