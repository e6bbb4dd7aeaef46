from zoo.layers.attention.multi_head_attention import MultiHeadAttention  # noqa: F401
