"""``generate_tokens``: one call of generation, whatever the model and the strategy.

A task (CausalLM, a sequence-to-sequence task) turns its inputs into prompts
(B, P) and, for an encoder-decoder, a ``context`` dict of tensors; this builds the buffer,
picks the strategy's compiled loop (or, with a streamer, its compiled prefill and step),
runs it and hands back the buffer as NumPy. Compiled functions are cached on the model per
(strategy, stop ids, padding id, processors, streaming): the backend compiles each once
per shape, so repeated calls with the same shapes never retrace.
"""
import numpy as np

from zoo import ops
from zoo.generation import buffers, streaming
from zoo.generation.steps import Decoding


def generate_tokens(model, prompt_ids, prompt_mask, total, strategy, stop_ids=(), pad_id=0,
                    processors=(), seed=None, streamer=None, context=None):
    """prompt_ids/prompt_mask (B, P) left-padded (buffers.left_pad) -> the finished buffer
    (B, total) NumPy int32: prompts in [0, P), new tokens after (padding after a stop)."""
    decoding = Decoding(model, stop_ids, pad_id, processors)
    buffer, mask = buffers.make_buffer(prompt_ids, prompt_mask, total, decoding.pad_id)
    seed = buffers.seed_tensor(seed) if strategy.needs_seed else np.zeros((2,), np.int32)
    args = (ops.convert_to_tensor(buffer), ops.convert_to_tensor(mask),
            ops.convert_to_tensor(seed), {} if context is None else dict(context))
    prompt_length = prompt_ids.shape[1]
    if streamer is None:
        run = _compiled(model, strategy, decoding, streaming=False)
        out = run(*args, prompt_length)
    else:
        if not strategy.streams:
            raise ValueError(f"generate: {strategy.streaming_error}")
        prefill, step = _compiled(model, strategy, decoding, streaming=True)
        out = streaming.stream(prefill, step, args, prompt_length, total, streamer,
                               decoding.stop_ids)
    return np.asarray(ops.convert_to_numpy(out))


def _compiled(model, strategy, decoding, streaming):
    functions = model.__dict__.setdefault("_generate_functions", {})
    key = (strategy.cache_key(), decoding.cache_key(), streaming)
    if key not in functions:
        make = model.make_generate_function
        if streaming:
            functions[key] = (make(strategy.prefill_fn(decoding), static_argnums=(4,)),
                              make(strategy.step_fn(decoding), static_argnums=(2,)))
        else:
            functions[key] = make(strategy.loop_fn(decoding), static_argnums=(4,))
    return functions[key]
