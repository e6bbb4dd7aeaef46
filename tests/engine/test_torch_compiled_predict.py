"""torch: ``compile(jit_compile=True)`` predicts through one traced, inductor-compiled graph
per input signature (zoo/backend/torch/capture.py)."""
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
    return m.make_predict_function().step


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
