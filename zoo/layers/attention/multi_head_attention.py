"""MultiHeadAttention with Keras' variable layout and KerasHub's key/value cache.

Shapes (B batch, T query steps, S key/value steps, N heads, H key_dim, Hv value_dim):

    query (B, T, Dq) --query-->  (B, T, N, H)     kernel (Dq, N, H), bias (N, H)
    key   (B, S, Dk) --key---->  (B, S, N, H)     kernel (Dk, N, H)
    value (B, S, Dv) --value-->  (B, S, N, Hv)    kernel (Dv, N, Hv)
    softmax(q k^T / sqrt(H), masked) v -> (B, T, N, Hv) --attention_output--> (B, T, Dout)

``attention_mask`` is (B, T, S), True (or 1) where query t may attend to key s;
``use_causal_mask`` also keeps only s <= t.

Decoding with a cache (B, 2, max_len, N, H): key at ``cache[:, 0]``, value at
``cache[:, 1]``; or a pair ``(key_cache, value_cache)`` of (B * N, max_len, H) tensors
(row b * N + n holds head n of batch row b), which is cheaper in a loop: no restacking,
no transposes, and it is donated (torch and NumPy write the new steps into it; use the
returned pair afterwards). The pair has no axis of size 1 even at batch 1: XLA:CPU dropped
a unit batch axis of a (B, N, max_len, H) cache between its update and the attention
product, fused the update twice and copied every layer's cache on every step (OPT-125m at
batch 1, 512 new tokens: 36 against 28 ms per token on jax). With
``cache_update_index=i`` the projections of the current key/value steps are written at
position i and attention runs over the whole cache; the caller masks the positions not
filled yet through ``attention_mask``. The call then returns
``(output, new_cache)``. With a cache and no index, the cache is attended to as it is.
"""
import math

from zoo import ops
from zoo.layers import initializers
from zoo.layers.core.einsum_dense import EinsumDense
from zoo.layers.layer import Layer
from zoo.layers.regularization.dropout import Dropout


def _masked(logits, mask):
    """Logits with the masked-out positions at a large finite negative (a fully masked row
    then averages the values instead of producing NaN)."""
    if mask is None:
        return logits
    return ops.where(mask, logits, -3e4 if ops.dtype(logits) == "float16" else -1e9)


