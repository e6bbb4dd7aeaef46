"""Backbone.enable_lora on OPT (and a BERT classifier): only the adapters train, fit leaves
frozen weights bitwise unchanged, save_to_preset writes a plain merged preset, save / weights
files keep the adapters."""
import json
import os

import numpy as np
import pytest

import zoo
from tests.conftest import BACKEND, requires_gradients
from tests.models.helpers import to_numpy
from zoo.models import (
    BertBackbone,
    BertTextClassifier,
    OPTBackbone,
    OPTCausalLM,
    OPTCausalLMPreprocessor,
    OPTTokenizer,
)

TEXTS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog",
         "the mat and the log"]


def byte_level_vocabulary():
    """OPT's special tokens and one token per byte (GPT-2's printable byte characters)."""
    printable = set(range(33, 127)) | set(range(161, 173)) | set(range(174, 256))
    chars, extra = [], 0
    for byte in range(256):
        if byte in printable:
            chars.append(chr(byte))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return {t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>"] + chars)}


def tiny_causal_lm(sequence_length=12, num_layers=2):
    zoo.config.set_random_seed(3)
    tokenizer = OPTTokenizer(byte_level_vocabulary(), [])
    backbone = OPTBackbone(vocabulary_size=tokenizer.vocabulary_size(), num_layers=num_layers,
                           num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0,
                           max_sequence_length=32)
    preprocessor = OPTCausalLMPreprocessor(tokenizer, sequence_length=sequence_length)
    return OPTCausalLM(backbone, preprocessor=preprocessor)


def randomize_adapters(model):
    """Non-zero b factors, so the adapters change the outputs."""
    rng = np.random.default_rng(0)
    for v in model.trainable_variables:
        v.assign(rng.normal(scale=0.2, size=v.shape).astype("float32"))


def test_only_the_adapters_are_trainable():
    model = tiny_causal_lm()
    total = len(model.variables)
    model.backbone.enable_lora(4)
    paths = [v.path for v in model.trainable_variables]
    assert len(paths) == 2 * 2 * 2  # 2 layers x query, value x a, b
    assert all(p.rsplit("/", 1)[1] in ("lora_kernel_a", "lora_kernel_b") for p in paths)
    assert all(p.split("/")[-2] in ("query", "value") for p in paths)
    assert len(model.variables) == total + 8
    assert model.backbone.lora_rank == 4
    assert model.backbone.get_config()["lora_rank"] == 4
    query = model.backbone.variable_paths()["transformer_layer_0/self_attention/query/"
                                            "lora_kernel_a"]
    assert query.shape == (16, 4)


def test_enable_lora_errors_name_the_backbone():
    model = tiny_causal_lm()
    with pytest.raises(ValueError, match="opt_backbone.*no layer named \\['nope'\\]"):
        model.backbone.enable_lora(4, target_names=["nope"])
    with pytest.raises(ValueError, match="opt_backbone.*positive integer"):
        model.backbone.enable_lora(0)
    assert model.trainable_variables  # nothing was frozen by the failed calls
    with pytest.raises(ValueError, match="do not support LoRA"):
        model.backbone.enable_lora(2, target_names=("query", "layer_norm"))
    model.backbone.enable_lora(2)
    with pytest.raises(ValueError, match="opt_backbone.*already enabled"):
        model.backbone.enable_lora(2)


def test_inference_with_lora_matches_the_merged_preset(tmp_path):
    model = tiny_causal_lm()
    model.backbone.enable_lora(4, target_names=("query", "value", "token_embedding"))
    randomize_adapters(model)
    trainable_before = [v.path for v in model.trainable_variables]
    want = to_numpy(model.predict(TEXTS, verbose=0))
    out = model.save_to_preset(str(tmp_path / "merged"))
    # the preset is a plain model: no LoRA in the config or the weights
    with open(os.path.join(out, "config.json")) as f:
        text = f.read()
    assert "lora" not in text
    with open(os.path.join(out, "metadata.json")) as f:
        metadata = json.load(f)
    plain = OPTCausalLM.from_preset(out)
    assert metadata["parameter_count"] == plain.count_params()
    assert plain.backbone.lora_rank is None
    assert not any("lora" in p for p in plain.variable_paths())
    assert len(plain.trainable_variables) == len(plain.variables)
    np.testing.assert_allclose(to_numpy(plain.predict(TEXTS, verbose=0)), want,
                               atol=1e-5, rtol=1e-5)
    # the live model is unchanged: still LoRA, same outputs
    assert [v.path for v in model.trainable_variables] == trainable_before
    np.testing.assert_array_equal(to_numpy(model.predict(TEXTS, verbose=0)), want)


def test_save_and_weights_files_keep_lora(tmp_path):
    model = tiny_causal_lm(num_layers=1)
    model.backbone.enable_lora(2, alpha=4)
    randomize_adapters(model)
    x, _, _ = model.preprocessor(TEXTS[:2])  # a .zoo file holds no tokenizer vocabulary
    want = to_numpy(model(x))
    path = str(tmp_path / "m.zoo")
    model.save(path)
    loaded = zoo.saving.load_model(path)
    assert loaded.backbone.lora_rank == 2
    assert loaded.backbone.get_config()["lora_alpha"] == 4.0
    assert [v.path for v in loaded.trainable_variables] == \
        [v.path for v in model.trainable_variables]
    np.testing.assert_allclose(to_numpy(loaded(x)), want, atol=1e-6)
    weights = str(tmp_path / "m.weights.h5")
    model.save_weights(weights)
    fresh = tiny_causal_lm(num_layers=1)
    fresh.backbone.enable_lora(2, alpha=4)
    fresh.load_weights(weights)
    np.testing.assert_allclose(to_numpy(fresh(x)), want, atol=1e-6)


@requires_gradients()
def test_fit_trains_only_the_adapters():
    model = tiny_causal_lm()
    model.backbone.enable_lora(4)
    model.compile(optimizer=zoo.optimizers.AdamW(1e-2))
    frozen = {v.path: v.numpy() for v in model.non_trainable_variables}
    adapters = {v.path: v.numpy() for v in model.trainable_variables}
    history = model.fit(TEXTS, batch_size=2, epochs=1, verbose=0)  # 2 steps
    assert np.isfinite(history.history["loss"]).all()
    for v in model.non_trainable_variables:
        np.testing.assert_array_equal(v.numpy(), frozen[v.path], err_msg=v.path)
    for v in model.trainable_variables:
        assert not np.array_equal(v.numpy(), adapters[v.path]), v.path
    assert len(model.optimizer.variables) < 2 * len(frozen)  # state for the adapters only


@requires_gradients()
def test_bert_classifier_trains_adapters_and_its_head():
    zoo.config.set_random_seed(0)
    backbone = BertBackbone(vocabulary_size=20, num_layers=1, num_heads=2, hidden_dim=8,
                            intermediate_dim=16, max_sequence_length=8)
    classifier = BertTextClassifier(backbone, num_classes=2)
    backbone.enable_lora(2)
    names = sorted(v.path.split("/", 1)[1] if v.path.count("/") > 1 else v.path
                   for v in classifier.trainable_variables)
    assert sum("lora_kernel" in n for n in names) == 4
    head = [n for n in names if "lora" not in n]
    assert head and all("backbone" not in n for n in head), head
    x = {"token_ids": np.ones((4, 8), "int32"), "segment_ids": np.zeros((4, 8), "int32"),
         "padding_mask": np.ones((4, 8), "int32")}
    frozen = {v.path: v.numpy() for v in classifier.non_trainable_variables
              if "seed_generator" not in v.path}  # random streams advance
    classifier.compile(optimizer=zoo.optimizers.SGD(0.1),
                       loss=zoo.losses.SparseCategoricalCrossentropy(from_logits=True))
    classifier.fit(x, np.array([0, 1, 0, 1]), batch_size=2, epochs=1, verbose=0)
    for v in classifier.non_trainable_variables:
        if v.path in frozen:
            np.testing.assert_array_equal(v.numpy(), frozen[v.path], err_msg=v.path)
    assert len(frozen) > 10


@pytest.mark.skipif(BACKEND != "numpy", reason="numpy: inference only")
def test_numpy_inference_with_lora():
    model = tiny_causal_lm()
    model.backbone.enable_lora(4)
    randomize_adapters(model)
    logits = to_numpy(model.predict(TEXTS, verbose=0))
    assert logits.shape == (4, 12, model.backbone.vocabulary_size)
    assert np.isfinite(logits).all()
