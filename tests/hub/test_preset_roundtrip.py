"""save_to_preset -> from_preset on the active backend: files, metadata, class dispatch,
overrides, dtype, sharding, tokenizer / preprocessor, deferred init."""
import json
import os

import numpy as np
import pytest

import zoo
from tests.hub import preset_models as pm
from zoo import layers
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.hub import preset_format as fmt
from zoo.models import Backbone, Preprocessor, Task, Tokenizer
from zoo.saving import register_serializable


@pytest.fixture
def backbone_preset(tmp_path):
    model = pm.make_backbone(seed=3)
    path = str(tmp_path / "backbone")
    model.save_to_preset(path, source="unit test")
    return path, model


@pytest.fixture
def task_preset(tmp_path):
    model = pm.make_classifier(seed=4)
    path = str(tmp_path / "task")
    model.save_to_preset(path)
    return path, model


def assert_same(a, b):
    a, b = pm.to_numpy(a), pm.to_numpy(b)
    if isinstance(a, dict):
        assert sorted(a) == sorted(b)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    else:
        np.testing.assert_array_equal(a, b)


def test_backbone_files_and_metadata(backbone_preset):
    path, model = backbone_preset
    assert sorted(os.listdir(path)) == ["config.json", "metadata.json", "model.weights.h5"]
    metadata = json.load(open(os.path.join(path, "metadata.json")))
    assert metadata["format"] == "zoo.preset" and metadata["format_version"] == 2
    assert metadata["components"] == {}  # a backbone alone has no preprocessing components
    assert metadata["zoo_version"] == zoo.__version__
    assert metadata["class_name"] == "zoo_tests>TinyBackbone"
    assert metadata["parameter_count"] == model.count_params()
    assert metadata["dtype"] == "float32" and metadata["source"] == "unit test"
    assert sorted(metadata["files"]) == ["config.json", "model.weights.h5"]
    for name, digest in metadata["files"].items():
        assert fmt.sha256_file(os.path.join(path, name)) == digest
    config = json.load(open(os.path.join(path, "config.json")))
    assert config["class_name"] == "zoo_tests>TinyBackbone"
    assert config["config"]["hidden_dim"] == 8
    assert fmt.verify_preset(path)["class_name"] == "zoo_tests>TinyBackbone"


@pytest.mark.parametrize("entry", [zoo.Model, Backbone, pm.TinyBackbone])
def test_backbone_round_trip(backbone_preset, entry):
    path, model = backbone_preset
    loaded = entry.from_preset(path)
    assert type(loaded) is pm.TinyBackbone and loaded.name == "tiny_backbone"
    assert not any(v.deferred for v in loaded.variables)
    assert_same(loaded(pm.TOKENS), model(pm.TOKENS))
    assert loaded._zoo_preset_source == "unit test"


def test_task_round_trip_with_preprocessor(task_preset):
    path, model = task_preset
    names = set(json.load(open(os.path.join(path, "metadata.json")))["files"])
    assert {"tokenizer.json", "preprocessor.json", "assets/tokenizer/vocab.txt"} <= names
    config = json.load(open(os.path.join(path, "config.json")))["config"]
    assert config["backbone"]["class_name"] == "zoo_tests>TinyBackbone"
    loaded = zoo.Model.from_preset(path)
    assert type(loaded) is pm.TinyClassifier
    assert isinstance(loaded.preprocessor, pm.TinyPreprocessor)
    assert loaded.preprocessor.tokenizer.vocabulary == pm.VOCAB
    x = loaded.preprocessor(pm.TEXTS)
    np.testing.assert_array_equal(x, model.preprocessor(pm.TEXTS))
    assert_same(loaded(x), model(x))


def test_backbone_from_task_preset(task_preset):
    path, model = task_preset
    backbone = pm.TinyBackbone.from_preset(path)
    assert type(backbone) is pm.TinyBackbone
    assert_same(backbone(pm.TOKENS), model.backbone(pm.TOKENS))
    assert Backbone.from_preset(path).count_params() == model.backbone.count_params()


