"""The generation loops behind ``CausalLM.generate`` (zoo/models/causal_lm.py).

Buffers: ``buffer`` (B, L) int32 holds each prompt right-aligned in columns [0, P) (left
padding) and padding after; ``mask`` (B, L) marks the prompt's real tokens and every
column from P on (generated tokens are real). The prefill runs the whole prompt once and
writes the first new token at P; step ``index`` (P < index < L) runs the token at
``index - 1`` against the cache and writes the chosen token at ``index``.

``loop_fn`` is the whole loop as one function (compiled once per shape by the backend);
``prefill_fn`` + ``step_fn`` are the same computation split so Python can stream tokens.
NumPy helpers convert between the callers' right-padded batches and the buffer layout.
"""
import numpy as np

from zoo import ops
from zoo.models.samplers import NEGATIVE_LOGIT, BeamSampler
from zoo.ops.replay import replayable
from zoo.random.seed_generator import draw_seed



# -- NumPy: layouts -----------------------------------------------------------------------
def left_pad(token_ids, padding_mask):
    """Rows' real tokens, in order, right-aligned -> (ids (B, P), mask (B, P) bool,
    lengths (B,)), P the longest prompt."""
    mask = np.asarray(padding_mask).astype(bool)
    lengths = mask.sum(axis=1)
    width = int(lengths.max())
    ids = np.zeros((mask.shape[0], width), np.int32)
    out_mask = np.zeros((mask.shape[0], width), bool)
    for row, (tokens, keep) in enumerate(zip(np.asarray(token_ids), mask)):
        real = tokens[keep]
        ids[row, width - len(real):] = real
        out_mask[row, width - len(real):] = True
    return ids, out_mask, lengths


def make_buffer(prompt_ids, prompt_mask, total, pad_id):
    """-> (buffer (B, total) int32, mask (B, total) int32) with the prompts in [0, P)."""
    batch, width = prompt_ids.shape
    buffer = np.full((batch, total), pad_id, np.int32)
    buffer[:, :width] = np.where(prompt_mask, prompt_ids, pad_id)
    mask = np.ones((batch, total), np.int32)
    mask[:, :width] = prompt_mask
    return buffer, mask


def seed_tensor(seed):
    """An int (or None: drawn from zoo's global seed generator) -> (2,) int32 NumPy."""
    return np.asarray(ops.convert_to_numpy(draw_seed(seed)), np.int32).reshape(2)


def generated_mask(new_ids, stop_ids):
    """(B, N) new tokens -> (B, N) bool: real up to and including the first stop token."""
    if not stop_ids:
        return np.ones(new_ids.shape, bool)
    is_stop = np.isin(new_ids, stop_ids)
    stopped_before = np.cumsum(is_stop, axis=1) - is_stop > 0
    return ~stopped_before


def to_right_padded(buffer, prompt_mask, prompt_length, stop_ids, pad_id):
    """The finished buffer -> {"token_ids", "padding_mask"} (B, L): each row's prompt and
    new tokens from column 0, then padding."""
    buffer = np.asarray(buffer)
    keep = np.concatenate([prompt_mask, generated_mask(buffer[:, prompt_length:], stop_ids)],
                          axis=1)
    ids = np.full(buffer.shape, pad_id, np.int32)
    mask = np.zeros(buffer.shape, np.int32)
    for row in range(buffer.shape[0]):
        real = buffer[row][keep[row]]
        ids[row, :len(real)] = real
        mask[row, :len(real)] = 1
    return {"token_ids": ids, "padding_mask": mask}


# -- ops: the loop ------------------------------------------------------------------------
def _prefill(model, buffer, mask, prompt_length):
    """The key/value cache with the first P - 1 prompt tokens written."""
    batch, total = buffer.shape
    cache = model.build_cache(batch, total)
    if prompt_length > 1:
        prompt = ops.slice(buffer, [0, 0], (batch, prompt_length - 1))
        _, cache = model.backbone.call_with_cache(prompt, cache, 0, padding_mask=mask)
    return cache


def _next_logits(model, buffer, mask, cache, index):
    """Run the token at ``index - 1``: -> (logits (B, V) float32, cache)."""
    batch = buffer.shape[0]
    token = ops.slice(buffer, [0, ops.subtract(index, 1)], (batch, 1))
    hidden, cache = model.backbone.call_with_cache(token, cache, ops.subtract(index, 1),
                                                   padding_mask=mask)
    logits = model.logits_from_hidden(hidden)                                # (B, 1, V)
    return ops.cast(ops.reshape(logits, (batch, -1)), "float32"), cache


def _stopped(done, tokens, stop_ids):
    """``done`` or'ed with "the token is a stop id", one Python int at a time (no tensor
    constant made per step, which would keep ``replayable`` from taping the step)."""
    for stop in stop_ids:
        done = ops.logical_or(done, ops.equal(tokens, stop))
    return done


