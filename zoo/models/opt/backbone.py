"""OPTBackbone: the OPT decoder (Zhang et al., 2022) as a functional zoo model.

    inputs  token_ids, padding_mask                                     int32 (B, S)
    x = token_embedding(token_ids)                                      (B, S, E)
    x = embeddings_project_in(x)            when E = word_embed_proj_dim != hidden  (B, S, H)
    x = x + position_embedding(padding_mask)  positions cumsum(mask) - 1, stored 2 rows on
    x = decoder_layer_i(x, padding_mask)    num_layers causal blocks, ReLU MLP
    x = layer_norm(x)                       pre-norm models only (do_layer_norm_before)
    x = embeddings_project_out(x)           when E != hidden                (B, S, E)
    outputs sequence_output x               the final hidden states (transformers'
                                            OPTModel last_hidden_state)     (B, S, E)

Positions follow the padding mask (as transformers does), so left-padded rows start at
position 0 at their first real token. Numerically the same function as ``transformers``'
OPTModel.
"""
from zoo import layers, ops
from zoo.layers import initializers
from zoo.layers.layer import Layer
from zoo.layers.transformer import TransformerDecoder
from zoo.layers.transformer.layout import tensor_parallel_rules
from zoo.models.backbone import Backbone

POSITION_OFFSET = 2  # OPT's learned position table keeps two rows before position 0


def opt_kernel_initializer(stddev=0.02):
    return initializers.TruncatedNormal(stddev=stddev)


class OPTPositionEmbedding(Layer):
    """Learned positions from the padding mask: row ``cumsum(mask) * mask - 1 + 2``.

    ``call(padding_mask)`` -> (B, S, hidden). ``positions(padding_mask)`` gives the rows."""

    def __init__(self, sequence_length, output_dim, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = int(sequence_length)
        self.output_dim = int(output_dim)
        self.initializer = initializers.get(initializer)

    def build(self, padding_mask_shape=None):
        self.embeddings = self.add_weight(
            (self.sequence_length + POSITION_OFFSET, self.output_dim), self.initializer,
            name="embeddings")
        self.built = True

    def positions(self, padding_mask):
        mask = ops.cast(padding_mask, "int32")
        return ops.add(ops.subtract(ops.multiply(ops.cumsum(mask, axis=-1), mask), 1),
                       POSITION_OFFSET)

    def call(self, padding_mask, positions=None):
        length = padding_mask.shape[-1]
        if length is not None and length > self.sequence_length:
            raise ValueError(f"OPTPositionEmbedding '{self.name}': a sequence of {length} "
                             f"tokens is longer than the {self.sequence_length} positions this "
                             f"model has.")
        if positions is None:
            positions = self.positions(padding_mask)
        return ops.take(self.embeddings.value, positions, axis=0)

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "output_dim": self.output_dim,
                "initializer": initializers.serialize(self.initializer)}


