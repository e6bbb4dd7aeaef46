"""WhisperBackbone: Whisper's encoder-decoder transformer (Radford et al., 2022) as a
functional zoo model.

    inputs  encoder_features (B, F, M) log-mel frames (F <= 3000), decoder_token_ids and
            decoder_padding_mask (B, T)
    encoder:
      x = gelu(encoder_conv1(pad1(features)))              kernel 3           (B, F, H)
      x = gelu(encoder_conv2(pad1(x)))                     kernel 3, stride 2 (B, F/2, H)
      x = x + encoder_position_embedding[:F/2]             stored sinusoids
      x = encoder_transformer_layer_i(x)                   pre-norm, exact-GELU MLP
      e = encoder_layer_norm(x)                            -> encoder_sequence_output
    decoder:
      y = token_embedding(ids) + decoder_position_embedding[:T]               (B, T, H)
      y = decoder_transformer_layer_i(y, e)                pre-norm: causal self-attention,
                                                           cross-attention over e, MLP
      d = decoder_layer_norm(y)                            -> decoder_sequence_output
    logits = d @ token_embedding.T                         (the task's head, tied)

Key projections have no bias (softmax does not see it). Numerically the same function as
transformers' WhisperModel and openai-whisper's Whisper. Shorter inputs than 3000 frames
use the first F/2 encoder positions, so short clips train fast; transcription pads to 30 s
as the published models expect (WhisperAudioConverter).

The encoder and decoder are each one function over the layers (``_encode``, ``_decode``)
that builds the functional graph and also runs eagerly, so generation (``encode``,
``decode_with_cache``) runs the same code as ``backbone(inputs)``.
"""
from zoo import layers, ops
from zoo.layers import initializers
from zoo.layers.transformer import PositionEmbedding, TransformerDecoder, TransformerEncoder
from zoo.layers.transformer.layout import tensor_parallel_rules
from zoo.models.backbone import Backbone

LAYER_NORM_EPSILON = 1e-5


def whisper_kernel_initializer(stddev=0.02):
    return initializers.TruncatedNormal(stddev=stddev)