class MultiHeadAttention(Layer):
    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", seed=None, use_key_bias=None, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.value_dim = int(value_dim) if value_dim is not None else self.key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        # Whisper's key projections have no bias (softmax is invariant to it) while the
        # query, value and output projections do: None follows use_bias.
        self.use_key_bias = self.use_bias if use_key_bias is None else bool(use_key_bias)
        if isinstance(output_shape, (list, tuple)):
            if len(output_shape) != 1:
                raise NotImplementedError("MultiHeadAttention: output_shape must be an int or a "
                                          f"1-tuple, got {output_shape}.")
            output_shape = output_shape[0]
        self._output_dim = None if output_shape is None else int(output_shape)
        if attention_axes is not None:
            axes = tuple(attention_axes) if isinstance(attention_axes, (list, tuple)) \
                else (attention_axes,)
            if axes not in ((1,), (-2,)):
                raise NotImplementedError(
                    "MultiHeadAttention: only attention over the sequence axis "
                    f"(attention_axes=None) is supported, got {attention_axes}.")
            attention_axes = list(axes)
        self.attention_axes = attention_axes
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.seed = seed
        self._scale = 1.0 / math.sqrt(float(self.key_dim))

    def _dense(self, equation, output_shape, bias_axes, name, use_bias=None):
        use_bias = self.use_bias if use_bias is None else use_bias
        return EinsumDense(
            equation, output_shape=output_shape, bias_axes=bias_axes if use_bias else None,
            kernel_initializer=initializers.get(initializers.serialize(self.kernel_initializer)),
            bias_initializer=initializers.get(initializers.serialize(self.bias_initializer)),
            name=name, dtype=self.dtype_policy)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        for label, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape is None or len(shape) != 3 or shape[-1] is None:
                raise ValueError(f"MultiHeadAttention '{self.name}': {label} must be "
                                 f"(batch, seq, features) with known features, got {shape}.")
        n, h, hv = self.num_heads, self.key_dim, self.value_dim
        out_dim = self._output_dim or query_shape[-1]
        self.query_dense = self._dense("abc,cde->abde", (None, n, h), "de", "query")
        self.key_dense = self._dense("abc,cde->abde", (None, n, h), "de", "key",
                                     use_bias=self.use_key_bias)
        self.value_dense = self._dense("abc,cde->abde", (None, n, hv), "de", "value")
        self.output_dense = self._dense("abcd,cde->abe", (None, out_dim), "e",
                                        "attention_output")
        self.query_dense.build(tuple(query_shape))
        self.key_dense.build(tuple(key_shape))
        self.value_dense.build(tuple(value_shape))
        self.output_dense.build((query_shape[0], query_shape[1], n, hv))
        self.dropout_layer = Dropout(self.dropout, seed=self.seed, dtype=self.dtype_policy)
        self.built = True

    # Keras' private names for the sublayers (scripts and converters written against Keras)
    _query_dense = property(lambda self: self.query_dense)
    _key_dense = property(lambda self: self.key_dense)
    _value_dense = property(lambda self: self.value_dense)
    _output_dense = property(lambda self: self.output_dense)

    def call(self, query, value, key=None, attention_mask=None, return_attention_scores=False,
             training=None, use_causal_mask=False, cache=None, cache_update_index=None):
        if key is None:
            key = value
        if cache is None:
            if cache_update_index is not None:
                raise ValueError(f"MultiHeadAttention '{self.name}': cache_update_index "
                                 f"needs a cache.")
            k = self.key_dense(key)                        # (B, S, N, H)
            v = self.value_dense(value)                    # (B, S, N, Hv)
        elif isinstance(cache, (tuple, list)):
            return self._call_with_cache_pair(query, key, value, attention_mask,
                                              use_causal_mask, cache, cache_update_index)
        else:
            k, v = ops.get_item(cache, (slice(None), 0)), ops.get_item(cache, (slice(None), 1))
            if cache_update_index is not None:
                start = [0, cache_update_index, 0, 0]
                k = ops.slice_update(k, start, self.key_dense(key))
                v = ops.slice_update(v, start, self.value_dense(value))
                cache = ops.stack([k, v], axis=1)
        q = self.query_dense(query)                        # (B, T, N, H)

        mask, is_causal = self._mask(attention_mask, use_causal_mask, q, k)
        dropout = bool(training) and self.dropout > 0
        if return_attention_scores or dropout:
            out, scores = self._attention(q, k, v, mask, training)
        else:
            out = ops.dot_product_attention(q, k, v, mask=mask, is_causal=is_causal,
                                            scale=self._scale)
            scores = None
        out = self.output_dense(out)                       # (B, T, Dout)
        result = (out, scores) if return_attention_scores else out
        if cache is not None:
            return (*result, cache) if return_attention_scores else (out, cache)
        return result

    def _call_with_cache_pair(self, query, key, value, attention_mask, use_causal_mask,
                              cache, cache_update_index):
        """Decoding against a (keys, values) pair of (B * N, S, H) tensors: the layout the
        two attention products read directly, so a compiled loop neither transposes nor
        copies the cache per step. The pair is donated (see module doc)."""
        k, v = cache
        q = ops.transpose(ops.multiply(self.query_dense(query), self._scale), (0, 2, 1, 3))
        batch, heads, t, _ = q.shape                                          # (B, N, T, H)
        s = k.shape[1]
        rows = batch * heads
        if k.shape[0] != rows:
            raise ValueError(f"MultiHeadAttention '{self.name}': a (keys, values) cache "
                             f"pair holds (batch * num_heads, length, head_dim) = "
                             f"({rows}, length, {self.key_dim}) tensors, got "
                             f"{tuple(k.shape)}.")
        if cache_update_index is not None:
            start = [0, cache_update_index, 0]
            new_k = ops.transpose(self.key_dense(key), (0, 2, 1, 3))          # (B, N, T, H)
            new_v = ops.transpose(self.value_dense(value), (0, 2, 1, 3))
            k = ops.slice_update(k, start, ops.reshape(new_k, (rows, t, -1)), in_place=True)
            v = ops.slice_update(v, start, ops.reshape(new_v, (rows, t, -1)), in_place=True)
        logits = ops.matmul(ops.reshape(q, (rows, t, -1)), ops.swapaxes(k, -1, -2))
        logits = ops.reshape(logits, (batch, heads, t, s))                    # (B, N, T, S)
        mask = None
        if attention_mask is not None:
            mask = ops.expand_dims(ops.cast(attention_mask, "bool"), 1)       # (B, 1, T, S)
        if use_causal_mask:
            causal = ops.greater_equal(ops.expand_dims(ops.arange(t), 1),
                                       ops.expand_dims(ops.arange(s), 0))
            mask = causal if mask is None else ops.logical_and(mask, causal)
        probs = ops.cast(ops.softmax(ops.cast(_masked(logits, mask), "float32"), axis=-1),
                         ops.dtype(v))
        out = ops.reshape(ops.matmul(ops.reshape(probs, (rows, t, s)), v), (batch, heads, t, -1))
        out = ops.transpose(out, (0, 2, 1, 3))                                # (B, T, N, Hv)
        return self.output_dense(out), (k, v)                                 # (B, T, Dout)

    def key_value_pair(self, value, key=None):
        """The (keys, values) pair of (B * N, S, H) tensors for ``value`` (and ``key``,
        default ``value``): what ``call(query, query, cache=pair)`` attends to without
        projecting them again (a decoder's cross-attention over the encoder output,
        computed once per generation)."""
        key = value if key is None else key
        k = ops.transpose(self.key_dense(key), (0, 2, 1, 3))                  # (B, N, S, H)
        v = ops.transpose(self.value_dense(value), (0, 2, 1, 3))
        batch, heads, length = k.shape[0], k.shape[1], k.shape[2]
        if batch is None or length is None:
            batch, length = ops.shape(k)[0], ops.shape(k)[2]
        return (ops.reshape(k, (batch * heads, length, self.key_dim)),
                ops.reshape(v, (batch * heads, length, self.value_dim)))

    def _mask(self, attention_mask, use_causal_mask, q, k):
        """-> (boolean mask broadcastable to (B, N, T, S) or None, is_causal flag)."""
        mask = None
        if attention_mask is not None:
            mask = ops.expand_dims(ops.cast(attention_mask, "bool"), 1)  # (B, 1, T, S)
        if not use_causal_mask:
            return mask, False
        t, s = q.shape[1], k.shape[1]
        if mask is None and t is not None and t == s:
            return None, True  # equal lengths: the fused kernel's causal flag is the same mask
        t = ops.shape(q)[1] if t is None else t
        s = ops.shape(k)[1] if s is None else s
        causal = ops.greater_equal(ops.expand_dims(ops.arange(t), 1),
                                   ops.expand_dims(ops.arange(s), 0))  # (T, S): s <= t
        return (causal if mask is None else ops.logical_and(mask, causal)), False

    def _attention(self, q, k, v, mask, training):
        """The explicit computation, when the probabilities are returned or dropped out."""
        q = ops.multiply(q, self._scale)
        logits = ops.einsum("btnh,bsnh->bnts", q, k)       # (B, N, T, S)
        scores = ops.softmax(_masked(logits, mask), axis=-1)
        probs = self.dropout_layer(scores, training=training)
        out = ops.einsum("bnts,bsnh->btnh", probs, v)      # (B, T, N, Hv)
        return out, scores

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout,
                "use_bias": self.use_bias, "use_key_bias": self.use_key_bias,
                "output_shape": self._output_dim,
                "attention_axes": self.attention_axes,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "seed": self.seed}
