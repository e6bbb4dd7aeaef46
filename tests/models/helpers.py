"""Checks every model in the zoo goes through (KerasHub's run_backbone_test/run_task_test).

    run_backbone_test(BertBackbone, {"vocabulary_size": 10, ...}, input_data,
                      expected_output_shape={"sequence_output": (2, 5, 8), ...})
    run_task_test(BertTextClassifier, {"backbone": ..., "num_classes": 2, "preprocessor": ...},
                  train_data=(["a", "b"], [0, 1]), expected_output_shape=(2, 2))

run_backbone_test checks, on the active backend: output shapes; get_config -> JSON ->
from_config rebuilds the same config and (weights copied) the same outputs; the config
registry round trip; variable paths unique; another batch size and sequence length;
stateless_call; a compiled call (jax.jit / tf.function); a weights-file round trip; and
mixed_bfloat16 (float32 variables, bfloat16 outputs).

run_task_test checks predict (raw inputs through the preprocessor when there is one),
fit (loss finite; skipped on numpy), and the config / weights round trips.
"""
import json
import os
import tempfile

import numpy as np

from tests.conftest import BACKEND
from tests.testing import assert_close, to_numpy  # noqa: F401  (imported from here too)
from zoo import ops
from zoo.saving import serialization


def _shapes(x):
    if isinstance(x, dict):
        return {k: _shapes(v) for k, v in x.items()}
    return tuple(x.shape)


def _slice(data, batch, length=None):
    """The first ``batch`` rows (and ``length`` columns) of every array of ``data``."""
    def cut(a):
        a = np.asarray(a)[:batch]
        return a[:, :length] if length is not None and a.ndim > 1 else a
    return {k: cut(v) for k, v in data.items()} if isinstance(data, dict) else cut(data)


def _config_round_trip(model):
    config = model.get_config()
    assert json.loads(json.dumps(config)) == config, "get_config must be JSON-able"
    revived = type(model).from_config(json.loads(json.dumps(config)))
    assert revived.get_config() == config, "from_config(get_config()) changed the config"
    again = serialization.deserialize(json.loads(json.dumps(serialization.serialize(model))))
    assert type(again) is type(model) and again.get_config() == config
    return revived


def _weights_round_trip(model, clone, data, reference, atol):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.weights.h5")
        model.save_weights(path)
        clone.load_weights(path)
    assert_close(clone(data), reference, atol, atol, "weights file round trip")


def _compiled(model, data):
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    if BACKEND == "jax":
        import jax

        run = jax.jit(lambda t, n, x: model.stateless_call(t, n, x)[0])
        return run(trainable, non_trainable, data)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(lambda x: model(x))(data)
    return None


def run_backbone_test(cls, init_kwargs, input_data, expected_output_shape,
                      variable_length_data=None, run_mixed_precision_check=True, atol=1e-5):
    """The standard backbone checks (see the module docstring); returns (model, outputs).

    ``variable_length_data`` is a second input (another batch size / sequence length)."""
    backbone = cls(**init_kwargs)
    outputs = backbone(input_data)
    assert _shapes(outputs) == expected_output_shape, \
        f"output shapes {_shapes(outputs)} != {expected_output_shape}"
    reference = to_numpy(outputs)

    paths = [v.path for v in backbone.variables]
    assert len(paths) == len(set(paths)), "variable paths must be unique"
    assert all(p and "/" in p for p in backbone.variable_paths()), "paths name their layers"

    revived = _config_round_trip(backbone)
    revived.set_weights(backbone.get_weights())
    assert_close(revived(input_data), reference, atol, atol, "from_config + set_weights")

    if variable_length_data is not None:  # another batch size and sequence length
        batch = np.asarray(next(iter(variable_length_data.values()))).shape[0]
        other = to_numpy(backbone(variable_length_data))
        for key, value in (other.items() if isinstance(other, dict) else [("output", other)]):
            assert value.shape[0] == batch, f"{key}: batch {value.shape[0]} != {batch}"

    trainable = [v.value for v in backbone.trainable_variables]
    non_trainable = [v.value for v in backbone.non_trainable_variables]
    stateless, _ = backbone.stateless_call(trainable, non_trainable, input_data)
    assert_close(stateless, reference, atol, atol, "stateless_call")

    compiled = _compiled(backbone, input_data)
    if compiled is not None:
        assert_close(compiled, reference, max(atol, 1e-4), max(atol, 1e-4), "compiled")

    clone = cls.from_config(backbone.get_config())
    _weights_round_trip(backbone, clone, input_data, reference, atol)

    if run_mixed_precision_check:
        mixed = cls(**{**init_kwargs, "dtype": "mixed_bfloat16"})
        mixed_out = mixed(input_data)
        for v in mixed.variables:
            if v.dtype.startswith("float") or v.dtype == "bfloat16":
                assert v.dtype == "float32", f"{v.path} is {v.dtype} under mixed_bfloat16"
        for key, value in (mixed_out.items() if isinstance(mixed_out, dict)
                           else [("output", mixed_out)]):
            assert ops.dtype(value) == "bfloat16", f"{key} is {ops.dtype(value)}"
    return backbone, outputs


def run_task_test(cls, init_kwargs, train_data, expected_output_shape, predict_data=None,
                  run_fit=True, atol=1e-5):
    """The standard task checks (see the module docstring); returns the task.

    ``train_data`` is ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``: raw inputs when the
    task has a preprocessor, arrays otherwise. ``predict_data`` (default: that ``x``) is
    what predictions are compared on: give arrays when preprocessing is random. Everything
    runs as one batch (one compiled step shape on JAX)."""
    task = cls(**init_kwargs)
    x = train_data[0] if predict_data is None else predict_data
    arrays = x
    if getattr(task, "preprocessor", None) is not None and not isinstance(x, dict):
        arrays = task.preprocessor(x)
        arrays = arrays[0] if isinstance(arrays, tuple) else arrays
    batch = len(next(iter(arrays.values()))) if isinstance(arrays, dict) else len(arrays)

    predictions = task.predict(x, batch_size=batch, verbose=0)
    assert _shapes(predictions) == expected_output_shape, \
        f"predict shapes {_shapes(predictions)} != {expected_output_shape}"
    assert np.all(np.isfinite(to_numpy(predictions)))
    assert_close(task(arrays), predictions, atol, atol, "predict on raw inputs vs call")

    if run_fit and BACKEND != "numpy":
        history = task.fit(*train_data, batch_size=len(train_data[0]), epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][-1])
    reference = to_numpy(task(arrays))

    revived = _config_round_trip(task)
    revived.set_weights(task.get_weights())
    assert_close(revived(arrays), reference, atol, atol, "from_config + set_weights")
    assert type(revived.preprocessor) is type(getattr(task, "preprocessor", None))
    _weights_round_trip(task, cls.from_config(task.get_config()), arrays, reference, atol)
    return task


def watch_replays(monkeypatch, module):
    """Make ``module.replayable`` record each wrapper it makes (with ``.calls`` counting
    every call of the wrapped body, recorded, replayed or run as written): -> that list."""
    from zoo.ops import replay

    made = []

    class Counted(replay.replayable):
        def __init__(self, body):
            super().__init__(body)
            self.calls = 0
            made.append(self)

        def __call__(self, *args):
            self.calls += 1
            return super().__call__(*args)

    monkeypatch.setattr(module, "replayable", Counted)
    return made
