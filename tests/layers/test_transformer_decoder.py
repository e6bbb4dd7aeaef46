"""TransformerDecoder: causal and padding masks, the key/value cache, config round trip."""
import numpy as np
import pytest

import zoo

from tests.layers.helpers import run_layer_test
from tests.models.helpers import assert_close, to_numpy
from zoo import ops
from zoo.layers import TransformerDecoder


def block(**kwargs):
    layer = TransformerDecoder(16, 2, **kwargs)
    layer.build((None, None, 8))
    return layer


def data(batch=2, length=5, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, length, 8)).astype(np.float32)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_layer_checks(normalize_first):
    run_layer_test(TransformerDecoder, {"intermediate_dim": 12, "num_heads": 2,
                                        "normalize_first": normalize_first,
                                        "layer_norm_epsilon": 1e-6},
                   input_shape=(2, 5, 8), expected_output_shape=(2, 5, 8),
                   expected_num_trainable_weights=16)


@pytest.mark.parametrize("normalize_first", [True, False])
def test_causal(normalize_first):
    layer = block(normalize_first=normalize_first)
    x = data()
    changed = x.copy()
    changed[:, 3:] += 1.0  # the future must not reach positions 0..2
    out, out_changed = to_numpy(layer(x)), to_numpy(layer(changed))
    assert_close(out_changed[:, :3], out[:, :3])
    assert not np.allclose(out_changed[:, 3:], out[:, 3:])
    mask = np.ones((2, 5), np.int32)
    assert_close(layer(x, padding_mask=mask), out)  # an all-ones mask is the causal mask


def test_padding_hides_keys():
    layer = block()
    x = data()
    mask = np.array([[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]], np.int32)
    out = to_numpy(layer(x, padding_mask=mask))
    changed = x.copy()
    changed[1, :2] = 5.0  # padded keys: no effect on the real positions
    assert_close(to_numpy(layer(changed, padding_mask=mask))[1, 2:], out[1, 2:])
    # the padded row's real tokens see only themselves and each other
    alone = to_numpy(layer(x[1:, 2:]))
    assert_close(out[1, 2:], alone[0])


def test_cache_steps_match_full_call():
    layer = block(normalize_first=False, use_bias=False)
    x = data(length=6)
    mask = np.array([[1] * 6, [0, 1, 1, 1, 1, 1]], np.int32)
    full = to_numpy(layer(x, padding_mask=mask))
    cache = ops.zeros((2, 2, 6, 2, 4))
    out, cache = layer(x[:, :3], padding_mask=mask, cache=cache, cache_update_index=0)
    steps = [to_numpy(out)]
    for i in range(3, 6):
        out, cache = layer(x[:, i:i + 1], padding_mask=mask, cache=cache, cache_update_index=i)
        steps.append(to_numpy(out))
    got = np.concatenate(steps, 1)
    assert_close(got[0], full[0])
    assert_close(got[1, 1:], full[1, 1:])
    assert tuple(cache.shape) == (2, 2, 6, 2, 4)


def test_config_and_errors():
    layer = block(dropout=0.1, attention_dropout=0.2, activation="gelu", use_bias=False,
                  layer_norm_epsilon=1e-6)
    config = layer.get_config()
    again = TransformerDecoder.from_config(config)
    assert again.get_config() == config
    assert not any(v.path.endswith("bias") for v in layer.variables)
    with pytest.raises(ValueError, match="divisible"):
        TransformerDecoder(16, 3).build((None, None, 8))
    with pytest.raises(ValueError, match="cache_update_index"):
        block()(data(), cache=ops.zeros((2, 2, 5, 2, 4)))


# -- cross-attention ----------------------------------------------------------------------
def cross_block(normalize_first, encoder_dim=6):
    zoo.config.set_random_seed(5)
    layer = TransformerDecoder(16, 2, normalize_first=normalize_first, activation="gelu",
                               use_cross_attention=True, cross_attention_dim=encoder_dim,
                               bias_initializer="random_normal")
    layer.build((None, None, 8))
    return layer


