"""OPTCausalLM: OPT with its language-model head (next-token logits).

    inputs  token_ids, padding_mask                      int32 (B, S)
    logits  sequence_output @ token_embedding^T          (B, S, vocabulary_size)

The head has no weights of its own: it is the backbone's token embedding, transposed (the
backbone's output already went through ``embeddings_project_out`` when the model has one).
Compiled on construction with AdamW (5e-5) and a sparse cross-entropy from logits, so
``fit(strings)`` trains on next tokens with the preprocessor's labels (padding weighs 0).

``generate(prompts, max_length=, sampler=, stop_token_ids=)`` continues strings or token
batches (zoo/models/causal_lm.py); ``call_with_cache`` / ``build_cache`` are its step.
"""
from zoo import losses, optimizers
from zoo.layers.input_layer import Input
from zoo.models.causal_lm import CausalLM
from zoo.models.opt.backbone import OPTBackbone
from zoo.models.opt.preprocessor import OPTCausalLMPreprocessor


class OPTCausalLM(CausalLM):
    pipeline_tag = "text-generation"
    head_from_backbone = True  # the head is the tied embedding: any backbone has it
    backbone_cls = OPTBackbone
    preprocessor_cls = OPTCausalLMPreprocessor

    def __init__(self, backbone, preprocessor=None, name=None, **kwargs):
        inputs = {name_: Input(tensor.shape[1:], dtype=tensor.dtype, name=name_)
                  for name_, tensor in backbone._inputs_struct.items()}
        hidden = backbone(inputs)["sequence_output"]                        # (B, S, E)
        logits = backbone.token_embedding(hidden, reverse=True)             # (B, S, V)
        super().__init__(inputs=inputs, outputs=logits, name=name or "opt_causal_lm",
                         **kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.compile()

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """``"auto"``: AdamW(5e-5), sparse categorical cross-entropy from logits (weighted
        by the preprocessor's sample_weight), accuracy."""
        if optimizer == "auto":
            optimizer = optimizers.AdamW(5e-5)
        if loss == "auto":
            loss = losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = ["sparse_categorical_accuracy"]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def logits_from_hidden(self, hidden):
        """(B, T, E) hidden states -> (B, T, V) logits through the tied embedding."""
        return self.backbone.token_embedding(hidden, reverse=True)
