"""Embedding: integer ids -> rows of a (input_dim, output_dim) table.

``call(ids)`` looks rows up; ``call(hidden, reverse=True)`` multiplies hidden states by the
transposed table, giving logits over the vocabulary (a tied language-model head).
"""
from zoo import ops
from zoo.layers import initializers
from zoo.layers.layer import Layer


class Embedding(Layer):
    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 mask_zero=False, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.mask_zero = bool(mask_zero)

    def build(self, input_shape=None):
        self.embeddings = self.add_weight((self.input_dim, self.output_dim),
                                          self.embeddings_initializer, name="embeddings")
        self.built = True

    def call(self, inputs, reverse=False):
        if reverse:
            # (..., output_dim) @ (output_dim, input_dim) -> logits (..., input_dim)
            return ops.matmul(inputs, ops.transpose(self.embeddings.value))
        if ops.dtype(inputs) not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        return ops.take(self.embeddings.value, inputs, axis=0)

    def compute_mask(self, inputs, mask=None):
        """True where the id is not 0, when ``mask_zero`` (padding id 0); otherwise None."""
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "mask_zero": self.mask_zero}
