"""BertBackbone: the BERT encoder (Devlin et al., 2018) as a functional zoo model.

    inputs  token_ids, segment_ids, padding_mask      int32 (B, S)
    x = token_embedding(token_ids) + position_embedding + segment_embedding(segment_ids)
    x = dropout(layer_norm(x))                                                (B, S, H)
    x = transformer_layer_i(x, padding_mask)    num_layers post-norm blocks, exact gelu
    outputs sequence_output x                                                 (B, S, H)
            pooled_output   tanh(pooler_dense(x[:, 0]))   the [CLS] summary   (B, H)

Numerically the same function as ``transformers``' BertModel (absolute positions).
"""
from zoo import layers, ops
from zoo.layers import initializers
from zoo.models.backbone import Backbone
from zoo.layers.transformer import PositionEmbedding, TransformerEncoder
from zoo.layers.transformer.layout import tensor_parallel_rules


def bert_kernel_initializer(stddev=0.02):
    return initializers.TruncatedNormal(stddev=stddev)


class BertBackbone(Backbone):
    def __init__(self, vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                 dropout=0.1, max_sequence_length=512, num_segments=2,
                 layer_norm_epsilon=1e-12, dtype=None, name=None, **kwargs):
        if hidden_dim % num_heads:
            raise ValueError(f"BertBackbone: hidden_dim={hidden_dim} must be divisible by "
                             f"num_heads={num_heads}.")
        init = bert_kernel_initializer
        token_embedding = layers.Embedding(vocabulary_size, hidden_dim,
                                           embeddings_initializer=init(), name="token_embedding",
                                           dtype=dtype)
        position_embedding = PositionEmbedding(max_sequence_length, initializer=init(),
                                               name="position_embedding", dtype=dtype)
        segment_embedding = layers.Embedding(num_segments, hidden_dim,
                                             embeddings_initializer=init(),
                                             name="segment_embedding", dtype=dtype)

        token_ids = layers.Input((None,), dtype="int32", name="token_ids")
        segment_ids = layers.Input((None,), dtype="int32", name="segment_ids")
        padding_mask = layers.Input((None,), dtype="int32", name="padding_mask")

        tokens = token_embedding(token_ids)                                  # (B, S, H)
        x = layers.Add(name="embeddings_add", dtype=dtype)(
            [tokens, position_embedding(tokens), segment_embedding(segment_ids)])
        x = layers.LayerNormalization(epsilon=layer_norm_epsilon, name="embeddings_layer_norm",
                                      dtype=dtype)(x)
        x = layers.Dropout(dropout, name="embeddings_dropout", dtype=dtype)(x)
        for i in range(num_layers):
            x = TransformerEncoder(
                intermediate_dim, num_heads, dropout=dropout, activation="gelu",
                layer_norm_epsilon=layer_norm_epsilon, kernel_initializer=init(),
                name=f"transformer_layer_{i}", dtype=dtype)(x, padding_mask=padding_mask)
        cls_token = ops.get_item(x, (slice(None), 0, slice(None)))           # (B, H)
        pooled = layers.Dense(hidden_dim, activation="tanh", kernel_initializer=init(),
                              name="pooled_dense", dtype=dtype)(cls_token)
        super().__init__(
            inputs={"token_ids": token_ids, "segment_ids": segment_ids,
                    "padding_mask": padding_mask},
            outputs={"sequence_output": x, "pooled_output": pooled},
            name=name or "bert_backbone", dtype=dtype, **kwargs)

        self.vocabulary_size = int(vocabulary_size)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.hidden_dim = int(hidden_dim)
        self.intermediate_dim = int(intermediate_dim)
        self.dropout = float(dropout)
        self.max_sequence_length = int(max_sequence_length)
        self.num_segments = int(num_segments)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self._token_embedding = token_embedding

    @property
    def token_embedding(self):
        """The (vocabulary_size, hidden_dim) Embedding that masked-LM heads tie to."""
        return self._token_embedding

    @classmethod
    def layout_rules(cls, model_axis):
        """The shared Megatron-style rules, but the token embedding split along the hidden
        axis: BERT vocabularies (30522, 119547, 28996) do not divide over 4 or 8 devices
        where hidden sizes (128 to 1024) do, and an encoder's lookups then need no
        communication."""
        rules = tensor_parallel_rules(model_axis)
        rules[r"(.*/)?token_embedding/embeddings"] = (None, model_axis)
        return rules
