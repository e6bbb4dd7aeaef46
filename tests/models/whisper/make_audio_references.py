"""Reference log-mel features for the WhisperAudioConverter tests.

    python make_audio_references.py OUT_DIR      (run by tests/references.py, in a child)

Writes OUT_DIR/audio.npz: for each case, the input waveform ``<case>/wave`` (16 kHz mono
float32) and the features of

    openai/<mels>   openai-whisper: log_mel_spectrogram(pad_or_trim(wave), n_mels)
                    (torch.stft, float32), (mels, 3000)
    hf/<mels>       transformers' WhisperFeatureExtractor(feature_size=mels)(wave,
                    sampling_rate=16000): its torch path (float32), (mels, 3000)
    hf_np/<mels>    the same extractor's NumPy path (_np_extract_fbank_features: the FFT
                    in float64, stored as complex64), (mels, 3000)

and ``batch/hf/<mels>``: the extractor on all the waveforms as one batch;
``filters/librosa/<mels>`` (openai-whisper's mel_filters.npz, made by librosa) and
``filters/hf/<mels>`` (transformers' mel_filter_bank), (mels, 201); and OUT_DIR/v3/, the
preprocessor_config.json of WhisperFeatureExtractor(feature_size=128). openai-whisper
imports numba; the tests pass the stand-in at tests/stand_ins/numba.
"""
import os
import sys

import numpy as np
import soundfile

HERE = os.path.dirname(os.path.abspath(__file__))
SPEECH = os.path.join(HERE, "..", "..", "data", "speech")
MELS = (80, 128)


def cases():
    rng = np.random.default_rng(22)
    out = {f"clip_{name[:-5]}": soundfile.read(os.path.join(SPEECH, name), dtype="float32")[0]
           for name in ("fox.flac", "alice.flac")}
    t = np.arange(16000 * 2 + 321) / 16000
    out["chirp_odd"] = (0.3 * np.sin(2 * np.pi * (200 + 900 * t) * t)).astype(np.float32)
    out["noise_7s"] = (0.1 * rng.standard_normal(16000 * 7)).astype(np.float32)
    out["short_odd"] = (0.5 * rng.standard_normal(1001)).astype(np.float32)
    out["full_30s"] = (0.05 * rng.standard_normal(480000)).astype(np.float32)
    out["almost_30s"] = (0.05 * rng.standard_normal(479999)).astype(np.float32)
    return out


def main(out_dir):
    import whisper
    from transformers import WhisperFeatureExtractor

    waves = cases()
    arrays = {}
    for case, wave in waves.items():
        arrays[f"{case}/wave"] = wave
    for mels in MELS:
        extractor = WhisperFeatureExtractor(feature_size=mels)
        for case, wave in waves.items():
            arrays[f"{case}/openai/{mels}"] = whisper.log_mel_spectrogram(
                whisper.pad_or_trim(wave), n_mels=mels).numpy()
            arrays[f"{case}/hf/{mels}"] = extractor(
                wave, sampling_rate=16000, return_tensors="np").input_features[0]
            padded = np.pad(wave, (0, 480000 - len(wave)))[None]
            arrays[f"{case}/hf_np/{mels}"] = extractor._np_extract_fbank_features(
                padded, "cpu")[0].astype(np.float32)
        arrays[f"batch/hf/{mels}"] = extractor(
            list(waves.values()), sampling_rate=16000, return_tensors="np").input_features
    arrays["batch/cases"] = np.array(list(waves))
    from transformers.audio_utils import mel_filter_bank

    librosa = np.load(os.path.join(os.path.dirname(whisper.__file__), "assets",
                                   "mel_filters.npz"))
    for mels in MELS:
        arrays[f"filters/librosa/{mels}"] = librosa[f"mel_{mels}"]  # librosa's, float32
        arrays[f"filters/hf/{mels}"] = mel_filter_bank(
            num_frequency_bins=201, num_mel_filters=mels, min_frequency=0.0,
            max_frequency=8000.0, sampling_rate=16000, norm="slaney", mel_scale="slaney").T
    WhisperFeatureExtractor(feature_size=128).save_pretrained(os.path.join(out_dir, "v3"))
    np.savez(os.path.join(out_dir, "audio.npz"), **arrays)


if __name__ == "__main__":
    main(sys.argv[1])
