"""The decoding protocol: what a model implements for ``zoo.generation`` to generate with it.

A generating model (a Task: ``CausalLM`` for decoder-only models, a sequence-to-sequence
task for encoder-decoders) mixes in ``DecodingProtocol`` and defines three methods:

    decoding_state(batch_size, max_length, context) -> state
        Everything a pass over new tokens needs besides the tokens, as an opaque tree
        (tuples, lists, dicts) of tensors whose first axis holds the batch rows (each row
        as ``leaf.shape[0] // batch_size`` consecutive entries: a (B * N, S, H) key cache
        keeps a row's N heads together). A decoder-only model returns its empty
        self-attention cache for ``max_length`` positions. An encoder-decoder runs its
        encoder on ``context`` (the dict of tensors the task passed to the loop, e.g.
        ``{"encoder_features": ...}``) once, computes each layer's cross-attention keys
        and values once, and adds the empty self-attention cache.
    decode(token_ids, state, index, padding_mask) -> (hidden, state)
        Run T tokens (B, T) sitting at buffer columns ``index ..`` against the state and
        write their keys/values into it. ``padding_mask`` (B, max_length) marks the real
        columns of the whole buffer. The prefill is ``decode(prompt, state, 0, mask)``; a
        step is ``decode(last_token, state, index - 1, mask)``.
    logits_from_hidden(hidden) -> logits (B, T, vocabulary)

``reorder_decoding_state(state, rows, batch_size)`` (beam search: rows (R,) picks, for each
new row, the old row it continues) has a default that takes rows of every leaf.

Everything is zoo ops, so the strategies (zoo/generation/sampling.py, beam_search.py,
prompt_lookup.py) compile the whole loop once per shape on jax and tensorflow and replay
its steps on torch and numpy.
"""
from zoo import ops


def take_rows(tensor, rows_taken, batch_size):
    """``tensor``'s batch rows in the order ``rows_taken`` (R,) gives. Its first axis holds
    ``batch_size`` rows, each as ``len / batch_size`` consecutive entries."""
    per_row = tensor.shape[0] // batch_size
    if per_row == 1:
        return ops.take(tensor, rows_taken, axis=0)
    entries = ops.add(ops.expand_dims(ops.multiply(rows_taken, per_row), 1),
                      ops.expand_dims(ops.arange(per_row, dtype="int32"), 0))  # (R, per_row)
    return ops.take(tensor, ops.reshape(entries, (-1,)), axis=0)


def map_leaves(fn, state):
    """``fn`` applied to every tensor of a tree of tuples, lists and dicts."""
    if isinstance(state, dict):
        return {key: map_leaves(fn, value) for key, value in state.items()}
    if isinstance(state, (tuple, list)):
        return type(state)(map_leaves(fn, value) for value in state)
    return None if state is None else fn(state)


class DecodingProtocol:
    """Mixin of the models ``zoo.generation`` decodes with (see the module docstring)."""

    def decoding_state(self, batch_size, max_length, context):
        raise NotImplementedError(f"{type(self).__name__} must define decoding_state.")

    def decode(self, token_ids, state, index, padding_mask):
        raise NotImplementedError(f"{type(self).__name__} must define decode.")

    def logits_from_hidden(self, hidden):
        raise NotImplementedError(f"{type(self).__name__} must define logits_from_hidden.")

    def reorder_decoding_state(self, state, rows, batch_size):
        """The state of the rows ``rows`` (R,) int32 (R may differ from batch_size)."""
        return map_leaves(lambda leaf: take_rows(leaf, rows, batch_size), state)
