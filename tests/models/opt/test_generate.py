"""OPTCausalLM.generate: greedy parity with transformers' generate, the samplers, stop
tokens, streaming, strings in and out, compile-once, and bad input."""
import os

import numpy as np
import pytest

import zoo
from tests.conftest import BACKEND
from tests.generation.helpers import new_tokens, run_generate_parity_test
from tests.models.helpers import to_numpy, watch_replays
from tests.models.opt.conftest import read_safetensors
from zoo.models import OPTBackbone, OPTCausalLM, OPTCausalLMPreprocessor, OPTTokenizer, samplers
from zoo.models.opt import convert

NEW_TOKENS = 32


def load_generate_reference(references, name):
    import json

    directory = os.path.join(references, name, "causal_lm")
    with open(os.path.join(directory, "config.json")) as f:
        hf_config = json.load(f)
    causal_lm = OPTCausalLM(OPTBackbone(**convert.backbone_config(hf_config)))
    convert.load_backbone(causal_lm.backbone,
                          read_safetensors(os.path.join(directory, "model.safetensors")))
    return causal_lm, dict(np.load(os.path.join(references, name, "generate.npz")))


@pytest.fixture(scope="module")
def tiny(references):
    """A tiny random OPT with a tokenizer and preprocessor (string prompts)."""
    zoo.config.set_random_seed(7)
    tokenizer = OPTTokenizer(os.path.join(references, "vocab.json"),
                             os.path.join(references, "merges.txt"))
    backbone = OPTBackbone(vocabulary_size=tokenizer.vocabulary_size(), num_layers=2,
                           num_heads=2, hidden_dim=16, intermediate_dim=32,
                           max_sequence_length=40, dropout=0.0)
    for variable in backbone.weights:  # order-1 weights: clear argmaxes, varied tokens
        if variable.path.endswith("kernel") or variable.path.endswith("embeddings"):
            rng = np.random.default_rng(len(variable.path))
            variable.assign(rng.normal(0, 0.5, variable.shape).astype("float32"))
    return OPTCausalLM(backbone, preprocessor=OPTCausalLMPreprocessor(tokenizer,
                                                                       sequence_length=24))


def prompts(tiny):
    ids = np.array([[2, 40, 41, 42, 43, 1], [2, 50, 1, 1, 1, 1], [2, 60, 61, 62, 1, 1]],
                   np.int32)
    return {"token_ids": ids, "padding_mask": (ids != 1).astype(np.int32)}


