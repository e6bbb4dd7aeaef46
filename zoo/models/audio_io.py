"""Reading raw audio for any audio model: files, arrays, PCM, stereo, resampling.

``load_waveforms(audio, sampling_rate, target_rate)`` turns what a user gives an audio
converter into a list of mono float32 waveforms at ``target_rate``:

    a file path (str / os.PathLike)      read with soundfile (WAV, FLAC, OGG, MP3 with
                                         libsndfile >= 1.1, ...) at the rate of its header
    a 1-D array (samples,)               float, or integer PCM: int16 / 1/32768,
                                         int32 / 1/2**31, uint8 (x - 128) / 128
    a 2-D array of one example           (samples, channels) as soundfile reads it, or,
                                         in a dict or a list, (channels, samples): the
                                         channel axis is the shorter one (at most 8
                                         channels); channels are averaged
    {"raw": array, "sampling_rate": sr}  transformers' pipeline form ("array" is accepted
                                         for "raw", as datasets' Audio feature names it)
    a list / tuple of any of those       a batch, examples of any lengths (a list of
                                         numbers is one waveform)
    a 2-D array (batch, samples)         a batch of mono waveforms of one length, unless
                                         it is (samples, channels) with channels <= 8
                                         < samples: one multichannel example

Sampling rates: a file carries its own; a dict must carry one (a dict without
"sampling_rate" is an error: transformers' pipeline refuses it too); a bare array is at
``sampling_rate`` when the caller passes one, and at ``target_rate`` when not (what
transformers' pipeline assumes of a bare array). Whatever is not at ``target_rate`` is
resampled with soxr (high quality), or scipy.signal.resample_poly when soxr is missing.
Errors name the file or the argument (``audio[i]``) at fault.
"""
import math
import os

import numpy as np

MAX_CHANNELS = 8


def describe(x, index=None):
    """How an error names one input: the file, or ``audio[i]``."""
    if isinstance(x, (str, os.PathLike)):
        return f"audio file {os.fspath(x)!r}"
    return "audio" if index is None else f"audio[{index}]"


def is_batch(audio):
    """Whether ``audio`` is a batch rather than one example: a list/tuple of examples (a
    list of numbers is one waveform), or a 2-D array (batch, samples), except one of shape
    (samples, channels) with at most MAX_CHANNELS channels and more samples, which is one
    multichannel example (soundfile's layout)."""
    if isinstance(audio, (list, tuple)):
        return not (audio and isinstance(audio[0], (int, float, np.number)))
    if isinstance(audio, np.ndarray) and audio.ndim == 2:
        return not audio.shape[1] <= MAX_CHANNELS < audio.shape[0]
    return False


def read_audio_file(path):
    """-> (float32 samples (n, channels), sampling rate) of an audio file, read whole with
    soundfile. A missing, unreadable or truncated file raises an error naming it."""
    import soundfile

    name = os.fspath(path)
    if not os.path.isfile(name):
        raise FileNotFoundError(f"audio file {name!r} does not exist.")
    try:
        with soundfile.SoundFile(name) as f:
            declared, rate = f.frames, f.samplerate
            data = f.read(dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.SoundFileError, TypeError, ValueError) as error:
        raise ValueError(f"audio file {name!r} could not be read as audio (not audio, "
                         f"corrupt or truncated): {error}") from error
    # A cut file can read quietly short: fewer samples than its header declares (MP3
    # headers hold no exact count, libsndfile estimates it: a shortfall of over a second is
    # truncation there), or, for WAV, whose count libsndfile takes from the file's size, a
    # data chunk that runs past the end of the file.
    slack = rate if name.lower().endswith(".mp3") else 0
    missing = _wav_missing_bytes(name)
    if (declared > 0 and len(data) + slack < declared) or missing:
        what = (f"its header declares {declared} samples, {len(data)} could be read"
                if not missing else f"its data chunk runs {missing} bytes past the file's end")
        raise ValueError(f"audio file {name!r} is truncated: {what}.")
    return data, int(rate)


