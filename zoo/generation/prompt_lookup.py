"""Greedy generation with prompt-lookup guesses: several tokens per pass over the weights.

``CausalLM.generate(..., prompt_lookup_num_tokens=K)`` (transformers' name for the same
idea). Each step guesses the next K tokens without a model: it finds an earlier place where
the row's last two tokens (or, failing that, its last token) occurred, in the prompt or in
what was generated, and proposes the K tokens that followed there (of several places, the
one followed by the most known tokens, then the latest; where the known tokens run out, the
guesses repeat them, as a loop would). One pass of the model then runs the current token
and the K guesses against the cache, which gives the greedy choice at each of the K + 1
positions. The guesses are kept up to the first one that differs from the greedy choice,
and that choice is kept too: 1 to K + 1 tokens per pass, and the very tokens plain greedy
decoding makes (each kept token is the argmax given the kept tokens before it; only float
rounding of a K + 1 token pass against a one token pass can differ, as for any batch
shape). A step where no running row found an earlier occurrence runs the plain one-token
pass instead, and so do the steps after a pass that kept no guess: 1, then 2, 4, ... up to
32 after misses in a row (one kept guess resets it), which bounds what guesses that keep
missing can cost.

It pays where the output copies its input (summaries, edits of code or text, answers that
quote a document, loops) and at batch 1, where a pass streams all the weights for a few
rows of work: on a 2-core CPU an 11-token pass of OPT-125m costs about two one-token
passes, which is what a step pays when its guesses miss (hence the wait after a miss).

Shapes stay fixed (one compiled loop per shape, as the plain loop): the buffer and cache get
K spare columns, hidden by the padding mask; a step writes K + 1 columns and advances the
index by what it kept. Rows of a batch advance together, by the fewest tokens any running
row kept. On torch and NumPy the guessing, the one-token step and the K + 1 token step are
each replayed from their own tape (zoo/ops/replay.py). With a streamer, Python runs a
compiled prefill and a compiled step (not replayed, as plain streaming), and
zoo/generation/streaming.py hands the streamer each kept column in order, one call per
token position. Logits processors apply at each of the K + 1 positions, with the guesses
before it in the buffer (what the buffer holds if they are kept).
"""
import numpy as np

from zoo import ops
from zoo.generation.samplers import GreedySampler
from zoo.generation.sampling import Sampling
from zoo.generation.steps import context, one_trip, scalar
from zoo.ops.replay import replayable

NGRAM = 2  # the longest run of last tokens looked up (then shorter ones)
MAX_BACKOFF = 32  # the most one-token steps a run of misses makes the loop wait


class _Lookup:
    """The fixed index tensors of the guesses for a (B, width) buffer, made once before the
    loop from NumPy (a tensor converted from NumPy inside a step is a new constant each step,
    which keeps the step from replaying on torch and NumPy; ops.arange would not)."""

    def __init__(self, width, count):
        self.count, self.width = count, width
        self.windows = {}  # size -> (columns (W, size), the column after each window (W,))
        for size in range(NGRAM, 0, -1):
            starts = np.arange(width - size + 1, dtype=np.int32)
            self.windows[size] = (ops.convert_to_tensor(starts[:, None] + np.arange(size,
                                                                                 dtype=np.int32)),
                                  ops.convert_to_tensor(starts + size))
        self.steps = ops.convert_to_tensor(np.arange(count, dtype=np.int32)[None, :])  # (1, K)
        self.positions = ops.convert_to_tensor(np.arange(count + 1, dtype=np.int32))

    def best_match(self, buffer, mask, index, size):
        """(B,) the column just after an earlier occurrence of each row's last ``size``
        tokens (those before ``index``), or -1 where there is none. Of several, the one
        followed by the most known tokens (up to K), then the latest: in a repeating run
        the latest occurrence is followed by the unknown future."""
        columns, after = self.windows[size]
        last = ops.slice(buffer, [0, ops.subtract(index, size)], (buffer.shape[0], size))
        same = ops.equal(ops.take(buffer, columns, axis=1), ops.expand_dims(last, 1))
        real = ops.cast(ops.take(mask, columns, axis=1), "bool")           # (B, W, size)
        found = ops.all(ops.logical_and(same, real), axis=-1)               # (B, W)
        known = ops.minimum(ops.subtract(index, after), self.count)        # (W,)
        # an occurrence must end before the last tokens do, so that a token follows it
        found = ops.logical_and(found, ops.expand_dims(ops.greater(known, 0), 0))
        score = ops.add(ops.multiply(known, self.width), after)             # (W,)
        best = ops.argmax(ops.where(found, ops.expand_dims(score, 0), -1), axis=1)
        return ops.where(ops.any(found, axis=1), ops.take(after, best, axis=0), -1)

    def draft(self, buffer, mask, index):
        """-> (B, K) guesses for the columns ``index ..``, (B,) bool "the row found them":
        the tokens after an earlier occurrence of the last NGRAM tokens (or fewer, see
        best_match), periodically extended; the last token repeated where the row found
        none."""
        start = ops.full((buffer.shape[0],), -1, "int32")
        for size in self.windows:
            start = ops.where(ops.less(start, 0), self.best_match(buffer, mask, index, size),
                              start)
        found = ops.greater_equal(start, 0)
        # the text from ``start`` repeats what follows with period ``index - start``: where
        # the known continuation ends, the guesses go round again (a run of one token
        # guesses more of it)
        start = ops.where(found, start, ops.subtract(index, 1))
        period = ops.expand_dims(ops.subtract(index, start), 1)                # (B, 1)
        columns = ops.add(ops.expand_dims(start, 1), ops.mod(self.steps, period))
        return ops.take_along_axis(buffer, columns, axis=1), found