def sequence_log_prob(causal_lm, ids):
    """Sum of log p(token t | tokens < t) over a (S,) sequence, from a full forward."""
    x = np.asarray(ids, np.int32)[None]
    logits = to_numpy(causal_lm({"token_ids": x, "padding_mask": np.ones_like(x)}))[0]
    logits = logits - logits.max(-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return float(sum(log_probs[t - 1, ids[t]] for t in range(1, len(ids))))


@pytest.mark.parametrize("name", ["generate_prenorm", "generate_postnorm_proj"])
def test_greedy_matches_transformers_generate(references, name):
    """32 new tokens for left-padded prompts of 7, 3, 9 and 1 tokens: token for token, also
    with prompt-lookup guesses and streamed."""
    causal_lm, ref = load_generate_reference(references, name)
    lengths = ref["padding_mask"].sum(1)
    prompt = {"token_ids": ref["token_ids"], "padding_mask": ref["padding_mask"]}
    result = run_generate_parity_test(
        lambda **kwargs: causal_lm.generate(prompt, max_new_tokens=NEW_TOKENS,
                                            stop_token_ids=[2], **kwargs),
        ref["new_tokens"], lengths, pad_id=1,
        variants=({}, {"prompt_lookup_num_tokens": 5}))
    assert result["token_ids"].shape == (4, lengths.max() + NEW_TOKENS)
    for row, length in enumerate(lengths):  # the prompt comes back first, unpadded
        real = ref["token_ids"][row][ref["padding_mask"][row] == 1]
        np.testing.assert_array_equal(result["token_ids"][row, :length], real)


def test_padding_does_not_change_a_row(tiny):
    """A prompt alone, right-padded or in a batch with longer prompts: the same tokens."""
    batch = tiny.generate(prompts(tiny), max_new_tokens=8, stop_token_ids=None)
    alone = tiny.generate({"token_ids": np.array([2, 50], np.int32)}, max_new_tokens=8,
                          stop_token_ids=None)
    np.testing.assert_array_equal(batch["token_ids"][1, :10], alone["token_ids"])
    assert alone["padding_mask"].tolist() == [1] * 10


def test_strings_in_strings_out(tiny):
    text = tiny.generate("the cat", max_new_tokens=5, stop_token_ids=None)
    assert isinstance(text, str) and text.startswith("the cat") and len(text) > len("the cat")
    texts = tiny.generate(["the cat", "a dog sat on"], max_length=20)
    assert isinstance(texts, list) and len(texts) == 2
    assert texts[1].startswith("a dog sat on")
    # strings are the same computation as their token ids
    tokens = tiny.preprocessor.generate_preprocess(["the cat"], sequence_length=16)
    ids = tiny.generate(tokens, max_new_tokens=5, stop_token_ids=None)
    assert tiny.preprocessor.generate_postprocess(ids) == [text]


def test_stop_token_ends_a_row(tiny):
    free = tiny.generate(prompts(tiny), max_new_tokens=10, stop_token_ids=None)
    lengths = prompts(tiny)["padding_mask"].sum(1)
    stop = int(free["token_ids"][0, lengths[0] + 2])   # row 0's third new token
    stopped = tiny.generate(prompts(tiny), max_new_tokens=10, stop_token_ids=[stop])
    row = stopped["token_ids"][0][stopped["padding_mask"][0] == 1]
    first = lengths[0] + list(free["token_ids"][0, lengths[0]:]).index(stop)
    np.testing.assert_array_equal(row, free["token_ids"][0, :first + 1])  # stop included
    assert (stopped["token_ids"][0, first + 1:] == 1).all()               # then padding


@pytest.mark.parametrize("sampler", [samplers.TopKSampler(k=1), samplers.TopPSampler(p=1e-6),
                                     samplers.BeamSampler(num_beams=1)])
def test_degenerate_samplers_are_greedy(tiny, sampler):
    greedy = tiny.generate(prompts(tiny), max_new_tokens=6, stop_token_ids=None)
    got = tiny.generate(prompts(tiny), max_new_tokens=6, sampler=sampler, stop_token_ids=None,
                        seed=3)
    np.testing.assert_array_equal(got["token_ids"], greedy["token_ids"])


@pytest.mark.parametrize("name", ["top_k", "top_p", "temperature"])
def test_random_samplers_follow_the_seed(tiny, name):
    run = lambda seed: tiny.generate(prompts(tiny), max_new_tokens=8, sampler=name,  # noqa
                                     stop_token_ids=None, seed=seed)["token_ids"]
    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))
    ids = run(1)
    assert ids.min() >= 0 and ids.max() < tiny.backbone.vocabulary_size


def test_top_k_stays_in_the_top_k(tiny):
    prompt = {"token_ids": np.array([[2, 40, 41]], np.int32)}
    x = prompt["token_ids"]
    logits = to_numpy(tiny({"token_ids": x, "padding_mask": np.ones_like(x)}))[0, -1]
    allowed = set(np.argsort(logits)[-3:].tolist())
    for seed in range(6):
        out = tiny.generate(prompt, max_new_tokens=1, sampler=samplers.TopKSampler(k=3),
                            seed=seed, stop_token_ids=None)
        assert int(out["token_ids"][0, 3]) in allowed