def test_task_from_backbone_preset_gets_fresh_head(backbone_preset):
    path, model = backbone_preset
    task = pm.TinyClassifier.from_preset(path, num_classes=4)
    assert task.head.kernel.shape == (8, 4)
    assert task.preprocessor is None  # the backbone preset has no tokenizer
    assert_same(task.backbone(pm.TOKENS), model(pm.TOKENS))
    assert not any(v.deferred for v in task.variables)


def test_task_override_resizes_head(task_preset):
    path, model = task_preset
    with pytest.warns(UserWarning, match="logits/kernel"):
        task = pm.TinyClassifier.from_preset(path, num_classes=5)
    assert task.head.kernel.shape == (8, 5)
    assert_same(task.backbone(pm.TOKENS), model.backbone(pm.TOKENS))


def test_overrides_change_config_and_unknown_key_is_named(backbone_preset, task_preset):
    path, _ = backbone_preset
    assert pm.TinyBackbone.from_preset(path, dropout=0.5).dropout == 0.5
    with pytest.raises(ValueError, match="'hidden_size'"):
        pm.TinyBackbone.from_preset(path, hidden_size=3)
    task_path, _ = task_preset
    task = zoo.Model.from_preset(task_path, dropout=0.25)  # a backbone key, through the task
    assert task.backbone.dropout == 0.25
    with pytest.raises(ValueError, match="'colour'"):
        zoo.Model.from_preset(task_path, colour="red")


def test_dtype_sets_policy(task_preset):
    path, model = task_preset
    loaded = zoo.Model.from_preset(path, dtype="bfloat16")
    assert {v.dtype for v in loaded.variables} == {"bfloat16"}
    assert loaded.backbone.dtype_policy.name == "bfloat16"
    assert zoo.config.dtype_policy().name == "float32"  # the global policy is restored
    x = model.preprocessor(pm.TEXTS)
    got = pm.to_numpy(loaded(x)).astype("float32")
    np.testing.assert_allclose(got, pm.to_numpy(model(x)), atol=0.1)


def test_load_weights_false_builds_random_model(backbone_preset):
    path, model = backbone_preset
    fresh = pm.TinyBackbone.from_preset(path, load_weights=False)
    assert not any(v.deferred for v in fresh.variables)
    saved = model.variable_paths()
    assert any(not np.array_equal(v.numpy(), saved[p].numpy())
               for p, v in fresh.variable_paths().items())


def test_sharded_round_trip(tmp_path):
    model = pm.make_classifier(seed=5)
    path = str(tmp_path / "sharded")
    model.save_to_preset(path, max_shard_size=500)
    files = sorted(os.listdir(path))
    shards = [f for f in files if f.startswith("model.weights-")]
    assert len(shards) > 2 and "model.weights.h5" not in files
    assert shards[0] == f"model.weights-00001-of-{len(shards):05d}.h5"
    index = json.load(open(os.path.join(path, "model.weights.index.json")))
    assert sorted(index["weight_map"]) == sorted(model.variable_paths())
    assert index["total_size"] == sum(v.size * 4 for v in model.variables)
    loaded = zoo.Model.from_preset(path)
    x = model.preprocessor(pm.TEXTS)
    assert_same(loaded(x), model(x))
    assert_same(pm.TinyBackbone.from_preset(path)(pm.TOKENS), model.backbone(pm.TOKENS))


def test_max_shard_size_accepts_units(tmp_path):
    model = pm.make_backbone()
    model.save_to_preset(str(tmp_path / "p"), max_shard_size="0.5KB")
    assert "model.weights.index.json" in os.listdir(tmp_path / "p")
    with pytest.raises(ValueError, match="max_shard_size"):
        model.save_to_preset(str(tmp_path / "q"), max_shard_size="lots")


