"""torch: ``compile(jit_compile=True)`` predicts and trains through one traced,
inductor-compiled graph per input signature (zoo/backend/torch/capture.py)."""
import warnings

import numpy as np
import pytest

import zoo
from zoo import layers, ops

from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "torch", reason="the torch backend's capture")


def model(seed=0):
    zoo.config.set_random_seed(seed)
    inputs = zoo.Input((6,))
    hidden = layers.Dense(16, activation="gelu")(inputs)
    hidden = layers.LayerNormalization()(hidden)
    return zoo.Model(inputs, {"out": layers.Dense(3)(hidden), "hidden": hidden})


def data(n, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 6)).astype("float32")


def compiled_step(m):
    return m.make_predict_function().compiled


def test_matches_eager_and_compiles_once_per_shape():
    eager, compiled = model(), model()
    compiled.compile(jit_compile=True)
    x = data(8)
    for _ in range(2):
        got = compiled.predict_on_batch(x)
    want = eager.predict_on_batch(x)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6)
    assert compiled_step(compiled).compile_count() == 1
    out = compiled.predict(data(20), batch_size=8, verbose=0)  # batches of 8 and 4
    np.testing.assert_allclose(out["out"], eager.predict(data(20), batch_size=8,
                                                          verbose=0)["out"], rtol=1e-5,
                               atol=1e-6)
    assert compiled_step(compiled).compile_count() == 2


def test_new_weights_need_no_recompilation():
    compiled, other = model(0), model(1)
    compiled.compile(jit_compile=True)
    x = data(4)
    before = compiled.predict_on_batch(x)["out"]
    compiled.set_weights(other.get_weights())
    after = compiled.predict_on_batch(x)["out"]
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, other.predict_on_batch(x)["out"], rtol=1e-5, atol=1e-6)
    assert compiled_step(compiled).compile_count() == 1


class ValueBranch(layers.Layer):
    """Python that reads a tensor's value: cannot be traced on fake tensors."""

    def call(self, x):
        return x * 2 if float(ops.convert_to_numpy(ops.max(x))) > 100 else x + 1

    def compute_output_spec(self, x):
        return x


def test_untraceable_call_runs_eagerly_with_a_warning():
    inputs = zoo.Input((6,))
    m = zoo.Model(inputs, ValueBranch()(inputs), name="branchy")
    m.compile(jit_compile=True)
    x = data(4)
    with pytest.warns(UserWarning, match="branchy: jit_compile=True predict runs eagerly "
                                         "because it could not be traced"):
        out = m.predict_on_batch(x)
    np.testing.assert_allclose(out, x + 1, rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once
        np.testing.assert_allclose(m.predict_on_batch(x), x + 1, rtol=1e-6)


def test_a_failing_compiler_falls_back_to_eager(monkeypatch):
    from zoo.backend.torch import capture

    def broken_compile(fn, **kwargs):
        def run(*args):
            raise RuntimeError("no C++ compiler")
        return run

    monkeypatch.setattr(capture.torch, "compile", broken_compile)
    eager, compiled = model(), model()
    compiled.compile(jit_compile=True)
    with pytest.warns(UserWarning, match="inductor could not compile it .*no C\\+\\+ compiler"):
        out = compiled.predict_on_batch(data(4))
    np.testing.assert_allclose(out["out"], eager.predict_on_batch(data(4))["out"], rtol=1e-6)


def test_errors_of_the_call_itself_surface():
    m = model()
    m.compile(jit_compile=True)
    with pytest.raises(Exception, match="6"):
        m.predict_on_batch(np.zeros((2, 5), "float32"))


# -- training ------------------------------------------------------------------------------

def classifier(seed=0, dropout=0.0, batch_norm=False):
    zoo.config.set_random_seed(seed)
    inputs = zoo.Input((6,))
    hidden = layers.Dense(16, activation="relu")(inputs)
    if batch_norm:
        hidden = layers.BatchNormalization()(hidden)
    if dropout:
        hidden = layers.Dropout(dropout)(hidden)
    return zoo.Model(inputs, layers.Dense(3)(hidden))


def labelled(n=64, seed=0):
    x = data(n, seed)
    return x, (x[:, 0] > 0).astype("int32") + (x[:, 1] > 1).astype("int32")


def fit(model, jit_compile, optimizer=None, epochs=3):
    model.compile(optimizer=optimizer or zoo.optimizers.Adam(0.01),
                  loss=zoo.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"],
                  jit_compile=jit_compile)
    x, y = labelled()
    return model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0).history


@pytest.mark.parametrize("batch_norm", [False, True])
def test_compiled_training_matches_eager(batch_norm):
    eager, compiled = classifier(batch_norm=batch_norm), classifier(batch_norm=batch_norm)
    want, got = fit(eager, False), fit(compiled, True)
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-5)
    assert got["accuracy"] == want["accuracy"]
    for a, b in zip(compiled.get_weights(), eager.get_weights()):  # moving stats too
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert compiled.make_train_function().compiled.compile_count() == 1


def test_compiled_training_with_loss_scaling_matches_eager():
    def optimizer():
        return zoo.optimizers.LossScaleOptimizer(zoo.optimizers.SGD(0.1), initial_scale=64.0)

    eager, compiled = classifier(), classifier()
    fit(eager, False, optimizer())
    fit(compiled, True, optimizer())
    for a, b in zip(compiled.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_compiled_training_with_dropout_learns_and_is_seeded():
    runs = []
    for _ in range(2):
        model = classifier(dropout=0.3)
        history = fit(model, True, epochs=6)
        runs.append(model.get_weights())
    assert history["loss"][-1] < history["loss"][0]
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    x, _ = labelled()  # dropout is on in training only
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_compiled_evaluate_matches_eager():
    eager, compiled = classifier(batch_norm=True), classifier(batch_norm=True)
    fit(eager, False, epochs=1)
    fit(compiled, True, epochs=1)
    x, y = labelled(40, seed=1)
    want = eager.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    got = compiled.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert set(got) == set(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5)
    assert compiled.make_test_function().compiled.compile_count() == 2  # 16 rows and 8


def test_an_overridden_train_step_runs_eagerly_with_a_warning():
    calls = []

    class Custom(zoo.Model):
        def train_step(self, data):
            calls.append(1)
            return super().train_step(data)

    inputs = zoo.Input((6,))
    model = Custom(inputs, layers.Dense(3)(inputs), name="custom")
    with pytest.warns(UserWarning, match="custom: jit_compile=True compiles zoo's own "
                                         "train_step on torch; the overridden "
                                         "Custom.train_step runs eagerly"):
        fit(model, True, epochs=1)
    assert len(calls) == 4

