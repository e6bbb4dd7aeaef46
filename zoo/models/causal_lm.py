"""CausalLM: ``generate()`` for decoder-only language models (OPT, and those that follow).

A subclass is a Task whose backbone has ``build_cache(batch, length)`` and
``call_with_cache(token_ids, cache, index, padding_mask) -> (hidden, cache)``, and which
defines ``logits_from_hidden(hidden)``: that is the decoding protocol of zoo/generation
(``decoding_state`` is the empty cache, ``decode`` the cached call). Then::

    causal_lm.generate("The cat", max_length=32)                       -> str
    causal_lm.generate(["a", "b c"], max_new_tokens=16, sampler="top_k")  -> [str, str]
    causal_lm.generate({"token_ids": ids, "padding_mask": mask})         -> same dict keys

Prompts are packed left-aligned to their own lengths, then shifted so every row ends at
column P (left padding), into a buffer of P + new tokens columns; zoo/generation runs the
loop (one compiled function per shape and strategy; see docs/generation.md): the prefill
runs the whole prompt once, each step one token per row against the cache. Rows stop at a
stop token. ``streamer`` receives each new column (B,) as NumPy;
``prompt_lookup_num_tokens=K`` (greedy) checks K guessed tokens per pass;
``logits_processors`` apply inside the loop.

Outputs are right-padded again: row i holds its prompt then its new tokens, and
``padding_mask`` marks both (a stop token included, what follows it not).
"""
import numpy as np

from zoo import ops
from zoo.generation import buffers, generate_tokens, samplers
from zoo.generation.prompt_lookup import PromptLookup
from zoo.generation.protocol import DecodingProtocol
from zoo.models.task import Task


class CausalLM(Task, DecodingProtocol):
    """Base of the decoder-only tasks: ``generate`` and the cached decoding step."""

    # -- the decoding protocol (zoo/generation/protocol.py) -------------------------------
    def decoding_state(self, batch_size, max_length, context=None):
        return self.build_cache(batch_size, max_length)

    def decode(self, token_ids, state, index, padding_mask):
        return self.backbone.call_with_cache(token_ids, state, index, padding_mask=padding_mask)

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
                 prompt_lookup_num_tokens=None, logits_processors=None):
        """Continue each prompt.

        inputs: a string or list of strings (needs a preprocessor), or a dict of
          ``token_ids``/``padding_mask`` (B, S) or (S,) as the preprocessor makes them (the
          real tokens of each row are the prompt, wherever the padding is).
        max_length: the longest prompt + new tokens (KerasHub's meaning); default the
          preprocessor's sequence_length. ``max_new_tokens`` (transformers' meaning)
          takes precedence when given.
        sampler: "greedy", "top_k", "top_p", "temperature", "beam", or a Sampler.
        stop_token_ids: "auto" (the tokenizer's end token), None, or a list of ids.
        streamer: called with each step's new ids (B,) (or its ``put``; ``end`` at the end).
        seed: int for the random samplers (default: drawn from zoo's global seed).
        prompt_lookup_num_tokens: greedy only: guess this many next tokens per step from
          earlier text and keep those the model agrees with (zoo/generation/prompt_lookup.py):
          the same tokens, in fewer passes where the output repeats its input.
        logits_processors: a list of zoo.generation LogitsProcessors (suppressed, forced
          tokens, rules of your own), applied inside the compiled loop.
        """
        sampler = samplers.get(sampler)
        lookup = self._lookup_count(prompt_lookup_num_tokens)
        preprocessor = getattr(self, "preprocessor", None)
        text = not isinstance(inputs, dict) and (
            preprocessor is None or preprocessor.accepts_raw(inputs))
        if text:
            token_ids, padding_mask, single = self._tokenize_prompts(inputs)
        else:
            token_ids, padding_mask, single = self._token_prompts(inputs)
        prompt_ids, prompt_mask, _ = buffers.left_pad(token_ids, padding_mask)
        total = self._total_length(prompt_ids.shape[1], max_length, max_new_tokens)
        stops = self._stop_ids(stop_token_ids)
        strategy = sampler.strategy()
        if lookup:
            PromptLookup(sampler, lookup)  # checks the sampler before anything runs
            # the guesses need spare positions after the last column (at most the model's)
            lookup = min(lookup, self.backbone.max_sequence_length - total)
        if lookup:
            strategy = PromptLookup(sampler, lookup)
        out_ids = generate_tokens(self, prompt_ids, prompt_mask, total, strategy, stops,
                                  self._pad_id(), logits_processors, seed=seed,
                                  streamer=streamer)
        result = buffers.to_right_padded(out_ids, prompt_mask, prompt_ids.shape[1], stops,
                                         self._pad_id())
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
            raise ValueError(f"{type(self).__name__}.generate: raw prompts ("
                             f"{type(inputs).__name__}) need a preprocessor; attach one or pass "
                             f"a dict of token_ids/padding_mask.")
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

    def _lookup_count(self, count):
        if count is None:
            return 0
        name = f"{type(self).__name__}.generate"
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ValueError(f"{name}: prompt_lookup_num_tokens must be an int >= 1, got "
                             f"{count!r}.")
        return int(count)