def _stop_run(decoding, chosen):
    """(B, T) bool: a stop id is at or before each column."""
    is_stop = decoding.stopped(ops.zeros_like(chosen, dtype="bool"), chosen)
    return ops.greater(ops.cumsum(ops.cast(is_stop, "int32"), axis=1), 0)


def _kept(decoding, chosen, guesses, done):
    """-> (how many guesses every running row kept, the stop run (B, K + 1)): a row keeps
    the run of guesses equal to the greedy choices, and agrees with anything once it
    stopped."""
    batch, count = guesses.shape
    stopped = _stop_run(decoding, chosen)
    agree = ops.logical_or(ops.equal(guesses, ops.slice(chosen, [0, 0], (batch, count))),
                           ops.slice(stopped, [0, 0], (batch, count)))
    run = ops.sum(ops.cumprod(ops.cast(agree, "int32"), axis=1), axis=1)   # (B,)
    return ops.cast(ops.min(ops.where(done, count, run)), "int32"), stopped


def _widened(buffer, mask, count, pad_id):
    """The buffer and mask with ``count`` spare columns (padding, masked out) for the
    guesses past the last real column."""
    batch = buffer.shape[0]
    buffer = ops.concatenate([buffer, ops.full((batch, count), pad_id, "int32")], axis=1)
    mask = ops.concatenate([mask, ops.zeros((batch, count), ops.dtype(mask))], axis=1)
    return buffer, mask


