"""Logits processors: rules applied to the next-token logits inside the compiled loop.

    processor.prepare(vocabulary_size) -> fn(logits (B, V) float32, context) -> logits

``prepare`` runs once per loop, before it starts (make constant tensors there: a step that
made them would be a new tape on torch and NumPy each time); the function it returns runs
at every position and must be zoo ops only, so it compiles on every backend. ``context``
is a ``LogitsContext``: the buffer of tokens, the column being chosen and how many tokens
were generated before it. A banned token gets ``NEGATIVE_LOGIT``, a finite value, so a
row with every token banned has no NaN.

Built in: ``SuppressTokens`` (never), ``SuppressTokensAtBegin`` (not as the first new
token: Whisper's ``begin_suppress_tokens``), ``ForceTokens`` (this token at this step).
Subclass ``LogitsProcessor`` for rules of your own (Whisper's timestamp rules are one).
"""
from typing import NamedTuple

import numpy as np

from zoo import ops

NEGATIVE_LOGIT = -1e9  # a finite "impossible" logit (no NaN when a whole row is excluded)


class LogitsContext(NamedTuple):
    """token_ids (B, L) int32: columns before ``index`` hold the prompt and the tokens chosen
    so far (what follows is not meaningful yet). index: the column being chosen (int32
    scalar tensor). step: ``index - prompt_length``, the number of tokens generated before
    this one (int32 scalar tensor)."""
    token_ids: object
    index: object
    step: object


class LogitsProcessor:
    def prepare(self, vocabulary_size):
        raise NotImplementedError(f"{type(self).__name__} must define prepare.")

    def get_config(self):
        return {}

    def cache_key(self):
        """Compiled loops are cached per processor configuration (they are part of the
        program)."""
        return (type(self).__name__, repr(sorted(self.get_config().items())))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _token_list(token_ids, where):
    ids = sorted({int(t) for t in np.asarray(token_ids, dtype=np.int64).reshape(-1)})
    if ids and ids[0] < 0:
        raise ValueError(f"{where}: token ids must be >= 0, got {ids[0]}.")
    return ids


def _banned_row(ids, vocabulary_size, where):
    """(V,) float32: 0 where allowed, NEGATIVE_LOGIT at ``ids``."""
    if ids and ids[-1] >= vocabulary_size:
        raise ValueError(f"{where}: token id {ids[-1]} is outside the vocabulary of "
                         f"{vocabulary_size}.")
    row = np.zeros((vocabulary_size,), np.float32)
    row[ids] = NEGATIVE_LOGIT
    return row


class SuppressTokens(LogitsProcessor):
    """These tokens are never chosen (Whisper's ``suppress_tokens``)."""

    def __init__(self, token_ids):
        self.token_ids = _token_list(token_ids, "SuppressTokens")

    def prepare(self, vocabulary_size):
        if not self.token_ids:
            return lambda logits, context: logits
        banned = ops.convert_to_tensor(
            _banned_row(self.token_ids, vocabulary_size, "SuppressTokens") < 0)

        def suppress(logits, context):
            return ops.where(banned, NEGATIVE_LOGIT, logits)
        return suppress

    def get_config(self):
        return {"token_ids": self.token_ids}


class SuppressTokensAtBegin(LogitsProcessor):
    """These tokens are not chosen at step ``begin_step`` (0: the first new token;
    Whisper's ``begin_suppress_tokens``, typically the blank and the end token)."""

    def __init__(self, token_ids, begin_step=0):
        self.token_ids = _token_list(token_ids, "SuppressTokensAtBegin")
        self.begin_step = int(begin_step)

    def prepare(self, vocabulary_size):
        banned = ops.convert_to_tensor(
            _banned_row(self.token_ids, vocabulary_size, "SuppressTokensAtBegin") < 0)

        def suppress(logits, context):
            now = ops.logical_and(banned, ops.equal(context.step, self.begin_step))
            return ops.where(now, NEGATIVE_LOGIT, logits)
        return suppress

    def get_config(self):
        return {"token_ids": self.token_ids, "begin_step": self.begin_step}


class ForceTokens(LogitsProcessor):
    """``{step: token_id}``: at generated step ``step`` the token is ``token_id`` (every
    other token banned, the forced one at logit 0)."""

    def __init__(self, tokens_by_step):
        items = sorted((int(s), int(t)) for s, t in dict(tokens_by_step).items())
        if items and (items[0][0] < 0 or min(t for _, t in items) < 0):
            raise ValueError(f"ForceTokens: steps and token ids must be >= 0, got {items}.")
        self.tokens_by_step = dict(items)

    def prepare(self, vocabulary_size):
        if not self.tokens_by_step:
            return lambda logits, context: logits
        last = max(self.tokens_by_step)
        table = np.full((last + 2,), -1, np.int32)  # one more: every later step is free
        for step, token in self.tokens_by_step.items():
            if token >= vocabulary_size:
                raise ValueError(f"ForceTokens: token id {token} is outside the vocabulary "
                                 f"of {vocabulary_size}.")
            table[step] = token
        table = ops.convert_to_tensor(table)
        vocabulary = ops.convert_to_tensor(np.arange(vocabulary_size, dtype=np.int32))

        def force(logits, context):
            forced = ops.take(table, ops.minimum(context.step, last + 1), axis=0)
            only = ops.where(ops.equal(vocabulary, forced), 0.0, NEGATIVE_LOGIT)  # (V,)
            return ops.where(ops.less(forced, 0), logits, ops.expand_dims(only, 0))
        return force

    def get_config(self):
        return {"tokens_by_step": self.tokens_by_step}


def prepare_all(processors, vocabulary_size):
    """One function applying ``processors`` in order (None when there are none: the loop
    then skips them)."""
    prepared = [p.prepare(vocabulary_size) for p in processors]
    if not prepared:
        return None

    def process(logits, context):
        for fn in prepared:
            logits = fn(logits, context)
        return logits
    return process


def check(processors):
    """A list of LogitsProcessors (None -> [])."""
    processors = list(processors or ())
    for p in processors:
        if not isinstance(p, LogitsProcessor):
            raise TypeError(f"logits_processors: expected LogitsProcessor instances, got "
                            f"{type(p).__name__}.")
    return processors
