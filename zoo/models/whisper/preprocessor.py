"""WhisperPreprocessor: audio (+ transcripts) -> Whisper model inputs.

    preprocessor = WhisperPreprocessor(audio_converter, tokenizer)
    x = preprocessor(audio)                  {"encoder_features": (B, 3000, mels)}
    x, y, w = preprocessor(audio, texts)     + decoder_token_ids / decoder_padding_mask
                                             (B, T), labels y (B, T), weights w (B, T)

For training, each transcript becomes the decoder prompt ``<|startoftranscript|>``
[language] [task] ``<|notimestamps|>`` + its tokens + ``<|endoftext|>``, cut to
``decoder_sequence_length + 1`` ids and right-padded; x holds all but the last id, y all
but the first, and w is 1 where y is a transcript token or the end (the prompt tokens are
given, not learned). ``language`` and ``task`` apply to multilingual models.
"""
import numpy as np

from zoo.models.preprocessing import Preprocessor
from zoo.models.whisper.audio_converter import WhisperAudioConverter
from zoo.models.whisper.tokenizer import WhisperTokenizer
from zoo.saving import serialization
from zoo.tokenizers.fast_tokenizer import as_text

TASKS = ("transcribe", "translate")


@serialization.register_builtin
class WhisperPreprocessor(Preprocessor):
    audio_converter_cls = WhisperAudioConverter
    tokenizer_cls = WhisperTokenizer

    def __init__(self, audio_converter=None, tokenizer=None, decoder_sequence_length=448,
                 language="en", task="transcribe"):
        if isinstance(audio_converter, dict):
            audio_converter = serialization.deserialize(audio_converter)
        if isinstance(tokenizer, dict):
            tokenizer = serialization.deserialize(tokenizer)
        self.audio_converter = audio_converter
        self.tokenizer = tokenizer
        self.decoder_sequence_length = int(decoder_sequence_length)
        self.language = language
        self.task = check_task(task, "WhisperPreprocessor")

    def features(self, audio, sampling_rate=None):
        """Raw audio -> (B, frames, mels) float32 log-mel features (padded to 30 s)."""
        return self.load_features(audio, sampling_rate)[0]

    def load_features(self, audio, sampling_rate=None):
        """-> (features (B, frames, mels), whether ``audio`` was a batch)."""
        if self.audio_converter is None:
            raise ValueError("WhisperPreprocessor has no audio_converter; pass one or load it "
                             "with WhisperPreprocessor.from_preset(...).")
        waves, batched = self.audio_converter.load(audio, sampling_rate)
        return self.audio_converter.features(waves), batched

    def prompt_ids(self, language=None, task="transcribe", timestamps=False, prompt=None):
        """The decoder's forced prefix: [<|startofprev|> prompt tokens]
        <|startoftranscript|> [language task] [<|notimestamps|>] (language and task on
        multilingual models only; see WhisperTokenizer.prefix_ids)."""
        tokenizer = self._check_tokenizer()
        ids = tokenizer.prompt_ids(prompt) if prompt else []
        return ids + tokenizer.prefix_ids(language, task, timestamps)

    def __call__(self, x, y=None, sample_weight=None):
        features = self.features(x)
        inputs = {"encoder_features": features}
        if y is None:
            return inputs
        tokenizer = self._check_tokenizer()
        texts = [y] if isinstance(y, str) else [as_text(t, "WhisperPreprocessor") for t in y]
        if len(texts) != features.shape[0]:
            raise ValueError(f"WhisperPreprocessor: {features.shape[0]} audio inputs but "
                             f"{len(texts)} transcripts.")
        prefix = self.prompt_ids(self.language, self.task)
        length = self.decoder_sequence_length + 1
        ids = np.full((len(texts), length), tokenizer.end_token_id, np.int32)
        mask = np.zeros((len(texts), length), np.int32)
        for row, text in enumerate(texts):
            tokens = (prefix + list(tokenizer.tokenize(text)) + [tokenizer.end_token_id])
            tokens = tokens[:length]
            ids[row, :len(tokens)] = tokens
            mask[row, :len(tokens)] = 1
        inputs["decoder_token_ids"] = ids[:, :-1]
        inputs["decoder_padding_mask"] = mask[:, :-1]
        weights = mask[:, 1:].astype(np.float32)
        weights[:, :len(prefix) - 1] = 0.0  # the forced prefix is given, not learned
        if sample_weight is not None:
            weights = weights * np.asarray(sample_weight, np.float32).reshape(-1, 1)
        return inputs, ids[:, 1:], weights

    def get_config(self):
        return {**super().get_config(), "decoder_sequence_length": self.decoder_sequence_length,
                "language": self.language, "task": self.task}


def check_task(task, where):
    if task not in TASKS:
        raise ValueError(f"{where}: task must be one of {', '.join(map(repr, TASKS))}, got "
                         f"{task!r}.")
    return task
