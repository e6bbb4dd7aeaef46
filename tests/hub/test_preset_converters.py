"""Transformers checkpoints converted while they load: the dispatch table, the safetensors
reader (single file, sharded, bfloat16), task heads, tokenizers, pickle refusal."""
import json
import os
import sys

import ml_dtypes
import numpy as np
import pytest

import zoo
from tests.hub import preset_models as pm
from zoo.hub import converters
from zoo.hub.checkpoint_reader import CheckpointReader


@pytest.fixture(autouse=True)
def tiny_converter():
    pm.register_tiny_converter()


@pytest.fixture
def checkpoint(tmp_path):
    tensors = pm.hf_state_dict(seed=1, num_classes=3)
    pm.write_hf_checkpoint(str(tmp_path / "hf"), tensors)
    return str(tmp_path / "hf"), tensors


def assert_backbone_matches(backbone, tensors, atol=0):
    np.testing.assert_allclose(backbone.token_embedding.embeddings.numpy().astype("float32"),
                               tensors["tiny.embeddings.weight"].astype("float32"), atol=atol)
    for i, block in enumerate(backbone.blocks):
        np.testing.assert_allclose(block.kernel.numpy().astype("float32"),
                                   tensors[f"tiny.layers.{i}.weight"].T.astype("float32"),
                                   atol=atol)
    np.testing.assert_allclose(backbone.norm.beta.numpy().astype("float32"),
                               tensors["tiny.norm.bias"].astype("float32"), atol=atol)


def test_generic_from_preset_converts_to_the_backbone(checkpoint):
    path, tensors = checkpoint
    backbone = zoo.Model.from_preset(path)
    assert type(backbone) is pm.TinyBackbone
    assert not any(v.deferred for v in backbone.variables)
    assert_backbone_matches(backbone, tensors)
    assert "transformers checkpoint" in backbone._zoo_preset_source


def test_task_with_head_weights_and_tokenizer(checkpoint):
    path, tensors = checkpoint
    task = pm.TinyClassifier.from_preset(path, num_classes=3)
    np.testing.assert_array_equal(task.head.kernel.numpy(), tensors["classifier.weight"].T)
    assert task.preprocessor.tokenizer.vocabulary == pm.VOCAB
    assert_backbone_matches(task.backbone, tensors)


def test_task_without_head_weights_starts_fresh(tmp_path):
    tensors = pm.hf_state_dict(seed=2)
    pm.write_hf_checkpoint(str(tmp_path), tensors, vocab=False)
    with pytest.warns(UserWarning, match="no weights for the TinyClassifier head"):
        task = pm.TinyClassifier.from_preset(str(tmp_path), num_classes=4)
    assert task.head.kernel.shape == (8, 4) and task.preprocessor is None
    assert not any(v.deferred for v in task.variables)
    assert_backbone_matches(task.backbone, tensors)


def test_sharded_and_bfloat16_checkpoint(tmp_path):
    tensors = pm.hf_state_dict(seed=3, dtype=ml_dtypes.bfloat16)
    pm.write_hf_checkpoint(str(tmp_path), tensors, shards=3)
    reader = CheckpointReader(str(tmp_path))
    assert sorted(reader.keys()) == sorted(tensors)
    assert reader["tiny.norm.weight"].dtype == ml_dtypes.bfloat16
    float_model = zoo.Model.from_preset(str(tmp_path))
    assert float_model.norm.gamma.dtype == "float32"
    assert_backbone_matches(float_model, tensors)
    bf16_model = zoo.Model.from_preset(str(tmp_path), dtype="bfloat16")
    assert {v.dtype for v in bf16_model.variables} == {"bfloat16"}
    assert_backbone_matches(bf16_model, tensors)


def test_overrides_and_load_weights_false(checkpoint):
    path, tensors = checkpoint
    backbone = pm.TinyBackbone.from_preset(path, dropout=0.3, load_weights=False)
    assert backbone.dropout == 0.3 and backbone.hidden_dim == 8
    with pytest.raises(ValueError, match="'depth'"):
        pm.TinyBackbone.from_preset(path, depth=3)


def test_converted_model_saves_as_zoo_preset(checkpoint, tmp_path):
    path, tensors = checkpoint
    task = pm.TinyClassifier.from_preset(path, num_classes=3)
    task.save_to_preset(str(tmp_path / "zoo"))
    metadata = json.load(open(tmp_path / "zoo" / "metadata.json"))
    assert "zoo_tiny" in metadata["source"] and "transformers" in metadata["source"]
    again = zoo.Model.from_preset(str(tmp_path / "zoo"))
    x = task.preprocessor(pm.TEXTS)
    np.testing.assert_array_equal(pm.to_numpy(again(x)), pm.to_numpy(task(x)))


def test_tokenizer_from_checkpoint(checkpoint):
    path, _ = checkpoint
    assert pm.TinyTokenizer.from_preset(path).vocabulary == pm.VOCAB
    tokenizer = pm.TinyTokenizer.from_preset(path, lowercase=False)
    assert tokenizer.lowercase is False and tokenizer.vocabulary == pm.VOCAB
    preprocessor = pm.TinyPreprocessor.from_preset(path, sequence_length=4)
    assert preprocessor(pm.TEXTS).shape == (3, 4)


