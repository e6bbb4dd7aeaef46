"""BertMaskedLM: BERT with its masked-language-model head (pre-training and fill-mask).

    inputs  token_ids, segment_ids, padding_mask (B, S), mask_positions (B, L)   int32
    logits  (B, L, vocabulary_size) at the masked positions

The head (dense + gelu + layer norm) projects back through the backbone's token embedding
(tied weights) plus a bias, as BERT does. Compiled on construction with AdamW (5e-5) and a
sparse cross-entropy over the masked tokens (weighted by the preprocessor's sample_weight).
"""
from zoo import layers, losses, optimizers
from zoo.models.bert.backbone import BertBackbone, bert_kernel_initializer
from zoo.models.bert.masked_lm_preprocessor import BertMaskedLMPreprocessor
from zoo.models.bert.text_classifier import backbone_inputs
from zoo.layers.transformer import MaskedLMHead
from zoo.models.task import Task


class BertMaskedLM(Task):
    pipeline_tag = "fill-mask"
    head_from_backbone = True  # converted checkpoints carry the MLM head
    backbone_cls = BertBackbone
    preprocessor_cls = BertMaskedLMPreprocessor

    def __init__(self, backbone, preprocessor=None, name=None, **kwargs):
        inputs = backbone_inputs(backbone)
        inputs["mask_positions"] = layers.Input((None,), dtype="int32", name="mask_positions")
        sequence = backbone({k: inputs[k] for k in backbone._inputs_struct})["sequence_output"]
        head = MaskedLMHead(backbone.token_embedding, activation="gelu",
                            layer_norm_epsilon=backbone.layer_norm_epsilon,
                            kernel_initializer=bert_kernel_initializer(), name="masked_lm_head",
                            dtype=backbone.dtype_policy)
        logits = head(sequence, mask_positions=inputs["mask_positions"])
        super().__init__(inputs=inputs, outputs=logits, name=name or "bert_masked_lm", **kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.masked_lm_head = head
        self.compile()

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """``"auto"``: AdamW(5e-5), sparse categorical cross-entropy from logits, accuracy."""
        if optimizer == "auto":
            optimizer = optimizers.AdamW(5e-5)
        if loss == "auto":
            loss = losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = ["sparse_categorical_accuracy"]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
