"""TransformerDecoder: a causal self-attention block, optionally a cross-attention block over
an encoder's output, and a feed-forward MLP; shared by the decoder-only architectures (OPT)
and the decoders of encoder-decoders (``use_cross_attention=True``, Whisper).

Pre-norm (OPT-125m, Whisper and most others, ``normalize_first=True``)::

    x = x + dropout(attention(norm1(x), causal & padding mask))
    x = x + dropout(cross_attention(norm_c(x), encoder_sequence, encoder mask))  (if used)
    x = x + dropout(output_dense(activation(intermediate_dense(norm2(x)))))

Post-norm (OPT-350m, ``normalize_first=False``)::

    x = norm1(x + dropout(attention(x, ...)));  x = norm_c(x + dropout(cross(x, ...)));
    x = norm2(x + dropout(mlp(x)))

Cross-attention: ``call(x, encoder_sequence=e, encoder_padding_mask=m)`` with e (B, S_e,
cross_attention_dim), m (B, S_e); or, when decoding, ``cross_attention_cache=pair`` where
``pair = layer.cross_attention_cache(e)`` was computed once: the (B * N, S_e, H) keys and
values every step attends to as they are.

``use_causal_mask=False`` takes ``attention_mask`` as the complete mask (what
``self_attention_mask`` returns), so a decoding step builds it once for every layer.

Shapes: inputs (B, T, H). ``padding_mask`` (B, S) marks the real keys (1) and padding (0);
S is T without a cache and the cache length with one. ``attention_mask`` (B, T, S) is
combined with both. Query t sits at position ``cache_update_index + t`` and sees the keys
at positions up to its own.

Decoding with a cache (B, 2, S, N, H) (keys, values), or a pair (keys, values) of
(B * N, S, H) (MultiHeadAttention's loop layout): ``call(x, cache=cache,
cache_update_index=i)`` writes the new keys/values at i and returns ``(x, new_cache)`` in
the same form.
Variable paths match TransformerEncoder's: ``self_attention/query/kernel``,
``feedforward_intermediate_dense/kernel``, ``self_attention_layer_norm/gamma``, ...
"""
from zoo import ops
from zoo.layers import initializers
from zoo.layers.attention.multi_head_attention import MultiHeadAttention
from zoo.layers.core.dense import Dense
from zoo.layers.layer import Layer
from zoo.layers.normalization.layer_normalization import LayerNormalization
from zoo.layers.regularization.dropout import Dropout


def causal_mask(query_length, key_length, start=0):
    """(T, S) boolean: query t (at position ``start + t``) may see key s when s <= start + t."""
    rows = ops.expand_dims(ops.add(ops.arange(query_length), start), 1)     # (T, 1)
    cols = ops.expand_dims(ops.arange(key_length), 0)                        # (1, S)
    return ops.greater_equal(rows, cols)


