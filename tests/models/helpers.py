"""Checks every model in the zoo goes through (KerasHub's run_backbone_test/run_task_test/
run_preset_test).

    run_backbone_test(BertBackbone, {"vocabulary_size": 10, ...}, input_data,
                      expected_output_shape={"sequence_output": (2, 5, 8), ...})
    run_backbone_test(MyImageBackbone, {...}, images,  # one (B, H, W, C) tensor
                      expected_output_shape=(2, 8, 8, 16), variable_image_size=(24, 20))
    run_task_test(BertTextClassifier, {"backbone": ..., "num_classes": 2, "preprocessor": ...},
                  train_data=(["a", "b"], [0, 1]), expected_output_shape=(2, 2))
    run_preset_test(task, input_data, tmp_path, raw_inputs=["a", "b"])

run_backbone_test checks, on the active backend, for a dict of inputs or one tensor: output
shapes; get_config -> JSON -> from_config rebuilds the same config and (weights copied) the
same outputs; the config registry round trip; variable paths unique; a smaller batch (the
first rows: the same outputs row for row); another batch size and sequence length (or image
size); stateless_call; a compiled call (jax.jit / tf.function); a weights-file round trip;
and mixed_bfloat16 (float32 variables, bfloat16 outputs).

run_task_test checks predict (raw inputs through the preprocessor when there is one),
fit (loss finite; skipped on numpy), and the config / weights round trips.

run_preset_test checks save_to_preset -> from_preset in this process and in a fresh process
on every installed backend (the same class, the same outputs), and that damaged presets (a
truncated weights file, a config.json that is not JSON, a sha256 in metadata.json that does
not match) are refused with an error naming the file.
"""
import hashlib
import json
import os
import shutil
import tempfile

import numpy as np

from tests.conftest import BACKEND
from tests.subprocesses import BACKENDS
from tests.testing import assert_close, flatten, to_numpy  # noqa: F401  (imported from here too)
from zoo import ops
from zoo.saving import serialization


def _shapes(x):
    if isinstance(x, dict):
        return {k: _shapes(v) for k, v in x.items()}
    return tuple(x.shape)


def _slice(data, batch, length=None):
    """The first ``batch`` rows (and ``length`` columns) of every array of ``data``."""
    def cut(a):
        a = to_numpy(a)[:batch]
        return a[:, :length] if length is not None and a.ndim > 1 else a
    return {k: cut(v) for k, v in data.items()} if isinstance(data, dict) else cut(data)


def _batch_size(data):
    """The leading dimension of ``data`` (one tensor, or the first of a dict's)."""
    first = next(iter(data.values())) if isinstance(data, dict) else data
    return int(to_numpy(first).shape[0])


def _outputs(x):
    """``(name, array)`` for every output (one tensor is named "output")."""
    x = to_numpy(x)
    return list(x.items()) if isinstance(x, dict) else [("output", x)]


