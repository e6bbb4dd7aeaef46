"""The three ways to build a model, their configs, summaries and stateless calls."""
import json

import numpy as np
import pytest

import zoo
from zoo import layers, ops


X = np.random.RandomState(0).randn(3, 4).astype("float32")


def np_(x):
    return ops.convert_to_numpy(x)


def functional():
    inputs = zoo.Input((4,), name="features")
    h = layers.Dense(8, activation="relu", name="hidden")(inputs)
    h = ops.multiply(h, 2.0)
    outputs = layers.Dense(2, name="head")(h[:, :6] if False else h)
    return zoo.Model(inputs, outputs, name="mlp")


class Subclassed(zoo.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.blocks = [layers.Dense(8), layers.Dense(8)]
        self.head = layers.Dense(2, name="head")

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def test_functional_model_runs_and_names_paths():
    model = functional()
    assert isinstance(model, zoo.Functional) and isinstance(model, zoo.Model)
    assert [v.path for v in model.variables] == [
        "hidden/kernel", "hidden/bias", "head/kernel", "head/bias"]
    out = np_(model(X))
    assert out.shape == (3, 2)
    hidden = np.maximum(X @ model.variables[0].numpy() + model.variables[1].numpy(), 0) * 2
    np.testing.assert_allclose(out, hidden @ model.variables[2].numpy() + model.variables[3].numpy(),
                               atol=1e-5)


def test_functional_config_round_trip_is_json_and_rebuilds_graph():
    model = functional()
    config = json.loads(json.dumps(model.get_config()))
    clone = zoo.Model.from_config(config)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(np_(clone(X)), np_(model(X)), atol=1e-6)
    assert [v.path for v in clone.variables] == [v.path for v in model.variables]


def test_functional_dict_inputs_and_outputs_with_raw_ops_and_slicing():
    a = zoo.Input((4,), name="a")
    b = zoo.Input((4,), name="b")
    joined = ops.add(layers.Dense(3, name="da")(a), layers.Dense(3, name="db")(b))
    first = joined[:, :2]
    model = zoo.Model({"a": a, "b": b}, {"sum": joined, "first": first})
    out = model({"a": X, "b": X})
    assert np_(out["sum"]).shape == (3, 3) and np_(out["first"]).shape == (3, 2)
    np.testing.assert_allclose(np_(out["first"]), np_(out["sum"])[:, :2])
    clone = zoo.Model.from_config(json.loads(json.dumps(model.get_config())))
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(np_(clone({"a": X, "b": X})["first"]), np_(out["first"]), atol=1e-6)
    with pytest.raises(ValueError, match="missing inputs"):
        model({"a": X})


def test_sequential_with_and_without_input():
    eager = zoo.Sequential([layers.Dense(5), layers.Dense(1)])
    assert not eager.built and eager.variables == []
    assert np_(eager(X)).shape == (3, 1)
    assert [v.path for v in eager.variables] == ["dense/kernel", "dense/bias",
                                                 "dense_1/kernel", "dense_1/bias"]
    declared = zoo.Sequential([zoo.Input((4,)), layers.Dense(5), layers.Dense(1)])
    assert declared.built and declared.count_params() == 4 * 5 + 5 + 5 + 1
    clone = zoo.Sequential.from_config(json.loads(json.dumps(declared.get_config())))
    clone.set_weights(declared.get_weights())
    np.testing.assert_allclose(np_(clone(X)), np_(declared(X)), atol=1e-6)


def test_subclassed_model_tracks_lists_and_builds_lazily():
    model = Subclassed()
    assert not model.built
    model(X)
    assert [v.path for v in model.variables] == [
        "dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias", "head/kernel", "head/bias"]
    assert len(model.trainable_variables) == 6


def test_subclassed_build_from_shape():
    model = Subclassed()
    model.build((None, 4))
    assert model.count_params() == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2


def test_summary_lists_layers_and_parameter_counts():
    lines = []
    functional().summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "hidden (Dense)" in text and "(None, 8)" in text
    assert "Total params: 58" in text and "Trainable params: 58" in text


def test_trainable_flag_moves_variables():
    model = functional()
    assert isinstance(model.layers[0], zoo.layers.InputLayer)  # Keras: inputs come first
    model.layers[1].trainable = False
    assert [v.path for v in model.non_trainable_variables] == ["hidden/kernel", "hidden/bias"]
    assert len(model.trainable_variables) == 2


def test_stateless_call_uses_given_values_and_leaves_state_alone():
    model = functional()
    before = model.get_weights()
    zeros = [ops.convert_to_tensor(np.zeros(v.shape, "float32")) for v in model.trainable_variables]
    out, non_trainable = model.stateless_call(zeros, [], X)
    np.testing.assert_allclose(np_(out), 0.0)
    assert non_trainable == []
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_layer_error_names_layer_and_shapes():
    model = functional()
    with pytest.raises(ValueError, match="features"):
        model(np.ones((3, 5), "float32"))
    dense = layers.Dense(3, name="proj")
    dense(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match=r"proj.*\(2, 7\)|proj.*7"):
        dense(np.ones((2, 7), "float32"))


def test_unknown_class_in_config_is_named():
    config = functional().get_config()
    config["layers"][1]["class_name"] = "NoSuchLayer"
    with pytest.raises(ValueError, match="NoSuchLayer"):
        zoo.Model.from_config(config)


def test_mixed_bfloat16_policy():
    dense = layers.Dense(3, dtype="mixed_bfloat16")
    out = dense(X)
    assert dense.kernel.dtype == "float32"
    assert ops.dtype(out) == "bfloat16"
    reference = X @ dense.kernel.numpy()
    np.testing.assert_allclose(np_(out).astype("float32"), reference, atol=5e-2, rtol=2e-2)


def test_global_dtype_policy():
    zoo.config.set_dtype_policy("mixed_bfloat16")
    try:
        dense = layers.Dense(2)
        assert dense.compute_dtype == "bfloat16" and dense.variable_dtype == "float32"
    finally:
        zoo.config.set_dtype_policy("float32")
    assert layers.Dense(2).compute_dtype == "float32"


def test_set_random_seed_reproduces_initial_weights():
    zoo.config.set_random_seed(7)
    a = functional().get_weights()
    zoo.config.set_random_seed(7)
    b = functional().get_weights()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_a_subclass_that_builds_a_graph_becomes_functional():
    """A backbone-style class calls super().__init__(inputs=, outputs=) and never lists
    Functional among its bases: it is made functional then, keeps its own methods and its
    registered name, and rebuilds from its config."""
    from zoo.engine.functional import Functional
    from zoo.models.backbone import Backbone
    from zoo.saving import serialization

    @serialization.register_serializable(package="test_models")
    class TinyBackbone(Backbone):
        def __init__(self, units=3, **kwargs):
            x = zoo.Input((4,), name="x")
            super().__init__(inputs=x, outputs=zoo.layers.Dense(units, name="proj")(x),
                             **kwargs)
            self.units = units

        def double_units(self):
            return 2 * self.units

    model = TinyBackbone(units=5, name="tiny")
    assert isinstance(model, Functional) and isinstance(model, TinyBackbone)
    assert model.double_units() == 10 and type(model) is TinyBackbone
    assert serialization.serialize(model)["class_name"] == "test_models>TinyBackbone"
    again = serialization.deserialize(serialization.serialize(model))
    assert isinstance(again, TinyBackbone) and again.get_config() == model.get_config()
    x = np.ones((2, 4), np.float32)
    assert np.asarray(zoo.ops.convert_to_numpy(model(x))).shape == (2, 5)
