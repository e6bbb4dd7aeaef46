"""TransformerDecoder: causal and padding masks, the key/value cache, config round trip."""
import numpy as np
import pytest

from tests.layers.helpers import run_layer_test
from tests.models.helpers import assert_close, to_numpy
from zoo import ops
from zoo.models import TransformerDecoder


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