class OPTBackbone(Backbone):
    def __init__(self, vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                 dropout=0.1, max_sequence_length=2048, word_embed_proj_dim=None,
                 do_layer_norm_before=True, enable_bias=True, layer_norm_epsilon=1e-5,
                 dtype=None, name=None, **kwargs):
        if hidden_dim % num_heads:
            raise ValueError(f"OPTBackbone: hidden_dim={hidden_dim} must be divisible by "
                             f"num_heads={num_heads}.")
        embed_dim = int(word_embed_proj_dim or hidden_dim)
        init = opt_kernel_initializer
        token_embedding = layers.Embedding(vocabulary_size, embed_dim,
                                           embeddings_initializer=init(), name="token_embedding",
                                           dtype=dtype)
        position_embedding = OPTPositionEmbedding(max_sequence_length, hidden_dim,
                                                  initializer=init(), name="position_embedding",
                                                  dtype=dtype)
        project_in = project_out = final_norm = None
        if embed_dim != hidden_dim:
            project_in = layers.Dense(hidden_dim, use_bias=False, kernel_initializer=init(),
                                      name="embeddings_project_in", dtype=dtype)
            project_out = layers.Dense(embed_dim, use_bias=False, kernel_initializer=init(),
                                       name="embeddings_project_out", dtype=dtype)
        if do_layer_norm_before:
            final_norm = layers.LayerNormalization(epsilon=layer_norm_epsilon,
                                                   name="layer_norm", dtype=dtype)
        decoder_layers = [
            TransformerDecoder(intermediate_dim, num_heads, dropout=dropout, activation="relu",
                               layer_norm_epsilon=layer_norm_epsilon,
                               normalize_first=do_layer_norm_before, use_bias=enable_bias,
                               kernel_initializer=init(), name=f"transformer_layer_{i}",
                               dtype=dtype)
            for i in range(num_layers)]
        embeddings_dropout = layers.Dropout(dropout, name="embeddings_dropout", dtype=dtype)

        token_ids = layers.Input((None,), dtype="int32", name="token_ids")
        padding_mask = layers.Input((None,), dtype="int32", name="padding_mask")
        x = token_embedding(token_ids)                                       # (B, S, E)
        if project_in is not None:
            x = project_in(x)                                                # (B, S, H)
        x = layers.Add(name="embeddings_add", dtype=dtype)([x, position_embedding(padding_mask)])
        x = embeddings_dropout(x)
        for layer in decoder_layers:
            x = layer(x, padding_mask=padding_mask)
        if final_norm is not None:
            x = final_norm(x)
        if project_out is not None:
            x = project_out(x)                                               # (B, S, E)
        super().__init__(inputs={"token_ids": token_ids, "padding_mask": padding_mask},
                         outputs={"sequence_output": x}, name=name or "opt_backbone",
                         dtype=dtype, **kwargs)

        self.vocabulary_size = int(vocabulary_size)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.hidden_dim = int(hidden_dim)
        self.intermediate_dim = int(intermediate_dim)
        self.dropout = float(dropout)
        self.max_sequence_length = int(max_sequence_length)
        self.word_embed_proj_dim = None if word_embed_proj_dim is None \
            else int(word_embed_proj_dim)
        self.do_layer_norm_before = bool(do_layer_norm_before)
        self.enable_bias = bool(enable_bias)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self._token_embedding = token_embedding
        # the pieces call_with_cache runs one by one (held, not tracked twice)
        self._parts = {"position_embedding": position_embedding, "project_in": project_in,
                       "decoder_layers": decoder_layers, "layer_norm": final_norm,
                       "project_out": project_out}

    @classmethod
    def layout_rules(cls, model_axis):
        """The transformer blocks' Megatron-style split (zoo/layers/transformer/layout.py)."""
        return tensor_parallel_rules(model_axis)

    @property
    def token_embedding(self):
        """The (vocabulary_size, embed_dim) Embedding the language-model head is tied to."""
        return self._token_embedding

    @property
    def output_dim(self):
        """Width of ``sequence_output``: word_embed_proj_dim when set, else hidden_dim."""
        return self.word_embed_proj_dim or self.hidden_dim

    @property
    def head_dim(self):
        return self.hidden_dim // self.num_heads

    def build_cache(self, batch_size, max_length, dtype=None):
        """An empty key/value cache: one (keys, values) pair of zero (B * num_heads,
        max_length, head_dim) tensors per layer (see MultiHeadAttention)."""
        shape = (int(batch_size) * self.num_heads, int(max_length), self.head_dim)
        dtype = dtype or self.dtype_policy.compute_dtype
        return tuple((ops.zeros(shape, dtype=dtype), ops.zeros(shape, dtype=dtype))
                     for _ in range(self.num_layers))

    def call_with_cache(self, token_ids, cache, cache_update_index, padding_mask=None):
        """Run T new tokens against a key/value cache (inference; no dropout).

        token_ids (B, T) sit at buffer positions ``cache_update_index ..``; ``cache`` is
        what ``build_cache`` made (B rows, S positions); ``padding_mask`` (B, S), when
        given, covers the whole cache (left padding: positions come from its cumulative
        sum, and padded keys are hidden). Returns (hidden (B, T, E), new cache)."""
        parts = self._parts
        length = token_ids.shape[1] if token_ids.shape[1] is not None \
            else ops.shape(token_ids)[1]
        x = self._token_embedding(token_ids)
        if parts["project_in"] is not None:
            x = parts["project_in"](x)
        position_layer = parts["position_embedding"]
        if padding_mask is None:
            positions = ops.add(ops.expand_dims(ops.arange(length), 0),
                                ops.add(cache_update_index, POSITION_OFFSET))
            positions = ops.cast(positions, "int32")
        else:
            every = position_layer.positions(padding_mask)                   # (B, S)
            batch = ops.shape(every)[0]
            positions = ops.slice(every, [0, cache_update_index], (batch, length))
        x = ops.add(x, ops.cast(position_layer(padding_mask if padding_mask is not None
                                               else token_ids, positions=positions),
                                ops.dtype(x)))
        layers_ = parts["decoder_layers"]
        mask = layers_[0].self_attention_mask(x, padding_mask, cache=cache[0],
                                              cache_update_index=cache_update_index)
        new_cache = []
        for layer, layer_cache in zip(layers_, cache):
            x, layer_cache = layer(x, attention_mask=mask, use_causal_mask=False,
                                   cache=layer_cache, cache_update_index=cache_update_index)
            new_cache.append(layer_cache)
        if parts["layer_norm"] is not None:
            x = parts["layer_norm"](x)
        if parts["project_out"] is not None:
            x = parts["project_out"](x)
        return x, tuple(new_cache)
