"""zoo.generation: decoding for every generating model, decoder-only or encoder-decoder.

- protocol.py: what a model implements (``decoding_state``, ``decode``,
  ``logits_from_hidden``; ``DecodingProtocol`` mixin);
- driver.py: ``generate_tokens``, one call of generation (buffer, compiled loop, streaming);
- strategies: sampling.py (per-token samplers), beam_search.py, prompt_lookup.py;
- samplers.py: greedy, random, top-k, top-p, beam (``samplers.get``);
- logits_processors.py: rules inside the compiled loop (suppressed, begin-suppressed and
  forced tokens; subclass ``LogitsProcessor`` for others);
- streaming.py: the one streaming driver; buffers.py: NumPy layouts.

See docs/generation.md.
"""
from zoo.generation import samplers  # noqa: F401
from zoo.generation.driver import generate_tokens  # noqa: F401
from zoo.generation.logits_processors import (  # noqa: F401
    ForceTokens,
    LogitsContext,
    LogitsProcessor,
    SuppressTokens,
    SuppressTokensAtBegin,
)
from zoo.generation.prompt_lookup import PromptLookup  # noqa: F401
from zoo.generation.protocol import DecodingProtocol  # noqa: F401
