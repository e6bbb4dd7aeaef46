"""Transformer blocks shared by the architectures: encoder and decoder layers (the decoder
with optional cross-attention), learned position embeddings, the masked-LM head."""
from zoo.layers.transformer.decoder import TransformerDecoder, causal_mask  # noqa: F401
from zoo.layers.transformer.encoder import TransformerEncoder  # noqa: F401
from zoo.layers.transformer.masked_lm_head import MaskedLMHead  # noqa: F401
from zoo.layers.transformer.position_embedding import PositionEmbedding  # noqa: F401
