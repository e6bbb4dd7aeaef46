"""TransformerEncoder: the shared encoder block (layer checks, masking, pre/post norm)."""
import numpy as np
import pytest

from tests.layers.helpers import run_layer_test
from tests.models.helpers import assert_close, to_numpy
from zoo import ops
from zoo.layers import TransformerEncoder


@pytest.mark.parametrize("normalize_first", [False, True])
def test_layer_checks(normalize_first):
    run_layer_test(TransformerEncoder, {"intermediate_dim": 12, "num_heads": 2,
                                        "activation": "gelu", "normalize_first": normalize_first,
                                        "layer_norm_epsilon": 1e-6},
                   input_shape=(2, 5, 8), expected_output_shape=(2, 5, 8),
                   expected_num_trainable_weights=16)


def test_padding_hides_keys():
    layer = TransformerEncoder(16, 2, activation="gelu")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 6, 8)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 0, 0]], "int32")
    out = to_numpy(layer(x, padding_mask=mask))
    changed = x.copy()
    changed[:, 4:] = rng.normal(size=(1, 2, 8))  # new values under the padding
    again = to_numpy(layer(changed, padding_mask=mask))
    assert_close(again[:, :4], out[:, :4], 1e-5, 1e-5, "real tokens ignore padded keys")
    assert not np.allclose(to_numpy(layer(x)), out)  # without the mask they do not
    causal = np.tril(np.ones((1, 6, 6), "int32"))
    first = to_numpy(layer(x, attention_mask=causal))[:, 0]
    assert_close(first, to_numpy(layer(x[:, :1]))[:, 0], 1e-5, 1e-5, "attention_mask")


def test_variable_paths_and_errors():
    layer = TransformerEncoder(16, 2, name="block")
    layer(np.zeros((1, 3, 8), "float32"))
    paths = set(layer.variable_paths())
    for path in ("self_attention/query/kernel", "self_attention/attention_output/bias",
                 "self_attention_layer_norm/gamma", "feedforward_intermediate_dense/kernel",
                 "feedforward_output_dense/bias", "feedforward_layer_norm/beta"):
        assert path in paths, path
    with pytest.raises(ValueError, match="divisible"):
        TransformerEncoder(16, 3)(np.zeros((1, 3, 8), "float32"))
    assert ops.dtype(TransformerEncoder(16, 2, dtype="bfloat16")(
        np.zeros((1, 3, 8), "float32"))) == "bfloat16"
