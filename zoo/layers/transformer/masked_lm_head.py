"""MaskedLMHead: hidden states at the masked positions -> logits over the vocabulary.

    x = take(sequence_output, mask_positions)       (B, S, H), (B, L) -> (B, L, H)
    x = layer_norm(activation(dense(x)))            (B, L, H)
    logits = x @ token_embedding.T + output_bias    (B, L, V)   tied to the input embedding

Shared by the masked-LM tasks (BERT and those that follow). The tied embedding is held by
reference, not tracked: its variable belongs to the backbone.
"""
from zoo import ops
from zoo.layers import initializers
from zoo.layers.core.dense import Dense
from zoo.layers.layer import Layer
from zoo.layers.normalization.layer_normalization import LayerNormalization


class MaskedLMHead(Layer):
    def __init__(self, token_embedding, activation="gelu", layer_norm_epsilon=1e-12,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self._token_embedding = token_embedding  # underscore: not tracked as a sublayer
        self.activation = activation
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.kernel_initializer = initializers.get(kernel_initializer)

    @property
    def token_embedding(self):
        return self._token_embedding

    def build(self, inputs_shape, mask_positions_shape=None):
        hidden = inputs_shape[-1]
        vocabulary_size = self._token_embedding.input_dim
        if self._token_embedding.output_dim != hidden:
            raise ValueError(f"MaskedLMHead '{self.name}': hidden size {hidden} differs from "
                             f"the tied embedding's {self._token_embedding.output_dim}.")
        self.dense = Dense(hidden, activation=self.activation, name="dense",
                           kernel_initializer=initializers.get(
                               initializers.serialize(self.kernel_initializer)),
                           dtype=self.dtype_policy)
        self.dense.build(tuple(inputs_shape))
        self.layer_norm = LayerNormalization(epsilon=self.layer_norm_epsilon, name="layer_norm",
                                             dtype=self.dtype_policy)
        self.layer_norm.build(tuple(inputs_shape))
        self.output_bias = self.add_weight((vocabulary_size,), "zeros", name="output_bias")
        self.built = True

    def call(self, inputs, mask_positions):
        positions = ops.expand_dims(ops.cast(mask_positions, "int32"), -1)    # (B, L, 1)
        x = ops.take_along_axis(inputs, positions, axis=1)                   # (B, L, H)
        x = self.layer_norm(self.dense(x))
        logits = self._token_embedding(x, reverse=True)                      # (B, L, V)
        return ops.add(logits, ops.cast(self.output_bias.value, ops.dtype(logits)))

    def get_config(self):
        raise NotImplementedError(
            "MaskedLMHead holds a reference to its backbone's embedding; it is rebuilt by its "
            "task (e.g. BertMaskedLM.from_config), not serialized on its own.")
