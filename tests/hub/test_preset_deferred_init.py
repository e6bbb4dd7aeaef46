"""DeferredInitScope: variables created inside get memory on first assign, on a read, or when
the scope ends; building a model (symbolically) does not materialize them."""
import numpy as np
import pytest

import zoo
from tests.hub import preset_models as pm
from zoo import layers
from zoo.backend.common.variables import DeferredInitScope

BACKEND = zoo.config.backend()


def build():
    return zoo.Sequential([zoo.Input((4,)), layers.Dense(3, name="a"),
                           layers.LayerNormalization(name="n"), layers.Dense(2, name="b")])


def test_building_defers_and_assign_materializes():
    with DeferredInitScope():
        model = build()
        variables = model.variable_paths()
        assert all(v.deferred for v in variables.values())
        kernel = np.arange(12, dtype="float32").reshape(4, 3)
        variables["a/kernel"].assign(kernel)
        assert not variables["a/kernel"].deferred and variables["b/kernel"].deferred
        with pytest.raises(ValueError, match="shape"):
            variables["b/kernel"].assign(np.zeros((2, 2), "float32"))
    assert not any(v.deferred for v in variables.values())
    np.testing.assert_array_equal(variables["a/kernel"].numpy(), kernel)
    np.testing.assert_array_equal(variables["n/gamma"].numpy(), np.ones(3, "float32"))
    assert pm.to_numpy(model(np.ones((2, 4), "float32"))).shape == (2, 2)


def test_assigned_value_is_not_a_view_of_the_callers_array():
    value = np.ones((4, 3), "float32")
    with DeferredInitScope():
        model = build()
        model.variable_paths()["a/kernel"].assign(value)
    value[:] = 5
    assert float(model.variable_paths()["a/kernel"].numpy().max()) == 1.0


def test_read_materializes_from_the_initializer():
    with DeferredInitScope():
        model = build()
        bias = model.variable_paths()["b/bias"]
        np.testing.assert_array_equal(bias.numpy(), np.zeros(2, "float32"))
        assert not bias.deferred and model.variable_paths()["b/kernel"].deferred


def test_assign_loaded_adopts_the_array():
    array = np.full((4, 3), 2.0, "float32")
    with DeferredInitScope():
        model = build()
        model.variable_paths()["a/kernel"]._assign_loaded(array)
    np.testing.assert_array_equal(model.variable_paths()["a/kernel"].numpy(), array)
    model.variable_paths()["a/kernel"].assign(np.zeros((4, 3), "float32"))  # still writable
    assert float(np.abs(model.variable_paths()["a/kernel"].numpy()).max()) == 0.0


def test_error_inside_scope_leaves_variables_lazily_initialized():
    with pytest.raises(RuntimeError):
        with DeferredInitScope():
            model = build()
            raise RuntimeError("stop")
    assert all(v.deferred for v in model.variables)
    assert pm.to_numpy(model(np.ones((1, 4), "float32"))).shape == (1, 2)
    assert not any(v.deferred for v in model.variables)


@pytest.mark.skipif(BACKEND != "torch", reason="torch Parameters")
def test_torch_parameters_registered_after_materializing():
    with DeferredInitScope():
        model = build()
        assert list(model.parameters()) == []
        model.variable_paths()["a/kernel"].assign(np.ones((4, 3), "float32"))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["a.kernel", "a.bias", "n.gamma", "n.beta", "b.kernel", "b.bias"]
    assert all(p is v.value for p, v in zip(model.parameters(), model.variables))


@pytest.mark.skipif(BACKEND == "numpy", reason="needs gradients")
def test_gradients_and_stateless_call_after_deferred_build():
    with DeferredInitScope():
        model = build()
    x = np.ones((2, 4), "float32")
    values = [v.value for v in model.trainable_variables]
    out, _ = model.stateless_call(values, [v.value for v in model.non_trainable_variables], x)
    np.testing.assert_allclose(pm.to_numpy(out), pm.to_numpy(model(x)), atol=1e-6)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(model(x))
        grads = tape.gradient(loss, model.trainable_variables)
        assert all(g is not None for g in grads)


def test_aligned_array_given_to_assign_is_copied():
    from zoo.saving.weights import _aligned_empty

    value = _aligned_empty((64, 3), "float32")
    value[:] = 1
    with DeferredInitScope():
        model = zoo.Sequential([zoo.Input((64,)), layers.Dense(3, name="a")])
        model.variable_paths()["a/kernel"].assign(value)
    value[:] = 5
    assert float(model.variable_paths()["a/kernel"].numpy().max()) == 1.0
