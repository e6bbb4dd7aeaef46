"""CausalLM: ``generate()`` for decoder-only language models (OPT, and those that follow).

A subclass is a Task whose backbone has ``build_cache(batch, length)`` and
``call_with_cache(token_ids, cache, index, padding_mask) -> (hidden, cache)``, and which
defines ``logits_from_hidden(hidden)``. Then::

    causal_lm.generate("The cat", max_length=32)                       -> str
    causal_lm.generate(["a", "b c"], max_new_tokens=16, sampler="top_k")  -> [str, str]
    causal_lm.generate({"token_ids": ids, "padding_mask": mask})         -> same dict keys

How a batch is generated (zoo/models/generation.py holds the loops):
- prompts are packed left-aligned to their own lengths, then shifted so every row ends at
  column P (left padding, as transformers does), into a buffer of L = P + new tokens
  columns. Positions come from the padding mask, so a padded row is the same computation
  as the row alone;
- one call runs the whole prompt into the pre-allocated key/value cache and picks the first
  new token (time to first token = one pass); each loop step then runs one token per row
  against the cache and picks the next one. Rows stop
  at a stop token (padding after it); the loop ends when every row has stopped;
- the whole loop is one compiled function per (batch, P, L) shape and sampler: ``jax.jit``
  of a ``while_loop``, an XLA ``tf.function``, and on torch an eager loop under no_grad.
  Repeated calls with the same shape never retrace;
- ``streamer`` (a callable, or an object with ``put``/``end`` as transformers' streamers)
  receives each step's new token ids (B,) as NumPy: then the step is compiled instead of
  the loop, and Python drives it;
- ``prompt_lookup_num_tokens=K`` (greedy) runs the loop of zoo/models/prompt_lookup.py
  instead: K guessed tokens checked per pass, the same output in fewer passes where it
  repeats earlier text (a streamer still gets one call per token position).

Outputs are right-padded again: row i holds its prompt then its new tokens, and
``padding_mask`` marks both (a stop token included, what follows it not).
"""
import numpy as np

from zoo import ops
from zoo.models import generation, prompt_lookup, samplers
from zoo.models.task import Task


def _is_text(x):
    if isinstance(x, (str, bytes, np.str_)):
        return True
    if isinstance(x, (list, tuple)) and x and all(isinstance(t, (str, bytes, np.str_))
                                                  for t in x):
        return True
    return isinstance(x, np.ndarray) and x.dtype.kind in "USO"


