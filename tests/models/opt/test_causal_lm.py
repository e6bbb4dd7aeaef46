"""OPTCausalLM and its preprocessor: task checks, logits parity with transformers, the
key/value cache, fit on strings."""
import os

import numpy as np
import pytest

import zoo
from tests.conftest import requires_gradients
from tests.models.helpers import run_task_test, to_numpy
from tests.models.opt.conftest import (
    CONFIGS,
    assert_close_on_tokens,
    load_reference,
    read_safetensors,
)
from zoo import ops
from zoo.models import OPTBackbone, OPTCausalLM, OPTCausalLMPreprocessor, OPTTokenizer
from zoo.models.opt import convert
from zoo.saving import serialization

TEXTS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog",
         "the mat and the log"]


@pytest.fixture(scope="module")
def tokenizer(references):
    return OPTTokenizer(os.path.join(references, "vocab.json"),
                        os.path.join(references, "merges.txt"))


def tiny_backbone(tokenizer, **overrides):
    config = {"vocabulary_size": tokenizer.vocabulary_size(), "num_layers": 1, "num_heads": 2,
              "hidden_dim": 16, "intermediate_dim": 32, "max_sequence_length": 16, **overrides}
    return OPTBackbone(**config)


def test_preprocessor(tokenizer):
    preprocessor = OPTCausalLMPreprocessor(tokenizer, sequence_length=6)
    x, y, w = preprocessor(["Hello world", ""])
    hello = tokenizer.tokenize("Hello world")
    assert x["token_ids"].tolist() == [[2, *hello, 2, 1, 1], [2, 2, 1, 1, 1, 1]]
    assert x["padding_mask"].tolist() == [[1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0]]
    assert y.tolist() == [[*hello, 2, 1, 1, 1], [2, 1, 1, 1, 1, 1]]
    assert w.tolist() == [[1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0]]
    assert x["token_ids"].dtype == y.dtype == np.int32 and w.dtype == np.float32
    long_x, _, long_w = preprocessor("The quick brown fox jumps over the lazy dog.")
    assert long_x["token_ids"].shape == (6,) and long_w.tolist() == [1] * 6  # cut, no end
    _, _, scaled = preprocessor(["a", "b"], sample_weight=[0.5, 2.0])
    assert scaled[:, 0].tolist() == [0.5, 2.0]
    with pytest.raises(ValueError, match="makes its own labels"):
        preprocessor(["a"], [1])
    prompts = preprocessor.generate_preprocess(["Hello world", "a"], sequence_length=5)
    assert prompts["token_ids"].tolist()[0] == [2, *hello, 1, 1]
    assert preprocessor.generate_postprocess(prompts) == ["Hello world", "a"]
    config = preprocessor.get_config()
    revived = serialization.deserialize(serialization.serialize(preprocessor))
    assert type(revived) is OPTCausalLMPreprocessor and revived.get_config() == config
    with pytest.raises(ValueError, match="sequence_length"):
        OPTCausalLMPreprocessor(tokenizer, sequence_length=0)


def test_causal_lm_task(tokenizer):
    preprocessor = OPTCausalLMPreprocessor(tokenizer, sequence_length=8)
    run_task_test(OPTCausalLM, {"backbone": tiny_backbone(tokenizer),
                                "preprocessor": preprocessor},
                  train_data=(np.array(TEXTS),),
                  expected_output_shape=(4, 8, tokenizer.vocabulary_size()))


def test_head_is_tied(tokenizer):
    for overrides in ({}, {"word_embed_proj_dim": 8, "do_layer_norm_before": False}):
        causal_lm = OPTCausalLM(tiny_backbone(tokenizer, **overrides))
        paths = causal_lm.variable_paths()
        assert len(paths) == len(causal_lm.backbone.variable_paths())  # no head weights
        assert OPTCausalLM.backbone_cls is OPTBackbone
        assert OPTCausalLM.preprocessor_cls is OPTCausalLMPreprocessor


