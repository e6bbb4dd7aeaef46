"""LoRA on Dense, EinsumDense and Embedding: shapes, outputs equal to the merged kernel,
config / weights round trips, only the adapters train, clear errors."""
import os

import numpy as np
import pytest

import zoo
from tests.conftest import BACKEND, requires_gradients
from tests.layers.helpers import run_layer_test, to_numpy
from zoo import layers
from zoo.layers.core import lora

X = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
IDS = np.array([[1, 2, 9], [0, 4, 4]], "int32")


def test_run_layer_test_with_lora_rank_in_the_config():
    run_layer_test(layers.Dense, {"units": 5, "lora_rank": 2}, input_shape=(2, 3, 4),
                   expected_output_shape=(2, 3, 5), expected_num_trainable_weights=3,
                   expected_num_non_trainable_weights=1,
                   expected_variable_shapes=[(4, 5), (5,), (4, 2), (2, 5)])
    run_layer_test(layers.EinsumDense, {"equation": "abc,cde->abde", "output_shape": (None, 2, 3),
                                        "bias_axes": "de", "lora_rank": 2},
                   input_shape=(2, 3, 4), expected_output_shape=(2, 3, 2, 3),
                   expected_num_trainable_weights=3, expected_num_non_trainable_weights=1,
                   expected_variable_shapes=[(4, 2, 3), (2, 3), (4, 2), (2, 2, 3)])
    run_layer_test(layers.Embedding, {"input_dim": 10, "output_dim": 3, "lora_rank": 2,
                                      "lora_alpha": 4.0},
                   input_data=IDS, expected_output_shape=(2, 3, 3),
                   expected_num_trainable_weights=2, expected_num_non_trainable_weights=1,
                   expected_variable_shapes=[(10, 3), (10, 2), (2, 3)])


def _plain_output(layer, merged, x, **kwargs):
    """The same layer without LoRA, its weight replaced by the merged one."""
    config = {k: v for k, v in layer.get_config().items() if k not in lora.CONFIG_KEYS}
    plain = type(layer).from_config(config)
    plain(x, **kwargs)
    weights = [w.numpy() for w in layer.variables if "lora" not in w.name]
    weights[0] = merged
    plain.set_weights(weights)
    return to_numpy(plain(x, **kwargs))


@pytest.mark.parametrize("make, x", [
    (lambda: layers.Dense(5, activation="relu"), X),
    (lambda: layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de"), X),
    (lambda: layers.EinsumDense("abc,cd->abd", (None, 6), bias_axes="d"), X),
    (lambda: layers.EinsumDense("abcd,cde->abe", (None, 5), bias_axes="e"),
     X.reshape(2, 3, 2, 2)),
    (lambda: layers.EinsumDense("abc,dc->abd", (None, 6)), X),  # no matmul plan: einsum
    (lambda: layers.Embedding(10, 4), IDS),
], ids=["dense", "einsum_heads", "einsum_2d", "einsum_2_contracted", "einsum_plain",
        "embedding"])
def test_outputs_equal_the_merged_weight(make, x):
    layer = make()
    before = to_numpy(layer(x))
    layer.enable_lora(3, b_initializer="random_normal", alpha=6)
    assert layer.lora_enabled and layer.lora_rank == 3 and layer._lora_scale == 2.0
    target = layer.variables[0]
    assert not target.trainable and [v.name for v in layer.trainable_variables][-2:] == \
        list(layer._lora_names)
    out = to_numpy(layer(x))
    assert not np.allclose(out, before, atol=1e-4)
    merged = layer.lora_merged_weight()
    assert merged.shape == target.shape and merged.dtype == np.float32
    np.testing.assert_allclose(out, _plain_output(layer, merged, x), atol=1e-5, rtol=1e-5)
    if isinstance(layer, layers.Embedding):  # the tied head uses the adapted table too
        hidden = X
        np.testing.assert_allclose(to_numpy(layer(hidden, reverse=True)),
                                   _plain_output(layer, merged, hidden, reverse=True),
                                   atol=1e-5, rtol=1e-5)


def test_adapters_start_at_zero_and_keep_the_output():
    layer = layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de")
    before = to_numpy(layer(X))
    layer.enable_lora(4)
    np.testing.assert_allclose(to_numpy(layer(X)), before, atol=1e-6)
    np.testing.assert_array_equal(layer.lora_merged_weight(), layer.kernel.numpy())


def test_symbolic_call_and_functional_model():
    inputs = zoo.Input((3, 4))
    layer = layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de", name="query")
    model = zoo.Model(inputs, layer(inputs))
    layer.enable_lora(2, b_initializer="random_normal")
    assert model(inputs).shape == (None, 3, 2, 3)
    assert "query/lora_kernel_a" in model.variable_paths()
    np.testing.assert_allclose(to_numpy(model(X)), to_numpy(layer(X)), atol=1e-6)


def test_errors_name_the_layer():
    layer = layers.Dense(3, name="proj")
    with pytest.raises(ValueError, match="'proj'.*not built"):
        layer.enable_lora(2)
    layer(X)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="'proj'.*positive integer"):
            layer.enable_lora(bad)
    with pytest.raises(ValueError, match="'proj'.*alpha"):
        layer.enable_lora(2, alpha=0)
    layer.enable_lora(2)
    with pytest.raises(ValueError, match="'proj'.*already enabled"):
        layer.enable_lora(2)
    with pytest.raises(ValueError, match="lora_rank"):
        layers.Dense(3, lora_rank=0)
    no_input = layers.EinsumDense("ab,c->abc", (2, 3), name="outer")
    no_input(np.ones((2, 2), "float32"))
    with pytest.raises(ValueError, match="'outer'.*contracted"):
        no_input.enable_lora(2)


