"""WhisperAudioConverter against openai-whisper's log_mel_spectrogram and transformers'
WhisperFeatureExtractor, its input forms (files, PCM, stereo, dicts, batches, resampling)
and its errors.

Tolerance. openai-whisper and transformers (its torch path) compute the STFT in float32
with torch.stft; near the log floor (bins 7-8 decades below an example's loudest) that
rounding moves their own features by up to ~5e-5 from the exact values, so no
implementation that does not replay torch.stft's rounding is within 1e-5 of them there.
transformers' NumPy path (its FFT in float64) and zoo in float64 agree to 1e-7. So zoo's
features (float64 compute, the converter's default) are checked against transformers' NumPy
path to 1e-5, and against the float32 references to 1e-5 plus each reference's own
rounding, |reference - NumPy path|, entry by entry (the plain max differences are printed:
~5e-5 on speech). Where the backend has no float64 (jax without x64) zoo computes in
float32, measured 4.4e-5 from the NumPy path: that bound is asserted there instead.
"""
import json
import os

import numpy as np
import pytest
import soundfile

import zoo
from zoo import ops
from zoo.models import audio_io
from zoo.models.whisper.audio_converter import WhisperAudioConverter
from zoo.saving import serialization

from tests.references import reference_fixture

HAS_FLOAT64 = ops.dtype(ops.convert_to_tensor(np.zeros(1))) == "float64"
ATOL = 1e-5 if HAS_FLOAT64 else 5e-5  # float32 rounding of the FFT (module docstring)

HERE = os.path.dirname(os.path.abspath(__file__))
SPEECH = os.path.join(HERE, "..", "..", "data", "speech")
CASES = ["clip_fox", "clip_alice", "chirp_odd", "noise_7s", "short_odd", "full_30s",
         "almost_30s"]

audio_references = reference_fixture(
    os.path.join(HERE, "make_audio_references.py"), requires=("whisper", "transformers"),
    python_path=[os.path.join(HERE, "..", "..", "stand_ins")])


@pytest.fixture(scope="module")
def refs(audio_references):
    return dict(np.load(os.path.join(audio_references, "audio.npz")))


def speech(name):
    return os.path.join(SPEECH, name)


# -- parity ------------------------------------------------------------------------------
@pytest.mark.parametrize("num_mels", [80, 128])
def test_mel_filters_match_librosa_and_transformers(refs, num_mels):
    ours = ops.audio.mel_filters(16000, 400, num_mels)
    np.testing.assert_allclose(ours, refs[f"filters/hf/{num_mels}"], atol=1e-12)
    np.testing.assert_allclose(ours, refs[f"filters/librosa/{num_mels}"], atol=1e-8)  # float32


@pytest.mark.parametrize("num_mels", [80, 128])
@pytest.mark.parametrize("case", CASES)
def test_features_match_references(refs, case, num_mels):
    converter = WhisperAudioConverter(num_mels=num_mels)
    got = converter(refs[f"{case}/wave"])
    assert got.shape == (1, 3000, num_mels) and got.dtype == np.float32
    got = got[0].T  # (mels, frames), the references' layout
    exact = refs[f"{case}/hf_np/{num_mels}"]
    np.testing.assert_allclose(got, exact, atol=ATOL, rtol=0,
                               err_msg="vs transformers' NumPy path (float64 FFT)")
    for ref in ("openai", "hf"):
        want = refs[f"{case}/{ref}/{num_mels}"]
        own_rounding = np.abs(want - exact)
        excess = np.abs(got - want) - own_rounding
        print(f"{case} {num_mels} vs {ref}: max |diff| {np.abs(got - want).max():.2e}, "
              f"its own float32 rounding up to {own_rounding.max():.2e}")
        assert excess.max() <= ATOL, (f"{case} {num_mels} vs {ref}: {excess.max():.2e} beyond "
                                      f"{ATOL} + the reference's own rounding")


