"""MultiHeadAttention against a NumPy reference, plus cached (KV) decoding."""
import numpy as np
import pytest

import zoo
from zoo import layers, ops

from tests.conftest import BACKEND
from tests.layers.helpers import assert_close, run_layer_test, to_numpy

RNG = np.random.RandomState(11)
Q = RNG.randn(2, 5, 8).astype("float32")
V = RNG.randn(2, 7, 6).astype("float32")
K = RNG.randn(2, 7, 3).astype("float32")


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def mha_ref(layer, query, value, key=None, mask=None, causal=False):
    """NumPy multi-head attention with the layer's weights; returns (output, probabilities)."""
    key = value if key is None else key
    w = {path: v.numpy().astype(np.float64) for path, v in layer.variable_paths().items()}

    def project(x, name):
        y = np.einsum("btd,dnh->btnh", x, w[f"{name}/kernel"])
        return y + w[f"{name}/bias"] if f"{name}/bias" in w else y

    q, k, v = project(query, "query"), project(key, "key"), project(value, "value")
    logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(layer.key_dim)
    keep = np.ones(logits.shape, bool)
    if mask is not None:
        keep &= np.asarray(mask, bool)[:, None]
    if causal:
        t, s = logits.shape[-2:]
        keep &= np.arange(t)[:, None] >= np.arange(s)[None, :]
    probs = softmax(np.where(keep, logits, -1e9))
    out = np.einsum("bnts,bsnh->btnh", probs, v)
    out = np.einsum("btnh,nhd->btd", out, w["attention_output/kernel"])
    if "attention_output/bias" in w:
        out = out + w["attention_output/bias"]
    return out, probs


def test_mha_layer_checks_and_kernel_layout():
    layer, out = run_layer_test(
        layers.MultiHeadAttention, {"num_heads": 2, "key_dim": 4}, input_data=[Q, V],
        positional=True, expected_output_shape=(2, 5, 8), expected_num_trainable_weights=8,
        expected_variable_shapes=[(8, 2, 4), (2, 4), (6, 2, 4), (2, 4), (6, 2, 4), (2, 4),
                                  (2, 4, 8), (8,)])
    assert list(layer.variable_paths()) == [
        "query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel", "value/bias",
        "attention_output/kernel", "attention_output/bias"]
    assert [sub.name for sub in layer.layers[:4]] == ["query", "key", "value",
                                                      "attention_output"]
    assert_close(out, mha_ref(layer, Q, V)[0], atol=1e-5)


def test_mha_causal_through_layer_test():
    layer, out = run_layer_test(
        layers.MultiHeadAttention, {"num_heads": 2, "key_dim": 3, "value_dim": 5,
                                    "output_shape": 4, "use_bias": False},
        input_data=[Q, Q], positional=True, call_kwargs={"use_causal_mask": True},
        expected_output_shape=(2, 5, 4), expected_num_trainable_weights=4,
        expected_variable_shapes=[(8, 2, 3), (8, 2, 3), (8, 2, 5), (2, 5, 4)])
    assert_close(out, mha_ref(layer, Q, Q, causal=True)[0], atol=1e-5)


def test_mha_key_mask_and_scores():
    layer = layers.MultiHeadAttention(num_heads=3, key_dim=2)
    mask = RNG.rand(2, 5, 7) > 0.3
    mask[:, :, 0] = True
    out, scores = layer(Q, V, key=K, attention_mask=mask, return_attention_scores=True)
    want, probs = mha_ref(layer, Q, V, key=K, mask=mask)
    assert tuple(scores.shape) == (2, 3, 5, 7)
    assert_close(scores, probs, atol=1e-5)
    assert_close(out, want, atol=1e-5)
    # the fused path (no scores) gives the same output; int masks are accepted too
    assert_close(layer(Q, V, key=K, attention_mask=mask.astype("int32")), want, atol=1e-5)
    out_c, scores_c = layer(Q, V, key=K, attention_mask=mask, use_causal_mask=True,
                            return_attention_scores=True)
    want_c, probs_c = mha_ref(layer, Q, V, key=K, mask=mask, causal=True)
    assert_close(out_c, want_c, atol=1e-5)
    assert_close(scores_c, probs_c, atol=1e-5)
    assert_close(layer(Q, V, key=K, attention_mask=mask, use_causal_mask=True), want_c,
                 atol=1e-5)


def test_mha_symbolic_with_scores():
    q, v = zoo.Input((5, 8)), zoo.Input((7, 6))
    layer = layers.MultiHeadAttention(2, 4)
    out, scores = layer(q, v, return_attention_scores=True)
    assert out.shape == (None, 5, 8) and scores.shape == (None, 2, 5, 7)
    model = zoo.Model([q, v], [out, scores])
    got = model([Q, V])
    want, probs = mha_ref(layer, Q, V)
    assert_close(got[0], want, atol=1e-5)
    assert_close(got[1], probs, atol=1e-5)


def test_mha_dropout_only_in_training():
    layer = layers.MultiHeadAttention(2, 4, dropout=0.5, seed=1)
    inference = layer(Q, V)
    assert len(layer.non_trainable_variables) == 1  # the dropout seed state
    assert_close(inference, mha_ref(layer, Q, V)[0], atol=1e-5)
    trained = to_numpy(layer(Q, V, training=True))
    assert not np.allclose(trained, to_numpy(inference), atol=1e-3)
    trainable = [v.value for v in layer.trainable_variables]
    state = [v.value for v in layer.non_trainable_variables]
    a, new_state = layer.stateless_call(trainable, state, Q, V, training=True)
    b, _ = layer.stateless_call(trainable, state, Q, V, training=True)
    assert_close(a, b)
    assert not np.array_equal(to_numpy(new_state[0]), to_numpy(state[0]))


