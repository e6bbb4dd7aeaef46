"""WhisperAudioConverter: raw audio -> Whisper's log-mel features (B, frames, num_mels).

    converter = WhisperAudioConverter(num_mels=80)
    features = converter("speech.flac")                          (1, 3000, 80) float32
    features, seconds = converter([wave_a, wave_b], sampling_rate=44100, return_lengths=True)

Input forms, sampling rates and resampling are zoo/models/audio_io.py's (files, float or
PCM arrays, stereo, ``{"raw", "sampling_rate"}`` dicts, lists of any lengths). A bare array
without ``sampling_rate`` is taken to be at the converter's rate (16 kHz), as transformers'
pipeline takes it; a dict without its "sampling_rate" is an error (it says it is a sampled
signal but not at what rate).

Each example is padded with ``padding_value`` (zeros) to ``chunk_length`` seconds (480000
samples), as openai-whisper's ``pad_or_trim`` and transformers' ``WhisperFeatureExtractor``
(padding="max_length") pad it, then ``zoo.ops.log_mel_spectrogram`` computes the features
of the whole batch at once on the active backend. The log floor (max - 8) is per example:
its maximum is over its own 3000 frames, and the padding's frames are all at the 1e-10
floor, so they never change it; an example's features do not depend on its batch.
``padding="longest"`` pads to the longest example of the batch instead (fewer frames, for
training on short clips; the encoder accepts fewer than 3000 frames). ``padding="features"``
is openai-whisper's ``transcribe`` and faster-whisper's way: each example's features are
computed from its own samples (plus one hop of zeros), its log floor from its own frames,
and the frames after its content (``samples // hop_length``) are zeros up to 3000.

Audio longer than ``chunk_length`` seconds is refused (never cut silently): long-form
transcription, which slides over 30 s windows, is the next step of zoo's Whisper.
"""
import json
import math
import os
import warnings

import numpy as np

from zoo import ops
from zoo.models import audio_io
from zoo.models.preprocessing import AudioConverter
from zoo.saving.serialization import register_builtin

PADDING = ("max_length", "longest", "features")