@pytest.mark.parametrize("num_mels", [80, 128])
def test_batch_of_different_lengths(refs, num_mels):
    converter = WhisperAudioConverter(num_mels=num_mels)
    waves = [refs[f"{case}/wave"] for case in refs["batch/cases"]]
    got, seconds = converter(waves, return_lengths=True)
    assert got.shape == (len(waves), 3000, num_mels)
    np.testing.assert_allclose(seconds, [len(w) / 16000 for w in waves], rtol=1e-6)
    for i, case in enumerate(refs["batch/cases"]):
        np.testing.assert_allclose(got[i], converter(waves[i])[0], atol=1e-6, err_msg=case)
        want, exact = refs["batch/hf/" + str(num_mels)][i], refs[f"{case}/hf_np/{num_mels}"]
        assert (np.abs(got[i].T - want) - np.abs(want - exact)).max() <= ATOL, case


def test_padding_longest():
    wave = soundfile.read(speech("fox.flac"), dtype="float32")[0]
    full = WhisperAudioConverter()(wave)
    short = WhisperAudioConverter(padding="longest")([wave, wave[:8000]])
    frames = len(wave) // 160
    assert short.shape == (2, frames, 80)
    # The frames away from the end (where reflect padding differs) are the 30 s ones.
    np.testing.assert_allclose(short[0, :frames - 2], full[0, :frames - 2], atol=1e-6)


# -- input forms -------------------------------------------------------------------------
def test_files_in_every_format():
    converter = WhisperAudioConverter()
    with open(os.path.join(SPEECH, "transcripts.json")) as f:
        names = sorted(json.load(f))
    assert {"fox.flac", "doctor_stereo_22050.wav", "alice.ogg", "london.mp3"} <= set(names)
    for name in names:
        features, seconds = converter(speech(name), return_lengths=True)
        info = soundfile.info(speech(name))
        assert features.shape == (1, 3000, 80) and np.isfinite(features).all(), name
        assert abs(seconds[0] - info.duration) < 2e-3, name
        assert 2.0 < seconds[0] < 8.0, name
    flac = soundfile.read(speech("fox.flac"), dtype="float32")[0]
    np.testing.assert_array_equal(converter(speech("fox.flac")), converter(flac))
    batch = converter([speech("fox.flac"), speech("alice.ogg"), speech("london.mp3")])
    assert batch.shape == (3, 3000, 80)
    np.testing.assert_array_equal(batch[0], converter(flac)[0])


def test_lossy_files_hold_the_same_speech():
    """OGG and MP3 of a clip: the same length and nearly the same features as its FLAC."""
    converter = WhisperAudioConverter()
    for lossy, lossless in (("alice.ogg", "alice.flac"), ("london.mp3", "london.flac")):
        a, b = converter(speech(lossy))[0], converter(speech(lossless))[0]
        speech_frames = int(soundfile.info(speech(lossless)).duration * 100)
        assert np.corrcoef(a[:speech_frames].ravel(), b[:speech_frames].ravel())[0, 1] > 0.95


def test_stereo_22050_wav_is_averaged_and_resampled():
    import soxr

    data, rate = soundfile.read(speech("doctor_stereo_22050.wav"), dtype="float32")
    assert rate == 22050 and data.shape[1] == 2
    mono = soxr.resample(data.mean(axis=1), 22050, 16000, quality="HQ").astype(np.float32)
    converter = WhisperAudioConverter()
    want = converter(mono)
    np.testing.assert_allclose(converter(speech("doctor_stereo_22050.wav")), want, atol=1e-6)
    np.testing.assert_allclose(converter(data, sampling_rate=22050), want, atol=1e-6)
    np.testing.assert_allclose(converter([data.T], sampling_rate=22050), want, atol=1e-6)
    np.testing.assert_allclose(converter({"raw": data, "sampling_rate": 22050}), want,
                               atol=1e-6)


