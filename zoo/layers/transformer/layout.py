"""Megatron-style tensor parallelism for the transformer blocks of this package.

``tensor_parallel_rules(model_axis)`` -> ``{regex over variable paths: axes}`` for a
backbone's ``layout_rules``: query/key/value and the first MLP kernel split by columns
(heads / hidden units), the attention output and the second MLP kernel split by rows, so
each block needs one all-reduce after each attention and one after the MLP; the token
embedding split by vocabulary rows. Everything else (norms, position embeddings, small
heads) is replicated, as is every path no rule names.
"""


def tensor_parallel_rules(model_axis, block=r"(.*/)?transformer_layer_\d+/"):
    m = model_axis
    attention = block + r"(self_attention|cross_attention)/"
    return {
        r"(.*/)?token_embedding/embeddings": (m, None),
        attention + r"(query|key|value)/kernel": (None, m, None),
        attention + r"(query|key|value)/bias": (m, None),
        attention + r"attention_output/kernel": (m, None, None),
        block + r"feedforward_intermediate_dense/kernel": (None, m),
        block + r"feedforward_intermediate_dense/bias": (m,),
        block + r"feedforward_output_dense/kernel": (m, None),
    }
