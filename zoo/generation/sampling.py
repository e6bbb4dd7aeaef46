"""Sampling: one token per pass, chosen by a per-token sampler (greedy, top-k, top-p, ...).

The loop state is ``(buffer, state, done, index)``: ``index`` is the next column to write.
The prefill runs the whole prompt and writes column P; each step runs the token at
``index - 1`` against the model's decoding state and writes column ``index``. The loop
ends at the last column or when every row has stopped.

``loop_fn`` is the whole loop as one function (compiled once per shape by the backend;
on torch and numpy its step is replayed from a tape, zoo/ops/replay.py); ``prefill_fn`` +
``step_fn`` are the same computation split so Python can stream tokens (streaming.py).
"""
from zoo import ops
from zoo.generation.steps import one_trip, scalar
from zoo.ops.replay import replayable


class Sampling:
    """The strategy of every per-token sampler (samplers.py)."""
    streams = True
    spare_columns = 0

    def __init__(self, sampler):
        self.sampler = sampler
        self.needs_seed = sampler.needs_seed

    def cache_key(self):
        return ("sampling", self.sampler.cache_key())

    def _first(self, decoding, buffer, mask, seed, context, prompt_length):
        """Prefill and the first token: -> (process, (buffer, state, done, index))."""
        logits, state = decoding.start(buffer, mask, context, prompt_length)
        process = decoding.processing(logits.shape[-1])
        done = ops.zeros((buffer.shape[0],), "bool")
        buffer, done, _ = decoding.choose(self.sampler, process, logits, buffer, seed,
                                          scalar(prompt_length), prompt_length, done)
        return process, (buffer, state, done, scalar(prompt_length + 1))

    def _step(self, decoding, processing, mask, seed, prompt_length):
        """``processing(vocabulary_size)`` -> the prepared processors (or None)."""
        def step(buffer, state, done, index):
            logits, state = decoding.next_logits(buffer, mask, state, index)
            process = processing(logits.shape[-1])
            buffer, done, _ = decoding.choose(self.sampler, process, logits, buffer, seed,
                                              index, prompt_length, done)
            return buffer, state, done, ops.add(index, 1)
        return step

    def loop_fn(self, decoding):
        """-> fn(buffer, mask, seed, context, prompt_length) -> the finished buffer."""
        def generate(buffer, mask, seed, context, prompt_length):
            total = buffer.shape[1]
            process, start = self._first(decoding, buffer, mask, seed, context, prompt_length)

            def cond(buffer, state, done, index):
                return ops.logical_and(ops.less(index, total), ops.logical_not(ops.all(done)))

            step = self._step(decoding, lambda _: process, mask, seed, prompt_length)
            return ops.while_loop(cond, replayable(step), start)[0]
        return generate

    def prefill_fn(self, decoding):
        """-> fn(buffer, mask, seed, context, prompt_length) -> (mask, loop state)."""
        def prefill(buffer, mask, seed, context, prompt_length):
            return mask, self._first(decoding, buffer, mask, seed, context, prompt_length)[1]
        return prefill

    def step_fn(self, decoding):
        """-> fn(mask, seed, prompt_length, loop state) -> the loop state one column on."""
        def step(mask, seed, prompt_length, loop_state):
            body = self._step(decoding, decoding.processing, mask, seed, prompt_length)
            return one_trip(lambda state: body(*state), tuple(loop_state))
        return step