def test_beam_search_beats_greedy(tiny):
    prompt = {"token_ids": np.array([2, 40, 41], np.int32)}
    greedy = tiny.generate(prompt, max_new_tokens=6, stop_token_ids=None)["token_ids"]
    beam = tiny.generate(prompt, max_new_tokens=6, sampler=samplers.BeamSampler(num_beams=4),
                         stop_token_ids=None)["token_ids"]
    assert beam.shape == greedy.shape
    assert sequence_log_prob(tiny, beam) >= sequence_log_prob(tiny, greedy) - 1e-4


def test_beam_reorder_moves_every_head_of_a_row():
    """Beam search reorders cache rows; a (B * N, S, H) pair keeps a row's N heads
    together, so the whole group moves."""
    from zoo import ops
    from zoo.generation.protocol import take_rows as _take_rows

    batch, heads = 3, 4
    cache = np.arange(batch * heads * 2 * 5, dtype="float32").reshape(batch * heads, 2, 5)
    parents = np.array([2, 0, 0], np.int32)
    got = to_numpy(_take_rows(ops.convert_to_tensor(cache), ops.convert_to_tensor(parents),
                              batch))
    want = cache.reshape(batch, heads, 2, 5)[parents].reshape(batch * heads, 2, 5)
    np.testing.assert_array_equal(got, want)
    flat = np.arange(batch * 2, dtype="float32").reshape(batch, 2)  # one entry per row
    np.testing.assert_array_equal(
        to_numpy(_take_rows(ops.convert_to_tensor(flat), ops.convert_to_tensor(parents),
                            batch)), flat[parents])


def test_streamer_sees_every_token(tiny):
    expected = tiny.generate(prompts(tiny), max_new_tokens=5, stop_token_ids=None)
    seen = []
    streamed = tiny.generate(prompts(tiny), max_new_tokens=5, stop_token_ids=None,
                             streamer=seen.append)
    np.testing.assert_array_equal(streamed["token_ids"], expected["token_ids"])
    lengths = prompts(tiny)["padding_mask"].sum(1)
    assert len(seen) == 5 and all(s.shape == (3,) for s in seen)
    np.testing.assert_array_equal(np.stack(seen, 1), new_tokens(expected, lengths, 5, pad_id=1))

    class Streamer:  # transformers' streamer protocol
        def __init__(self):
            self.tokens, self.ended = [], False

        def put(self, value):
            self.tokens.append(value)

        def end(self):
            self.ended = True

    streamer = Streamer()
    tiny.generate(prompts(tiny), max_new_tokens=3, stop_token_ids=None, streamer=streamer)
    assert len(streamer.tokens) == 3 and streamer.ended
    with pytest.raises(ValueError, match="beam"):
        tiny.generate(prompts(tiny), max_new_tokens=3, sampler="beam", streamer=print)


@pytest.mark.parametrize("sampler, stops, streaming", [
    ("greedy", None, False), ("top_k", None, False), ("top_p", "auto", False),
    (samplers.BeamSampler(num_beams=3), [45, 61], False), ("greedy", [45, 61], True)])
def test_replayed_steps_make_the_same_tokens(tiny, monkeypatch, sampler, stops, streaming):
    """torch and numpy replay each loop's step from a tape after two recorded steps
    (zoo/ops/replay.py): the tokens are those of the step run as written."""
    from zoo.generation import beam_search, sampling
    from zoo.ops import replay

    made = watch_replays(monkeypatch, sampling) if streaming or not \
        isinstance(sampler, samplers.BeamSampler) else watch_replays(monkeypatch, beam_search)
    run = lambda: tiny.generate(prompts(tiny), max_new_tokens=10, sampler=sampler,  # noqa
                                stop_token_ids=stops, seed=5,
                                streamer=(lambda tokens: None) if streaming else None)
    taped = run()
    monkeypatch.setattr(replay, "_runs_python_loops", lambda: False)
    plain = run()
    np.testing.assert_array_equal(taped["token_ids"], plain["token_ids"])
    np.testing.assert_array_equal(taped["padding_mask"], plain["padding_mask"])
    if BACKEND in ("torch", "numpy") and not streaming:  # (a streamed step runs as written)
        assert made[0].replays >= 5, "the step was not replayed"
    else:
        assert all(wrapped.replays == 0 for wrapped in made)


