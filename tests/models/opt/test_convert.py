"""The transformers -> zoo OPT converter: configs, key layouts, errors, tokenizers, presets."""
import json
import os
import shutil

import numpy as np
import pytest

from tests.models.helpers import to_numpy
from tests.models.opt.conftest import (
    assert_close_on_tokens,
    load_reference,
    read_safetensors,
)
from zoo.models import OPTBackbone, OPTCausalLM, OPTTokenizer
from zoo.models.opt import convert


def inputs(ref):
    return {k: ref[k] for k in ("token_ids", "padding_mask")}


def test_backbone_config(references):
    _, hf_config, _ = load_reference(references, "postnorm_proj")
    config = convert.backbone_config(hf_config)
    assert config == {"vocabulary_size": hf_config["vocab_size"], "num_layers": 2,
                      "num_heads": 3, "hidden_dim": 48, "intermediate_dim": 37,
                      "dropout": hf_config["dropout"], "max_sequence_length": 20,
                      "word_embed_proj_dim": 16, "do_layer_norm_before": False,
                      "enable_bias": True, "layer_norm_epsilon": 1e-5}
    _, prenorm, _ = load_reference(references, "prenorm")
    assert convert.backbone_config(prenorm)["word_embed_proj_dim"] is None  # same as hidden
    with pytest.raises(ValueError, match="activation_function='gelu'"):
        convert.backbone_config({**hf_config, "activation_function": "gelu"})
    with pytest.raises(ValueError, match="_remove_final_layer_norm"):
        convert.backbone_config({**hf_config, "_remove_final_layer_norm": True})
    with pytest.raises(ValueError, match="ffn_dim"):
        convert.backbone_config({k: v for k, v in hf_config.items() if k != "ffn_dim"})


def backbone_from(references, name):
    directory, hf_config, ref = load_reference(references, name)
    weights = read_safetensors(os.path.join(directory, "causal_lm", "model.safetensors"))
    return OPTBackbone(**convert.backbone_config(hf_config)), weights, ref


def test_bare_decoder_keys(references):
    backbone, weights, ref = backbone_from(references, "postnorm_proj")
    bare = {k.removeprefix("model.decoder."): v for k, v in weights.items()}
    convert.load_backbone(backbone, bare)
    assert_close_on_tokens(backbone(inputs(ref))["sequence_output"], ref["sequence_output"],
                           ref["padding_mask"])


def test_missing_key_names_key_and_variable(references):
    backbone, weights, _ = backbone_from(references, "prenorm")
    del weights["model.decoder.layers.1.fc1.weight"]
    with pytest.raises(KeyError) as error:
        convert.load_backbone(backbone, weights)
    assert "model.decoder.layers.1.fc1.weight" in str(error.value)
    assert "transformer_layer_1/feedforward_intermediate_dense/kernel" in str(error.value)
    with pytest.raises(KeyError, match="embed_tokens"):
        convert.load_backbone(backbone, {"something.else": np.zeros(3)})


def test_wrong_shape_is_reported(references):
    backbone, weights, _ = backbone_from(references, "prenorm")
    weights["model.decoder.embed_positions.weight"] = np.zeros((5, 32), np.float32)
    with pytest.raises(ValueError, match="position_embedding/embeddings"):
        convert.load_backbone(backbone, weights)


def test_half_precision_checkpoint(references):
    backbone, weights, ref = backbone_from(references, "prenorm")
    convert.load_backbone(backbone, {k: v.astype(np.float16) for k, v in weights.items()})
    assert backbone.variable_paths()["token_embedding/embeddings"].dtype == "float32"
    assert_close_on_tokens(backbone(inputs(ref))["sequence_output"], ref["sequence_output"],
                           ref["padding_mask"], atol=5e-2)


def test_untied_head_is_refused(references):
    backbone, weights, _ = backbone_from(references, "prenorm")
    causal_lm = OPTCausalLM(backbone)
    convert.load_backbone(backbone, weights)
    embeddings = np.array(weights["model.decoder.embed_tokens.weight"])
    convert.load_causal_lm_head(causal_lm, {**weights, "lm_head.weight": embeddings})
    with pytest.raises(ValueError, match="ties them"):
        convert.load_causal_lm_head(causal_lm, {**weights, "lm_head.weight": embeddings + 1})


def test_tokenizer_from_checkpoint_files(references, tmp_path):
    directory = os.path.join(references, "prenorm", "causal_lm")
    tokenizer = convert.tokenizer(directory, OPTTokenizer)
    text = "Hello world </s> 🍕"
    want = OPTTokenizer(os.path.join(references, "vocab.json"),
                        os.path.join(references, "merges.txt")).tokenize(text)
    assert isinstance(tokenizer, OPTTokenizer) and tokenizer.tokenize(text) == want
    # a fast-only checkpoint: tokenizer.json holds the vocabulary and the merges
    from tokenizers import Tokenizer, models, pre_tokenizers

    fast = Tokenizer(models.BPE.from_file(os.path.join(references, "vocab.json"),
                                          os.path.join(references, "merges.txt")))
    fast.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    fast.save(str(tmp_path / "tokenizer.json"))
    from_json = convert.tokenizer(str(tmp_path), OPTTokenizer)
    assert from_json.tokenize(text) == want
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": {"type": "WordPiece"}}))
    with pytest.raises(ValueError, match="expected a BPE"):
        convert.tokenizer(str(tmp_path), OPTTokenizer)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert convert.tokenizer(str(empty), OPTTokenizer) is None


def test_from_preset_converts_transformers_checkpoints(references, tmp_path):
    import zoo

    directory, _, ref = load_reference(references, "postnorm_proj")
    x, mask = inputs(ref), ref["padding_mask"]
    causal_lm = zoo.Model.from_preset(os.path.join(directory, "causal_lm"))
    assert isinstance(causal_lm, OPTCausalLM)  # architectures: OPTForCausalLM
    assert_close_on_tokens(causal_lm(x), ref["logits"], mask)
    assert causal_lm.preprocessor.tokenizer.tokenize("Hello world") != []
    assert causal_lm.preprocessor.sequence_length == 20  # the model's positions
    backbone = OPTBackbone.from_preset(os.path.join(directory, "model"))  # OPTModel keys
    assert_close_on_tokens(backbone(x)["sequence_output"], ref["sequence_output"], mask)
    from_model = OPTCausalLM.from_preset(os.path.join(directory, "model"))
    assert_close_on_tokens(from_model(x), ref["logits"], mask)
    # and back out as a zoo preset, reloaded with the same outputs
    causal_lm.save_to_preset(str(tmp_path / "preset"))
    again = OPTCausalLM.from_preset(str(tmp_path / "preset"))
    np.testing.assert_allclose(to_numpy(again(x)), to_numpy(causal_lm(x)), atol=1e-6)
    assert again.preprocessor.tokenizer.vocabulary == causal_lm.preprocessor.tokenizer.vocabulary


def test_convert_script(references, tmp_path):
    import importlib.util

    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts", "convert_opt.py")
    spec = importlib.util.spec_from_file_location("convert_opt", path)
    convert_opt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(convert_opt)
    directory, _, _ = load_reference(references, "prenorm")
    source = tmp_path / "source"
    shutil.copytree(os.path.join(directory, "causal_lm"), source)
    assert convert_opt.main([str(source), str(tmp_path / "out")]) == 0
    assert os.path.isfile(tmp_path / "out" / "config.json")