def test_reader_errors_name_the_key_and_file(checkpoint):
    path, _ = checkpoint
    reader = CheckpointReader(path)
    assert "tiny.norm.bias" in reader and "nope" not in reader
    with pytest.raises(KeyError, match=r"'nope' is not in the checkpoint .*hf"):
        reader["nope"]
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        CheckpointReader(os.path.dirname(path))


def test_a_dict_is_a_reader():
    tensors = pm.hf_state_dict(seed=4)
    backbone = pm.TinyBackbone(name="b")
    pm.hf_load_backbone(backbone, tensors)
    assert_backbone_matches(backbone, tensors)


def test_converter_that_misses_variables_is_caught(tmp_path):
    def partial(backbone, reader):
        backbone.norm.gamma.assign(reader["tiny.norm.weight"])

    converters.register_converter("zoo_tiny_partial", pm.TinyBackbone, pm.hf_backbone_config,
                                  partial)
    pm.write_hf_checkpoint(str(tmp_path), pm.hf_state_dict())
    config = dict(pm.HF_CONFIG, model_type="zoo_tiny_partial")
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.warns(UserWarning, match=r"no weights for 6 TinyBackbone variables.*embedding"):
        backbone = zoo.Model.from_preset(str(tmp_path))
    assert not any(v.deferred for v in backbone.variables)


def test_unknown_model_type_lists_converters(tmp_path):
    pm.write_hf_checkpoint(str(tmp_path), pm.hf_state_dict())
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama9"}))
    with pytest.raises(ValueError, match=r"model_type 'llama9'.*converters available:.*zoo_tiny"):
        zoo.Model.from_preset(str(tmp_path))


def test_wrong_class_for_checkpoint(checkpoint):
    path, _ = checkpoint
    with pytest.raises(ValueError, match="converts to TinyBackbone, not a Sequential"):
        zoo.Sequential.from_preset(path)


def test_lazy_registration(tmp_path, monkeypatch):
    module = tmp_path / "zoo_lazy_converter_mod.py"
    module.write_text(
        "from tests.hub import preset_models as pm\n"
        "from zoo.hub.converters import register_converter\n"
        "register_converter('zoo_lazy', 'tests.hub.preset_models:TinyBackbone',\n"
        "                   pm.hf_backbone_config, pm.hf_load_backbone)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(converters.MODULES, "zoo_lazy", "zoo_lazy_converter_mod")
    monkeypatch.delitem(converters._CONVERTERS, "zoo_lazy", raising=False)
    assert "zoo_lazy_converter_mod" not in sys.modules
    tensors = pm.hf_state_dict(seed=5)
    pm.write_hf_checkpoint(str(tmp_path / "ckpt"), tensors)
    (tmp_path / "ckpt" / "config.json").write_text(json.dumps(dict(pm.HF_CONFIG,
                                                                   model_type="zoo_lazy")))
    backbone = zoo.Model.from_preset(str(tmp_path / "ckpt"))
    assert type(backbone) is pm.TinyBackbone and "zoo_lazy_converter_mod" in sys.modules
    assert_backbone_matches(backbone, tensors)
    monkeypatch.delitem(sys.modules, "zoo_lazy_converter_mod")


def test_missing_architecture_module_is_reported(tmp_path, monkeypatch):
    monkeypatch.setitem(converters.MODULES, "zoo_absent", "zoo.models.zoo_absent.convert")
    with pytest.raises(ValueError, match="'zoo_absent', which zoo cannot convert"):
        converters.get_converter("zoo_absent")


@pytest.mark.skipif(zoo.config.backend() != "torch",
                    reason="torch.load runs only where torch is the backend under test")
def test_pickle_checkpoint_with_opt_in(tmp_path):
    import torch

    tensors = pm.hf_state_dict(seed=6)
    pm.write_hf_checkpoint(str(tmp_path), tensors)
    os.remove(tmp_path / "model.safetensors")
    torch.save({k: torch.from_numpy(v) for k, v in tensors.items()},
               tmp_path / "pytorch_model.bin")
    with pytest.raises(ValueError, match="allow_pickle=True"):
        zoo.Model.from_preset(str(tmp_path))
    backbone = zoo.Model.from_preset(str(tmp_path), allow_pickle=True)
    assert_backbone_matches(backbone, tensors)


def test_every_module_the_table_names_exists():
    """converters.MODULES is for plugins: zoo's own architectures register when zoo.models
    is imported, so it names no zoo module that could be missing (it once named a
    zoo.models.whisper.convert that did not exist)."""
    import importlib.util

    for model_type, module in converters.MODULES.items():
        assert importlib.util.find_spec(module) is not None, (model_type, module)
    assert not hasattr(converters, "known_model_types")
    assert {"bert", "opt"} <= set(converters._CONVERTERS)  # registered by import zoo