@pytest.mark.skipif(BACKEND not in ("torch", "numpy"), reason="the backends that replay")
def test_mixed_precision_steps_replay_too(monkeypatch):
    """Under mixed_bfloat16 each step casts the weights (autocast): the tape folds those
    casts, and the tokens stay those of the step run as written."""
    from zoo.generation import sampling
    from zoo.ops import replay

    zoo.config.set_random_seed(3)
    backbone = OPTBackbone(vocabulary_size=64, num_layers=2, num_heads=2, hidden_dim=16,
                           intermediate_dim=32, max_sequence_length=32, dropout=0.0,
                           dtype="mixed_bfloat16")
    lm = OPTCausalLM(backbone, dtype="mixed_bfloat16")
    prompt = {"token_ids": np.array([[2, 40, 41], [2, 50, 1]], np.int32),
              "padding_mask": np.array([[1, 1, 1], [1, 1, 0]], np.int32)}
    made = watch_replays(monkeypatch, sampling)
    taped = lm.generate(prompt, max_new_tokens=10, stop_token_ids=None)["token_ids"]
    monkeypatch.setattr(replay, "_runs_python_loops", lambda: False)
    plain = lm.generate(prompt, max_new_tokens=10, stop_token_ids=None)["token_ids"]
    np.testing.assert_array_equal(taped, plain)
    assert made[0].replays >= 5


@pytest.mark.skipif(BACKEND not in ("jax", "tensorflow"), reason="compiled backends")
def test_compiled_once_per_shape(tiny):
    tiny.__dict__.pop("_generate_functions", None)
    first = {"token_ids": np.array([[2, 40, 41], [2, 50, 1]], np.int32)}
    first["padding_mask"] = (first["token_ids"] != 1).astype(np.int32)
    for _ in range(3):  # same shape, new values: no retrace
        first["token_ids"] = np.where(first["padding_mask"] == 1,
                                      first["token_ids"] + 1, 1).astype(np.int32)
        tiny.generate(first, max_new_tokens=4, stop_token_ids=None)
    (run,) = tiny._generate_functions.values()
    assert run.compile_count() == 1
    tiny.generate({"token_ids": np.array([[2, 40, 41, 42]], np.int32)}, max_new_tokens=4,
                  stop_token_ids=None)
    assert run.compile_count() == 2


def test_bad_input_is_named(tiny):
    with pytest.raises(ValueError, match="max_sequence_length"):
        tiny.generate(prompts(tiny), max_new_tokens=100)
    with pytest.raises(ValueError, match="max_length=4 leaves no room"):
        tiny.generate(prompts(tiny), max_length=4)
    with pytest.raises(ValueError, match="prompt 1 is empty"):
        tiny.generate({"token_ids": np.array([[2, 3], [1, 1]]),
                       "padding_mask": np.array([[1, 1], [0, 0]])}, max_new_tokens=2)
    with pytest.raises(ValueError, match="token ids must be in"):
        tiny.generate({"token_ids": np.array([[2, 10 ** 6]])}, max_new_tokens=2)
    with pytest.raises(ValueError, match="Unknown sampler"):
        tiny.generate(prompts(tiny), max_new_tokens=2, sampler="nucleus")
    with pytest.raises(ValueError, match="temperature"):
        samplers.TopKSampler(k=3, temperature=0)
    bare = OPTCausalLM(tiny.backbone)
    with pytest.raises(ValueError, match="need a preprocessor"):
        bare.generate("hello", max_new_tokens=2)
    assert isinstance(samplers.get({"class_name": "TopPSampler", "config": {"p": 0.5}}),
                      samplers.TopPSampler)
