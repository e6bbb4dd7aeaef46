"""run_generate_parity_test: a model's generate() token for token against a reference.

    run_generate_parity_test(lambda **kw: lm.generate(prompts, max_new_tokens=32, **kw),
                             reference_new_tokens, prompt_lengths=lengths, pad_id=1)

``generate(**kwargs)`` returns right-padded ``{"token_ids", "padding_mask"}`` (B, L) whose
row i holds its prompt (``prompt_lengths[i]`` tokens) then its new tokens. Every variant
(default: plain, then with prompt-lookup guesses) must make exactly the reference's new
tokens (B, N) (padding after a stop token, ``pad_id`` where the reference has none), and a
streamer must receive the same tokens, one column per call, in order. The reference comes
from a peer (transformers' generate, run in a subprocess: tests/subprocesses.py).
"""
import numpy as np

DEFAULT_VARIANTS = ({}, {"prompt_lookup_num_tokens": 4})


def new_tokens(result, prompt_lengths, count, pad_id):
    """(B, count) new tokens of a right-padded result, ``pad_id`` where its mask ends."""
    ids, mask = np.asarray(result["token_ids"]), np.asarray(result["padding_mask"])
    out = np.full((len(prompt_lengths), count), pad_id, np.int32)
    for row, length in enumerate(prompt_lengths):
        made = ids[row, length:length + count][mask[row, length:length + count] == 1]
        out[row, :len(made)] = made
    return out


class Collect:
    """A transformers-style streamer that keeps every column it is given."""

    def __init__(self):
        self.columns, self.ended = [], False

    def put(self, column):
        self.columns.append(np.asarray(column).copy())

    def end(self):
        self.ended = True


def run_generate_parity_test(generate, reference_new_tokens, prompt_lengths, pad_id=0,
                             variants=DEFAULT_VARIANTS, stream=True):
    want = np.asarray(reference_new_tokens)
    count = want.shape[1]
    results = []
    for kwargs in variants:
        result = generate(**kwargs)
        got = new_tokens(result, prompt_lengths, count, pad_id)
        np.testing.assert_array_equal(got, want, err_msg=f"generate(**{kwargs})")
        results.append(result)
        if stream:
            streamer = Collect()
            streamed = generate(streamer=streamer, **kwargs)
            np.testing.assert_array_equal(streamed["token_ids"], result["token_ids"],
                                          err_msg=f"generate(streamer=..., **{kwargs})")
            assert streamer.ended, "the streamer's end() was not called"
            columns = np.stack(streamer.columns, axis=1)                    # (B, <= N)
            made = got[:, :columns.shape[1]]
            real = np.asarray([[t < length for t in range(columns.shape[1])] for length in
                               (result["padding_mask"].sum(1) - np.asarray(prompt_lengths))])
            np.testing.assert_array_equal(np.where(real, columns, pad_id),
                                          np.where(real, made, pad_id),
                                          err_msg=f"streamed columns, **{kwargs}")
    return results[0]
