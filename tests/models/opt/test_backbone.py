"""OPTBackbone: the standard backbone checks, and parity with transformers' OPTModel."""
import os

import numpy as np
import pytest

from tests.models.helpers import run_backbone_test, to_numpy
from tests.models.opt.conftest import (
    CONFIGS,
    assert_close_on_tokens,
    load_reference,
    read_safetensors,
)
from zoo.models import OPTBackbone
from zoo.models.opt import convert

TINY = {"vocabulary_size": 20, "num_layers": 2, "num_heads": 2, "hidden_dim": 8,
        "intermediate_dim": 16, "max_sequence_length": 12}
PROJECTED = {**TINY, "word_embed_proj_dim": 4, "do_layer_norm_before": False}


def inputs(batch, length, vocabulary_size=20, left=2):
    rng = np.random.default_rng(batch * 100 + length)
    mask = np.ones((batch, length), np.int32)
    mask[-1, :left] = 0  # the last row is left-padded
    return {"token_ids": rng.integers(0, vocabulary_size, (batch, length)).astype(np.int32),
            "padding_mask": mask}


@pytest.mark.parametrize("config", [TINY, PROJECTED], ids=["prenorm", "postnorm_proj"])
def test_backbone_basics(config):
    width = config.get("word_embed_proj_dim") or config["hidden_dim"]
    run_backbone_test(OPTBackbone, config, inputs(2, 5),
                      expected_output_shape={"sequence_output": (2, 5, width)},
                      variable_length_data=inputs(3, 9))


def test_variable_paths_and_errors():
    paths = OPTBackbone(**TINY).variable_paths()
    for path in ("token_embedding/embeddings", "position_embedding/embeddings", "layer_norm/gamma",
                 "transformer_layer_0/self_attention/query/kernel",
                 "transformer_layer_1/feedforward_intermediate_dense/kernel",
                 "transformer_layer_1/feedforward_layer_norm/beta"):
        assert path in paths, path
    assert paths["position_embedding/embeddings"].shape == (12 + 2, 8)  # OPT's offset of 2
    projected = OPTBackbone(**PROJECTED).variable_paths()
    assert "layer_norm/gamma" not in projected  # post-norm: no final layer norm
    assert projected["embeddings_project_in/kernel"].shape == (4, 8)
    assert projected["embeddings_project_out/kernel"].shape == (8, 4)
    assert projected["token_embedding/embeddings"].shape == (20, 4)
    no_bias = OPTBackbone(**TINY, enable_bias=False).variable_paths()
    assert not any(p.endswith("/bias") for p in no_bias)
    with pytest.raises(ValueError, match="divisible"):
        OPTBackbone(**{**TINY, "num_heads": 3})
    with pytest.raises(ValueError, match="longer than"):
        OPTBackbone(**TINY)(inputs(1, 13))


def test_positions_follow_the_padding_mask():
    """A left-padded row gives the same outputs as the same tokens unpadded."""
    backbone = OPTBackbone(**TINY, dropout=0.0)
    x = inputs(1, 6, left=0)
    padded = {"token_ids": np.concatenate([np.ones((1, 3), np.int32), x["token_ids"]], 1),
              "padding_mask": np.concatenate([np.zeros((1, 3), np.int32),
                                              x["padding_mask"]], 1)}
    plain = to_numpy(backbone(x)["sequence_output"])
    shifted = backbone(padded)["sequence_output"]
    assert_close_on_tokens(shifted, np.concatenate([np.zeros((1, 3, 8), np.float32), plain], 1),
                           padded["padding_mask"], msg="left padding")


@pytest.mark.parametrize("name", CONFIGS)
def test_parity_with_transformers(references, name):
    directory, hf_config, ref = load_reference(references, name)
    for layout in ("causal_lm", "model"):  # model.decoder.* and decoder.* keys
        backbone = OPTBackbone(**convert.backbone_config(hf_config))
        convert.load_backbone(backbone, read_safetensors(
            os.path.join(directory, layout, "model.safetensors")))
        x = {k: ref[k] for k in ("token_ids", "padding_mask")}
        out = backbone(x)["sequence_output"]
        assert_close_on_tokens(out, ref["sequence_output"], x["padding_mask"],
                               msg=f"{name} {layout}")