class CausalLM(Task):
    """Base of the decoder-only tasks: ``generate`` and the cached decoding step."""

    def logits_from_hidden(self, hidden):
        raise NotImplementedError(f"{type(self).__name__} must define logits_from_hidden.")

    def build_cache(self, batch_size, max_length, dtype=None):
        """The backbone's empty key/value cache for ``batch_size`` rows of ``max_length``."""
        return self.backbone.build_cache(batch_size, max_length, dtype=dtype)

    def call_with_cache(self, token_ids, cache, cache_update_index, padding_mask=None):
        """token_ids (B, T) at positions ``cache_update_index ..`` -> (logits (B, T, V),
        hidden states (B, T, E), updated cache). ``padding_mask`` (B, S) covers the
        whole cache."""
        hidden, cache = self.backbone.call_with_cache(token_ids, cache, cache_update_index,
                                                      padding_mask=padding_mask)
        return self.logits_from_hidden(hidden), hidden, cache

    # -- generate -------------------------------------------------------------------------
    def generate(self, inputs, max_length=None, max_new_tokens=None, sampler="greedy",
                 stop_token_ids="auto", streamer=None, seed=None,
                 prompt_lookup_num_tokens=None):
        """Continue each prompt.

        inputs: a string or list of strings (needs a preprocessor), or a dict of
          ``token_ids``/``padding_mask`` (B, S) or (S,) as the preprocessor makes them (the
          real tokens of each row are the prompt, wherever the padding is).
        max_length: the longest prompt + new tokens (KerasHub's meaning); default the
          preprocessor's sequence_length. ``max_new_tokens`` (transformers' meaning)
          takes precedence when given.
        sampler: "greedy", "top_k", "top_p", "temperature", "beam", or a Sampler.
        stop_token_ids: "auto" (the tokenizer's end token), None, or a list of ids.
        streamer: called with each step's new ids (B,), see the module docstring.
        seed: int for the random samplers (default: drawn from zoo's global seed).
        prompt_lookup_num_tokens: greedy only: guess this many next tokens per step from
          earlier text and keep those the model agrees with (zoo/models/prompt_lookup.py):
          the same tokens, in fewer passes where the output repeats its input.
        """
        sampler = samplers.get(sampler)
        lookup = self._lookup_count(prompt_lookup_num_tokens, sampler)
        text = _is_text(inputs)
        if text:
            token_ids, padding_mask, single = self._tokenize_prompts(inputs)
        else:
            token_ids, padding_mask, single = self._token_prompts(inputs)
        prompt_ids, prompt_mask, lengths = generation.left_pad(token_ids, padding_mask)
        total = self._total_length(prompt_ids.shape[1], max_length, max_new_tokens)
        stops = self._stop_ids(stop_token_ids)
        buffer, mask = generation.make_buffer(prompt_ids, prompt_mask, total,
                                              self._pad_id())
        seed_tensor = generation.seed_tensor(seed) if sampler.needs_seed else \
            np.zeros((2,), np.int32)
        # the guesses need spare positions after the last column (at most the model's own)
        lookup = min(lookup, self.backbone.max_sequence_length - total)
        run = self._generate_function(sampler, stops, streamer is not None, lookup)
        args = (ops.convert_to_tensor(buffer), ops.convert_to_tensor(mask),
                ops.convert_to_tensor(seed_tensor))
        if streamer is None:
            out_ids = run(*args, prompt_ids.shape[1])
        elif lookup:
            out_ids = prompt_lookup.stream(run, args, prompt_ids.shape[1], total, streamer,
                                           stops)
        else:
            out_ids = generation.stream(run, args, prompt_ids.shape[1], total, streamer,
                                        stops, self._pad_id())
        out_ids = np.asarray(ops.convert_to_numpy(out_ids))
        result = generation.to_right_padded(out_ids, prompt_mask, prompt_ids.shape[1],
                                            stops, self._pad_id())
        if single:
            result = {k: v[0] for k, v in result.items()}
        if text:
            return self.preprocessor.generate_postprocess(result)
        return result

    # -- pieces of generate ---------------------------------------------------------------
    def _tokenizer(self):
        preprocessor = getattr(self, "preprocessor", None)
        return getattr(preprocessor, "tokenizer", None)

    def _pad_id(self):
        tokenizer = self._tokenizer()
        pad = getattr(tokenizer, "pad_token_id", None)
        return 0 if pad is None else int(pad)

    def _tokenize_prompts(self, inputs):
        if getattr(self, "preprocessor", None) is None:
            raise ValueError(f"{type(self).__name__}.generate: string prompts need a "
                             f"preprocessor; attach one or pass token_ids/padding_mask.")
        single = isinstance(inputs, (str, bytes, np.str_))
        texts = [inputs] if single else list(np.asarray(inputs, dtype=object).reshape(-1))
        token_lists = self.preprocessor.tokenizer.tokenize(
            [t.decode() if isinstance(t, bytes) else str(t) for t in texts])
        longest = max(len(ids) for ids in token_lists) + 1  # + the start token
        ids, mask = self.preprocessor.pack(token_lists, longest, add_end_token=False)
        return ids, mask, single

    def _token_prompts(self, inputs):
        name = f"{type(self).__name__}.generate"
        if not isinstance(inputs, dict) or "token_ids" not in inputs:
            raise TypeError(f"{name}: expected strings or a dict with 'token_ids' (and "
                            f"'padding_mask'), got {type(inputs).__name__}.")
        ids = np.asarray(ops.convert_to_numpy(inputs["token_ids"]))
        if ids.dtype.kind not in "iu":
            raise TypeError(f"{name}: token_ids must be integers, got {ids.dtype}.")
        mask = inputs.get("padding_mask")
        mask = np.ones_like(ids) if mask is None else np.asarray(ops.convert_to_numpy(mask))
        if mask.shape != ids.shape:
            raise ValueError(f"{name}: padding_mask {mask.shape} does not match token_ids "
                             f"{ids.shape}.")
        single = ids.ndim == 1
        ids, mask = np.atleast_2d(ids).astype(np.int32), np.atleast_2d(mask).astype(bool)
        if ids.ndim != 2:
            raise ValueError(f"{name}: token_ids must be (batch, length) or (length,), got "
                             f"shape {ids.shape}.")
        if not mask.any(axis=1).all():
            row = int(np.flatnonzero(~mask.any(axis=1))[0])
            raise ValueError(f"{name}: prompt {row} is empty (its padding_mask is all 0); "
                             f"every prompt needs at least one token (the start token).")
        vocabulary = self.backbone.vocabulary_size
        if ids[mask].min() < 0 or ids[mask].max() >= vocabulary:
            raise ValueError(f"{name}: token ids must be in [0, {vocabulary}), got "
                             f"[{ids[mask].min()}, {ids[mask].max()}].")
        return ids, mask, single

    def _total_length(self, prompt_length, max_length, max_new_tokens):
        name = f"{type(self).__name__}.generate"
        if max_new_tokens is not None:
            if int(max_new_tokens) < 1:
                raise ValueError(f"{name}: max_new_tokens must be >= 1, got {max_new_tokens}.")
            total = prompt_length + int(max_new_tokens)
        else:
            if max_length is None:
                preprocessor = getattr(self, "preprocessor", None)
                max_length = getattr(preprocessor, "sequence_length", None) or \
                    self.backbone.max_sequence_length
            total = int(max_length)
            if total <= prompt_length:
                raise ValueError(f"{name}: max_length={total} leaves no room after the "
                                 f"longest prompt ({prompt_length} tokens); raise it or pass "
                                 f"max_new_tokens.")
        limit = self.backbone.max_sequence_length
        if total > limit:
            raise ValueError(f"{name}: prompt + new tokens = {total} is longer than the "
                             f"{limit} positions of {self.backbone.name} "
                             f"(max_sequence_length).")
        return total

    def _stop_ids(self, stop_token_ids):
        if stop_token_ids == "auto":
            end = getattr(self._tokenizer(), "end_token_id", None)
            return () if end is None else (int(end),)
        if stop_token_ids is None:
            return ()
        if isinstance(stop_token_ids, (int, np.integer)):
            return (int(stop_token_ids),)
        return tuple(int(t) for t in stop_token_ids)

    def _lookup_count(self, count, sampler):
        if count is None:
            return 0
        name = f"{type(self).__name__}.generate"
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ValueError(f"{name}: prompt_lookup_num_tokens must be an int >= 1, got "
                             f"{count!r}.")
        if not isinstance(sampler, samplers.GreedySampler):
            raise ValueError(f"{name}: prompt_lookup_num_tokens needs sampler='greedy' (the "
                             f"guesses are checked against the argmax), got {sampler!r}.")
        return int(count)

    def _generate_function(self, sampler, stops, streaming, lookup=0):
        """The compiled loop (or, when streaming, the compiled prefill and step) for this
        sampler, these stop ids and this many prompt-lookup guesses, cached: the backend
        compiles it once per shape."""
        functions = self.__dict__.setdefault("_generate_functions", {})
        key = (sampler.cache_key(), stops, streaming, lookup)
        if key not in functions:
            make = self.make_generate_function
            if lookup and streaming:
                functions[key] = (make(prompt_lookup.prefill_fn(self, sampler, stops, lookup),
                                       static_argnums=(3,)),
                                  make(prompt_lookup.step_fn(self, sampler, stops, lookup)))
            elif lookup:
                functions[key] = make(prompt_lookup.loop_fn(self, sampler, stops, lookup),
                                      static_argnums=(3,))
            elif streaming:
                functions[key] = (make(generation.prefill_fn(self, sampler, stops),
                                       static_argnums=(3,)),
                                  make(generation.step_fn(self, sampler, stops)))
            else:
                functions[key] = make(generation.loop_fn(self, sampler, stops),
                                      static_argnums=(3,))
        return functions[key]
