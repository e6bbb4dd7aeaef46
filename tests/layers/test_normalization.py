"""LayerNormalization and BatchNormalization against NumPy references."""
import numpy as np
import pytest

from zoo import layers, ops

from tests.conftest import BACKEND
from tests.layers.helpers import assert_close, run_layer_test, to_numpy

X = np.random.RandomState(2).randn(4, 3, 5).astype("float32") * 3 + 1


def layer_norm_ref(x, gamma, beta, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def test_layer_normalization():
    layer, out = run_layer_test(layers.LayerNormalization, {}, input_data=X,
                                expected_output_shape=(4, 3, 5),
                                expected_num_trainable_weights=2,
                                expected_variable_shapes=[(5,), (5,)])
    assert [v.name for v in layer.variables] == ["gamma", "beta"]
    assert layer.epsilon == 1e-3
    assert_close(out, layer_norm_ref(X, 1.0, 0.0, -1, 1e-3), atol=1e-5)


def test_layer_normalization_values_with_params():
    layer = layers.LayerNormalization(epsilon=1e-5)
    layer(X)
    gamma = np.random.RandomState(0).rand(5).astype("float32")
    beta = np.random.RandomState(1).randn(5).astype("float32")
    layer.set_weights([gamma, beta])
    assert_close(layer(X), layer_norm_ref(X, gamma, beta, -1, 1e-5), atol=1e-5)


def test_layer_normalization_multiple_axes_and_no_center():
    layer, out = run_layer_test(layers.LayerNormalization, {"axis": [1, 2], "center": False},
                                input_data=X, expected_output_shape=(4, 3, 5),
                                expected_num_trainable_weights=1,
                                expected_variable_shapes=[(3, 5)])
    assert_close(out, layer_norm_ref(X, 1.0, 0.0, (1, 2), 1e-3), atol=1e-5)
    layer = layers.LayerNormalization(axis=1)
    layer(X)
    gamma = np.arange(1, 4, dtype="float32")
    layer.set_weights([gamma, np.zeros(3, "float32")])
    assert_close(layer(X), layer_norm_ref(X, gamma[:, None], 0.0, 1, 1e-3), atol=1e-5)


def test_layer_normalization_rms_scaling():
    layer, out = run_layer_test(layers.LayerNormalization, {"rms_scaling": True}, input_data=X,
                                expected_output_shape=(4, 3, 5),
                                expected_num_trainable_weights=1)
    want = X / np.sqrt((X ** 2).mean(-1, keepdims=True) + 1e-3)
    assert_close(out, want, atol=1e-5)


def test_layer_normalization_half_inputs_computed_in_float32():
    layer = layers.LayerNormalization(dtype="mixed_bfloat16")
    big = ops.convert_to_tensor(X * 100 + 1000)
    out = layer(big)
    assert ops.dtype(out) == "bfloat16" and layer.gamma.dtype == "float32"
    ref = layer_norm_ref(to_numpy(ops.cast(big, "bfloat16")).astype("float32"), 1, 0, -1, 1e-3)
    np.testing.assert_allclose(to_numpy(out).astype("float32"), ref, atol=5e-2)


def test_layer_normalization_bad_axis():
    with pytest.raises(ValueError, match="out of range"):
        layers.LayerNormalization(axis=3)(X)


# -- BatchNormalization --------------------------------------------------------------------

def test_batch_normalization_inference():
    layer, out = run_layer_test(layers.BatchNormalization, {}, input_data=X,
                                expected_output_shape=(4, 3, 5),
                                expected_num_trainable_weights=2,
                                expected_num_non_trainable_weights=2,
                                expected_variable_shapes=[(5,)] * 4)
    assert [v.name for v in layer.variables] == ["gamma", "beta", "moving_mean",
                                                  "moving_variance"]
    # fresh statistics: mean 0, variance 1
    assert_close(out, X / np.sqrt(1 + 1e-3), atol=1e-5)
    rng = np.random.RandomState(0)
    gamma, beta, mm, mv = (rng.rand(5).astype("float32") + 0.5 for _ in range(4))
    layer.set_weights([gamma, beta, mm, mv])
    assert_close(layer(X), (X - mm) / np.sqrt(mv + 1e-3) * gamma + beta, atol=1e-5)


def test_batch_normalization_training_updates_moving_statistics():
    layer = layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
    out = layer(X, training=True)
    mean, var = X.mean(axis=(0, 1)), X.var(axis=(0, 1))
    assert_close(out, (X - mean) / np.sqrt(var + 1e-5), atol=1e-4)
    assert_close(layer.moving_mean.numpy(), 0.1 * mean, atol=1e-5)
    assert_close(layer.moving_variance.numpy(), 0.9 + 0.1 * var, atol=1e-5)
    # inference does not touch them
    layer(X, training=False)
    assert_close(layer.moving_mean.numpy(), 0.1 * mean, atol=1e-5)


def test_batch_normalization_not_trainable_runs_in_inference_mode():
    layer = layers.BatchNormalization()
    layer(X)
    layer.trainable = False
    assert_close(layer(X, training=True), X / np.sqrt(1 + 1e-3), atol=1e-5)
    assert_close(layer.moving_mean.numpy(), np.zeros(5), atol=0)


def test_batch_normalization_stateless_call_returns_new_statistics():
    layer = layers.BatchNormalization(momentum=0.5, axis=1)
    layer(X)
    trainable = [v.value for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]
    out, (new_mean, new_var) = layer.stateless_call(trainable, non_trainable, X, training=True)
    mean, var = X.mean(axis=(0, 2)), X.var(axis=(0, 2))
    assert_close(new_mean, 0.5 * mean, atol=1e-5)
    assert_close(new_var, 0.5 + 0.5 * var, atol=1e-5)
    assert_close(out, (X - mean[:, None]) / np.sqrt(var[:, None] + 1e-3), atol=1e-4)
    assert_close(layer.moving_mean.numpy(), np.zeros(3), atol=0)  # untouched
    if BACKEND == "jax":
        import jax

        @jax.jit
        def step(trainable, non_trainable, x):
            return layer.stateless_call(trainable, non_trainable, x, training=True)

        jit_out, jit_stats = step(trainable, non_trainable, X)
        assert_close(jit_out, out, atol=1e-5)
        assert_close(jit_stats[0], new_mean, atol=1e-5)


def test_batch_normalization_training_in_tf_function():
    if BACKEND != "tensorflow":
        pytest.skip("tf.function")
    import tensorflow as tf

    layer = layers.BatchNormalization(momentum=0.0)
    layer(X)
    tf.function(lambda x: layer(x, training=True))(ops.convert_to_tensor(X))
    assert_close(layer.moving_mean.numpy(), X.mean(axis=(0, 1)), atol=1e-5)


def test_batch_normalization_conv_features_mixed_precision():
    images = np.random.RandomState(3).randn(2, 4, 4, 3).astype("float32")
    layer = layers.BatchNormalization(dtype="mixed_bfloat16")
    out = layer(ops.convert_to_tensor(images), training=True)
    assert ops.dtype(out) == "bfloat16"
    assert layer.moving_mean.dtype == "float32" and layer.gamma.dtype == "float32"
    mean = to_numpy(ops.cast(ops.cast(images, "bfloat16"), "float32")).mean(axis=(0, 1, 2))
    assert_close(layer.moving_mean.numpy(), 0.01 * mean, atol=1e-4)
