"""BertTextClassifier: BERT's pooled [CLS] output -> dropout -> dense logits.

    classifier = BertTextClassifier(backbone, num_classes=2, preprocessor=preprocessor)
    classifier.fit(["great film", "dull"], [1, 0])     # raw strings with a preprocessor
    classifier.predict(["what a film"])                # (1, num_classes) logits

Inputs are the backbone's (token_ids, segment_ids, padding_mask); output (B, num_classes),
logits unless ``activation`` is given ("softmax"). Compiled on construction with AdamW
(5e-5), sparse categorical cross-entropy and accuracy; ``compile()`` again to change that.
"""
from zoo import layers, losses, optimizers
from zoo.models.bert.backbone import BertBackbone, bert_kernel_initializer
from zoo.models.bert.preprocessor import BertPreprocessor
from zoo.models.task import Task


def backbone_inputs(backbone):
    """Fresh zoo.Input tensors for each of the backbone's inputs (same names and dtypes)."""
    return {name: layers.Input(tensor.shape[1:], dtype=tensor.dtype, name=name)
            for name, tensor in backbone._inputs_struct.items()}


class BertTextClassifier(Task):
    pipeline_tag = "text-classification"
    backbone_cls = BertBackbone
    preprocessor_cls = BertPreprocessor

    def __init__(self, backbone, num_classes, preprocessor=None, activation=None, dropout=0.1,
                 name=None, **kwargs):
        if int(num_classes) < 1:
            raise ValueError(f"BertTextClassifier: num_classes must be >= 1, got {num_classes}.")
        dtype = backbone.dtype_policy
        inputs = backbone_inputs(backbone)
        pooled = backbone(inputs)["pooled_output"]                           # (B, H)
        x = layers.Dropout(dropout, name="classifier_dropout", dtype=dtype)(pooled)
        outputs = layers.Dense(num_classes, activation=activation,
                               kernel_initializer=bert_kernel_initializer(),
                               name="logits", dtype=dtype)(x)                # (B, C)
        super().__init__(inputs=inputs, outputs=outputs, name=name or "bert_text_classifier",
                         **kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.num_classes = int(num_classes)
        self.activation = activation
        self.dropout = float(dropout)
        self.compile()

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """``"auto"``: AdamW(5e-5), sparse categorical cross-entropy (from logits unless an
        activation is set) and accuracy."""
        if optimizer == "auto":
            optimizer = optimizers.AdamW(5e-5)
        if loss == "auto":
            from_logits = self.activation in (None, "linear")
            loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
        if metrics == "auto":
            metrics = ["sparse_categorical_accuracy"]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