class TransformerDecoder(Layer):
    def __init__(self, intermediate_dim, num_heads, dropout=0.0, attention_dropout=0.0,
                 activation="relu", layer_norm_epsilon=1e-5, normalize_first=True,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 use_cross_attention=False, cross_attention_dim=None, use_key_bias=True,
                 **kwargs):
        super().__init__(**kwargs)
        self.use_key_bias = bool(use_key_bias)
        self.use_cross_attention = bool(use_cross_attention)
        self.cross_attention_dim = None if cross_attention_dim is None \
            else int(cross_attention_dim)
        self.intermediate_dim = int(intermediate_dim)
        self.num_heads = int(num_heads)
        self.dropout = float(dropout)
        self.attention_dropout = float(attention_dropout)
        self.activation = activation
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.normalize_first = bool(normalize_first)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def _init(self, which):
        initializer = self.kernel_initializer if which == "kernel" else self.bias_initializer
        return initializers.get(initializers.serialize(initializer))  # a fresh copy per layer

    def _dense(self, units, name, activation=None):
        return Dense(units, activation=activation, use_bias=self.use_bias,
                     kernel_initializer=self._init("kernel"),
                     bias_initializer=self._init("bias"), name=name, dtype=self.dtype_policy)

    def _attention_block(self, name, shape, key_shape):
        """``<name>`` (attention over keys of ``key_shape``), ``<name>_layer_norm`` and
        ``<name>_dropout``, built."""
        policy = self.dtype_policy
        attention = MultiHeadAttention(
            self.num_heads, shape[-1] // self.num_heads, dropout=self.attention_dropout,
            use_bias=self.use_bias, use_key_bias=self.use_bias and self.use_key_bias,
            kernel_initializer=self._init("kernel"), bias_initializer=self._init("bias"),
            name=name, dtype=policy)
        attention.build(shape, key_shape)
        norm = LayerNormalization(epsilon=self.layer_norm_epsilon, name=f"{name}_layer_norm",
                                  dtype=policy)
        norm.build(shape)
        setattr(self, name, attention)
        setattr(self, f"{name}_layer_norm", norm)
        setattr(self, f"{name}_dropout", Dropout(self.dropout, name=f"{name}_dropout",
                                                 dtype=policy))

    def build(self, input_shape):
        hidden = input_shape[-1]
        if len(input_shape) != 3 or hidden is None:
            raise ValueError(f"TransformerDecoder '{self.name}': expects (batch, seq, hidden) "
                             f"inputs with a known hidden size, got {tuple(input_shape)}.")
        if hidden % self.num_heads:
            raise ValueError(f"TransformerDecoder '{self.name}': hidden size {hidden} is not "
                             f"divisible by num_heads={self.num_heads}.")
        shape, policy = tuple(input_shape), self.dtype_policy
        self._attention_block("self_attention", shape, shape)
        if self.use_cross_attention:
            self._attention_block("cross_attention", shape,
                                  shape[:-1] + (self.cross_attention_dim or hidden,))
        self.feedforward_intermediate_dense = self._dense(
            self.intermediate_dim, "feedforward_intermediate_dense", self.activation)
        self.feedforward_intermediate_dense.build(shape)
        self.feedforward_output_dense = self._dense(hidden, "feedforward_output_dense")
        self.feedforward_output_dense.build(shape[:-1] + (self.intermediate_dim,))
        self.feedforward_layer_norm = LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="feedforward_layer_norm", dtype=policy)
        self.feedforward_layer_norm.build(shape)
        self.feedforward_dropout = Dropout(self.dropout, name="feedforward_dropout",
                                           dtype=policy)
        self.built = True

    def self_attention_mask(self, inputs, padding_mask=None, attention_mask=None, cache=None,
                            cache_update_index=None):
        """The (B, T, S) boolean mask (causal & padding & attention_mask), or None when the
        plain causal mask of an uncached call will do."""
        if cache is None and padding_mask is None and attention_mask is None:
            return None
        query_length = inputs.shape[1] if inputs.shape[1] is not None else ops.shape(inputs)[1]
        if cache is None:
            key_length, start = query_length, 0
        else:
            keys, axis = (cache[0], 1) if isinstance(cache, (tuple, list)) else (cache, 2)
            key_length = keys.shape[axis] if keys.shape[axis] is not None \
                else ops.shape(keys)[axis]
            start = cache_update_index
        mask = ops.expand_dims(causal_mask(query_length, key_length, start), 0)  # (1, T, S)
        if padding_mask is not None:
            keys = ops.expand_dims(ops.cast(padding_mask, "bool"), 1)           # (B, 1, S)
            mask = ops.logical_and(mask, keys)
        if attention_mask is not None:
            mask = ops.logical_and(mask, ops.cast(attention_mask, "bool"))
        return mask

    def cross_attention_cache(self, encoder_sequence):
        """The cross-attention (keys, values) over ``encoder_sequence`` (B, S_e, D): pass it
        as ``cross_attention_cache`` to every decoding step."""
        self._check_cross("cross_attention_cache")
        return self.cross_attention.key_value_pair(encoder_sequence)

    def _check_cross(self, what):
        if not self.use_cross_attention:
            raise ValueError(f"TransformerDecoder '{self.name}': {what} needs "
                             f"use_cross_attention=True.")

    def _cross_attend(self, x, encoder_sequence, encoder_padding_mask, cross_attention_cache,
                      training):
        if encoder_sequence is None and cross_attention_cache is None:
            raise ValueError(f"TransformerDecoder '{self.name}': a decoder with "
                             f"cross-attention needs encoder_sequence or "
                             f"cross_attention_cache.")
        mask = None
        if encoder_padding_mask is not None:                       # (B, S_e) -> (B, 1, S_e)
            mask = ops.expand_dims(ops.cast(encoder_padding_mask, "bool"), 1)
        residual = x
        if self.normalize_first:
            x = self.cross_attention_layer_norm(x)
        if cross_attention_cache is not None:
            attended, _ = self.cross_attention(x, x, attention_mask=mask,
                                               cache=tuple(cross_attention_cache))
        else:
            attended = self.cross_attention(x, encoder_sequence, attention_mask=mask,
                                            training=training)
        x = ops.add(residual, self.cross_attention_dropout(attended, training=training))
        if not self.normalize_first:
            x = self.cross_attention_layer_norm(x)
        return x

    def call(self, inputs, padding_mask=None, attention_mask=None, cache=None,
             cache_update_index=None, use_causal_mask=True, training=None,
             encoder_sequence=None, encoder_padding_mask=None, cross_attention_cache=None):
        if cache is not None and cache_update_index is None:
            raise ValueError(f"TransformerDecoder '{self.name}': a cache needs "
                             f"cache_update_index (where the new steps are written).")
        if use_causal_mask:
            mask = self.self_attention_mask(inputs, padding_mask, attention_mask, cache,
                                            cache_update_index)
        elif attention_mask is None or padding_mask is not None:
            raise ValueError(f"TransformerDecoder '{self.name}': use_causal_mask=False takes "
                             f"the whole (B, T, S) mask as attention_mask (a decoder step "
                             f"computes it once for all layers), and no padding_mask.")
        else:
            mask = ops.cast(attention_mask, "bool")
        x = inputs                                                   # (B, T, H)
        residual = x
        if self.normalize_first:
            x = self.self_attention_layer_norm(x)
        attended = self.self_attention(x, x, attention_mask=mask, use_causal_mask=mask is None,
                                       cache=cache, cache_update_index=cache_update_index,
                                       training=training)
        if cache is not None:
            attended, cache = attended
        x = ops.add(residual, self.self_attention_dropout(attended, training=training))
        if not self.normalize_first:
            x = self.self_attention_layer_norm(x)
        if self.use_cross_attention:
            x = self._cross_attend(x, encoder_sequence, encoder_padding_mask,
                                   cross_attention_cache, training)
        elif encoder_sequence is not None or cross_attention_cache is not None:
            self._check_cross("encoder_sequence")

        residual = x
        if self.normalize_first:
            x = self.feedforward_layer_norm(x)
        x = self.feedforward_intermediate_dense(x)                   # (B, T, intermediate)
        x = self.feedforward_output_dense(x)                         # (B, T, H)
        x = ops.add(residual, self.feedforward_dropout(x, training=training))
        if not self.normalize_first:
            x = self.feedforward_layer_norm(x)
        return x if cache is None else (x, cache)

    def get_config(self):
        return {**super().get_config(), "intermediate_dim": self.intermediate_dim,
                "num_heads": self.num_heads, "dropout": self.dropout,
                "attention_dropout": self.attention_dropout, "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "normalize_first": self.normalize_first, "use_bias": self.use_bias,
                "use_key_bias": self.use_key_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "use_cross_attention": self.use_cross_attention,
                "cross_attention_dim": self.cross_attention_dim}
