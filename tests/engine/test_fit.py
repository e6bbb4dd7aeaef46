"""compile / fit / evaluate / predict on every backend (numpy: evaluate / predict only)."""
import os
import runpy
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo import layers

from tests.conftest import BACKEND

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAINING = BACKEND != "numpy"
needs_training = pytest.mark.skipif(not TRAINING, reason="the numpy backend cannot train")


def regression_data(n=128, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x @ rng.normal(size=(6, 1)) + 0.1).astype("float32")
    return x, y


def mlp(seed=0, dtype=None):
    zoo.config.set_random_seed(seed)
    return zoo.Sequential([zoo.Input((6,)), layers.Dense(16, activation="relu", dtype=dtype),
                           layers.Dense(1, dtype=dtype)])


@needs_training
def test_fit_learns_and_returns_history():
    x, y = regression_data()
    model = mlp()
    model.compile(optimizer=zoo.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0, validation_split=0.25)
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert len(history.history["loss"]) == 8
    assert history.history["loss"][-1] < history.history["loss"][0] * 0.5
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(results) == {"loss", "mae"}
    prediction = model.predict(x, batch_size=50, verbose=0)
    assert prediction.shape == (128, 1)
    np.testing.assert_allclose(np.mean((prediction - y) ** 2), results["loss"], rtol=1e-4)


def test_numpy_backend_fit_error_or_evaluate_everywhere():
    x, y = regression_data(32)
    model = mlp()
    model.compile(optimizer="sgd", loss="mse")
    loss = model.evaluate(x, y, verbose=0)
    want = np.mean((np.asarray(zoo.ops.convert_to_numpy(model(x))) - y) ** 2)
    np.testing.assert_allclose(loss, want, rtol=1e-5)
    if not TRAINING:
        with pytest.raises(NotImplementedError, match="numpy backend"):
            model.fit(x, y, verbose=0)


@needs_training
@pytest.mark.parametrize("source", ["generator", "tf.data", "torch DataLoader", "dicts"])
def test_fit_on_every_data_source(source):
    x, y = regression_data(64)
    if source == "generator":
        def batches():
            while True:
                for i in range(0, 64, 16):
                    yield x[i:i + 16], y[i:i + 16]
        data, kwargs = batches(), {"steps_per_epoch": 4}
    elif source == "tf.data":
        tf = pytest.importorskip("tensorflow")
        data, kwargs = tf.data.Dataset.from_tensor_slices((x, y)).batch(16), {}
    elif source == "torch DataLoader":
        torch = pytest.importorskip("torch")
        dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        data, kwargs = torch.utils.data.DataLoader(dataset, batch_size=16), {}
    else:
        zoo.config.set_random_seed(0)
        inputs = {"a": zoo.Input((3,), name="a"), "b": zoo.Input((3,), name="b")}
        joined = layers.Concatenate()([inputs["a"], inputs["b"]])
        model = zoo.Model(inputs, layers.Dense(1)(layers.Dense(16, activation="relu")(joined)))
        model.compile(optimizer=zoo.optimizers.Adam(0.01), loss="mse")
        history = model.fit({"a": x[:, :3], "b": x[:, 3:]}, y, batch_size=16, epochs=5, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]
        return
    model = mlp()
    model.compile(optimizer=zoo.optimizers.Adam(0.01), loss="mse")
    history = model.fit(data, epochs=5, verbose=0, **kwargs)
    assert history.history["loss"][-1] < history.history["loss"][0]


@needs_training
def test_progress_bar_and_one_line_per_epoch(capsys):
    x, y = regression_data(64)
    model = mlp()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=16, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "4/4" in out and "loss:" in out
    model.fit(x, y, batch_size=16, epochs=2, verbose=2)
    lines = [l for l in capsys.readouterr().out.splitlines() if "loss:" in l]
    assert len(lines) == 2
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


@needs_training
def test_on_batch_methods():
    x, y = regression_data(16)
    model = mlp()
    model.compile(optimizer=zoo.optimizers.SGD(0.01), loss="mse", metrics=["mae"])
    before = model.test_on_batch(x, y, return_dict=True)
    logs = model.train_on_batch(x, y, return_dict=True)
    after = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "mae"} and after["loss"] < before["loss"]
    assert model.predict_on_batch(x).shape == (16, 1)


@needs_training
def test_mismatched_target_shape_names_loss_and_shapes():
    x, _ = regression_data(32)
    model = mlp()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"MeanSquaredError.*\(32, 3\).*\(32, 1\)"):
        model.fit(x, np.zeros((32, 3), "float32"), verbose=0)


@pytest.mark.skipif(BACKEND != "jax", reason="jax compilation cache")
def test_jax_step_compiles_once_per_batch_shape():
    x, y = regression_data(100)
    model = mlp()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)  # 3 full batches + one of 4
    import jax  # noqa: F401

    assert model._train_step_cache_size() <= 2


@needs_training
def test_mixed_bfloat16_trains_with_float32_master_weights():
    x, y = regression_data()
    model = mlp(dtype="mixed_bfloat16")
    model.compile(optimizer=zoo.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, batch_size=32, epochs=6, verbose=0)
    assert all(v.dtype == "float32" for v in model.variables)
    assert zoo.ops.dtype(model(x)) == "bfloat16"
    assert history.history["loss"][-1] < history.history["loss"][0]


