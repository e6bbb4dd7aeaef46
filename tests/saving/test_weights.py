"""``.weights.h5`` files: layout, round trips, mismatches, damaged files, atomic writes."""
import os

import h5py
import ml_dtypes
import numpy as np
import pytest

import zoo
from zoo import layers

from tests.saving.helpers import assert_same_values, fill, to_numpy, values

X = np.linspace(-1.0, 1.0, 12, dtype="float32").reshape(3, 4)


def functional(hidden=5, seed=0):
    inputs = zoo.Input((4,), name="x")
    h = layers.Dense(hidden, name="hidden")(inputs)
    outputs = layers.Dense(2, name="head")(h)
    return fill(zoo.Model(inputs, outputs, name="mlp"), seed)


def leftovers(directory):
    return sorted(name for name in os.listdir(directory) if name.startswith("."))


def test_layout_and_root_attributes(tmp_path):
    model = functional()
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "zoo.weights"
        assert int(f.attrs["format_version"]) == 1
        assert f.attrs["zoo_version"] == zoo.__version__
        assert f.attrs["backend"] == zoo.config.backend()
        assert isinstance(f["hidden"], h5py.Group)
        assert f["hidden/kernel"].shape == (4, 5)
        assert f["head/bias"].shape == (2,)
        np.testing.assert_array_equal(f["hidden/kernel"][()],
                                      model.variable_paths()["hidden/kernel"].numpy())
    assert leftovers(tmp_path) == []


def test_functional_round_trip(tmp_path):
    model = functional(seed=0)
    path = tmp_path / "m.weights.h5"
    model.save_weights(str(path))
    other = functional(seed=1)
    assert not np.allclose(to_numpy(other(X)), to_numpy(model(X)))
    other.load_weights(str(path))
    assert_same_values(values(other), values(model))
    np.testing.assert_array_equal(to_numpy(other(X)), to_numpy(model(X)))


def test_module_level_functions(tmp_path):
    model = functional(seed=0)
    path = tmp_path / "m.weights.h5"
    zoo.saving.save_weights(model, path)
    other = functional(seed=3)
    zoo.saving.load_weights(other, path)
    assert_same_values(values(other), values(model))


def test_sequential_round_trip(tmp_path):
    def make(seed):
        return fill(zoo.Sequential([zoo.Input((4,)), layers.Dense(3),
                                    layers.Dense(1, use_bias=False)]), seed)

    model, other = make(0), make(1)
    model.save_weights(tmp_path / "s.weights.h5")
    other.load_weights(tmp_path / "s.weights.h5")
    assert_same_values(values(other), values(model))
    np.testing.assert_array_equal(to_numpy(other(X)), to_numpy(model(X)))


def test_bfloat16_stored_as_uint16_bits(tmp_path):
    def make(dtype, seed):
        return fill(zoo.Sequential([zoo.Input((4,)), layers.Dense(3, dtype=dtype, name="d")]),
                    seed)

    model = make("bfloat16", 0)
    kernel = model.variable_paths()["d/kernel"]
    assert kernel.dtype == "bfloat16"
    original = values(model)
    path = tmp_path / "bf16.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        dataset = f["d/kernel"]
        assert dataset.dtype == np.uint16
        assert dataset.attrs["dtype"] == "bfloat16"
        np.testing.assert_array_equal(dataset[()].view(ml_dtypes.bfloat16),
                                      original["d/kernel"])

    same = make("bfloat16", 1)
    same.load_weights(path)
    loaded = values(same)
    assert loaded["d/kernel"].dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(loaded["d/kernel"].view(np.uint16),
                                  original["d/kernel"].view(np.uint16))

    wider = make("float32", 1)  # bfloat16 values load exactly into float32 variables
    wider.load_weights(path)
    np.testing.assert_array_equal(values(wider)["d/kernel"],
                                  original["d/kernel"].astype("float32"))


def test_float32_file_into_bfloat16_model(tmp_path):
    source = fill(zoo.Sequential([zoo.Input((4,)), layers.Dense(3, name="d")]))
    source.save_weights(tmp_path / "f32.weights.h5")
    target = zoo.Sequential([zoo.Input((4,)), layers.Dense(3, name="d", dtype="bfloat16")])
    target.load_weights(tmp_path / "f32.weights.h5")
    expected = values(source)["d/kernel"].astype(ml_dtypes.bfloat16)
    np.testing.assert_array_equal(values(target)["d/kernel"], expected)


def test_mismatch_lists_everything_and_changes_nothing(tmp_path):
    path = tmp_path / "m.weights.h5"
    functional(hidden=5).save_weights(path)

    inputs = zoo.Input((4,), name="x")
    h = layers.Dense(6, name="hidden")(inputs)  # shape (4, 6) vs (4, 5)
    h = layers.Dense(6, name="extra")(h)  # not in the file
    outputs = layers.Dense(2, name="head", use_bias=False)(h)  # head/bias unexpected
    other = fill(zoo.Model(inputs, outputs, name="wider"), 7)
    before = values(other)

    with pytest.raises(ValueError) as info:
        other.load_weights(path)
    message = str(info.value)
    assert str(path) in message and "'wider'" in message
    assert "missing in file" in message
    assert "extra/kernel" in message and "extra/bias" in message
    assert "unexpected in file" in message and "head/bias" in message
    assert "hidden/kernel: model has shape (4, 6), file has shape (4, 5)" in message
    assert "hidden/bias: model has shape (6,), file has shape (5,)" in message
    assert "head/kernel" in message  # (6, 2) vs (5, 2)
    assert_same_values(values(other), before)


