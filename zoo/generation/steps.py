"""The pieces every strategy's loop is made of, over the decoding protocol (protocol.py).

``Decoding`` is one generate() configuration: the model, the stop and padding ids and the
logits processors. Its ``prefill`` runs the whole prompt once (time to first token = one
pass) and returns the logits of its last position; ``next_logits`` runs the token at
``index - 1`` against the state; ``choose`` applies the processors, lets the sampler pick
the tokens at ``index`` and writes them into the buffer. A row that stopped (a stop token)
writes padding from then on.
"""
import numpy as np

from zoo import ops
from zoo.generation import logits_processors
from zoo.generation.logits_processors import LogitsContext


class Decoding:
    def __init__(self, model, stop_ids=(), pad_id=0, processors=()):
        self.model = model
        self.stop_ids = tuple(int(t) for t in stop_ids)
        self.pad_id = int(pad_id)
        self.processors = tuple(logits_processors.check(processors))

    def cache_key(self):
        return (self.stop_ids, self.pad_id, tuple(p.cache_key() for p in self.processors))

    def processing(self, vocabulary_size):
        """The processors prepared for one loop (None when there are none)."""
        return logits_processors.prepare_all(self.processors, vocabulary_size)

    # -- passes over the model ------------------------------------------------------------
    def start(self, buffer, mask, context, prompt_length):
        """-> (logits (B, V) float32 of the last prompt position, state)."""
        batch, total = buffer.shape
        state = self.model.decoding_state(batch, total, context)
        prompt = ops.slice(buffer, [0, 0], (batch, prompt_length))
        hidden, state = self.model.decode(prompt, state, 0, mask)
        last = ops.slice(hidden, [0, prompt_length - 1, 0], (batch, 1, hidden.shape[-1]))
        return ops.reshape(self.logits(last), (batch, -1)), state

    def next_logits(self, buffer, mask, state, index):
        """Run the token at ``index - 1``: -> (logits (B, V) float32, state)."""
        batch = buffer.shape[0]
        token = ops.slice(buffer, [0, ops.subtract(index, 1)], (batch, 1))
        hidden, state = self.model.decode(token, state, ops.subtract(index, 1), mask)
        return ops.reshape(self.logits(hidden), (batch, -1)), state

    def logits(self, hidden):
        """(B, T, E) -> (B, T, V) float32."""
        return ops.cast(self.model.logits_from_hidden(hidden), "float32")

    # -- choosing -------------------------------------------------------------------------
    def stopped(self, done, tokens):
        """``done`` or'ed with "the token is a stop id", one Python int at a time."""
        for stop in self.stop_ids:
            done = ops.logical_or(done, ops.equal(tokens, stop))
        return done

    def choose(self, sampler, process, logits, buffer, seed, index, prompt_length, done):
        """Pick the tokens at ``index`` from (B, V) logits and write them into the buffer:
        -> (buffer, done, tokens)."""
        if process is not None:
            logits = process(logits, context(buffer, index, prompt_length))
        if sampler.needs_seed:  # (seed[0], seed[1] + index): a fresh draw per position
            seed = ops.add(seed, ops.multiply([0, 1], ops.cast(index, "int32")))
        tokens = sampler.next_token(logits, seed)                            # (B,)
        tokens = ops.where(done, self.pad_id, tokens)
        buffer = ops.slice_update(buffer, [0, index], ops.expand_dims(tokens, 1))
        return buffer, self.stopped(done, tokens), tokens


def context(buffer, index, prompt_length):
    return LogitsContext(buffer, index, ops.subtract(index, prompt_length))


def scalar(value):
    """A Python int as an int32 scalar tensor (a loop variable)."""
    return ops.convert_to_tensor(np.int32(value))


def one_trip(body, state):
    """``body(state)`` as a loop that runs once, for a compiled step that Python calls per
    token. XLA (TensorFlow's jit) takes a slice's start as a compile-time constant when it
    can trace it to an argument of the compiled function, so a step given the index as an
    argument compiled anew for every index (0.7-0.9 s per token on a 2-layer model); a
    start computed from a loop variable that the loop changes is sliced dynamically.
    ``body`` must change the index it carries."""
    return ops.fori_loop(0, 1, lambda _, state: body(state), state)
