"""The transformers -> zoo BERT converter: configs, key spellings, errors, tokenizers."""
import json
import os
import shutil

import numpy as np
import pytest

from tests.models.bert.test_backbone import load_reference, read_safetensors
from tests.models.helpers import assert_close
from zoo import ops
from zoo.models import BertBackbone, BertMaskedLM, BertTextClassifier, BertTokenizer
from zoo.models.bert import convert


def backbone_from(references, name):
    directory, hf_config, ref = load_reference(references, name)
    weights = read_safetensors(os.path.join(directory, "pretraining", "model.safetensors"))
    return BertBackbone(**convert.backbone_config(hf_config)), weights, ref


def inputs(ref):
    return {k: ref[k] for k in ("token_ids", "segment_ids", "padding_mask")}


def test_backbone_config(references):
    _, hf_config, _ = load_reference(references, "odd")
    config = convert.backbone_config(hf_config)
    assert config == {"vocabulary_size": 131, "num_layers": 2, "num_heads": 3, "hidden_dim": 48,
                      "intermediate_dim": 37, "dropout": hf_config["hidden_dropout_prob"],
                      "max_sequence_length": 20, "num_segments": 3,
                      "layer_norm_epsilon": 1e-6}
    with pytest.raises(ValueError, match="hidden_act='relu'"):
        convert.backbone_config({**hf_config, "hidden_act": "relu"})
    with pytest.raises(ValueError, match="relative_key"):
        convert.backbone_config({**hf_config, "position_embedding_type": "relative_key"})
    with pytest.raises(ValueError, match="num_hidden_layers"):
        convert.backbone_config({k: v for k, v in hf_config.items()
                                 if k != "num_hidden_layers"})


def test_legacy_names_without_prefix(references):
    backbone, weights, ref = backbone_from(references, "small")
    legacy = {}
    for key, value in weights.items():
        key = key.removeprefix("bert.")
        if ".LayerNorm." in key:
            key = key.replace(".weight", ".gamma").replace(".bias", ".beta")
        legacy[key] = value
    convert.load_backbone(backbone, legacy)
    out = backbone(inputs(ref))
    assert_close(out["sequence_output"], ref["sequence_output"], 1e-5, 1e-5)


def test_missing_key_names_key_and_variable(references):
    backbone, weights, _ = backbone_from(references, "small")
    del weights["bert.encoder.layer.1.intermediate.dense.weight"]
    with pytest.raises(KeyError) as error:
        convert.load_backbone(backbone, weights)
    message = str(error.value)
    assert "encoder.layer.1.intermediate.dense.weight" in message
    assert "transformer_layer_1/feedforward_intermediate_dense/kernel" in message


def test_wrong_shape_is_reported(references):
    backbone, weights, _ = backbone_from(references, "small")
    weights["bert.pooler.dense.bias"] = np.zeros(5, np.float32)
    with pytest.raises(ValueError, match="pooled_dense/bias"):
        convert.load_backbone(backbone, weights)


def test_checkpoint_without_pooler_warns(references):
    backbone, weights, ref = backbone_from(references, "small")
    for key in [k for k in weights if "pooler" in k]:
        del weights[key]
    with pytest.warns(UserWarning, match="no pooler"):
        convert.load_backbone(backbone, weights)
    assert_close(backbone(inputs(ref))["sequence_output"], ref["sequence_output"], 1e-5, 1e-5)


def test_half_precision_checkpoint(references):
    backbone, weights, ref = backbone_from(references, "small")
    convert.load_backbone(backbone, {k: v.astype(np.float16) for k, v in weights.items()})
    assert backbone.variable_paths()["token_embedding/embeddings"].dtype == "float32"
    assert_close(backbone(inputs(ref))["sequence_output"], ref["sequence_output"], 2e-2, 2e-2)


def test_untied_decoder_is_refused(references):
    backbone, weights, _ = backbone_from(references, "small")
    masked_lm = BertMaskedLM(backbone)
    convert.load_backbone(backbone, weights)
    decoder = np.array(weights["bert.embeddings.word_embeddings.weight"])
    convert.load_masked_lm_head(masked_lm, {**weights, "cls.predictions.decoder.weight": decoder})
    with pytest.raises(ValueError, match="ties them"):
        convert.load_masked_lm_head(masked_lm, {**weights,
                                                "cls.predictions.decoder.weight": decoder + 1})