def test_unbuilt_model(tmp_path):
    model = zoo.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        model.save_weights(tmp_path / "u.weights.h5")
    assert os.listdir(tmp_path) == []
    functional().save_weights(tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match="not built"):
        model.load_weights(tmp_path / "m.weights.h5")


def test_truncated_file_is_a_clear_error(tmp_path):
    good = tmp_path / "good.weights.h5"
    functional().save_weights(good)
    data = good.read_bytes()
    bad = tmp_path / "bad.weights.h5"
    bad.write_bytes(data[: len(data) // 2])
    model = functional(seed=1)
    before = values(model)
    with pytest.raises(ValueError, match="not a readable zoo weights file") as info:
        model.load_weights(bad)
    assert str(bad) in str(info.value)
    assert_same_values(values(model), before)


def test_text_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.weights.h5"
    bad.write_text("these are not weights\n")
    with pytest.raises(ValueError, match="not a readable zoo weights file") as info:
        functional().load_weights(bad)
    assert str(bad) in str(info.value)


def test_foreign_hdf5_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "foreign.weights.h5"
    with h5py.File(bad, "w") as f:
        f["hidden/kernel"] = np.zeros((4, 5), "float32")
    with pytest.raises(ValueError, match="not a readable zoo weights file") as info:
        functional().load_weights(bad)
    assert str(bad) in str(info.value)


def test_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "m.weights.h5"
    functional().save_weights(path)
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = 99
    with pytest.raises(ValueError, match="version 99"):
        functional().load_weights(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.weights.h5"):
        functional().load_weights(tmp_path / "nope.weights.h5")


@pytest.mark.parametrize("name", ["m.h5", "m.weights", "m.keras", "m.weights.h5.bak"])
def test_file_name_must_end_with_weights_h5(tmp_path, name):
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        functional().save_weights(tmp_path / name)
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        functional().load_weights(tmp_path / name)
    assert os.listdir(tmp_path) == []


def _failing_create_dataset(monkeypatch):
    calls = []
    original = h5py.Group.create_dataset

    def create_dataset(self, name, *args, **kwargs):
        calls.append(name)
        if len(calls) == 2:  # fail part-way: one dataset is already written
            raise OSError("simulated disk failure")
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", create_dataset)
    return calls


def test_failed_save_leaves_nothing_behind(tmp_path, monkeypatch):
    calls = _failing_create_dataset(monkeypatch)
    with pytest.raises(OSError, match="simulated"):
        functional().save_weights(tmp_path / "m.weights.h5")
    assert len(calls) == 2
    assert os.listdir(tmp_path) == []


def test_failed_save_keeps_the_existing_file(tmp_path, monkeypatch):
    path = tmp_path / "m.weights.h5"
    functional(seed=0).save_weights(path)
    before = path.read_bytes()
    _failing_create_dataset(monkeypatch)
    with pytest.raises(OSError, match="simulated"):
        functional(seed=1).save_weights(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.weights.h5"]


def test_save_overwrites_atomically(tmp_path):
    path = tmp_path / "m.weights.h5"
    functional(seed=0).save_weights(path)
    second = functional(seed=1)
    second.save_weights(path)
    target = functional(seed=2)
    target.load_weights(path)
    assert_same_values(values(target), values(second))
    assert os.listdir(tmp_path) == ["m.weights.h5"]


def test_saved_file_respects_umask(tmp_path):
    path = tmp_path / "m.weights.h5"
    functional().save_weights(path)
    old = os.umask(0)
    os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~old


def test_load_reads_one_dataset_at_a_time(tmp_path, monkeypatch):
    """The check pass touches metadata only; data is read during assignment, in order."""
    path = tmp_path / "m.weights.h5"
    functional(seed=0).save_weights(path)
    model = functional(seed=1)
    events = []
    original_read = h5py.Dataset.__getitem__

    def read(self, key):
        events.append(("read", self.name))
        return original_read(self, key)

    original_read_direct = h5py.Dataset.read_direct

    def read_direct(self, *args, **kwargs):  # the loader reads into aligned arrays
        events.append(("read", self.name))
        return original_read_direct(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", read)
    monkeypatch.setattr(h5py.Dataset, "read_direct", read_direct)
    for path_, variable in model.variable_paths().items():
        original_assign = variable.assign

        def assign(value, _path=path_, _orig=original_assign):
            events.append(("assign", "/" + _path))
            return _orig(value)

        monkeypatch.setattr(variable, "assign", assign)
    model.load_weights(path)
    expected = []
    for path_ in model.variable_paths():
        expected += [("read", "/" + path_), ("assign", "/" + path_)]
    assert events == expected