def test_pcm_dicts_and_lists():
    converter = WhisperAudioConverter()
    wave = soundfile.read(speech("fox.flac"), dtype="float32")[0]
    pcm = soundfile.read(speech("fox.flac"), dtype="int16")[0]
    want = converter(pcm.astype(np.float32) / 32768)
    np.testing.assert_array_equal(converter(pcm), want)
    np.testing.assert_allclose(want, converter(wave), atol=1e-6)
    np.testing.assert_array_equal(converter({"raw": pcm, "sampling_rate": 16000}), want)
    np.testing.assert_array_equal(converter({"array": wave, "sampling_rate": 16000}),
                                  converter(wave))
    np.testing.assert_allclose(converter(wave[:4000].tolist()), converter(wave[:4000]),
                               atol=1e-6)
    assert converter(np.stack([wave, wave])).shape == (2, 3000, 80)


def test_resampling():
    """Any rate goes to 16 kHz: soxr, or scipy's resample_poly without soxr; a tone stays
    the same tone."""
    t = np.arange(44100 * 2) / 44100
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    want = 0.5 * np.sin(2 * np.pi * 440 * np.arange(32000) / 16000)
    got = audio_io.resample(tone, 44100, 16000)
    assert got.dtype == np.float32 and abs(len(got) - 32000) <= 1
    np.testing.assert_allclose(got[1000:31000], want[1000:31000], atol=2e-3)
    converter = WhisperAudioConverter()
    np.testing.assert_allclose(converter(tone, sampling_rate=44100), converter(got), atol=1e-6)