def test_tokenizer_from_checkpoint_files(references, tmp_path):
    shutil.copy(os.path.join(references, "vocab.txt"), tmp_path / "vocab.txt")
    assert convert.tokenizer(str(tmp_path), BertTokenizer).lowercase  # transformers' default
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False}))
    cased = convert.tokenizer(str(tmp_path), BertTokenizer)
    assert isinstance(cased, BertTokenizer) and not cased.lowercase
    assert cased.tokenize("Café") != cased.tokenize("cafe")
    # a fast-only checkpoint: tokenizer.json holds the vocabulary and the normalizer options
    fast_dir = tmp_path / "fast"
    fast_dir.mkdir()
    vocab = cased.get_vocabulary()
    spec = {"normalizer": {"type": "BertNormalizer", "lowercase": True, "strip_accents": None,
                           "handle_chinese_chars": True, "clean_text": True},
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "max_input_chars_per_word": 100,
                      "vocab": {t: i for i, t in enumerate(vocab)}}}
    (fast_dir / "tokenizer.json").write_text(json.dumps(spec), encoding="utf-8")
    fast = convert.tokenizer(str(fast_dir), BertTokenizer)
    assert fast.lowercase and fast.get_vocabulary() == vocab
    assert fast.tokenize("CAFÉ") == fast.tokenize("cafe")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert convert.tokenizer(str(empty), BertTokenizer) is None


def test_from_preset_converts_transformers_checkpoints(references, tmp_path):
    pytest.importorskip("zoo.hub.loaders")
    directory, _, ref = load_reference(references, "odd")
    x = inputs(ref)
    backbone = BertBackbone.from_preset(os.path.join(directory, "pretraining"))
    assert_close(backbone(x)["sequence_output"], ref["sequence_output"], 1e-5, 1e-5)
    checkpoint = tmp_path / "checkpoint"
    shutil.copytree(os.path.join(directory, "pretraining"), checkpoint)
    shutil.copy(os.path.join(references, "vocab.txt"), checkpoint / "vocab.txt")
    masked_lm = BertMaskedLM.from_preset(str(checkpoint))
    logits = masked_lm({**x, "mask_positions": ref["mask_positions"]})
    assert_close(logits, ref["mlm_logits"], 1e-5, 1e-5)
    assert masked_lm.preprocessor.tokenizer.tokenize("hello world") != []
    with open(checkpoint / "config.json") as f:  # packs no more than the model's positions
        positions = json.load(f)["max_position_embeddings"]
    assert masked_lm.preprocessor.sequence_length == min(512, positions)
    classifier = BertTextClassifier.from_preset(os.path.join(directory, "classifier"),
                                                num_classes=3)
    assert_close(classifier(x), ref["classifier_logits"], 1e-5, 1e-5)
    # and back out as a zoo preset, reloaded with the same outputs
    masked_lm.save_to_preset(str(tmp_path / "preset"))
    again = BertMaskedLM.from_preset(str(tmp_path / "preset"))
    assert_close(again({**x, "mask_positions": ref["mask_positions"]}), ops.convert_to_numpy(
        logits))
    assert again.preprocessor.tokenizer.get_vocabulary() == \
        masked_lm.preprocessor.tokenizer.get_vocabulary()


def test_dropout_override_on_a_saved_preset(tmp_path):
    """Overrides that add or drop a Dropout's random stream still load the weights."""
    backbone = BertBackbone(vocabulary_size=12, num_layers=1, num_heads=2, hidden_dim=8,
                            intermediate_dim=16, max_sequence_length=16, dropout=0.1)
    backbone.save_to_preset(str(tmp_path / "p"))
    x = {"token_ids": np.array([[2, 5, 3]], "int32"), "segment_ids": np.zeros((1, 3), "int32"),
         "padding_mask": np.ones((1, 3), "int32")}
    again = BertBackbone.from_preset(str(tmp_path / "p"), dropout=0.0)
    assert again.get_config()["dropout"] == 0.0
    assert_close(again(x)["sequence_output"], backbone(x)["sequence_output"])


def test_generic_from_preset_returns_the_task_a_checkpoint_was_saved_as(references):
    import zoo

    directory, _, ref = load_reference(references, "odd")
    classifier = zoo.Model.from_preset(os.path.join(directory, "classifier"))
    assert isinstance(classifier, BertTextClassifier)
    assert_close(classifier(inputs(ref)), ref["classifier_logits"], 1e-5, 1e-5)