def numpy_block(layer, x, encoder, encoder_mask, normalize_first):
    """The decoder block written out with NumPy einsums from the layer's weights."""
    w = {}
    for name in ("self_attention", "cross_attention"):
        attention = getattr(layer, name)
        for part, dense in (("query", attention.query_dense), ("key", attention.key_dense),
                            ("value", attention.value_dense),
                            ("attention_output", attention.output_dense)):
            w[f"{name}/{part}/kernel"] = to_numpy(dense.kernel.value)
            w[f"{name}/{part}/bias"] = to_numpy(dense.bias.value)
    for name in ("self_attention_layer_norm", "cross_attention_layer_norm",
                 "feedforward_layer_norm"):
        w[f"{name}/gamma"] = to_numpy(getattr(layer, name).gamma.value)
        w[f"{name}/beta"] = to_numpy(getattr(layer, name).beta.value)
    for name in ("feedforward_intermediate_dense", "feedforward_output_dense"):
        w[f"{name}/kernel"] = to_numpy(getattr(layer, name).kernel.value)
        w[f"{name}/bias"] = to_numpy(getattr(layer, name).bias.value)

    def norm(name, h):
        mean = h.mean(-1, keepdims=True)
        var = ((h - mean) ** 2).mean(-1, keepdims=True)
        return (h - mean) / np.sqrt(var + 1e-5) * w[f"{name}/gamma"] + w[f"{name}/beta"]

    def attend(name, q_in, kv_in, mask):
        q = np.einsum("btd,dnh->btnh", q_in, w[f"{name}/query/kernel"]) + w[f"{name}/query/bias"]
        k = np.einsum("bsd,dnh->bsnh", kv_in, w[f"{name}/key/kernel"]) + w[f"{name}/key/bias"]
        v = np.einsum("bsd,dnh->bsnh", kv_in, w[f"{name}/value/kernel"]) + w[f"{name}/value/bias"]
        logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(q.shape[-1])
        logits = np.where(mask[:, None], logits, -1e9)
        probs = np.exp(logits - logits.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        out = np.einsum("bnts,bsnh->btnh", probs, v)
        return np.einsum("btnh,nhd->btd", out, w[f"{name}/attention_output/kernel"]) + \
            w[f"{name}/attention_output/bias"]

    def gelu(h):
        from math import erf
        return 0.5 * h * (1 + np.vectorize(erf)(h / np.sqrt(2)))

    t = x.shape[1]
    causal = np.tril(np.ones((t, t), bool))[None].repeat(x.shape[0], 0)
    cross = encoder_mask.astype(bool)[:, None, :].repeat(t, 1)
    blocks = [("self_attention", lambda h: attend("self_attention", h, h, causal)),
              ("cross_attention", lambda h: attend("cross_attention", h, encoder, cross)),
              ("feedforward", lambda h: np.einsum(
                  "bti,id->btd", gelu(np.einsum("btd,di->bti", h,
                                                w["feedforward_intermediate_dense/kernel"])
                                      + w["feedforward_intermediate_dense/bias"]),
                  w["feedforward_output_dense/kernel"]) + w["feedforward_output_dense/bias"])]
    for name, fn in blocks:
        if normalize_first:
            x = x + fn(norm(f"{name}_layer_norm", x))
        else:
            x = norm(f"{name}_layer_norm", x + fn(x))
    return x


@pytest.mark.parametrize("normalize_first", [True, False])
def test_cross_attention_matches_an_einsum_reference(normalize_first):
    layer = cross_block(normalize_first)
    x = data(length=5)
    encoder = np.random.default_rng(3).normal(size=(2, 7, 6)).astype(np.float32)
    encoder_mask = np.array([[1] * 7, [1, 1, 1, 1, 0, 0, 0]], np.int32)
    got = layer(x, encoder_sequence=encoder, encoder_padding_mask=encoder_mask)
    want = numpy_block(layer, x.astype(np.float64), encoder.astype(np.float64), encoder_mask,
                       normalize_first)
    assert_close(got, want.astype(np.float32), atol=2e-5)
    # hidden encoder positions do not matter
    changed = encoder.copy()
    changed[1, 4:] = 9.0
    assert_close(layer(x, encoder_sequence=changed, encoder_padding_mask=encoder_mask), got)


def test_cross_attention_cache_steps_match_the_full_call():
    layer = cross_block(True)
    x = data(length=6)
    encoder = np.random.default_rng(4).normal(size=(2, 7, 6)).astype(np.float32)
    encoder_mask = np.array([[1] * 7, [1, 1, 1, 0, 0, 0, 0]], np.int32)
    full = to_numpy(layer(x, encoder_sequence=encoder, encoder_padding_mask=encoder_mask))
    cross = layer.cross_attention_cache(ops.convert_to_tensor(encoder))
    assert tuple(cross[0].shape) == (2 * 2, 7, 4)
    cache = (ops.zeros((4, 6, 4)), ops.zeros((4, 6, 4)))
    mask = np.ones((2, 6), np.int32)
    steps = []
    for i in range(6):
        out, cache = layer(x[:, i:i + 1], padding_mask=mask, cache=cache, cache_update_index=i,
                           cross_attention_cache=cross, encoder_padding_mask=encoder_mask)
        steps.append(to_numpy(out))
    assert_close(np.concatenate(steps, 1), full)


def test_cross_attention_config_and_errors():
    layer = cross_block(True)
    config = layer.get_config()
    assert config["use_cross_attention"] and config["cross_attention_dim"] == 6
    again = TransformerDecoder.from_config(config)
    again.build((None, None, 8))
    assert [tuple(v.shape) for v in again.weights] == [tuple(v.shape) for v in layer.weights]
    assert len(layer.weights) == len(block().weights) + 10  # 4 kernels, 4 biases, 1 norm
    with pytest.raises(ValueError, match="needs encoder_sequence"):
        layer(data())
    with pytest.raises(ValueError, match="use_cross_attention=True"):
        block()(data(), encoder_sequence=data())