def test_resampling_without_soxr(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_soxr(name, *args, **kwargs):
        if name == "soxr":
            raise ImportError("no soxr here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_soxr)
    t = np.arange(8000) / 8000
    tone = np.sin(2 * np.pi * 300 * t).astype(np.float32)
    got = audio_io.resample(tone, 8000, 16000)
    assert len(got) == 16000 and got.dtype == np.float32
    want = np.sin(2 * np.pi * 300 * np.arange(16000) / 16000)
    np.testing.assert_allclose(got[500:15500], want[500:15500], atol=2e-3)


def test_accepts():
    converter = WhisperAudioConverter()
    wave = np.zeros(1600, np.float32)
    for x in (wave, wave.astype(np.int16), np.zeros((1600, 2), np.float32),
              {"raw": wave, "sampling_rate": 16000}, [wave, wave[:800]], "a.flac",
              ["a.mp3", "b.ogg"], [{"raw": wave, "sampling_rate": 8000}]):
        assert converter.accepts(x), x
    for x in (np.zeros((2, 7), np.int32), "text", {"encoder_features": wave}, 3):
        assert not converter.accepts(x), x
    assert not audio_io.is_batch(np.zeros((1600, 2))) and audio_io.is_batch(np.zeros((2, 1600)))


def test_config_round_trip(audio_references):
    converter = WhisperAudioConverter(num_mels=128, padding="longest")
    config = json.loads(json.dumps(converter.get_config()))
    assert config == {"num_mels": 128, "sampling_rate": 16000, "n_fft": 400, "hop_length": 160,
                      "chunk_length": 30, "padding_value": 0.0, "padding": "longest",
                      "compute_dtype": "float64"}
    assert WhisperAudioConverter.from_config(config).get_config() == config
    again = serialization.deserialize(json.loads(json.dumps(serialization.serialize(converter))))
    assert type(again) is WhisperAudioConverter and again.get_config() == config
    assert WhisperAudioConverter.checkpoint_files == ("preprocessor_config.json",)
    v3 = WhisperAudioConverter.from_checkpoint_directory(os.path.join(audio_references, "v3"))
    assert v3.get_config() == {**config, "padding": "max_length"}
    assert WhisperAudioConverter.from_checkpoint_directory(HERE) is None
    with pytest.raises(ValueError, match="feature_extractor_type"):
        WhisperAudioConverter.from_preprocessor_config(
            {"feature_extractor_type": "Wav2Vec2FeatureExtractor"})
    with pytest.raises(ValueError, match="padding"):
        WhisperAudioConverter(padding="do_not_pad")
    with pytest.raises(ValueError, match="compute_dtype"):
        WhisperAudioConverter(compute_dtype="float16")


# -- bad input ---------------------------------------------------------------------------
def test_unreadable_and_missing_files(tmp_path):
    converter = WhisperAudioConverter()
    junk = tmp_path / "notes.wav"
    junk.write_text("not audio at all")
    with pytest.raises(ValueError, match="notes.wav.*could not be read"):
        converter(str(junk))
    with pytest.raises(FileNotFoundError, match="missing.flac"):
        converter(str(tmp_path / "missing.flac"))


@pytest.mark.parametrize("name", ["fox.flac", "doctor_stereo_22050.wav", "london.mp3"])
def test_truncated_files(tmp_path, name):
    data = open(speech(name), "rb").read()
    cut = tmp_path / ("cut_" + name)
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=f"cut_{name}.*(truncated)"):
        WhisperAudioConverter()(str(cut))


def test_empty_and_non_finite_audio():
    converter = WhisperAudioConverter()
    with pytest.raises(ValueError, match=r"audio: the audio is empty"):
        converter(np.zeros(0, np.float32))
    with pytest.raises(ValueError, match=r"audio\[1\]: the audio is empty"):
        converter([np.ones(100, np.float32), []])
    with pytest.raises(ValueError, match="empty batch"):
        converter([])
    for bad in (np.nan, np.inf, -np.inf):
        wave = np.zeros(1600, np.float32)
        wave[7] = bad
        with pytest.raises(ValueError, match=r"audio\[0\]: 1 samples are NaN or infinite"):
            converter([wave])


def test_sampling_rate_needed():
    """A dict must say its rate; a bare array without one is taken at 16 kHz."""
    converter = WhisperAudioConverter()
    wave = np.zeros(1600, np.float32)
    with pytest.raises(ValueError, match="needs its 'sampling_rate'"):
        converter({"raw": wave})
    with pytest.raises(ValueError, match=r"audio\[1\]: a dict of audio needs its"):
        converter([{"raw": wave, "sampling_rate": 16000}, {"raw": wave}])
    with pytest.raises(ValueError, match="'raw' array"):
        converter({"sampling_rate": 16000})
    with pytest.raises(ValueError, match="sampling_rate must be a positive integer"):
        converter(wave, sampling_rate=0)
    with pytest.raises(ValueError, match="sampling_rate must be a positive integer"):
        converter({"raw": wave, "sampling_rate": 22.5})
    np.testing.assert_array_equal(converter(wave), converter(wave, sampling_rate=16000))


def test_audio_over_30_seconds_is_refused():
    converter = WhisperAudioConverter()
    assert converter(np.zeros(480000, np.float32)).shape == (1, 3000, 80)
    with pytest.raises(ValueError, match=r"audio\[1\] is 31\.50 s long.*at most 30 s.*"
                                         r"long-form transcription"):
        converter([np.zeros(100, np.float32), np.zeros(504000, np.float32)])
    with pytest.raises(ValueError, match=r"audio is 30\.00 s long"):  # 30 s and 1 sample
        converter(np.zeros(480001, np.float32))
    long = np.zeros(31 * 8000, np.float32)
    with pytest.raises(ValueError, match=r"31\.00 s long"):
        converter({"raw": long, "sampling_rate": 8000})


def test_bad_shapes_and_types():
    converter = WhisperAudioConverter()
    with pytest.raises(ValueError, match=r"audio\[0\]: expected a waveform.*shape \(3, 100, 2"):
        converter([np.zeros((3, 100, 2), np.float32)])
    with pytest.raises(ValueError, match="neither axis"):
        converter([np.zeros((100, 20), np.float32)])
    with pytest.raises(TypeError, match="int64 are not audio"):
        converter(np.zeros(100, np.int64))
    with pytest.raises(TypeError, match="expected an audio file path"):
        converter(3.5)