@needs_training
def test_integer_inputs_build_with_their_dtype():
    """A subclassed model and a Sequential starting with an Embedding build from integer
    token ids (the first batch's dtype), not from float placeholders."""
    class Bag(zoo.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.embed = layers.Embedding(20, 8)
            self.pool = layers.GlobalAveragePooling1D()
            self.head = layers.Dense(2)

        def call(self, ids):
            return self.head(self.pool(self.embed(ids)))

    rng = np.random.default_rng(0)
    ids = rng.integers(0, 20, (64, 5)).astype("int32")
    labels = (ids[:, 0] >= 10).astype("int32")
    for model in (Bag(), zoo.Sequential([layers.Embedding(20, 8), layers.GlobalAveragePooling1D(),
                                         layers.Dense(2)])):
        model.compile(optimizer=zoo.optimizers.Adam(0.05),
                      loss=zoo.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(ids, labels, batch_size=16, epochs=5, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.skipif(BACKEND != "jax", reason="optax is a JAX library")
def test_optax_transformation_drives_fit():
    optax = pytest.importorskip("optax")
    x, y = regression_data()
    model = mlp()
    model.compile(optimizer=optax.adam(0.01), loss="mse")
    assert isinstance(model.optimizer, zoo.optimizers.OptaxOptimizer)
    history = model.fit(x, y, batch_size=16, epochs=6, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] * 0.5


@needs_training
def test_mixed_float16_uses_dynamic_loss_scaling():
    zoo.config.set_dtype_policy("mixed_float16")
    try:
        model = mlp()
        model.compile(optimizer=zoo.optimizers.Adam(0.01), loss="mse")
    finally:
        zoo.config.set_dtype_policy("float32")
    assert isinstance(model.optimizer, zoo.optimizers.LossScaleOptimizer)
    x, y = regression_data()
    history = model.fit(x, y, batch_size=32, epochs=6, verbose=0)
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    assert zoo.ops.dtype(model(x)) == "float16"
    assert history.history["loss"][-1] < history.history["loss"][0]


# -- the seed's examples --------------------------------------------------------------------

@pytest.mark.parametrize("backend,example", [("jax", "custom_train_step_jax.py"),
                                             ("torch", "custom_train_step_torch.py"),
                                             ("tensorflow", "custom_train_step_tensorflow.py")])
def test_custom_train_step_examples(backend, example, capsys):
    if BACKEND != backend:
        pytest.skip(f"{example} runs on {backend}")
    module = runpy.run_path(os.path.join(ROOT, "examples", example))
    history, results = module["main"](epochs=2)
    assert len(history.history["loss"]) == 2 and set(results) == {"loss", "mean_absolute_error"} \
        or set(results) >= {"loss"}
    assert history.history["loss"][1] < history.history["loss"][0]


@needs_training
def test_interop_loops_example():
    if BACKEND == "jax":
        pytest.importorskip("optax")
    module = runpy.run_path(os.path.join(ROOT, "examples", "interop_loops.py"))
    loop = {"jax": "jax_loop", "torch": "torch_loop", "tensorflow": "tensorflow_loop"}[BACKEND]
    assert module[loop](steps=60) < 0.5


# -- the seed's CNN across backends -----------------------------------------------------

CNN_STEPS = """
import json, sys
import numpy as np, zoo
sys.path.insert(0, {examples!r})
from seed_cnn import build_model, toy_data
zoo.config.set_random_seed(0)
x, y = toy_data(n=80)
model = build_model(dropout=0.0, filters=(4, 8, 8))
model.compile(optimizer=zoo.optimizers.SGD(0.02), loss="sparse_categorical_crossentropy")
losses = []
class Record(zoo.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        losses.append(float(np.asarray(zoo.ops.convert_to_numpy(logs["loss"]))))
model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[Record()])
print(json.dumps(losses))
"""


def _run(backend, code):
    env = dict(os.environ, ZOO_BACKEND=backend, PYTHONPATH=ROOT)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


@needs_training
def test_twenty_sgd_steps_agree_across_backends():
    """Same model, seed and data, SGD, no dropout: the 20 step losses agree to 1e-4."""
    import json

    code = CNN_STEPS.format(examples=os.path.join(ROOT, "examples"))
    mine = json.loads(_run(BACKEND, code))
    assert len(mine) == 20
    other = {"jax": "torch", "torch": "tensorflow", "tensorflow": "jax"}[BACKEND]
    theirs = json.loads(_run(other, code))
    np.testing.assert_allclose(mine, theirs, atol=1e-4)
    assert mine[-1] < mine[0]


@needs_training
def test_seed_cnn_fits_saves_and_predicts_identically_elsewhere(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    from seed_cnn import build_model, toy_data

    zoo.config.set_random_seed(0)
    x, y = toy_data(n=64)
    model = build_model(filters=(4, 8, 8))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    assert 0.0 <= results["accuracy"] <= 1.0
    path = str(tmp_path / "cnn.zoo")
    model.save(path)
    np.save(tmp_path / "x.npy", x[:8])
    mine = model.predict(x[:8], verbose=0)
    code = (f"import numpy as np, zoo; m = zoo.saving.load_model({path!r}); "
            f"x = np.load({str(tmp_path / 'x.npy')!r}); "
            f"print(repr(m.predict(x, verbose=0).tolist()))")
    for other in ("jax", "torch", "tensorflow", "numpy"):
        if other == BACKEND:
            continue
        theirs = np.asarray(eval(_run(other, code)), dtype="float32")
        np.testing.assert_allclose(theirs, mine, atol=1e-5, err_msg=f"{BACKEND} -> {other}")