def test_config_is_unchanged_when_lora_is_off():
    layer = layers.Dense(3)
    layer(X)
    assert not any(k.startswith("lora") for k in layer.get_config())
    layer.enable_lora(2)
    assert layer.get_config()["lora_rank"] == 2 and "lora_alpha" not in layer.get_config()


def _lora_model():
    inputs = zoo.Input((4,))
    hidden = layers.Dense(6, activation="relu", name="hidden")
    out = layers.Dense(2, name="out")
    model = zoo.Model(inputs, out(hidden(inputs)))
    hidden.enable_lora(2, b_initializer="random_normal")
    return model


def test_save_and_weights_files_keep_the_adapters(tmp_path):
    model = _lora_model()
    x = X[0]
    want = to_numpy(model(x))
    path = os.path.join(tmp_path, "m.zoo")
    model.save(path)
    loaded = zoo.saving.load_model(path)
    assert [v.path for v in loaded.trainable_variables] == \
        [v.path for v in model.trainable_variables]
    assert "hidden/lora_kernel_b" in loaded.variable_paths()
    np.testing.assert_allclose(to_numpy(loaded(x)), want, atol=1e-6)
    weights = os.path.join(tmp_path, "m.weights.h5")
    model.save_weights(weights)
    again = zoo.Model.from_config(model.get_config())
    again.load_weights(weights)
    np.testing.assert_allclose(to_numpy(again(x)), want, atol=1e-6)


@requires_gradients()
def test_fit_trains_only_the_adapters_and_unfrozen_weights():
    model = _lora_model()
    frozen = model.variable_paths()["hidden/kernel"]
    frozen_before = frozen.numpy()
    adapters_before = {v.path: v.numpy() for v in model.trainable_variables}
    assert sorted(adapters_before) == ["hidden/bias", "hidden/lora_kernel_a",
                                       "hidden/lora_kernel_b", "out/bias", "out/kernel"]
    model.compile(optimizer=zoo.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(1).normal(size=(8, 4)).astype("float32")
    model.fit(x, np.ones((8, 2), "float32"), batch_size=4, epochs=1, verbose=0)
    np.testing.assert_array_equal(frozen.numpy(), frozen_before)
    for v in model.trainable_variables:
        assert not np.array_equal(v.numpy(), adapters_before[v.path]), v.path


@pytest.mark.skipif(BACKEND != "torch", reason="torch Parameters")
def test_torch_frozen_kernel_needs_no_gradient():
    layer = layers.Dense(3)
    layer(X)
    layer.enable_lora(2)
    grads = {name: p.requires_grad for name, p in layer.named_parameters()}
    assert grads == {"kernel": False, "bias": True, "lora_kernel_a": True,
                     "lora_kernel_b": True}
