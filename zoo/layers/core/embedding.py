"""Embedding: integer ids -> rows of a (input_dim, output_dim) table.

``call(ids)`` looks rows up; ``call(hidden, reverse=True)`` multiplies hidden states by the
transposed table, giving logits over the vocabulary (a tied language-model head).

``enable_lora(rank)`` freezes the table and adds ``lora_embeddings_a`` (input_dim, rank)
and ``lora_embeddings_b`` (rank, output_dim) (Keras' names): both directions then use
embeddings + a @ b * alpha / rank.
"""
from zoo import ops
from zoo.layers import initializers
from zoo.layers.core import lora
from zoo.layers.layer import Layer
from zoo.layers.reshaping.reshape import static_size


_FEW_ROWS = 16


class Embedding(lora.LoraMixin, Layer):
    _lora_target = "embeddings"
    _lora_names = ("lora_embeddings_a", "lora_embeddings_b")

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 mask_zero=False, lora_rank=None, lora_alpha=None, **kwargs):
        super().__init__(**kwargs)
        lora.init_lora(self, lora_rank, lora_alpha)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.mask_zero = bool(mask_zero)

    def build(self, input_shape=None):
        self.embeddings = self.add_weight((self.input_dim, self.output_dim),
                                          self.embeddings_initializer, name="embeddings")
        self.built = True
        self._enable_lora_from_config()

    def call(self, inputs, reverse=False):
        if reverse:
            # (..., output_dim) @ (output_dim, input_dim) -> logits (..., input_dim).
            # A few rows (a decode step) multiply the table, (V, d) @ (d, n): BLAS runs
            # that as a GEMV-like product, where the skinny (n, d) @ (d, V) form packs the
            # whole table every call (8 rows: torch 17 against 25 ms, numpy 21 against 26;
            # XLA equal). More rows: an einsum over the table's rows (no transposed copy,
            # 1.4x faster GEMV), on rows flattened to 2-D where the shape allows (XLA:CPU's
            # 3-D form of the same product is up to 1.4x slower).
            table = self.embeddings.value
            rest = tuple(inputs.shape[1:-1])
            rows = static_size(tuple(inputs.shape[:-1]))  # None when a size is unknown
            if rows is not None and rows <= _FEW_ROWS:
                flat = ops.reshape(inputs, (rows, self.output_dim))
                x = ops.reshape(ops.transpose(ops.matmul(table, ops.transpose(flat))),
                                tuple(inputs.shape[:-1]) + (self.input_dim,))
            elif rest and None not in rest:
                flat = ops.reshape(inputs, (-1, self.output_dim))
                x = ops.reshape(ops.einsum("nd,vd->nv", flat, table),
                                (-1,) + rest + (self.input_dim,))
            else:
                lead = "abcdefgh"[:len(inputs.shape) - 1]
                x = ops.einsum(f"{lead}d,vd->{lead}v", inputs, table)
            if self.lora_rank:  # + ((inputs @ b^T) @ a^T) * scale
                a, b = self._lora_a.value, self._lora_b.value
                low = ops.matmul(ops.matmul(inputs, ops.transpose(b)), ops.transpose(a))
                x = ops.add(x, ops.multiply(low, self._lora_scale))
            return x
        if ops.dtype(inputs) not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        x = ops.take(self.embeddings.value, inputs, axis=0)
        if self.lora_rank:
            low = ops.matmul(ops.take(self._lora_a.value, inputs, axis=0), self._lora_b.value)
            x = ops.add(x, ops.multiply(low, self._lora_scale))
        return x

    def compute_mask(self, inputs, mask=None):
        """True where the id is not 0, when ``mask_zero`` (padding id 0); otherwise None."""
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "mask_zero": self.mask_zero, **self._lora_config()}

    # -- LoRA (zoo/layers/core/lora.py) --------------------------------------------------
    def _lora_shapes(self, rank):
        return (self.input_dim, rank), (rank, self.output_dim)

    def _lora_delta(self, a, b):
        return ops.matmul(a, b)
