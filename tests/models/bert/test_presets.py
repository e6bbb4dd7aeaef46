"""BERT presets: save_to_preset -> from_preset on every backend (tests.models.helpers)."""
import numpy as np

from tests.models.helpers import run_preset_test
from zoo.models import BertBackbone, BertPreprocessor, BertTextClassifier, BertTokenizer

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "film", "was", "great",
         "awful", "plot", "##s"]
TEXTS = ["the film was great", "a plot", "awful films and the plots"]


def test_text_classifier_preset_on_every_backend(tmp_path):
    preprocessor = BertPreprocessor(BertTokenizer(VOCAB, lowercase=True), sequence_length=8)
    backbone = BertBackbone(vocabulary_size=len(VOCAB), num_layers=2, num_heads=2,
                            hidden_dim=8, intermediate_dim=16, max_sequence_length=10)
    classifier = BertTextClassifier(backbone, 3, preprocessor=preprocessor)
    arrays = preprocessor(TEXTS)
    assert isinstance(arrays, dict) and np.asarray(arrays["token_ids"]).shape == (3, 8)
    run_preset_test(classifier, arrays, tmp_path, raw_inputs=TEXTS)
