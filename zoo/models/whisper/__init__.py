"""Whisper (Radford et al., 2022): speech recognition and translation."""
from zoo.models.whisper.audio_converter import WhisperAudioConverter  # noqa: F401
from zoo.models.whisper.backbone import WhisperBackbone  # noqa: F401
from zoo.models.whisper.preprocessor import WhisperPreprocessor  # noqa: F401
from zoo.models.whisper.speech_to_text import WhisperSpeechToText  # noqa: F401
from zoo.models.whisper.timestamps import WhisperTimestampRules  # noqa: F401
from zoo.models.whisper.tokenizer import WhisperTokenizer  # noqa: F401
from zoo.models.whisper import convert  # noqa: F401,E402  (registers the converter)
from zoo.models.whisper import ctranslate2, openai_checkpoint  # noqa: F401,E402  (loaders)