def test_mha_errors():
    with pytest.raises(NotImplementedError, match="attention_axes"):
        layers.MultiHeadAttention(2, 4, attention_axes=(1, 2))
    layer = layers.MultiHeadAttention(2, 4)
    with pytest.raises(ValueError, match="cache"):
        layer(Q, Q, cache_update_index=0)
    with pytest.raises(ValueError, match="batch, seq, features"):
        layers.MultiHeadAttention(2, 4)(Q[0], Q[0])


# -- cached decoding -----------------------------------------------------------------------

def _decode_mask(index, max_len, batch):
    """(B, 1, max_len): the query at step ``index`` sees cache positions <= index."""
    return np.broadcast_to(np.arange(max_len) <= index, (batch, 1, max_len))


def test_cached_step_by_step_equals_full_causal_pass():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = RNG.randn(2, 6, 8).astype("float32")
    full = to_numpy(layer(x, x, use_causal_mask=True))
    cache = ops.zeros((2, 2, 6, 2, 4))
    for i in range(6):
        step = x[:, i:i + 1]
        out, cache = layer(step, step, cache=cache, cache_update_index=i,
                           attention_mask=_decode_mask(i, 6, 2))
        assert tuple(out.shape) == (2, 1, 8) and tuple(cache.shape) == (2, 2, 6, 2, 4)
        assert_close(out, full[:, i:i + 1], atol=1e-5)
    # the filled cache holds every step's key/value projections
    w = layer.variable_paths()
    keys = np.einsum("btd,dnh->btnh", x, w["key/kernel"].numpy()) + w["key/bias"].numpy()
    assert_close(to_numpy(cache)[:, 0], keys, atol=1e-5)
    # a cache without an index is attended to as it is
    out, same = layer(x[:, 5:], x[:, 5:], cache=cache, attention_mask=_decode_mask(5, 6, 2))
    assert_close(out, full[:, 5:], atol=1e-5)
    assert_close(same, cache)


def test_cached_prefill_then_decode():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = RNG.randn(1, 5, 8).astype("float32")
    full = to_numpy(layer(x, x, use_causal_mask=True))
    cache = ops.zeros((1, 2, 5, 2, 4))
    prefill_mask = np.tril(np.ones((3, 5), bool))[None]  # prompt of 3 steps
    out, cache = layer(x[:, :3], x[:, :3], cache=cache, cache_update_index=0,
                       attention_mask=prefill_mask)
    assert_close(out, full[:, :3], atol=1e-5)
    for i in (3, 4):
        out, cache = layer(x[:, i:i + 1], x[:, i:i + 1], cache=cache, cache_update_index=i,
                           attention_mask=_decode_mask(i, 5, 1))
        assert_close(out, full[:, i:i + 1], atol=1e-5)


class TinyLM(zoo.Model):
    """Embedding -> causal self-attention (+ residual) -> tied logits."""

    def __init__(self, vocab=11, hidden=8, heads=2, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Embedding(vocab, hidden, embeddings_initializer="normal")
        self.attention = layers.MultiHeadAttention(heads, hidden // heads)
        self.norm = layers.LayerNormalization()

    def call(self, ids, cache=None, index=None, mask=None):
        h = self.embedding(ids)
        if cache is None:
            a = self.attention(h, h, use_causal_mask=True)
        else:
            a, cache = self.attention(h, h, cache=cache, cache_update_index=index,
                                      attention_mask=mask)
        logits = self.embedding(self.norm(h + a), reverse=True)
        return logits if cache is None else (logits, cache)


def test_greedy_decoding_with_cache_matches_recomputing():
    model = TinyLM()
    prompt = np.array([[3, 7]], dtype="int32")
    steps, max_len = 5, 7

    # reference: recompute the whole sequence each step
    ids = prompt
    for _ in range(steps):
        logits = to_numpy(model(ids))
        ids = np.concatenate([ids, logits[:, -1:].argmax(-1).astype("int32")], axis=1)

    # cached: prefill the prompt, then one token per step
    cache = ops.zeros((1, 2, max_len, 2, 4))
    mask = np.tril(np.ones((2, max_len), bool))[None]
    logits, cache = model(prompt, cache=cache, index=0, mask=mask)
    tokens = prompt
    next_id = to_numpy(logits)[:, -1:].argmax(-1).astype("int32")
    for i in range(2, 2 + steps - 1):
        tokens = np.concatenate([tokens, next_id], axis=1)
        logits, cache = model(next_id, cache=cache, index=i, mask=_decode_mask(i, max_len, 1))
        next_id = to_numpy(logits)[:, -1:].argmax(-1).astype("int32")
    tokens = np.concatenate([tokens, next_id], axis=1)
    np.testing.assert_array_equal(tokens, ids)


def test_cached_decoding_under_jit_with_traced_index():
    if BACKEND != "jax":
        pytest.skip("jax.jit")
    import jax

    layer = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = RNG.randn(2, 4, 8).astype("float32")
    full = to_numpy(layer(x, x, use_causal_mask=True))
    trainable = [v.value for v in layer.trainable_variables]

    @jax.jit
    def step(trainable, cache, token, index):
        mask = (jax.numpy.arange(4) <= index)[None, None, :]
        mask = jax.numpy.broadcast_to(mask, (2, 1, 4))
        (out, cache), _ = layer.stateless_call(trainable, [], token, token, cache=cache,
                                               cache_update_index=index, attention_mask=mask)
        return out, cache

    cache = ops.zeros((2, 2, 4, 2, 4))
    for i in range(4):
        out, cache = step(trainable, cache, x[:, i:i + 1], i)
        assert_close(out, full[:, i:i + 1], atol=1e-5)