class PromptLookup:
    """Greedy decoding with ``count`` prompt-lookup guesses checked per pass."""
    streams = True
    needs_seed = False

    def __init__(self, sampler, count):
        if not isinstance(sampler, GreedySampler):
            raise ValueError(f"generate: prompt_lookup_num_tokens needs sampler='greedy' "
                             f"(the guesses are checked against the argmax), got {sampler!r}.")
        self.count = int(count)
        self.spare_columns = self.count
        self.plain = Sampling(sampler)

    def cache_key(self):
        return ("prompt_lookup", self.count)

    def _pieces(self, decoding, processing, mask, seed, prompt_length):
        """-> (look, one, many), the parts of a step, for a widened (B, total + K) ``mask``.
        Loop state: (buffer, state, done, index, wait, backoff); ``wait`` counts the steps
        left before guessing again, ``backoff`` how long the next miss makes it."""
        count, pad_id = self.count, decoding.pad_id
        batch = mask.shape[0]
        lookup = _Lookup(mask.shape[1], count)
        plain_step = self.plain._step(decoding, processing, mask, seed, prompt_length)

        def look(buffer, done, index, wait):
            guesses, found = lookup.draft(buffer, mask, index)
            found = ops.any(ops.logical_and(found, ops.logical_not(done)))
            return guesses, ops.logical_and(found, ops.equal(wait, 0))

        def one(buffer, state, done, index, wait, backoff):
            buffer, state, done, index = plain_step(buffer, state, done, index)
            # (``where`` as in ``many``: on NumPy both then hand back the same kind of
            # scalar, which keeps the loop's signature, and its tapes, fixed)
            wait = ops.where(ops.greater(wait, 0), ops.subtract(wait, 1), 0)
            return buffer, state, done, index, wait, backoff

        def many(buffer, state, done, index, wait, backoff, guesses):
            last = ops.slice(buffer, [0, ops.subtract(index, 1)], (batch, 1))
            tokens = ops.concatenate([last, guesses], axis=1)                 # (B, K + 1)
            hidden, state = decoding.model.decode(tokens, state, ops.subtract(index, 1), mask)
            logits = decoding.logits(hidden)                                  # (B, K + 1, V)
            process = processing(logits.shape[-1])
            if process is None:
                chosen = ops.cast(ops.argmax(logits, axis=-1), "int32")
            else:  # each position sees the guesses before it, as if they were kept
                guessed = ops.slice_update(buffer, [0, index], guesses)
                chosen = ops.stack([
                    ops.cast(ops.argmax(process(logits[:, t], context(
                        guessed, ops.add(index, t), prompt_length)), axis=-1), "int32")
                    for t in range(count + 1)], axis=1)
            kept, stopped = _kept(decoding, chosen, guesses, done)
            # a row writes padding after its stop token (and from the start once done)
            before = ops.concatenate([ops.expand_dims(done, 1),
                                      ops.slice(stopped, [0, 0], (batch, count))], axis=1)
            before = ops.logical_or(before, ops.expand_dims(done, 1))
            chosen = ops.where(before, pad_id, chosen)
            old = ops.slice(buffer, [0, index], (batch, count + 1))
            keep = ops.expand_dims(ops.less_equal(lookup.positions, kept), 0)  # (1, K + 1)
            buffer = ops.slice_update(buffer, [0, index], ops.where(keep, chosen, old))
            done = ops.logical_or(done, ops.take(stopped, kept, axis=1))
            # a miss: no guessing for ``backoff`` steps, and twice as long after the next
            missed = ops.equal(kept, 0)
            wait = ops.where(missed, backoff, 0)
            backoff = ops.where(missed, ops.minimum(ops.multiply(backoff, 2), MAX_BACKOFF), 1)
            return buffer, state, done, ops.add(index, ops.add(kept, 1)), wait, backoff

        return look, one, many

    def _first(self, decoding, buffer, mask, seed, context_inputs, prompt_length):
        """-> (process, widened mask, loop state)."""
        buffer, mask = _widened(buffer, mask, self.count, decoding.pad_id)
        process, (buffer, state, done, index) = self.plain._first(
            decoding, buffer, mask, seed, context_inputs, prompt_length)
        return process, mask, (buffer, state, done, index, scalar(0), scalar(1))

    def loop_fn(self, decoding):
        """-> fn(buffer, mask, seed, context, prompt_length) -> the finished buffer (B, L),
        as Sampling's, with ``count`` prompt-lookup guesses per step."""
        def generate(buffer, mask, seed, context_inputs, prompt_length):
            batch, total = buffer.shape
            process, mask, start = self._first(decoding, buffer, mask, seed, context_inputs,
                                               prompt_length)

            def cond(buffer, state, done, index, wait, backoff):
                return ops.logical_and(ops.less(index, total), ops.logical_not(ops.all(done)))

            # each piece taped on its own (torch, NumPy): which one runs is decided per step
            look, one, many = (replayable(piece) for piece in self._pieces(
                decoding, lambda _: process, mask, seed, prompt_length))
            buffer = ops.while_loop(cond, _body(look, one, many), start)[0]
            return ops.slice(buffer, [0, 0], (batch, total))
        return generate

    def prefill_fn(self, decoding):
        """-> fn(buffer, mask, seed, context, prompt_length) -> (widened mask, loop state)."""
        def prefill(buffer, mask, seed, context_inputs, prompt_length):
            return self._first(decoding, buffer, mask, seed, context_inputs, prompt_length)[1:]
        return prefill

    def step_fn(self, decoding):
        """-> fn(mask, seed, prompt_length, loop state) -> loop state: 1 to K + 1 tokens."""
        def step(mask, seed, prompt_length, loop_state):
            body = _body(*self._pieces(decoding, decoding.processing, mask, seed,
                                       prompt_length))
            return one_trip(lambda state: body(*state), tuple(loop_state))
        return step


def _body(look, one, many):
    def body(*state):
        guesses, go = look(state[0], state[2], state[3], state[4])
        return ops.cond(go, lambda: many(*state, guesses), lambda: one(*state))
    return body