class WhisperBackbone(Backbone):
    def __init__(self, vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                 num_mels=80, num_decoder_layers=None, num_decoder_heads=None, dropout=0.0,
                 max_encoder_sequence_length=3000, max_decoder_sequence_length=448,
                 dtype=None, name=None, **kwargs):
        num_decoder_layers = int(num_decoder_layers or num_layers)
        num_decoder_heads = int(num_decoder_heads or num_heads)
        for label, heads in (("num_heads", num_heads), ("num_decoder_heads", num_decoder_heads)):
            if hidden_dim % heads:
                raise ValueError(f"WhisperBackbone: hidden_dim={hidden_dim} must be divisible "
                                 f"by {label}={heads}.")
        if max_encoder_sequence_length % 2:
            raise ValueError(f"WhisperBackbone: max_encoder_sequence_length must be even (the "
                             f"second convolution halves it), got {max_encoder_sequence_length}.")
        init = whisper_kernel_initializer

        def conv(name, strides):
            return layers.Conv1D(hidden_dim, 3, strides=strides, activation="gelu",
                                 kernel_initializer=init(), name=name, dtype=dtype)

        def block(cls, i, prefix, heads, **extra):
            return cls(intermediate_dim, heads, dropout=dropout, activation="gelu",
                       layer_norm_epsilon=LAYER_NORM_EPSILON, normalize_first=True,
                       use_key_bias=False, kernel_initializer=init(),
                       name=f"{prefix}_transformer_layer_{i}", dtype=dtype, **extra)

        encoder_positions = PositionEmbedding(
            max_encoder_sequence_length // 2, initializer="sinusoidal",
            name="encoder_position_embedding", dtype=dtype)
        encoder_positions.trainable = False  # fixed sinusoids, as the reference models keep
        parts = {
            "pad": layers.ZeroPadding1D(1, name="encoder_conv_padding", dtype=dtype),
            "conv1": conv("encoder_conv1", 1),
            "conv2": conv("encoder_conv2", 2),
            "encoder_positions": encoder_positions,
            "encoder_add": layers.Add(name="encoder_embeddings_add", dtype=dtype),
            "decoder_add": layers.Add(name="decoder_embeddings_add", dtype=dtype),
            "encoder_dropout": layers.Dropout(dropout, name="encoder_dropout", dtype=dtype),
            "encoder_layers": [block(TransformerEncoder, i, "encoder", num_heads)
                               for i in range(num_layers)],
            "encoder_norm": layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON,
                                                      name="encoder_layer_norm", dtype=dtype),
            "token_embedding": layers.Embedding(vocabulary_size, hidden_dim,
                                                embeddings_initializer=init(),
                                                name="token_embedding", dtype=dtype),
            "decoder_positions": PositionEmbedding(max_decoder_sequence_length,
                                                   initializer=init(),
                                                   name="decoder_position_embedding",
                                                   dtype=dtype),
            "decoder_dropout": layers.Dropout(dropout, name="decoder_dropout", dtype=dtype),
            "decoder_layers": [block(TransformerDecoder, i, "decoder", num_decoder_heads,
                                     use_cross_attention=True)
                               for i in range(num_decoder_layers)],
            "decoder_norm": layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON,
                                                      name="decoder_layer_norm", dtype=dtype),
        }
        features = layers.Input((None, num_mels), name="encoder_features")
        token_ids = layers.Input((None,), dtype="int32", name="decoder_token_ids")
        padding_mask = layers.Input((None,), dtype="int32", name="decoder_padding_mask")
        encoded = _encode(parts, features)
        decoded = _decode(parts, token_ids, padding_mask, encoded)
        super().__init__(inputs={"encoder_features": features, "decoder_token_ids": token_ids,
                                 "decoder_padding_mask": padding_mask},
                         outputs={"encoder_sequence_output": encoded,
                                  "decoder_sequence_output": decoded},
                         name=name or "whisper_backbone", dtype=dtype, **kwargs)

        self.vocabulary_size = int(vocabulary_size)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.hidden_dim = int(hidden_dim)
        self.intermediate_dim = int(intermediate_dim)
        self.num_mels = int(num_mels)
        self.num_decoder_layers = num_decoder_layers
        self.num_decoder_heads = num_decoder_heads
        self.dropout = float(dropout)
        self.max_encoder_sequence_length = int(max_encoder_sequence_length)
        self.max_decoder_sequence_length = int(max_decoder_sequence_length)
        self._parts = parts  # held for encode / decode_with_cache (tracked through the graph)

    @classmethod
    def layout_rules(cls, model_axis):
        """The transformer blocks' Megatron-style split (zoo/layers/transformer/layout.py)."""
        return tensor_parallel_rules(model_axis)

    @property
    def token_embedding(self):
        """The (vocabulary_size, hidden_dim) Embedding the output projection is tied to."""
        return self._parts["token_embedding"]

    @property
    def max_sequence_length(self):
        """The decoder's positions (what generation may fill)."""
        return self.max_decoder_sequence_length

    @property
    def decoder_head_dim(self):
        return self.hidden_dim // self.num_decoder_heads

    def encode(self, features):
        """features (B, F, M) -> encoder_sequence_output (B, F/2, H), eagerly (inference)."""
        frames = features.shape[1]
        if frames is not None and frames > self.max_encoder_sequence_length:
            raise ValueError(f"WhisperBackbone: {frames} feature frames are more than the "
                             f"{self.max_encoder_sequence_length} this model has positions "
                             f"for ({self.max_encoder_sequence_length // 100} s of audio).")
        return _encode(self._parts, features)

    def cross_attention_caches(self, encoded):
        """Each decoder layer's cross-attention (keys, values), computed once per input."""
        return tuple(layer.cross_attention_cache(encoded)
                     for layer in self._parts["decoder_layers"])

    def build_cache(self, batch_size, max_length, dtype=None):
        """The empty self-attention cache: per decoder layer a (keys, values) pair of zero
        (B * heads, max_length, head_dim) tensors."""
        shape = (int(batch_size) * self.num_decoder_heads, int(max_length),
                 self.decoder_head_dim)
        dtype = dtype or self.dtype_policy.compute_dtype
        return tuple((ops.zeros(shape, dtype=dtype), ops.zeros(shape, dtype=dtype))
                     for _ in range(self.num_decoder_layers))

    def decode_with_cache(self, token_ids, cache, cross_caches, index, padding_mask=None):
        """T new tokens (B, T) at positions ``index ..`` against the self-attention
        ``cache`` (what build_cache made) and the cross-attention caches; ``padding_mask``
        (B, S) covers the whole cache. -> (decoder hidden states (B, T, H), new cache)."""
        parts = self._parts
        x = parts["token_embedding"](token_ids)
        x = ops.add(x, parts["decoder_positions"](x, start_index=index))
        layers_ = parts["decoder_layers"]
        mask = layers_[0].self_attention_mask(x, padding_mask, cache=cache[0],
                                              cache_update_index=index)
        new_cache = []
        for layer, layer_cache, cross in zip(layers_, cache, cross_caches):
            x, layer_cache = layer(x, attention_mask=mask, use_causal_mask=False,
                                   cache=layer_cache, cache_update_index=index,
                                   cross_attention_cache=cross)
            new_cache.append(layer_cache)
        return parts["decoder_norm"](x), tuple(new_cache)


def _encode(parts, features):
    x = parts["conv1"](parts["pad"](features))                               # (B, F, H)
    x = parts["conv2"](parts["pad"](x))                                      # (B, F/2, H)
    x = parts["encoder_add"]([x, parts["encoder_positions"](x)])
    x = parts["encoder_dropout"](x)
    for layer in parts["encoder_layers"]:
        x = layer(x)
    return parts["encoder_norm"](x)


def _decode(parts, token_ids, padding_mask, encoded):
    x = parts["token_embedding"](token_ids)                                  # (B, T, H)
    x = parts["decoder_add"]([x, parts["decoder_positions"](x)])
    x = parts["decoder_dropout"](x)
    for layer in parts["decoder_layers"]:
        x = layer(x, padding_mask=padding_mask, encoder_sequence=encoded)
    return parts["decoder_norm"](x)