@register_builtin
class WhisperAudioConverter(AudioConverter):
    """Args:
        num_mels: mel bins (80; 128 for large-v3 and turbo).
        sampling_rate: the rate features are computed at (Hz); other input is resampled.
        n_fft, hop_length: STFT size and stride in samples (400, 160: 25 ms, 10 ms).
        chunk_length: the longest audio accepted, and the "max_length" padding (seconds).
        padding_value: the sample value audio is padded with.
        padding: "max_length" (audio padded to chunk_length), "longest" (to the batch's
            longest) or "features" (features padded with zeros, as faster-whisper).
        compute_dtype: "float64" (default) or "float32": the precision of the STFT and the
            log (the features are float32 either way). Backends without float64 (jax
            without jax_enable_x64) compute in float32.

    Precision: in float64 the features are within 1e-7 of transformers' NumPy path (its
    FFT is float64). openai-whisper and transformers' torch path run torch.stft in
    float32, which moves bins near the log floor by up to ~5e-5 from those values; zoo in
    float32 is off by as much (measured: 1.0e-5 on numpy, 4.4e-5 on jax and tensorflow,
    5.4e-5 on torch, from transformers' NumPy path, on speech clips).
    """
    checkpoint_files = ("preprocessor_config.json",)

    def __init__(self, num_mels=80, sampling_rate=16000, n_fft=400, hop_length=160,
                 chunk_length=30, padding_value=0.0, padding="max_length",
                 compute_dtype="float64"):
        if padding not in PADDING:
            raise ValueError(f"WhisperAudioConverter: padding must be one of {PADDING}, got "
                             f"{padding!r}.")
        for name, value in (("num_mels", num_mels), ("sampling_rate", sampling_rate),
                            ("n_fft", n_fft), ("hop_length", hop_length),
                            ("chunk_length", chunk_length)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"WhisperAudioConverter: {name} must be a positive integer, "
                                 f"got {value!r}.")
        self.num_mels = int(num_mels)
        self.sampling_rate = int(sampling_rate)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.chunk_length = int(chunk_length)
        self.padding_value = float(padding_value)
        self.padding = padding
        if compute_dtype not in ("float32", "float64"):
            raise ValueError(f"WhisperAudioConverter: compute_dtype must be 'float32' or "
                             f"'float64', got {compute_dtype!r}.")
        self.compute_dtype = compute_dtype

    @property
    def max_samples(self):
        """Samples of ``chunk_length`` seconds (480000)."""
        return self.chunk_length * self.sampling_rate

    @property
    def max_frames(self):
        """Feature frames of ``chunk_length`` seconds (3000)."""
        return self.max_samples // self.hop_length

    def get_config(self):
        return {"num_mels": self.num_mels, "sampling_rate": self.sampling_rate,
                "n_fft": self.n_fft, "hop_length": self.hop_length,
                "chunk_length": self.chunk_length, "padding_value": self.padding_value,
                "padding": self.padding, "compute_dtype": self.compute_dtype}

    # -- transformers' preprocessor_config.json ------------------------------------------
    @classmethod
    def from_preprocessor_config(cls, config, name="preprocessor_config.json"):
        """From transformers' ``WhisperFeatureExtractor`` config (a dict): feature_size ->
        num_mels, sampling_rate, n_fft, hop_length, chunk_length, padding_value."""
        kind = config.get("feature_extractor_type", "WhisperFeatureExtractor")
        if kind != "WhisperFeatureExtractor":
            raise ValueError(f"{name}: feature_extractor_type is {kind!r}, not "
                             f"'WhisperFeatureExtractor'.")
        if config.get("dither", 0.0):
            warnings.warn(f"{name}: dither={config['dither']} is not applied (zoo's features "
                          f"are deterministic).", stacklevel=2)
        keys = {"feature_size": "num_mels", "sampling_rate": "sampling_rate",
                "n_fft": "n_fft", "hop_length": "hop_length", "chunk_length": "chunk_length",
                "padding_value": "padding_value"}
        return cls(**{ours: config[theirs] for theirs, ours in keys.items() if theirs in config})

    @classmethod
    def from_checkpoint_directory(cls, directory):
        """From ``directory/preprocessor_config.json`` (a transformers checkpoint), or None
        when it has none."""
        path = os.path.join(directory, "preprocessor_config.json")
        if not os.path.isfile(path):
            return None
        try:
            with open(path, encoding="utf-8") as f:
                config = json.load(f)
        except (OSError, ValueError) as error:
            raise ValueError(f"{path}: not a readable JSON file ({error}).") from error
        return cls.from_preprocessor_config(config, name=path)

    # -- raw input -----------------------------------------------------------------------
    def load(self, audio, sampling_rate=None):
        """Raw audio -> (list of mono float32 waveforms at ``sampling_rate`` Hz, whether it
        was a batch), each checked: not empty, finite, at most ``chunk_length`` seconds."""
        waves, batched = audio_io.load_waveforms(audio, sampling_rate, self.sampling_rate)
        examples = audio if batched else [audio]
        for i, (wave, x) in enumerate(zip(waves, examples)):
            if len(wave) > self.max_samples:
                name = audio_io.describe(x, i if batched else None)
                raise ValueError(
                    f"{name} is {len(wave) / self.sampling_rate:.2f} s long; Whisper takes at "
                    f"most {self.chunk_length} s of audio at once. Cut it into pieces of "
                    f"{self.chunk_length} s or less: long-form transcription (sliding "
                    f"{self.chunk_length} s windows) is the next step, not done yet.")
        return waves, batched

    def features(self, waves):
        """Mono waveforms at the converter's rate -> (B, frames, num_mels) float32 NumPy."""
        if self.padding == "features":
            return np.stack([self._zero_padded_features(wave) for wave in waves])
        length = (self.max_samples if self.padding == "max_length"
                  else max(self.n_fft // 2 + 1, max(len(w) for w in waves)))
        batch = np.full((len(waves), length), self.padding_value, self.compute_dtype)
        for row, wave in zip(batch, waves):
            row[:len(wave)] = wave
        out = ops.log_mel_spectrogram(ops.convert_to_tensor(batch), num_mels=self.num_mels,
                                      sampling_rate=self.sampling_rate, fft_length=self.n_fft,
                                      hop_length=self.hop_length)
        return np.asarray(ops.convert_to_numpy(out), np.float32)

    def _zero_padded_features(self, wave):
        """One example as faster-whisper computes it: the features of the samples and one
        hop of zeros, the frames of its content kept, zero frames after them."""
        padded = np.concatenate([np.asarray(wave, self.compute_dtype),
                                 np.zeros((self.hop_length,), self.compute_dtype)])
        out = ops.log_mel_spectrogram(ops.convert_to_tensor(padded[None]),
                                      num_mels=self.num_mels, sampling_rate=self.sampling_rate,
                                      fft_length=self.n_fft, hop_length=self.hop_length)
        frames = min(len(wave) // self.hop_length, self.max_frames)
        features = np.zeros((self.max_frames, self.num_mels), np.float32)
        features[:frames] = np.asarray(ops.convert_to_numpy(out), np.float32)[0, :frames]
        return features

    def __call__(self, audio, sampling_rate=None, return_lengths=False):
        """Raw audio (one example or a batch) -> features (B, frames, num_mels) float32
        (B = 1 for one example; frames = 3000 with padding="max_length"); with
        ``return_lengths``, also each example's duration in seconds, (B,) float32."""
        waves, _ = self.load(audio, sampling_rate)
        features = self.features(waves)
        if not return_lengths:
            return features
        return features, np.asarray([len(w) / self.sampling_rate for w in waves], np.float32)

    def num_frames(self, seconds):
        """Feature frames holding ``seconds`` of audio."""
        return min(math.ceil(seconds * self.sampling_rate / self.hop_length), self.max_frames)