def _choose(sampler, stop_ids, pad_id, logits, buffer, seed, index, done):
    """Pick the tokens at ``index`` from (B, V) logits and write them into the buffer."""
    if sampler.needs_seed:  # (seed[0], seed[1] + index): a fresh draw per position
        seed = ops.add(seed, ops.multiply([0, 1], ops.cast(index, "int32")))
    tokens = sampler.next_token(logits, seed)                                # (B,)
    tokens = ops.where(done, pad_id, tokens)
    buffer = ops.slice_update(buffer, [0, index], ops.expand_dims(tokens, 1))
    return buffer, _stopped(done, tokens, stop_ids), tokens


def _step(model, sampler, stop_ids, pad_id, buffer, mask, seed, cache, index, done):
    logits, cache = _next_logits(model, buffer, mask, cache, index)
    buffer, done, tokens = _choose(sampler, stop_ids, pad_id, logits, buffer, seed, index, done)
    return buffer, cache, done, tokens


def _prefill_first(model, sampler, stop_ids, pad_id, buffer, mask, seed, prompt_length):
    """Run the whole prompt (one pass over the weights) and pick the first new token from
    its last position: -> (buffer, cache, done, tokens)."""
    batch, total = buffer.shape
    cache = model.build_cache(batch, total)
    prompt = ops.slice(buffer, [0, 0], (batch, prompt_length))
    hidden, cache = model.backbone.call_with_cache(prompt, cache, 0, padding_mask=mask)
    last = ops.slice(hidden, [0, prompt_length - 1, 0], (batch, 1, hidden.shape[-1]))
    logits = ops.cast(ops.reshape(model.logits_from_hidden(last), (batch, -1)), "float32")
    done = ops.zeros((batch,), "bool")
    buffer, done, tokens = _choose(sampler, stop_ids, pad_id, logits, buffer, seed,
                                   ops.convert_to_tensor(np.int32(prompt_length)), done)
    return buffer, cache, done, tokens


def _take_rows(tensor, rows_taken, rows):
    """The cache ``tensor``'s rows in the order ``rows_taken`` (B,) gives. Its first axis
    holds the B batch rows, each as ``len / B`` consecutive entries (a (B * N, S, H) pair
    holds a row's N heads together)."""
    per_row = tensor.shape[0] // rows
    if per_row == 1:
        return ops.take(tensor, rows_taken, axis=0)
    entries = ops.add(ops.expand_dims(ops.multiply(rows_taken, per_row), 1),
                      ops.expand_dims(ops.arange(per_row, dtype="int32"), 0))  # (B, per_row)
    return ops.take(tensor, ops.reshape(entries, (-1,)), axis=0)


def loop_fn(model, sampler, stop_ids):
    """-> fn(buffer, mask, seed, prompt_length) -> the finished buffer (B, L)."""
    if isinstance(sampler, BeamSampler):
        return _beam_loop_fn(model, sampler, stop_ids)
    pad_id = model._pad_id()

    def generate(buffer, mask, seed, prompt_length):
        total = buffer.shape[1]
        buffer, cache, done, _ = _prefill_first(model, sampler, stop_ids, pad_id, buffer, mask,
                                                seed, prompt_length)

        def cond(buffer, cache, done, index):
            return ops.logical_and(ops.less(index, total),
                                   ops.logical_not(ops.all(done)))

        def body(buffer, cache, done, index):
            buffer, cache, done, _ = _step(model, sampler, stop_ids, pad_id, buffer, mask,
                                           seed, cache, index, done)
            return buffer, cache, done, ops.add(index, 1)

        start = (buffer, cache, done, ops.convert_to_tensor(np.int32(prompt_length + 1)))
        return ops.while_loop(cond, replayable(body), start)[0]

    return generate


def prefill_fn(model, sampler, stop_ids):
    """-> fn(buffer, mask, seed, prompt_length) -> (buffer, cache, done, first tokens)
    (streaming: Python runs the steps after it)."""
    pad_id = model._pad_id()

    def prefill(buffer, mask, seed, prompt_length):
        return _prefill_first(model, sampler, stop_ids, pad_id, buffer, mask, seed,
                              prompt_length)

    return prefill


def step_fn(model, sampler, stop_ids):
    """-> fn(buffer, mask, seed, cache, index, done) -> (buffer, cache, done, tokens)."""
    if isinstance(sampler, BeamSampler):
        raise ValueError("generate: a streamer needs a per-token sampler; beam search only "
                         "knows its sequences at the end.")
    pad_id = model._pad_id()

    def step(buffer, mask, seed, cache, index, done):
        def once(state):
            buffer, cache, done, index, _ = state
            buffer, cache, done, tokens = _step(model, sampler, stop_ids, pad_id, buffer, mask,
                                                seed, cache, index, done)
            return buffer, cache, done, ops.add(index, 1), ops.cast(tokens, "int32")

        tokens = ops.zeros((buffer.shape[0],), "int32")
        buffer, cache, done, _, tokens = one_trip(once, (buffer, cache, done, index, tokens))
        return buffer, cache, done, tokens

    return step


