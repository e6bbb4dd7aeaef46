"""generate(prompt_lookup_num_tokens=K): the guesses, the same tokens as plain greedy
decoding (stop tokens, padding, the end of the position table), fewer passes, bad input."""
import numpy as np
import pytest

import zoo
from tests.conftest import BACKEND
from tests.models.helpers import watch_replays
from zoo import ops
from zoo.generation import prompt_lookup
from zoo.models import OPTBackbone, OPTCausalLM


def tiny_opt(order_one):
    zoo.config.set_random_seed(3)
    backbone = OPTBackbone(vocabulary_size=64, num_layers=2, num_heads=2, hidden_dim=16,
                           intermediate_dim=32, max_sequence_length=48, dropout=0.0)
    for variable in backbone.weights if order_one else ():
        if variable.path.endswith("kernel") or variable.path.endswith("embeddings"):
            rng = np.random.default_rng(len(variable.path))
            variable.assign(rng.normal(0, 0.5, variable.shape).astype("float32"))
    return OPTCausalLM(backbone)


@pytest.fixture(scope="module")
def varied():
    """A tiny random OPT with order-1 weights: varied tokens, guesses often wrong."""
    return tiny_opt(order_one=True)


@pytest.fixture(scope="module")
def looping():
    """A tiny OPT as initialized (small weights): its greedy output falls into runs."""
    return tiny_opt(order_one=False)


def prompts():
    ids = np.array([[2, 40, 41, 42, 43, 40, 41], [2, 50, 1, 1, 1, 1, 1],
                    [2, 60, 61, 62, 1, 1, 1]], np.int32)
    return {"token_ids": ids, "padding_mask": (ids != 1).astype(np.int32)}


def test_guesses_follow_an_earlier_occurrence():
    buffer = np.array([[2, 5, 6, 7, 8, 5, 6, 0, 0, 0],    # (5, 6) seen before: 7 8 5 6
                       [2, 9, 5, 3, 4, 4, 5, 0, 0, 0],    # only 5 seen before: 3 4 4 5
                       [2, 9, 9, 9, 9, 9, 9, 0, 0, 0],    # a run: the occurrence with 4 known
                       [2, 3, 4, 5, 6, 7, 8, 0, 0, 0],    # nothing: the last token repeated
                       [2, 4, 7, 8, 9, 7, 8, 0, 0, 0]],   # 3 known, then round again
                      np.int32)
    mask = np.ones_like(buffer)
    lookup = prompt_lookup._Lookup(buffer.shape[1], 4)

    def draft(mask):
        guesses, found = lookup.draft(ops.convert_to_tensor(buffer),
                                      ops.convert_to_tensor(mask),
                                      ops.convert_to_tensor(np.int32(7)))
        return ops.convert_to_numpy(guesses).tolist(), ops.convert_to_numpy(found).tolist()

    assert draft(mask) == ([[7, 8, 5, 6], [3, 4, 4, 5], [9, 9, 9, 9], [8, 8, 8, 8],
                            [9, 7, 8, 9]], [True, True, True, False, True])
    # padding never matches: the same rows with their first tokens hidden
    mask[:, :3] = 0
    guesses, found = draft(mask)
    assert guesses[0] == [6, 6, 6, 6] and found[0] is False


@pytest.mark.parametrize("model, count, stops", [
    ("varied", 1, None), ("varied", 3, [45, 61, 2]), ("varied", 8, None),
    ("looping", 4, [38, 45, 61]), ("looping", 8, None)])
def test_the_tokens_of_plain_greedy(request, model, count, stops):
    model = request.getfixturevalue(model)
    plain = model.generate(prompts(), max_new_tokens=30, stop_token_ids=stops)
    guessed = model.generate(prompts(), max_new_tokens=30, stop_token_ids=stops,
                               prompt_lookup_num_tokens=count)
    np.testing.assert_array_equal(guessed["token_ids"], plain["token_ids"])
    np.testing.assert_array_equal(guessed["padding_mask"], plain["padding_mask"])


@pytest.mark.parametrize("model, stops, every_row_stops", [
    ("looping", None, False), ("varied", [45, 61, 2], True), ("looping", [38, 45, 61], False)])
def test_a_streamer_sees_what_plain_streaming_shows(request, model, stops, every_row_stops):
    """One call per token position, the same columns as plain greedy streaming (up to the
    one where the last row stopped), then ``end``; the same output as without a streamer."""
    model = request.getfixturevalue(model)

    class Streamer:
        def __init__(self):
            self.columns, self.ended = [], False

        def put(self, column):
            self.columns.append(np.asarray(column).tolist())

        def end(self):
            self.ended = True

    plain, guessed = Streamer(), Streamer()
    want = model.generate(prompts(), max_new_tokens=30, stop_token_ids=stops, streamer=plain)
    got = model.generate(prompts(), max_new_tokens=30, stop_token_ids=stops, streamer=guessed,
                         prompt_lookup_num_tokens=5)
    assert guessed.ended and guessed.columns == plain.columns
    # (the varied rows all stop early: the columns end with the last row's stop token)
    assert (len(plain.columns) < 30) == every_row_stops
    np.testing.assert_array_equal(got["token_ids"], want["token_ids"])
    np.testing.assert_array_equal(got["padding_mask"], want["padding_mask"])
    unstreamed = model.generate(prompts(), max_new_tokens=30, stop_token_ids=stops,
                                prompt_lookup_num_tokens=5)
    np.testing.assert_array_equal(got["token_ids"], unstreamed["token_ids"])


