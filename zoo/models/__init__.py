"""The zoo of architectures: one folder per model family."""
from zoo.generation import samplers  # noqa: F401
from zoo.models.backbone import Backbone  # noqa: F401
from zoo.models.bert import (  # noqa: F401
    BertBackbone,
    BertMaskedLM,
    BertMaskedLMPreprocessor,
    BertPreprocessor,
    BertTextClassifier,
    BertTokenizer,
)
from zoo.models.causal_lm import CausalLM  # noqa: F401
from zoo.models.opt import (  # noqa: F401
    OPTBackbone,
    OPTCausalLM,
    OPTCausalLMPreprocessor,
    OPTTokenizer,
)
from zoo.models.preprocessing import (  # noqa: F401
    AudioConverter, ImageConverter, Preprocessor, PreprocessingComponent, Tokenizer)
from zoo.models.task import Task  # noqa: F401
from zoo.models.whisper import (  # noqa: F401
    WhisperAudioConverter,
    WhisperBackbone,
    WhisperPreprocessor,
    WhisperSpeechToText,
    WhisperTokenizer,
)
from zoo.models.yolov8 import (  # noqa: F401
    YOLOv8Backbone,
    YOLOv8Detector,
    YOLOv8ImageConverter,
    YOLOv8Preprocessor,
)
