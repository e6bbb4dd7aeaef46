"""Dropout: identity in inference, seeded random masks in training, stateless under jit."""
import numpy as np
import pytest

from zoo import layers, ops

from tests.conftest import BACKEND
from tests.layers.helpers import assert_close, run_layer_test, to_numpy

X = np.ones((4, 50, 8), dtype="float32")


def test_dropout_inference_is_identity():
    layer, out = run_layer_test(layers.Dropout, {"rate": 0.5, "seed": 1}, input_data=X,
                                expected_output_shape=(4, 50, 8),
                                expected_num_non_trainable_weights=1)
    assert_close(out, X)
    assert layer.non_trainable_variables[0].dtype == "int32"


def test_dropout_rate_zero_has_no_state():
    run_layer_test(layers.Dropout, {"rate": 0.0}, input_data=X, expected_output_shape=X.shape,
                   call_kwargs={"training": True})


def test_dropout_training_drops_and_scales():
    layer = layers.Dropout(0.25, seed=3)
    out = to_numpy(layer(X, training=True))
    kept = out != 0
    assert 0.6 < kept.mean() < 0.9
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    again = to_numpy(layer(X, training=True))
    assert not np.array_equal(again != 0, kept), "the seed state must advance"


def test_dropout_noise_shape_broadcasts():
    layer = layers.Dropout(0.5, noise_shape=(None, 1, 8), seed=2)
    out = to_numpy(layer(X, training=True))
    assert np.all(out == out[:, :1])  # same mask along axis 1
    assert layer.get_config()["noise_shape"] == [None, 1, 8]


def test_dropout_stateless_call_threads_seed_state():
    layer = layers.Dropout(0.5, seed=4)
    state = [v.value for v in layer.non_trainable_variables]
    out1, state1 = layer.stateless_call([], state, X, training=True)
    out2, state2 = layer.stateless_call([], state, X, training=True)
    assert_close(out1, out2)  # same state in, same mask out
    assert not np.array_equal(to_numpy(state1[0]), to_numpy(state[0]))
    out3, _ = layer.stateless_call([], state1, X, training=True)
    assert not np.array_equal(to_numpy(out3), to_numpy(out1))
    if BACKEND == "jax":
        import jax

        step = jax.jit(lambda s, x: layer.stateless_call([], s, x, training=True))
        jit_out, jit_state = step(state, X)
        assert_close(jit_out, out1)
        assert_close(jit_state[0], state1[0])


def test_dropout_in_tf_function():
    if BACKEND != "tensorflow":
        pytest.skip("tf.function")
    import tensorflow as tf

    layer = layers.Dropout(0.5, seed=5)
    fn = tf.function(lambda x: layer(x, training=True))
    a, b = to_numpy(fn(ops.convert_to_tensor(X))), to_numpy(fn(ops.convert_to_tensor(X)))
    assert (a == 0).any() and not np.array_equal(a, b)


def test_dropout_rate_validation():
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)