def test_the_end_of_the_position_table(varied):
    """The guesses need spare positions: near max_sequence_length (48) there are fewer,
    at it none (the plain loop runs)."""
    for total in (46, 48):
        plain = varied.generate(prompts(), max_length=total, stop_token_ids=None)
        guessed = varied.generate(prompts(), max_length=total, stop_token_ids=None,
                                   prompt_lookup_num_tokens=6)
        np.testing.assert_array_equal(guessed["token_ids"], plain["token_ids"])


def passes_needed(tokens, prompt_length, count):
    """How many passes the lookup loop makes to write ``tokens`` after the first new one:
    the guessing rule and the wait after a miss written out in Python, step by step."""
    tokens, index, passes = list(tokens), prompt_length + 1, 0
    wait, backoff = 0, 1
    while index < len(tokens):
        passes += 1
        start = -1
        for size in (2, 1):
            last = tokens[index - size:index]
            found = [(min(index - after, count), after) for after in range(size, index)
                     if tokens[after - size:after] == last]
            if found:
                start = max(found)[1]
                break
        if start < 0 or wait > 0:  # a one-token pass
            index, wait = index + 1, max(wait - 1, 0)
            continue
        guesses = [tokens[start + t % (index - start)] for t in range(count)]
        kept = 0
        while kept < count and index + kept < len(tokens) and \
                guesses[kept] == tokens[index + kept]:
            kept += 1
        if kept == 0:
            wait, backoff = backoff, min(2 * backoff, prompt_lookup.MAX_BACKOFF)
        else:
            wait, backoff = 0, 1
        index += kept + 1
    return passes


@pytest.mark.skipif(BACKEND not in ("torch", "numpy"), reason="counts the steps in Python")
@pytest.mark.parametrize("model", ["looping", "varied"])
def test_the_passes_the_rule_says(request, model, monkeypatch):
    """Where the output repeats (looping) the loop makes far fewer passes than tokens; where
    guesses miss (varied), misses make it wait before guessing again."""
    made = watch_replays(monkeypatch, prompt_lookup)
    causal_lm = request.getfixturevalue(model)
    row = {"token_ids": prompts()["token_ids"][1:2]}
    plain = causal_lm.generate(row, max_new_tokens=30, stop_token_ids=None)
    guessed = causal_lm.generate(row, max_new_tokens=30, stop_token_ids=None,
                                 prompt_lookup_num_tokens=8)
    np.testing.assert_array_equal(guessed["token_ids"], plain["token_ids"])
    look, one, many = made  # the three taped pieces of a step
    passes = one.calls + many.calls
    assert passes == passes_needed(plain["token_ids"][0], 7, 8), (look.calls, one.calls, many.calls)
    assert look.calls == passes and look.replays >= passes - 3  # ran from the tape
    if model == "looping":
        assert passes < 29 / 2, f"{passes} passes for 29 tokens after the first"
    else:
        assert many.calls < passes / 2  # misses make it wait


def test_bad_input_is_named(looping):
    for count in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="prompt_lookup_num_tokens must be an int"):
            looping.generate(prompts(), max_new_tokens=3, prompt_lookup_num_tokens=count)
    with pytest.raises(ValueError, match="needs sampler='greedy'"):
        looping.generate(prompts(), max_new_tokens=3, sampler="top_k",
                         prompt_lookup_num_tokens=4)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="XLA's compile-time constants, via TF")
@pytest.mark.parametrize("count", [None, 4])
def test_a_streamed_step_is_one_program_for_every_index(looping, monkeypatch, count):
    """XLA takes a slice's start as a compile-time constant where it can trace it to an
    argument: a streamed step, given the index, compiled anew for every token until it
    ran as a one-trip loop (steps.one_trip)."""
    from zoo.generation import streaming

    calls = []

    def watch(prefill, step, *rest):
        def step_watched(*args):
            calls.append((step, args))
            return step(*args)
        return original(prefill, step_watched, *rest)

    original = streaming.stream
    monkeypatch.setattr(streaming, "stream", watch)
    looping.generate(prompts(), max_new_tokens=5, stop_token_ids=None, streamer=lambda c: None,
                     prompt_lookup_num_tokens=count)
    assert len(calls) >= 2
    programs = {step.compiled.experimental_get_compiler_ir(*args)(stage="hlo")
                for step, args in calls[:2]}
    assert len(programs) == 1