@pytest.mark.parametrize("name", CONFIGS)
def test_parity_with_transformers(references, name):
    directory, hf_config, ref = load_reference(references, name)
    causal_lm = OPTCausalLM(OPTBackbone(**convert.backbone_config(hf_config)))
    weights = read_safetensors(os.path.join(directory, "causal_lm", "model.safetensors"))
    convert.load_backbone(causal_lm.backbone, weights)
    convert.load_causal_lm_head(causal_lm, weights)
    x = {k: ref[k] for k in ("token_ids", "padding_mask")}
    assert x["padding_mask"][:, 0].min() == 0 and x["padding_mask"][:, -1].min() == 0
    assert_close_on_tokens(causal_lm(x), ref["logits"], x["padding_mask"], msg=name)


def test_cache_matches_full_forward(references):
    """Prefill 4 tokens, then one token at a time: the same logits as one full call, with
    left- and right-padded rows (positions and masks from the whole-cache padding mask).
    The post-norm + projection config: every optional piece of the backbone runs."""
    directory, hf_config, ref = load_reference(references, "postnorm_proj")
    causal_lm = OPTCausalLM(OPTBackbone(**convert.backbone_config(hf_config)))
    convert.load_backbone(causal_lm.backbone, read_safetensors(
        os.path.join(directory, "causal_lm", "model.safetensors")))
    ids, mask = ref["token_ids"], ref["padding_mask"]
    batch, length = ids.shape
    cache = causal_lm.build_cache(batch, length)
    logits, hidden, cache = causal_lm.call_with_cache(ids[:, :4], cache, 0, padding_mask=mask)
    steps = [to_numpy(logits)]
    assert tuple(hidden.shape) == (batch, 4, causal_lm.backbone.output_dim)
    for i in range(4, length):
        index = ops.convert_to_tensor(i, "int32")  # as a generation loop passes it
        logits, _, cache = causal_lm.call_with_cache(ids[:, i:i + 1], cache, index,
                                                     padding_mask=mask)
        steps.append(to_numpy(logits))
    backbone = causal_lm.backbone
    assert len(cache) == backbone.num_layers and all(
        tuple(t.shape) == (batch * backbone.num_heads, length, backbone.head_dim)
        for pair in cache for t in pair)
    assert_close_on_tokens(np.concatenate(steps, 1), ref["logits"], mask, msg="cached")
    # without a padding mask: positions are cache_update_index + t
    full = to_numpy(causal_lm({"token_ids": ids[:1], "padding_mask": np.ones_like(ids[:1])}))
    first, _, _ = causal_lm.call_with_cache(ids[:1], causal_lm.build_cache(1, length + 2), 0)
    np.testing.assert_allclose(to_numpy(first), full, atol=1e-5, rtol=1e-5)


@requires_gradients()
@pytest.mark.parametrize("jit_compile", ["auto", True])
def test_fit_on_strings_learns(tokenizer, jit_compile):
    zoo.config.set_random_seed(3)
    preprocessor = OPTCausalLMPreprocessor(tokenizer, sequence_length=10)
    causal_lm = OPTCausalLM(tiny_backbone(tokenizer, dropout=0.0), preprocessor=preprocessor)
    causal_lm.compile(optimizer=zoo.optimizers.Adam(1e-2), jit_compile=jit_compile)
    history = causal_lm.fit(TEXTS * 2, batch_size=8, epochs=15, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0], losses
    if zoo.config.backend() == "torch" and jit_compile is True:  # one traced graph ran
        assert causal_lm.make_train_function().compiled.compile_count() == 1
    # the loss ignores padding: padded label positions do not change it
    x, y, w = preprocessor(TEXTS)
    noisy = y.copy()
    noisy[w == 0] = 5
    clean = causal_lm.evaluate(x, y, sample_weight=w, batch_size=4, verbose=0)[0]
    other = causal_lm.evaluate(x, noisy, sample_weight=w, batch_size=4, verbose=0)[0]
    np.testing.assert_allclose(clean, other, rtol=1e-5)
