"""TransformerEncoder: one encoder block (self-attention and a feed-forward MLP), shared by
the encoder architectures (BERT, and those that follow).

Post-norm (BERT, ``normalize_first=False``)::

    x = norm1(x + dropout(attention(x, x, mask)))
    x = norm2(x + dropout(output_dense(activation(intermediate_dense(x)))))

Pre-norm (``normalize_first=True``)::

    x = x + dropout(attention(norm1(x), ...));  x = x + dropout(mlp(norm2(x)))

Shapes: inputs (B, S, H); ``padding_mask`` (B, S), 1 for real tokens and 0 for padding,
becomes an attention mask (B, 1, S) that hides the padded keys from every query;
``attention_mask`` (B, S, S) is combined with it. Variable paths read
``self_attention/query/kernel``, ``feedforward_intermediate_dense/kernel``, ...
"""
from zoo import ops
from zoo.layers import initializers
from zoo.layers.attention.multi_head_attention import MultiHeadAttention
from zoo.layers.core.dense import Dense
from zoo.layers.layer import Layer
from zoo.layers.normalization.layer_normalization import LayerNormalization
from zoo.layers.regularization.dropout import Dropout


class TransformerEncoder(Layer):
    def __init__(self, intermediate_dim, num_heads, dropout=0.0, activation="relu",
                 layer_norm_epsilon=1e-5, normalize_first=False,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 use_key_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.use_key_bias = bool(use_key_bias)
        self.intermediate_dim = int(intermediate_dim)
        self.num_heads = int(num_heads)
        self.dropout = float(dropout)
        self.activation = activation
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.normalize_first = bool(normalize_first)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def _init(self, which):
        initializer = self.kernel_initializer if which == "kernel" else self.bias_initializer
        return initializers.get(initializers.serialize(initializer))  # a fresh copy per layer

    def build(self, input_shape):
        hidden = input_shape[-1]
        if len(input_shape) != 3 or hidden is None:
            raise ValueError(f"TransformerEncoder '{self.name}': expects (batch, seq, hidden) "
                             f"inputs with a known hidden size, got {tuple(input_shape)}.")
        if hidden % self.num_heads:
            raise ValueError(f"TransformerEncoder '{self.name}': hidden size {hidden} is not "
                             f"divisible by num_heads={self.num_heads}.")
        policy = self.dtype_policy
        self.self_attention = MultiHeadAttention(
            self.num_heads, hidden // self.num_heads, dropout=self.dropout,
            kernel_initializer=self._init("kernel"), bias_initializer=self._init("bias"),
            use_key_bias=self.use_key_bias, name="self_attention", dtype=policy)
        self.self_attention.build(tuple(input_shape), tuple(input_shape))
        self.self_attention_layer_norm = LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="self_attention_layer_norm", dtype=policy)
        self.self_attention_layer_norm.build(tuple(input_shape))
        self.self_attention_dropout = Dropout(self.dropout, name="self_attention_dropout",
                                              dtype=policy)
        self.feedforward_intermediate_dense = Dense(
            self.intermediate_dim, activation=self.activation,
            kernel_initializer=self._init("kernel"), bias_initializer=self._init("bias"),
            name="feedforward_intermediate_dense", dtype=policy)
        self.feedforward_intermediate_dense.build(tuple(input_shape))
        self.feedforward_output_dense = Dense(
            hidden, kernel_initializer=self._init("kernel"), bias_initializer=self._init("bias"),
            name="feedforward_output_dense", dtype=policy)
        self.feedforward_output_dense.build(tuple(input_shape[:-1]) + (self.intermediate_dim,))
        self.feedforward_layer_norm = LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="feedforward_layer_norm", dtype=policy)
        self.feedforward_layer_norm.build(tuple(input_shape))
        self.feedforward_dropout = Dropout(self.dropout, name="feedforward_dropout",
                                           dtype=policy)
        self.built = True

    @staticmethod
    def attention_mask(padding_mask=None, attention_mask=None):
        """(B, S) padding mask and/or (B, T, S) attention mask -> a boolean mask
        broadcastable to (B, T, S), or None."""
        mask = None
        if padding_mask is not None:
            mask = ops.expand_dims(ops.cast(padding_mask, "bool"), 1)  # (B, 1, S)
        if attention_mask is not None:
            attention_mask = ops.cast(attention_mask, "bool")
            mask = attention_mask if mask is None else ops.logical_and(mask, attention_mask)
        return mask

    def call(self, inputs, padding_mask=None, attention_mask=None, training=None):
        mask = self.attention_mask(padding_mask, attention_mask)
        x = inputs                                                   # (B, S, H)
        residual = x
        if self.normalize_first:
            x = self.self_attention_layer_norm(x)
        x = self.self_attention(x, x, attention_mask=mask, training=training)
        x = ops.add(residual, self.self_attention_dropout(x, training=training))
        if not self.normalize_first:
            x = self.self_attention_layer_norm(x)

        residual = x
        if self.normalize_first:
            x = self.feedforward_layer_norm(x)
        x = self.feedforward_intermediate_dense(x)                   # (B, S, intermediate)
        x = self.feedforward_output_dense(x)                         # (B, S, H)
        x = ops.add(residual, self.feedforward_dropout(x, training=training))
        if not self.normalize_first:
            x = self.feedforward_layer_norm(x)
        return x

    def get_config(self):
        return {**super().get_config(), "intermediate_dim": self.intermediate_dim,
                "num_heads": self.num_heads, "dropout": self.dropout,
                "activation": self.activation, "layer_norm_epsilon": self.layer_norm_epsilon,
                "normalize_first": self.normalize_first, "use_key_bias": self.use_key_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}