def one_trip(body, state):
    """``body(state)`` as a loop that runs once, for a compiled step that Python calls per
    token. XLA (TensorFlow's jit) takes a slice's start as a compile-time constant when it
    can trace it to an argument of the compiled function, so a step given the index as an
    argument compiled anew for every index (0.7-0.9 s per token on a 2-layer model); a
    start computed from a loop variable that the loop changes is sliced dynamically.
    ``body`` must change the index it carries."""
    return ops.fori_loop(0, 1, lambda _, state: body(state), state)


def stream(functions, args, prompt_length, total, streamer, stop_ids, pad_id):
    """Python drives the compiled step and hands each step's tokens to ``streamer``."""
    prefill, step = functions
    buffer, mask, seed = args
    put = getattr(streamer, "put", streamer)
    buffer, cache, done, tokens = prefill(buffer, mask, seed, prompt_length)
    put(np.asarray(ops.convert_to_numpy(tokens)))
    for index in range(prompt_length + 1, total):
        if bool(np.all(ops.convert_to_numpy(done))):
            break
        buffer, cache, done, tokens = step(buffer, mask, seed, cache,
                                           ops.convert_to_tensor(np.int32(index)), done)
        put(np.asarray(ops.convert_to_numpy(tokens)))
    if hasattr(streamer, "end"):
        streamer.end()
    return buffer


# -- beam search --------------------------------------------------------------------------
def _beam_loop_fn(model, sampler, stop_ids):
    beams = sampler.num_beams
    pad_id = model._pad_id()

    def generate(buffer, mask, seed, prompt_length):
        batch, total = buffer.shape
        rows = batch * beams
        buffer = ops.repeat(buffer, beams, axis=0)                           # (B*K, L)
        mask = ops.repeat(mask, beams, axis=0)
        cache = _prefill(model, buffer, mask, prompt_length)  # P - 1 tokens: the loop's
        # first step scores every beam's candidates from the last prompt token
        # every beam starts as the same prompt: only the first one may be extended at first
        first = np.full((beams,), NEGATIVE_LOGIT, np.float32)
        first[0] = 0.0
        scores = ops.convert_to_tensor(np.tile(first, batch))                 # (B*K,)
        vocabulary = model.backbone.vocabulary_size
        pad_only = np.full((vocabulary,), NEGATIVE_LOGIT, np.float32)
        pad_only[pad_id] = 0.0
        pad_only = ops.convert_to_tensor(pad_only)
        row_base = ops.convert_to_tensor(
            (np.arange(batch, dtype=np.int32) * beams)[:, None])              # (B, 1)

        def cond(buffer, cache, scores, done, index):
            return ops.logical_and(ops.less(index, total), ops.logical_not(ops.all(done)))

        def body(buffer, cache, scores, done, index):
            logits, cache = _next_logits(model, buffer, mask, cache, index)
            log_probs = ops.log_softmax(logits, axis=-1)                     # (B*K, V)
            log_probs = ops.where(ops.expand_dims(done, 1), ops.expand_dims(pad_only, 0),
                                  log_probs)  # a finished beam only grows padding, free
            totals = ops.reshape(ops.add(ops.expand_dims(scores, 1), log_probs),
                                 (batch, beams * vocabulary))
            top_scores, top = ops.top_k(totals, beams)                        # (B, K) sorted
            top = ops.cast(top, "int32")
            parents = ops.reshape(ops.add(row_base, ops.floor_divide(top, vocabulary)), (rows,))
            tokens = ops.reshape(ops.mod(top, vocabulary), (rows,))
            buffer = ops.take(buffer, parents, axis=0)
            cache = tuple(tuple(_take_rows(t, parents, rows) for t in pair) for pair in cache)
            done = ops.take(done, parents, axis=0)
            buffer = ops.slice_update(buffer, [0, index], ops.expand_dims(tokens, 1))
            done = _stopped(done, tokens, stop_ids)
            return buffer, cache, ops.reshape(top_scores, (rows,)), done, ops.add(index, 1)

        start = (buffer, cache, scores, ops.zeros((rows,), "bool"),
                 ops.convert_to_tensor(np.int32(prompt_length)))
        buffer = ops.while_loop(cond, replayable(body), start)[0]
        best = ops.convert_to_tensor(np.arange(batch, dtype=np.int32) * beams)  # top beam
        return ops.take(buffer, best, axis=0)

    return generate