def test_tokenizer_and_preprocessor_from_preset(task_preset):
    path, _ = task_preset
    tokenizer = pm.TinyTokenizer.from_preset(path)
    assert tokenizer.vocabulary == pm.VOCAB and tokenizer.lowercase is True
    assert type(Tokenizer.from_preset(path)) is pm.TinyTokenizer
    assert pm.TinyTokenizer.from_preset(path, lowercase=False).lowercase is False
    preprocessor = pm.TinyPreprocessor.from_preset(path, sequence_length=3)
    assert preprocessor(pm.TEXTS).shape == (3, 3)
    assert type(Preprocessor.from_preset(path)) is pm.TinyPreprocessor
    with pytest.raises(ValueError, match="'max_length'"):
        pm.TinyPreprocessor.from_preset(path, max_length=3)


def test_functional_and_sequential_presets(tmp_path):
    inputs = zoo.Input((4,), name="x")
    functional = pm.fill(zoo.Model(inputs, layers.Dense(3, name="d")(inputs), name="f"))
    sequential = pm.fill(zoo.Sequential([layers.Dense(3, name="d")], name="s"))
    sequential.build((None, 4))
    x = np.linspace(-1, 1, 8, dtype="float32").reshape(2, 4)
    for model in (functional, sequential):
        path = str(tmp_path / model.name)
        model.save_to_preset(path)
        loaded = zoo.Model.from_preset(path)
        assert type(loaded) is type(model)
        assert_same(loaded(x), model(x))


def test_resave_replaces_existing_preset(tmp_path):
    path = str(tmp_path / "p")
    pm.make_classifier(seed=1).save_to_preset(path, max_shard_size=500)
    second = pm.make_backbone(seed=2)
    second.save_to_preset(path)
    assert sorted(os.listdir(path)) == ["config.json", "metadata.json", "model.weights.h5"]
    assert sorted(os.listdir(tmp_path)) == ["p"]  # no temporary or old directory left
    assert_same(zoo.Model.from_preset(path)(pm.TOKENS), second(pm.TOKENS))


def test_refuses_to_replace_a_directory_that_is_not_a_preset(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a zoo preset"):
        pm.make_backbone().save_to_preset(str(tmp_path / "mine"))
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    pm.make_backbone().save_to_preset(str(tmp_path / "empty"))  # absent or empty is fine


def test_resaving_a_loaded_preset_keeps_its_source(backbone_preset, tmp_path):
    path, _ = backbone_preset
    loaded = zoo.Model.from_preset(path)
    loaded.save_to_preset(str(tmp_path / "again"))
    metadata = json.load(open(tmp_path / "again" / "metadata.json"))
    assert metadata["source"] == "unit test"


def test_handle_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        zoo.Model.from_preset(str(tmp_path / "nowhere"))
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        zoo.Model.from_preset(str(tmp_path / "file.txt"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="neither a zoo preset"):
        zoo.Model.from_preset(str(tmp_path / "empty"))


@register_serializable(package="zoo_tests")
class TinyRegressor(Task):
    backbone_cls = pm.TinyBackbone
    preprocessor_cls = pm.TinyPreprocessor

    def __init__(self, backbone, preprocessor=None, name=None, dtype=None, trainable=True):
        super().__init__(name=name, dtype=dtype, trainable=trainable)
        self.backbone, self.preprocessor = backbone, preprocessor
        self.head = layers.Dense(1, name="value", dtype=dtype)
        self.build(SymbolicTensor((None, None), "int32"))

    def call(self, token_ids):
        return self.head(self.backbone(token_ids)["pooled_output"])


def test_task_from_another_tasks_preset(task_preset):
    path, model = task_preset
    task = TinyRegressor.from_preset(path)
    assert type(task) is TinyRegressor and task.head.kernel.shape == (8, 1)
    assert_same(task.backbone(pm.TOKENS), model.backbone(pm.TOKENS))
    assert task.preprocessor.tokenizer.vocabulary == pm.VOCAB
