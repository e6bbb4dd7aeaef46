"""``.zoo`` whole-model files: round trips, safe_mode, unknown classes, damaged archives."""
import json
import os
import zipfile

import h5py
import numpy as np
import pytest

import zoo
from zoo import layers
from zoo.saving import serialization

from tests.saving.helpers import assert_same_values, fill, to_numpy, values

X = np.linspace(-1.0, 1.0, 12, dtype="float32").reshape(3, 4)


def functional(seed=0):
    inputs = zoo.Input((4,), name="x")
    h = layers.Dense(5, name="hidden")(inputs)
    outputs = {"a": layers.Dense(2, name="head_a")(h), "b": layers.Dense(1, name="head_b")(h)}
    return fill(zoo.Model(inputs, outputs, name="two_heads"), seed)


@zoo.saving.register_serializable(package="tests_saving")
class TwoDense(zoo.Model):
    """A subclassed model: its layers are built by the first call."""

    def __init__(self, hidden=5, units=2, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.units = units
        self.first = layers.Dense(hidden, name="first")
        self.second = layers.Dense(units, name="second")

    def call(self, x):
        return self.second(self.first(x))

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "units": self.units}


def read_member(path, member):
    with zipfile.ZipFile(path) as archive:
        return archive.read(member)


def rewrite_config(src, dst, edit):
    """Copy the archive ``src`` to ``dst`` with ``edit(config)`` applied to config.json."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            new.writestr(item, data)


def test_archive_members(tmp_path):
    model = functional()
    path = tmp_path / "m.zoo"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
    config = json.loads(read_member(path, "config.json"))
    assert config["class_name"] == "Functional"
    assert config["config"] == json.loads(json.dumps(model.get_config()))
    metadata = json.loads(read_member(path, "metadata.json"))
    assert metadata["zoo_version"] == zoo.__version__
    assert metadata["backend"] == zoo.config.backend()
    assert metadata["parameter_count"] == model.count_params() == 4 * 5 + 5 + 5 * 2 + 2 + 5 + 1
    assert metadata["date_saved"]
    assert [n for n in os.listdir(tmp_path) if n != "m.zoo"] == []


def test_functional_round_trip(tmp_path):
    model = functional()
    model.save(tmp_path / "m.zoo")
    loaded = zoo.saving.load_model(tmp_path / "m.zoo")
    assert isinstance(loaded, zoo.Functional) and loaded.name == "two_heads"
    assert_same_values(values(loaded), values(model))
    got, want = loaded(X), model(X)
    for key in ("a", "b"):
        np.testing.assert_array_equal(to_numpy(got[key]), to_numpy(want[key]))


def test_sequential_round_trip(tmp_path):
    model = fill(zoo.Sequential([zoo.Input((4,)), layers.Dense(3),
                                 layers.Dense(1, use_bias=False)], name="seq"))
    model.save(str(tmp_path / "s.zoo"))
    loaded = zoo.saving.load_model(str(tmp_path / "s.zoo"))
    assert isinstance(loaded, zoo.Sequential) and loaded.name == "seq"
    assert_same_values(values(loaded), values(model))
    np.testing.assert_array_equal(to_numpy(loaded(X)), to_numpy(model(X)))


def test_subclassed_round_trip(tmp_path):
    model = TwoDense(hidden=6, units=3, name="custom")
    model(X)  # built by its first call
    fill(model)
    expected = to_numpy(model(X))
    model.save(tmp_path / "c.zoo")
    config = json.loads(read_member(tmp_path / "c.zoo", "config.json"))
    assert config["class_name"] == "tests_saving>TwoDense"
    assert config["build"] == {"input_shape": [3, 4]}
    loaded = zoo.saving.load_model(tmp_path / "c.zoo")
    assert type(loaded) is TwoDense and loaded.hidden == 6 and loaded.name == "custom"
    assert_same_values(values(loaded), values(model))
    np.testing.assert_array_equal(to_numpy(loaded(X)), expected)


def test_subclassed_round_trip_with_custom_objects(tmp_path):
    model = TwoDense(name="custom")
    model.build((None, 4))
    fill(model)
    model.save(tmp_path / "c.zoo")

    def rename(config):
        config["class_name"] = "Unregistered"

    rewrite_config(tmp_path / "c.zoo", tmp_path / "renamed.zoo", rename)
    loaded = zoo.saving.load_model(tmp_path / "renamed.zoo",
                                   custom_objects={"Unregistered": TwoDense})
    assert type(loaded) is TwoDense
    assert_same_values(values(loaded), values(model))


def test_bfloat16_model_round_trip(tmp_path):
    model = fill(zoo.Sequential([zoo.Input((4,)), layers.Dense(3, dtype="bfloat16")]))
    model.save(tmp_path / "b.zoo")
    loaded = zoo.saving.load_model(tmp_path / "b.zoo")
    assert loaded.variables[0].dtype == "bfloat16"
    assert_same_values(values(loaded), values(model))


def test_unknown_class_names_the_class_and_the_file(tmp_path):
    functional().save(tmp_path / "m.zoo")

    def unknown_layer(config):
        config["config"]["layers"][1]["class_name"] = "NoSuchLayer"

    rewrite_config(tmp_path / "m.zoo", tmp_path / "bad.zoo", unknown_layer)
    with pytest.raises(ValueError) as info:
        zoo.saving.load_model(tmp_path / "bad.zoo")
    message = str(info.value)
    assert str(tmp_path / "bad.zoo") in message and "'NoSuchLayer'" in message

    def unknown_model(config):
        config["class_name"] = "my_pkg>NoSuchModel"

    rewrite_config(tmp_path / "m.zoo", tmp_path / "bad2.zoo", unknown_model)
    with pytest.raises(ValueError, match="NoSuchModel") as info:
        zoo.saving.load_model(tmp_path / "bad2.zoo")
    assert str(tmp_path / "bad2.zoo") in str(info.value)


def test_code_in_config_is_refused_before_anything_is_built(tmp_path, monkeypatch):
    model = zoo.Sequential([zoo.Input((4,)), layers.Dense(3, name="d1"),
                            layers.Dense(2, name="d2")], name="seq")
    model.save(tmp_path / "m.zoo")

    def add_lambda(config):
        code = serialization.serialize_function(lambda x: x * 2)
        code["config"]["name"] = "double"
        config["config"]["layers"].insert(1, code)

    rewrite_config(tmp_path / "m.zoo", tmp_path / "code.zoo", add_lambda)

    constructed = []
    original_deserialize = serialization.deserialize
    original_init = layers.Layer.__init__

    def spy_deserialize(*args, **kwargs):
        constructed.append("deserialize")
        return original_deserialize(*args, **kwargs)

    def spy_init(self, *args, **kwargs):
        constructed.append(type(self).__name__)
        return original_init(self, *args, **kwargs)

    monkeypatch.setattr(serialization, "deserialize", spy_deserialize)
    monkeypatch.setattr(layers.Layer, "__init__", spy_init)
    with pytest.raises(ValueError) as info:
        zoo.saving.load_model(tmp_path / "code.zoo")
    message = str(info.value)
    assert str(tmp_path / "code.zoo") in message
    assert "safe_mode" in message
    assert "__lambda__ 'double'" in message and "Sequential 'seq'" in message
    assert constructed == []


def test_load_model_on_a_weights_file(tmp_path):
    functional().save_weights(tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match="load_weights") as info:
        zoo.saving.load_model(tmp_path / "m.weights.h5")
    assert "m.weights.h5" in str(info.value)


def test_load_model_on_garbage(tmp_path):
    bad = tmp_path / "bad.zoo"
    bad.write_text("not a zip")
    with pytest.raises(ValueError, match="not a readable zoo model file") as info:
        zoo.saving.load_model(bad)
    assert str(bad) in str(info.value)

    functional().save(tmp_path / "good.zoo")
    data = (tmp_path / "good.zoo").read_bytes()
    (tmp_path / "half.zoo").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable zoo") as info:
        zoo.saving.load_model(tmp_path / "half.zoo")
    assert "half.zoo" in str(info.value)

    with zipfile.ZipFile(tmp_path / "empty.zoo", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="config.json"):
        zoo.saving.load_model(tmp_path / "empty.zoo")


def test_load_weights_from_a_model_file(tmp_path):
    functional(seed=0).save(tmp_path / "m.zoo")
    model = functional(seed=1)
    model.load_weights(tmp_path / "m.zoo")
    assert_same_values(values(model), values(zoo.saving.load_model(tmp_path / "m.zoo")))


def test_mismatch_in_model_file_names_the_archive(tmp_path):
    functional().save(tmp_path / "m.zoo")
    other = fill(zoo.Sequential([zoo.Input((4,)), layers.Dense(3, name="hidden")]))
    before = values(other)
    with pytest.raises(ValueError, match="unexpected in file") as info:
        other.load_weights(tmp_path / "m.zoo")
    assert "m.zoo" in str(info.value)
    assert_same_values(values(other), before)


def test_file_name_must_end_with_zoo(tmp_path):
    with pytest.raises(ValueError, match=r"\.zoo"):
        functional().save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="save_weights"):
        functional().save(tmp_path / "m.h5")
    assert os.listdir(tmp_path) == []


def test_failed_save_leaves_nothing_and_keeps_the_existing_file(tmp_path, monkeypatch):
    path = tmp_path / "m.zoo"
    functional(seed=0).save(path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("simulated disk failure")

    monkeypatch.setattr(h5py.Group, "create_dataset", fail)
    with pytest.raises(OSError, match="simulated"):
        functional(seed=1).save(path)
    with pytest.raises(OSError, match="simulated"):
        functional(seed=1).save(tmp_path / "new.zoo")
    assert os.listdir(tmp_path) == ["m.zoo"]
    assert path.read_bytes() == before


def test_failed_zip_write_leaves_nothing(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("simulated zip failure")

    monkeypatch.setattr(zipfile.ZipFile, "write", fail)
    with pytest.raises(OSError, match="simulated"):
        functional().save(tmp_path / "m.zoo")
    assert os.listdir(tmp_path) == []


def test_no_pickle_anywhere():
    import zoo.saving.model_file as model_file
    import zoo.saving.weights as weights

    for module in (model_file, weights, serialization):
        source = open(module.__file__).read()
        assert "pickle" not in source.replace("unpickled", "")
