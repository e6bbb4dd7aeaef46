"""Logits processors inside the compiled loop, on every backend and strategy: each rule
gives the tokens of a plain reference (full forward passes, the rule applied in NumPy,
argmax), with plain steps, prompt lookup, streaming and beam search."""
import numpy as np
import pytest

import zoo
from zoo import ops
from zoo.generation import (ForceTokens, LogitsProcessor, SuppressTokens,
                            SuppressTokensAtBegin)
from zoo.generation.logits_processors import NEGATIVE_LOGIT
from zoo.models import OPTBackbone, OPTCausalLM, samplers

NEW = 8


@pytest.fixture(scope="module")
def lm():
    zoo.config.set_random_seed(11)
    backbone = OPTBackbone(vocabulary_size=32, num_layers=2, num_heads=2, hidden_dim=16,
                           intermediate_dim=32, max_sequence_length=40, dropout=0.0)
    for variable in backbone.weights:  # order-1 weights: clear argmaxes, varied tokens
        if variable.path.endswith("kernel") or variable.path.endswith("embeddings"):
            rng = np.random.default_rng(len(variable.path))
            variable.assign(rng.normal(0, 0.5, variable.shape).astype("float32"))
    return OPTCausalLM(backbone)


PROMPT = {"token_ids": np.array([[2, 7, 8, 9], [2, 5, 1, 1]], np.int32),
          "padding_mask": np.array([[1, 1, 1, 1], [1, 1, 0, 0]], np.int32)}


class NoRepeat(LogitsProcessor):
    """A rule of our own that reads the buffer: never the token just before."""

    def prepare(self, vocabulary_size):
        vocabulary = ops.convert_to_tensor(np.arange(vocabulary_size, dtype=np.int32))

        def ban_previous(logits, context):
            batch = context.token_ids.shape[0]
            previous = ops.slice(context.token_ids, [0, ops.subtract(context.index, 1)],
                                 (batch, 1))                                      # (B, 1)
            return ops.where(ops.equal(ops.expand_dims(vocabulary, 0), previous),
                             NEGATIVE_LOGIT, logits)
        return ban_previous


def numpy_rule(name, logits, tokens, step):
    """The same rules on one row's logits (V,) in NumPy."""
    logits = logits.copy()
    if name == "suppress":
        logits[[3, 4, 5, 6]] = NEGATIVE_LOGIT
    elif name == "begin":
        if step == 0:
            logits[list(range(0, 32, 2))] = NEGATIVE_LOGIT
    elif name == "force":
        forced = {0: 17, 3: 9}.get(step)
        if forced is not None:
            logits[:] = NEGATIVE_LOGIT
            logits[forced] = 0.0
    elif name == "no_repeat":
        logits[tokens[-1]] = NEGATIVE_LOGIT
    return logits


RULES = {"suppress": lambda: [SuppressTokens([3, 4, 5, 6])],
         "begin": lambda: [SuppressTokensAtBegin(range(0, 32, 2))],
         "force": lambda: [ForceTokens({0: 17, 3: 9})],
         "no_repeat": lambda: [NoRepeat()]}


_REFERENCES = {}


def reference(lm, name):
    """Greedy with the rule, one full forward per token, row by row (made once per rule)."""
    if name not in _REFERENCES:
        _REFERENCES[name] = _reference(lm, name)
    return _REFERENCES[name]


def _reference(lm, name):
    out = []
    for ids, mask in zip(PROMPT["token_ids"], PROMPT["padding_mask"]):
        tokens = list(ids[mask == 1])
        for step in range(NEW):
            x = np.asarray(tokens, np.int32)[None]
            logits = np.asarray(ops.convert_to_numpy(
                lm({"token_ids": x, "padding_mask": np.ones_like(x)})))[0, -1]
            tokens.append(int(np.argmax(numpy_rule(name, logits, tokens, step))))
        out.append(tokens[-NEW:])
    return np.asarray(out)


def new_tokens(result):
    lengths = PROMPT["padding_mask"].sum(1)
    return np.stack([result["token_ids"][row, n:n + NEW] for row, n in enumerate(lengths)])


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("mode", ["loop", "lookup", "stream", "beam1"])
def test_rule_matches_the_reference(lm, name, mode):
    kwargs = {"lookup": {"prompt_lookup_num_tokens": 3},
              "stream": {"streamer": lambda column: None},
              "beam1": {"sampler": samplers.BeamSampler(num_beams=1)}}.get(mode, {})
    result = lm.generate(PROMPT, max_new_tokens=NEW, stop_token_ids=None,
                         logits_processors=RULES[name](), **kwargs)
    np.testing.assert_array_equal(new_tokens(result), reference(lm, name))


def test_rules_compose_and_change_the_tokens(lm):
    plain = new_tokens(lm.generate(PROMPT, max_new_tokens=NEW, stop_token_ids=None))
    both = new_tokens(lm.generate(PROMPT, max_new_tokens=NEW, stop_token_ids=None,
                                  logits_processors=[SuppressTokens([3, 4, 5, 6]),
                                                     ForceTokens({0: 17, 3: 9})]))
    assert (both[:, 0] == 17).all() and (both[:, 3] == 9).all()
    assert not np.isin(both, [3, 4, 5, 6]).any()
    assert not np.array_equal(plain, both)


def test_beam_search_keeps_the_rules(lm):
    result = lm.generate(PROMPT, max_new_tokens=NEW, stop_token_ids=None,
                         sampler=samplers.BeamSampler(num_beams=3),
                         logits_processors=[SuppressTokens([3, 4, 5, 6]),
                                            ForceTokens({1: 12})])
    made = new_tokens(result)
    assert (made[:, 1] == 12).all() and not np.isin(made, [3, 4, 5, 6]).any()


def test_bad_processors_are_named(lm):
    with pytest.raises(TypeError, match="LogitsProcessor"):
        lm.generate(PROMPT, max_new_tokens=2, logits_processors=[lambda logits: logits])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        lm.generate(PROMPT, max_new_tokens=2, logits_processors=[SuppressTokens([99])])
    with pytest.raises(ValueError, match=">= 0"):
        ForceTokens({-1: 3})
