"""BERT: backbone, WordPiece tokenizer, preprocessors, tasks and the HF checkpoint converter."""
from zoo.models.bert.backbone import BertBackbone  # noqa: F401
from zoo.models.bert.masked_lm import BertMaskedLM  # noqa: F401
from zoo.models.bert.masked_lm_preprocessor import BertMaskedLMPreprocessor  # noqa: F401
from zoo.models.bert.preprocessor import BertPreprocessor  # noqa: F401
from zoo.models.bert.text_classifier import BertTextClassifier  # noqa: F401
from zoo.models.bert.tokenizer import BertTokenizer  # noqa: F401
from zoo.models.bert import convert  # noqa: F401,E402  (registers the transformers converter)