def _images_of_size(images, size):
    """(B, H, W, C) ``images`` cropped, or tiled then cropped, to ``size`` = (height, width)."""
    images = to_numpy(images)
    height, width = size
    tiles = (1, -(-height // images.shape[1]), -(-width // images.shape[2]), 1)
    return np.tile(images, tiles)[:, :height, :width]


def _check_smaller_batch(backbone, input_data, reference, atol):
    """The first rows alone give the same outputs as in the full batch."""
    batch = _batch_size(input_data)
    if batch < 2:
        return
    smaller = _slice(input_data, batch - 1)
    for (key, got), (_, want) in zip(_outputs(backbone(smaller)), _outputs(reference)):
        assert got.shape[0] == batch - 1, f"{key}: batch {got.shape[0]} != {batch - 1}"
        assert_close(got, want[:batch - 1], atol, atol, f"{key}: a smaller batch")


def _check_other_shape(backbone, data, reference):
    """Another batch size and sequence length (or image size) runs; each output keeps its
    rank and last (feature) dimension and has the new batch size."""
    batch = _batch_size(data)
    for (key, got), (_, want) in zip(_outputs(backbone(data)), _outputs(reference)):
        assert got.shape[0] == batch, f"{key}: batch {got.shape[0]} != {batch}"
        assert got.ndim == want.ndim and got.shape[-1:] == want.shape[-1:], \
            f"{key}: shape {got.shape} for other inputs, {want.shape} before"


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
                      variable_length_data=None, variable_image_size=None,
                      run_mixed_precision_check=True, atol=1e-5):
    """The standard backbone checks (see the module docstring); returns (model, outputs).

    ``input_data`` is a dict of inputs (token ids, masks, ...) or one tensor (an image
    batch (B, H, W, C), ...). ``variable_length_data`` is a second input (another batch
    size / sequence length); for one (B, H, W, C) image tensor, ``variable_image_size``
    = (height, width) makes it: the first rows cropped or tiled to that size."""
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

    _check_smaller_batch(backbone, input_data, reference, atol)
    if variable_image_size is not None:
        assert variable_length_data is None, "give variable_length_data or variable_image_size"
        assert not isinstance(input_data, dict) and to_numpy(input_data).ndim == 4, \
            "variable_image_size needs one (B, H, W, C) image tensor as input_data"
        variable_length_data = _images_of_size(
            _slice(input_data, max(_batch_size(input_data) - 1, 1)), variable_image_size)
    if variable_length_data is not None:  # another batch size and sequence length
        _check_other_shape(backbone, variable_length_data, reference)

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


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _damaged_copy(preset, target, name, data=None, checksum=None):
    """A copy of ``preset`` at ``target`` where file ``name`` holds ``data`` (bytes; None
    keeps it) and metadata.json lists ``checksum`` for it ("match": the sha256 of the new
    bytes; None: the original)."""
    shutil.copytree(preset, target)
    path = os.path.join(target, name)
    if data is not None:
        with open(path, "wb") as f:
            f.write(data)
    if checksum is not None:
        metadata_path = os.path.join(target, "metadata.json")
        with open(metadata_path) as f:
            metadata = json.load(f)
        metadata["files"][name] = _sha256(path) if checksum == "match" else checksum
        with open(metadata_path, "w") as f:
            json.dump(metadata, f)
    return target


def _assert_refused(preset, name, why):
    import zoo

    try:
        zoo.Model.from_preset(preset)
    except (ValueError, OSError) as error:  # PresetError is a ValueError
        assert name in str(error), f"{why}: the error does not name {name!r}: {error}"
        return
    except Exception as error:  # noqa: BLE001  (a bare KeyError/TypeError is not clear)
        raise AssertionError(f"{why}: {type(error).__name__} instead of a clear error "
                             f"naming {name!r}: {error}") from error
    raise AssertionError(f"{why}: from_preset loaded it without an error")


def _check_bad_files(preset, directory):
    with open(os.path.join(preset, "metadata.json")) as f:
        listed = sorted(json.load(f)["files"])
    weights = [n for n in listed if n.startswith("model.weights") and n.endswith(".h5")]
    assert weights and "config.json" in listed, f"metadata.json lists {listed}"

    with open(os.path.join(preset, weights[0]), "rb") as f:
        truncated = f.read()
    truncated = truncated[:len(truncated) // 3]
    _assert_refused(_damaged_copy(preset, os.path.join(directory, "truncated"), weights[0],
                                  truncated), weights[0], "a truncated weights file")
    _assert_refused(_damaged_copy(preset, os.path.join(directory, "truncated_listed"),
                                  weights[0], truncated, checksum="match"),
                    weights[0], "a truncated weights file whose sha256 metadata.json lists")
    _assert_refused(_damaged_copy(preset, os.path.join(directory, "config_not_json"),
                                  "config.json", b'{"class_name": "Trunc', checksum="match"),
                    "config.json", "a config.json that is not JSON")
    for index, name in enumerate(listed):
        wrong = hashlib.sha256(b"not " + name.encode()).hexdigest()
        _assert_refused(_damaged_copy(preset, os.path.join(directory, f"sha256_{index}"), name,
                                      checksum=wrong),
                        name, "a sha256 in metadata.json that does not match the file")


def fresh_process_backends():
    """The backends run_preset_test loads a preset on in fresh processes: the next backend
    of the ring jax -> torch -> tensorflow -> numpy -> jax (so over a full run of the suite
    every backend saves presets that another one loads, and loads those another one saved,
    with one child process per check instead of four); ``ZOO_PRESET_BACKENDS=all`` (or a
    space-separated list) asks for more."""
    chosen = os.environ.get("ZOO_PRESET_BACKENDS", "").split()
    if chosen == ["all"]:
        return BACKENDS
    if chosen:
        return tuple(chosen)
    ring = list(BACKENDS)
    return (ring[(ring.index(BACKEND) + 1) % len(ring)],) if BACKEND in ring else BACKENDS


def run_preset_test(model, input_data, directory, raw_inputs=None, imports=(),
                    backends=None, check_bad_files=True, atol=1e-5):
    """save_to_preset -> from_preset checks (see the module docstring); returns the model
    loaded in this process.

    ``model`` is built (its weights are what is saved); ``input_data`` is one tensor or a
    dict of them; ``directory`` an empty scratch directory (a pytest ``tmp_path``).
    ``raw_inputs`` (e.g. strings), when the model has a preprocessor, must come out of the
    loaded preprocessor as they come out of the original. ``imports`` are modules the fresh
    processes import first: those registering the classes of a preset made in a test.
    Every backend of ``backends`` that is installed (default: fresh_process_backends())
    loads the preset in a fresh process (``python -m tests.preset_runner``) and must give
    the outputs of ``model`` (within ``atol`` + ``atol`` relative)."""
    import zoo
    from tests import preset_runner
    from tests.subprocesses import run_on_backends

    directory = os.fspath(directory)
    preset = os.path.join(directory, "preset")
    reference = flatten(model(input_data))
    model.save_to_preset(preset)

    loaded = zoo.Model.from_preset(preset)
    assert type(loaded) is type(model), f"from_preset gave {type(loaded).__name__}"
    assert type(type(model).from_preset(preset)) is type(model)
    backbone = getattr(model, "backbone", None)
    if backbone is not None:  # a task preset gives its backbone to Backbone.from_preset
        assert type(type(backbone).from_preset(preset)) is type(backbone)
    assert_close(flatten(loaded(input_data)), reference, atol, atol, "from_preset in-process")
    if raw_inputs is not None:
        assert_close(loaded.preprocessor(raw_inputs), model.preprocessor(raw_inputs), 0, 0,
                     "the loaded preprocessor")

    inputs_path = os.path.join(directory, "inputs.npz")
    preset_runner.save_inputs(inputs_path, input_data)
    outputs = os.path.join(directory, "outputs")
    printed = run_on_backends(["-m", "tests.preset_runner", preset, inputs_path, outputs,
                               *imports], backends=backends or fresh_process_backends(),
                              what="from_preset in a fresh process")
    for backend, stdout in printed.items():
        assert f"CLASS {type(model).__name__}" in stdout, f"{backend}: {stdout[-500:]}"
        with np.load(os.path.join(outputs, f"{backend}.npz"), allow_pickle=False) as saved:
            got = {name: saved[name] for name in saved.files}
        assert_close(got, reference, atol, atol,
                     f"saved under {BACKEND}, loaded under ZOO_BACKEND={backend}")

    if check_bad_files:
        _check_bad_files(preset, os.path.join(directory, "damaged"))
    return loaded


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
