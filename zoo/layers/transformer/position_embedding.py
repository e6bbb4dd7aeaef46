"""PositionEmbedding: a learned (max_length, hidden) table added to token embeddings.

    positions = PositionEmbedding(512)(token_embeddings)   # (B, S, H) -> (B, S, H)

returns rows ``start_index .. start_index + S`` of the table, broadcast over the batch.
"""
from zoo import ops
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.layers import initializers
from zoo.layers.layer import Layer


class PositionEmbedding(Layer):
    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = int(sequence_length)
        self.initializer = initializers.get(initializer)

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"PositionEmbedding '{self.name}': expects (batch, seq, hidden) "
                             f"inputs with a known hidden size, got {tuple(input_shape)}.")
        self.embeddings = self.add_weight((self.sequence_length, input_shape[-1]),
                                          self.initializer, name="embeddings")
        self.built = True

    def call(self, inputs, start_index=0):
        """Rows ``start_index ..`` of the table, one per step of ``inputs`` (B, T, H).
        ``start_index`` may be a tensor (a decoding step inside a compiled loop)."""
        length = inputs.shape[-2]
        static = isinstance(start_index, int)
        if static and length is not None and start_index + length > self.sequence_length:
            raise ValueError(f"PositionEmbedding '{self.name}': a sequence of {length} tokens "
                             f"(from position {start_index}) is longer than the "
                             f"{self.sequence_length} positions this model has.")
        if length is None:
            length = ops.shape(inputs)[-2]
        if static:
            table = ops.get_item(self.embeddings.value,
                                 slice(start_index, start_index + length))
        else:
            table = ops.slice(self.embeddings.value, [start_index, 0],
                              (length, self.embeddings.shape[-1]))
        return ops.broadcast_to(ops.cast(table, self.compute_dtype), ops.shape(inputs))

    def compute_output_spec(self, inputs, start_index=0):
        return SymbolicTensor(inputs.shape, self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "initializer": initializers.serialize(self.initializer)}
