"""BertBackbone: the standard backbone checks, and parity with transformers' BertModel."""
import json
import os

import numpy as np
import pytest

from tests.models.helpers import assert_close, run_backbone_test
from zoo import ops
from zoo.models import BertBackbone
from zoo.models.bert import convert

TINY = {"vocabulary_size": 20, "num_layers": 2, "num_heads": 2, "hidden_dim": 8,
        "intermediate_dim": 16, "max_sequence_length": 12}


def inputs(batch, length, vocabulary_size=20, padded=2):
    rng = np.random.default_rng(batch * 100 + length)
    mask = np.ones((batch, length), np.int32)
    mask[-1, length - padded:] = 0
    return {"token_ids": rng.integers(0, vocabulary_size, (batch, length)).astype(np.int32),
            "segment_ids": (np.arange(length)[None] >= length // 2).astype(np.int32)
            .repeat(batch, 0),
            "padding_mask": mask}


def test_backbone_basics():
    run_backbone_test(BertBackbone, TINY, inputs(2, 5),
                      expected_output_shape={"sequence_output": (2, 5, 8),
                                             "pooled_output": (2, 8)},
                      variable_length_data=inputs(3, 9))


def test_variable_paths_and_embedding():
    backbone = BertBackbone(**TINY)
    paths = backbone.variable_paths()
    for path in ("token_embedding/embeddings", "position_embedding/embeddings",
                 "segment_embedding/embeddings", "embeddings_layer_norm/gamma",
                 "transformer_layer_0/self_attention/query/kernel",
                 "transformer_layer_1/feedforward_intermediate_dense/kernel",
                 "transformer_layer_1/feedforward_layer_norm/beta", "pooled_dense/kernel"):
        assert path in paths, path
    assert paths["transformer_layer_0/self_attention/query/kernel"].shape == (8, 2, 4)
    assert backbone.token_embedding.embeddings is paths["token_embedding/embeddings"]
    with pytest.raises(ValueError, match="divisible"):
        BertBackbone(**{**TINY, "num_heads": 3})
    with pytest.raises(ValueError, match="longer than"):
        backbone(inputs(1, 13))


def load_reference(references, name):
    directory = os.path.join(references, name)
    with open(os.path.join(directory, "pretraining", "config.json")) as f:
        hf_config = json.load(f)
    return directory, hf_config, dict(np.load(os.path.join(directory, "reference.npz")))


def read_safetensors(path):
    from safetensors.numpy import load_file

    return load_file(path)


@pytest.mark.parametrize("name", ["small", "odd"])
def test_parity_with_transformers(references, name):
    directory, hf_config, ref = load_reference(references, name)
    backbone = BertBackbone(**convert.backbone_config(hf_config))
    convert.load_backbone(backbone, read_safetensors(
        os.path.join(directory, "pretraining", "model.safetensors")))
    x = {k: ref[k] for k in ("token_ids", "segment_ids", "padding_mask")}
    assert x["padding_mask"].min() == 0  # the reference has padding
    out = backbone(x)
    assert_close(out["sequence_output"], ref["sequence_output"], 1e-5, 1e-5, "sequence_output")
    assert_close(out["pooled_output"], ref["pooled_output"], 1e-5, 1e-5, "pooled_output")


def test_bfloat16_inference_is_close_to_float32():
    backbone = BertBackbone(**TINY)
    x = inputs(2, 5)
    reference = backbone(x)
    half = BertBackbone(**TINY, dtype="bfloat16")
    half.set_weights(backbone.get_weights())
    assert half.variable_paths()["token_embedding/embeddings"].dtype == "bfloat16"
    out = half(x)
    for key in ("sequence_output", "pooled_output"):
        assert ops.dtype(out[key]) == "bfloat16"
        assert_close(ops.cast(out[key], "float32"), reference[key], 5e-2, 5e-2, key)
    assert BertBackbone.from_config(half.get_config()).dtype_policy.name == "bfloat16"


def test_parity_with_transformers_compiled_predict(references):
    """``compile(jit_compile=True)`` then ``predict_on_batch``: jax jit, TF XLA, torch's
    traced inductor graph (numpy runs eagerly), all within 1e-5 of transformers."""
    directory, hf_config, ref = load_reference(references, "small")
    backbone = BertBackbone(**convert.backbone_config(hf_config))
    convert.load_backbone(backbone, read_safetensors(
        os.path.join(directory, "pretraining", "model.safetensors")))
    backbone.compile(jit_compile=True)
    x = {k: ref[k] for k in ("token_ids", "segment_ids", "padding_mask")}
    out = backbone.predict_on_batch(x)
    assert_close(out["sequence_output"], ref["sequence_output"], 1e-5, 1e-5, "sequence_output")
    assert_close(out["pooled_output"], ref["pooled_output"], 1e-5, 1e-5, "pooled_output")