def _wav_missing_bytes(path):
    """For a RIFF/WAVE file: how many bytes its data chunk declares beyond the end of the
    file (0 when complete, or not a WAV)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        if f.read(4) != b"RIFF" or len(f.read(4)) < 4 or f.read(4) != b"WAVE":
            return 0
        while True:
            header = f.read(8)
            if len(header) < 8:
                return 0
            chunk, length = header[:4], int.from_bytes(header[4:], "little")
            if chunk == b"data":
                if length == 0xFFFFFFFF:  # streamed WAV: size unknown
                    return 0
                return max(f.tell() + length - size, 0)
            f.seek(length + (length & 1), os.SEEK_CUR)


def _pcm_to_float(x, name):
    if x.dtype.kind == "f":
        return x.astype(np.float32, copy=False)
    if x.dtype == np.int16:
        return x.astype(np.float32) / 32768.0
    if x.dtype == np.int32:
        return (x.astype(np.float64) / 2.0 ** 31).astype(np.float32)
    if x.dtype == np.uint8:
        return (x.astype(np.float32) - 128.0) / 128.0
    raise TypeError(f"{name}: samples of dtype {x.dtype} are not audio (use float, int16, "
                    f"int32 or uint8 PCM).")


def to_mono(x, name):
    """(samples,) or a 2-D (samples, channels) / (channels, samples) array -> (samples,)
    float32, channels averaged (the channel axis is the shorter one)."""
    x = _pcm_to_float(np.asarray(x), name)
    if x.ndim == 1:
        return x
    if x.ndim != 2:
        raise ValueError(f"{name}: expected a waveform (samples,) or (samples, channels), "
                         f"got shape {x.shape}.")
    channel_axis = 1 if x.shape[1] <= x.shape[0] else 0
    if x.shape[channel_axis] > MAX_CHANNELS:
        raise ValueError(f"{name}: shape {x.shape} is not (samples, channels) audio: neither "
                         f"axis has at most {MAX_CHANNELS} channels.")
    return x.mean(axis=channel_axis, dtype=np.float32)


def resample(x, rate, target_rate):
    """Resample a mono float32 waveform from ``rate`` to ``target_rate`` (soxr "HQ", or
    scipy.signal.resample_poly without soxr)."""
    rate, target_rate = int(rate), int(target_rate)
    if rate == target_rate:
        return x
    try:
        import soxr
    except ImportError:
        from scipy import signal

        g = math.gcd(rate, target_rate)
        return signal.resample_poly(x, target_rate // g, rate // g).astype(np.float32)
    return soxr.resample(x, rate, target_rate, quality="HQ").astype(np.float32, copy=False)


def _check_rate(rate, name):
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)) \
            or not rate > 0 or int(rate) != rate:
        raise ValueError(f"{name}: sampling_rate must be a positive integer (Hz), got {rate!r}.")
    return int(rate)


def load_waveform(x, sampling_rate, target_rate, name):
    """One example -> mono float32 (samples,) at ``target_rate`` (see the module
    docstring); empty, NaN or infinite audio is refused."""
    if isinstance(x, (str, os.PathLike)):
        data, rate = read_audio_file(x)
    elif isinstance(x, dict):
        raw = x.get("raw", x.get("array"))
        if raw is None:
            raise ValueError(f"{name}: a dict of audio needs a 'raw' array and a "
                             f"'sampling_rate', got keys {sorted(x)}.")
        if x.get("sampling_rate") is None:
            raise ValueError(f"{name}: a dict of audio needs its 'sampling_rate' (Hz) beside "
                             f"'raw'; it has keys {sorted(x)}.")
        data, rate = np.asarray(raw), _check_rate(x["sampling_rate"], name)
    elif isinstance(x, (np.ndarray, list, tuple)) or hasattr(x, "__array__"):
        if hasattr(x, "numpy") and not isinstance(x, np.ndarray):  # a framework tensor
            x = x.numpy()
        data = np.asarray(x)
        if data.dtype == object:
            raise TypeError(f"{name}: not a waveform (an array of objects).")
        rate = target_rate if sampling_rate is None else _check_rate(sampling_rate,
                                                                     "sampling_rate")
    else:
        raise TypeError(f"{name}: expected an audio file path, a waveform array or a "
                        f"{{'raw': array, 'sampling_rate': sr}} dict, got {type(x).__name__}.")
    wave = to_mono(data, name)
    if wave.size == 0:
        raise ValueError(f"{name}: the audio is empty (0 samples).")
    if not np.all(np.isfinite(wave)):
        bad = int(np.size(wave) - np.count_nonzero(np.isfinite(wave)))
        raise ValueError(f"{name}: {bad} samples are NaN or infinite.")
    return resample(wave, rate, target_rate)


def load_waveforms(audio, sampling_rate=None, target_rate=16000):
    """``audio`` (one example or a batch, see the module docstring) -> (list of mono
    float32 waveforms at ``target_rate``, whether it was a batch)."""
    if sampling_rate is not None:
        _check_rate(sampling_rate, "sampling_rate")
    if hasattr(audio, "numpy") and not isinstance(audio, np.ndarray):
        audio = audio.numpy()
    batched = is_batch(audio)
    examples = list(audio) if batched else [audio]
    if not examples:
        raise ValueError("audio: an empty batch (no examples).")
    waves = [load_waveform(x, sampling_rate, target_rate, describe(x, i if batched else None))
             for i, x in enumerate(examples)]
    return waves, batched
