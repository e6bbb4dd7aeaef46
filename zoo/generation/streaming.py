"""Streaming: Python drives a strategy's compiled prefill and step and hands ``streamer``
each new column of the buffer (B,) as NumPy, in order, one call per token position, up to
the column where the last row stopped.

``streamer`` is a callable, or an object with ``put`` (and optionally ``end``) as
transformers' streamers. Every streaming strategy's loop state starts with
``(buffer, state, done, index)``, ``index`` the next column to write; a step writes one
column (sampling) or several (prompt lookup).
"""
import numpy as np

from zoo import ops


def stream(prefill, step, args, prompt_length, total, streamer, stop_ids):
    buffer, mask, seed, context = args
    put = getattr(streamer, "put", streamer)
    stops = np.asarray(stop_ids or (), np.int64)
    mask, state = prefill(buffer, mask, seed, context, prompt_length)
    stopped = np.zeros((buffer.shape[0],), bool)
    at = prompt_length
    while True:
        reached = min(int(ops.convert_to_numpy(state[3])), total)
        for column in np.asarray(ops.convert_to_numpy(state[0]))[:, at:reached].T:
            if stopped.all():
                break
            put(np.ascontiguousarray(column))
            stopped |= np.isin(column, stops)
        at = reached
        if at >= total or stopped.all():
            break
        state = step(mask, seed, prompt_length, state)
    if hasattr(streamer, "end"):
        streamer.end()
    return ops.slice(state[0], [0, 0], (buffer.shape[0], total))
