"""Per-call overhead of zoo against the framework used directly, on the active backend.

A stack of BERT-style encoder blocks (multi-head attention, LayerNorm, Dense-GELU-Dense)
runs once through zoo layers and once as the same math written directly in the framework
(same weights, same fused attention kernel), and the script prints the time ratio
zoo / plain. Two sizes: BERT-base (hidden 768, 12 heads, batch 8 x 128), where the
arithmetic dominates, and a tiny one (hidden 64, batch 1 x 8), where per-op overhead does.

    ZOO_BACKEND=jax python scripts/bench_engine.py          # jitted, vs jax.numpy under jax.jit
    ZOO_BACKEND=torch python scripts/bench_engine.py        # eager, vs plain torch
    ZOO_BACKEND=tensorflow python scripts/bench_engine.py   # tf.function, vs plain TF
    ZOO_BACKEND=numpy python scripts/bench_engine.py        # eager, vs plain NumPy
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


class Block(zoo.Layer):
    """One post-LN encoder block made of zoo layers."""

    def __init__(self, hidden, heads, intermediate, **kwargs):
        super().__init__(**kwargs)
        self.attention = layers.MultiHeadAttention(heads, hidden // heads, name="attention")
        self.attention_norm = layers.LayerNormalization(epsilon=1e-12, name="attention_norm")
        self.intermediate = layers.Dense(intermediate, activation="gelu", name="intermediate")
        self.output_dense = layers.Dense(hidden, name="output")
        self.output_norm = layers.LayerNormalization(epsilon=1e-12, name="output_norm")

    def call(self, x):
        x = self.attention_norm(ops.add(x, self.attention(x, x)))
        return self.output_norm(ops.add(x, self.output_dense(self.intermediate(x))))


def build_zoo(hidden, heads, intermediate, blocks):
    zoo.config.set_random_seed(0)
    return zoo.Sequential([Block(hidden, heads, intermediate, name=f"block_{i}")
                           for i in range(blocks)])


def block_weights(model):
    """Per block: the arrays in the order the plain implementations use them."""
    out = []
    for block in model.layers:
        a = block.attention
        out.append([ops.convert_to_numpy(v) for v in (
            a._query_dense.kernel, a._query_dense.bias, a._key_dense.kernel, a._key_dense.bias,
            a._value_dense.kernel, a._value_dense.bias, a._output_dense.kernel,
            a._output_dense.bias, block.attention_norm.gamma, block.attention_norm.beta,
            block.intermediate.kernel, block.intermediate.bias, block.output_dense.kernel,
            block.output_dense.bias, block.output_norm.gamma, block.output_norm.beta)])
    return out


# -- the same math, written directly in each framework ---------------------------------------

def plain_jax(weights):
    import jax
    import jax.numpy as jnp

    ws = jax.tree_util.tree_map(jnp.asarray, weights)

    def norm(x, g, b):
        mean = jnp.mean(x, -1, keepdims=True)
        var = jnp.var(x, -1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + 1e-12) * g + b

    def forward(ws, x):
        for qk, qb, kk, kb, vk, vb, ok, ob, g1, b1, ik, ib, fk, fb, g2, b2 in ws:
            q = jnp.einsum("bsh,hnd->bsnd", x, qk) + qb
            k = jnp.einsum("bsh,hnd->bsnd", x, kk) + kb
            v = jnp.einsum("bsh,hnd->bsnd", x, vk) + vb
            a = jax.nn.dot_product_attention(q, k, v)
            x = norm(x + jnp.einsum("bsnd,ndh->bsh", a, ok) + ob, g1, b1)
            h = jax.nn.gelu(x @ ik + ib, approximate=False)
            x = norm(x + h @ fk + fb, g2, b2)
        return x

    jitted = jax.jit(forward)
    return lambda x: jitted(ws, x).block_until_ready()


def plain_torch(weights):
    import torch
    import torch.nn.functional as F

    ws = [[torch.from_numpy(w) for w in block] for block in weights]

    @torch.no_grad()
    def forward(x):
        for qk, qb, kk, kb, vk, vb, ok, ob, g1, b1, ik, ib, fk, fb, g2, b2 in ws:
            b, s, h = x.shape
            q = (x @ qk.reshape(h, -1) + qb.reshape(-1)).reshape(b, s, *qk.shape[1:]).transpose(1, 2)
            k = (x @ kk.reshape(h, -1) + kb.reshape(-1)).reshape(b, s, *kk.shape[1:]).transpose(1, 2)
            v = (x @ vk.reshape(h, -1) + vb.reshape(-1)).reshape(b, s, *vk.shape[1:]).transpose(1, 2)
            a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, s, -1)
            x = F.layer_norm(x + a @ ok.reshape(-1, h) + ob, (h,), g1, b1, 1e-12)
            x = F.layer_norm(x + F.gelu(x @ ik + ib) @ fk + fb, (h,), g2, b2, 1e-12)
        return x

    return forward


def plain_tensorflow(weights):
    import tensorflow as tf

    ws = [[tf.constant(w) for w in block] for block in weights]

    def norm(x, g, b):
        mean, var = tf.nn.moments(x, [-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(var + 1e-12) * g + b

    @tf.function
    def forward(x):
        for qk, qb, kk, kb, vk, vb, ok, ob, g1, b1, ik, ib, fk, fb, g2, b2 in ws:
            q = tf.einsum("bsh,hnd->bnsd", x, qk) + qb[:, None, :]
            k = tf.einsum("bsh,hnd->bnsd", x, kk) + kb[:, None, :]
            v = tf.einsum("bsh,hnd->bnsd", x, vk) + vb[:, None, :]
            scale = 1.0 / float(qk.shape[-1]) ** 0.5
            p = tf.nn.softmax(tf.einsum("bnqd,bnkd->bnqk", q, k) * scale, axis=-1)
            a = tf.einsum("bnqk,bnkd->bnqd", p, v)
            x = norm(x + tf.einsum("bnsd,ndh->bsh", a, ok) + ob, g1, b1)
            h = tf.nn.gelu(tf.matmul(x, ik) + ib, approximate=False)
            x = norm(x + tf.matmul(h, fk) + fb, g2, b2)
        return x

    return forward


def plain_numpy(weights):
    from math import sqrt

    try:
        from scipy.special import erf as sp_erf
    except ImportError:
        sp_erf = None

    def gelu(x):
        if sp_erf is not None:
            return 0.5 * x * (1 + sp_erf(x / sqrt(2)))
        return ops.convert_to_numpy(ops.gelu(x))

    def norm(x, g, b):
        mean = x.mean(-1, keepdims=True)
        var = x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * g + b

    def forward(x):
        for qk, qb, kk, kb, vk, vb, ok, ob, g1, b1, ik, ib, fk, fb, g2, b2 in weights:
            q = np.einsum("bsh,hnd->bnsd", x, qk) + qb[:, None, :]
            k = np.einsum("bsh,hnd->bnsd", x, kk) + kb[:, None, :]
            v = np.einsum("bsh,hnd->bnsd", x, vk) + vb[:, None, :]
            logits = np.einsum("bnqd,bnkd->bnqk", q, k) / np.sqrt(qk.shape[-1])
            p = np.exp(logits - logits.max(-1, keepdims=True))
            p /= p.sum(-1, keepdims=True)
            a = np.einsum("bnqk,bnkd->bnqd", p, v)
            x = norm(x + np.einsum("bnsd,ndh->bsh", a, ok) + ob, g1, b1)
            x = norm(x + gelu(x @ ik + ib) @ fk + fb, g2, b2)
        return x

    return forward


def zoo_runner(model):
    """How a user runs a zoo model fast on each backend."""
    if BACKEND == "jax":
        import jax

        @jax.jit
        def forward(values, x):
            return model.stateless_call(values, [], x)[0]

        values = [v.value for v in model.trainable_variables]
        return lambda x: forward(values, x).block_until_ready()
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(lambda x: model(x))
    if BACKEND == "torch":
        import torch

        def forward(x):
            with torch.no_grad():
                return model(x)

        return forward
    return model


def timeit(fn, x, repeats, warmup=2):
    for _ in range(warmup):
        fn(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--only", choices=["base", "tiny"], default=None)
    args = parser.parse_args()
    sizes = {"base": dict(hidden=768, heads=12, intermediate=3072, batch=8, seq=128),
             "tiny": dict(hidden=64, heads=4, intermediate=128, batch=1, seq=8)}
    plain = {"jax": plain_jax, "torch": plain_torch, "tensorflow": plain_tensorflow,
             "numpy": plain_numpy}[BACKEND]
    print(f"backend={BACKEND} blocks={args.blocks} (median of {args.repeats})")
    for label, s in sizes.items():
        if args.only and label != args.only:
            continue
        model = build_zoo(s["hidden"], s["heads"], s["intermediate"], args.blocks)
        x_np = np.random.RandomState(0).randn(s["batch"], s["seq"], s["hidden"]).astype("float32")
        x = ops.convert_to_tensor(x_np)
        model(x)
        zoo_fn = zoo_runner(model)
        plain_fn = plain(block_weights(model))
        if BACKEND == "torch":
            import torch

            x_plain = torch.from_numpy(x_np)
        else:
            x_plain = x if BACKEND != "numpy" else x_np
        diff = np.max(np.abs(ops.convert_to_numpy(zoo_fn(x)) - np.asarray(plain_fn(x_plain))))
        t_zoo = timeit(zoo_fn, x, args.repeats)
        t_plain = timeit(plain_fn, x_plain, args.repeats)
        print(f"{label:5s} batch {s['batch']}x{s['seq']} hidden {s['hidden']}: "
              f"zoo {t_zoo * 1e3:9.3f} ms  plain {t_plain * 1e3:9.3f} ms  "
              f"ratio {t_zoo / t_plain:5.3f}  max|diff| {diff:.1e}")


if __name__ == "__main__":
    main()
