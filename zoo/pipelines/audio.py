"""The speech pipeline: ``zoo.pipeline("automatic-speech-recognition", preset=...)``.

    asr = zoo.pipeline("automatic-speech-recognition", preset="whisper_tiny_en")
    asr("speech.flac")                                  -> {"text": " Hello world."}
    asr({"raw": waveform, "sampling_rate": 22050})      -> {"text": ...}
    asr(["a.flac", "b.wav"], return_timestamps=True)    -> [{"text", "chunks": [...]}, ...]
    asr(audio, generate_kwargs={"language": "fr", "task": "translate"})

Inputs as transformers' pipeline takes them: file paths, 16 kHz waveforms (1-D float
arrays), ``{"raw": array, "sampling_rate": sr}`` dicts, or lists of them. Outputs in its
format: ``{"text"}``, plus ``"chunks": [{"timestamp": (start, end), "text"}]`` with
``return_timestamps=True``.
"""
import os

import numpy as np

from zoo.generation import samplers
from zoo.pipelines.base import Pipeline, register_pipeline


@register_pipeline("automatic-speech-recognition")
class SpeechRecognitionPipeline(Pipeline):
    batch_size = 4

    def is_single(self, inputs):
        if isinstance(inputs, (str, os.PathLike, dict, bytes)):
            return True
        return isinstance(inputs, np.ndarray) and inputs.ndim == 1

    def run_batch(self, items, return_timestamps=False, generate_kwargs=None,
                  max_new_tokens=None):
        options = dict(generate_kwargs or {})
        beams = options.pop("num_beams", None)  # transformers' spelling of beam search
        if beams is not None and int(beams) > 1:
            options.setdefault("sampler", samplers.BeamSampler(num_beams=int(beams)))
        if max_new_tokens is not None:
            options["max_new_tokens"] = max_new_tokens
        out = self.model.generate(list(items), return_timestamps=return_timestamps, **options)
        if return_timestamps:
            return out
        return [{"text": text} for text in out]
